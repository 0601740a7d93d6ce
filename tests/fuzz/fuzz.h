/*
 * Shared bits of the libFuzzer harnesses (tests/fuzz/fuzz_*.c, built and run by scripts/fuzz.sh).
 * A harness crashes (abort) on a broken invariant, so libFuzzer records the input like any
 * sanitizer finding.
 */
#ifndef DBDEPLOY_TESTS_FUZZ_FUZZ_H
#define DBDEPLOY_TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);                               \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

/* The input as a NUL-terminated string (cut at the first NUL), owned by the caller. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (!s)
        abort();
    for (size_t i = 0; i < size; i++)
        s[i] = (char)data[i];
    s[size] = '\0';
    return s;
}

/*
 * An exact-size heap copy, not NUL-terminated, so ASan catches a parser that reads past the
 * length it was given.
 */
static inline char *fuzz_copy(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);

    if (!s)
        abort();
    for (size_t i = 0; i < size; i++)
        s[i] = (char)data[i];
    return s;
}

#endif
