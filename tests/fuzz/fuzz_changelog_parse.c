/* changelog/parse.c: the dbdeploy:applied lines of a CHANGELOG.md, from arbitrary text. */
#include "fuzz.h"

#include <string.h>

#include "changelog/changelog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size);
    struct changelog_records r = CHANGELOG_RECORDS_INIT;

    changelog_parse(&r, text, size);
    for (size_t i = 0; i < r.n; i++) {
        /* every record comes from one line of the input: no field can span a newline */
        FUZZ_CHECK(r.v[i].env && !strchr(r.v[i].env, '\n'));
        FUZZ_CHECK(r.v[i].checksum && !strchr(r.v[i].checksum, '\n'));
        FUZZ_CHECK(r.v[i].file && !strchr(r.v[i].file, '\n'));
    }
    changelog_records_release(&r);
    free(text);
    return 0;
}
