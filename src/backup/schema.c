/*
 * The schema as text: pg_dump --schema-only, made canonical so that the same schema gives the
 * same bytes on every run and every server of a major version (for `dbdeploy schema`).
 */
#include "backup/internal.h"

#include <string.h>

#include "util/out.h"

/*
 * Lines that differ between runs of the same schema: the server's and pg_dump's version
 * comments, and the random key of pg_dump's \restrict / \unrestrict guard (15.14 and later).
 */
static bool volatile_line(const char *line, size_t len)
{
    static const char *const prefixes[] = {"-- Dumped from database version", "-- Dumped by pg_dump version",
                                           "\\restrict ", "\\unrestrict "};

    for (size_t i = 0; i < DD_ARRAY_SIZE(prefixes); i++) {
        size_t n = strlen(prefixes[i]);
        if (len >= n && memcmp(line, prefixes[i], n) == 0)
            return true;
    }
    return false;
}

void backup_schema_canonical(struct dd_buf *out, const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    bool blank = false; /* the previous line kept was empty: removed lines leave no double blank */

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

        if (!volatile_line(p, n) && !(n == 0 && blank)) {
            dd_buf_add(out, p, n);
            dd_buf_addch(out, '\n');
            blank = n == 0;
        }
        p += n + (nl ? 1 : 0);
    }
}

int backup_schema_dump(struct dd_buf *out, const struct backup_schema_request *req, struct dd_error *err)
{
    struct bk_passfile pf = BK_PASSFILE_INIT;
    struct bk_tool_version tv;
    struct dd_proc p = DD_PROC_INIT;
    int rc = -1;

    if (bk_tool_version(&tv, req->pg_dump, "[backup] pg-dump", err) < 0)
        goto cleanup;
    if (tv.major < bk_server_major(req->server_version)) {
        char sv[16];
        bk_server_version_text(sv, sizeof(sv), req->server_version);
        dd_error_set(err, DD_ECONFIG, "pg_dump %s ('%s') is older than the server (PostgreSQL %s)", tv.text,
                     req->pg_dump, sv);
        dd_error_hint(err, "Install a pg_dump at least as new as the server and set [backup] pg-dump to its path.");
        goto cleanup;
    }
    if (bk_passfile_create(&pf, req->conninfo, req->password, NULL, err) < 0)
        goto cleanup;
    dd_strv_push(&p.argv, req->pg_dump);
    dd_strv_push(&p.argv, "--schema-only");
    dd_strv_push(&p.argv, "--no-password");
    if (!req->owner)
        dd_strv_push(&p.argv, "--no-owner");
    if (!req->privileges)
        dd_strv_push(&p.argv, "--no-privileges");
    if (req->exclude_schema)
        dd_strv_pushf(&p.argv, "--exclude-schema=%s", req->exclude_schema);
    dd_strv_push(&p.argv, "--dbname=service=" BK_SERVICE_NAME);
    bk_passfile_apply(&pf, &p);
    p.stdin_mode = DD_PROC_NULLDEV;
    p.stdout_mode = DD_PROC_CAPTURE;
    p.stderr_mode = DD_PROC_CAPTURE;
    if (dd_proc_run(&p, err) < 0) {
        dd_error_hint(err, "Install the PostgreSQL client programs, or set [backup] pg-dump to pg_dump's path.");
        goto cleanup;
    }
    backup_schema_canonical(out, p.out_capture.buf ? p.out_capture.buf : "", p.out_capture.len);
    rc = 0;
cleanup:
    dd_proc_release(&p);
    bk_passfile_release(&pf);
    return rc;
}
