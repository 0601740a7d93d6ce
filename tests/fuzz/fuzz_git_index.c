/*
 * git/index.c: an index file's bytes, as any program may have left them in .git/index. The walk
 * must stay inside the bytes it was given, report only entries under its prefix, and, when it
 * says it read the whole file, have reported as many entries as the header promised.
 */
#include "fuzz.h"

#include <string.h>

#include "git/internal.h"

struct seen {
    size_t all, under;
    uint32_t declared;
};

static bool count(const struct repo_index_entry *e, const char *name, void *arg)
{
    struct seen *s = arg;
    size_t plen = strlen(e->path) - strlen(name);

    FUZZ_CHECK(strlen(name) <= strlen(e->path));
    FUZZ_CHECK(strcmp(e->path + plen, name) == 0);
    s->under++;
    return true;
}

static bool stop_after_one(const struct repo_index_entry *e, const char *name, void *arg)
{
    (void)e;
    (void)name;
    (*(size_t *)arg)++;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = fuzz_copy(data, size);
    struct seen all = {0}, dir = {0};
    size_t calls = 0;
    int rc_all, rc_dir, rc_stop;

    rc_all = repo_index_parse(copy, size, "", count, &all);
    rc_dir = repo_index_parse(copy, size, "migrations/", count, &dir);
    rc_stop = repo_index_parse(copy, size, "", stop_after_one, &calls);
    FUZZ_CHECK(rc_all == REPO_INDEX_DONE || rc_all == REPO_INDEX_UNKNOWN);
    /* a prefix only narrows what is reported, never how the file is read */
    FUZZ_CHECK(rc_dir == rc_all);
    FUZZ_CHECK(dir.under <= all.under);
    if (rc_all == REPO_INDEX_DONE) {
        uint32_t declared = (uint32_t)data[8] << 24 | (uint32_t)data[9] << 16 | (uint32_t)data[10] << 8 | data[11];
        FUZZ_CHECK(all.under == declared);
        FUZZ_CHECK(rc_stop == (declared ? REPO_INDEX_STOPPED : REPO_INDEX_DONE));
    }
    FUZZ_CHECK(calls <= 1);
    free(copy);
    return 0;
}
