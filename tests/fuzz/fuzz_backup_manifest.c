/*
 * backup/manifest.c: header.json / manifest.json from an untrusted archive. Whatever parses must
 * write back out as JSON that parses again to the same manifest.
 */
#include "fuzz.h"

#include "backup/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *json = fuzz_copy(data, size);
    struct backup_manifest m = BACKUP_MANIFEST_INIT, back = BACKUP_MANIFEST_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct dd_buf out = DD_BUF_INIT;

    if (bk_manifest_parse(&m, json, size, "fuzz", &err) == 0) {
        bk_manifest_json(&out, &m);
        if (bk_manifest_parse(&back, out.buf, out.len, "fuzz again", &err) != 0) {
            fprintf(stderr, "re-parse failed: %s\n%s\n", dd_error_msg(&err), out.buf);
            abort();
        }
        FUZZ_CHECK(back.complete == m.complete && back.n_applied == m.n_applied);
        FUZZ_CHECK(bk_manifest_match(&m, &back, "fuzz", &err) == 0);
    } else {
        FUZZ_CHECK(dd_error_isset(&err));
    }
    backup_manifest_release(&m);
    backup_manifest_release(&back);
    dd_buf_release(&out);
    dd_error_release(&err);
    free(json);
    return 0;
}
