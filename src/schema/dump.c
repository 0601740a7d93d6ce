/* A database's schema as text, and the applied-version lines at the end of a schema file. */
#include "schema/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backup/backup.h"
#include "config/config.h"
#include "db/db.h"
#include "db/ledger.h"

void schema_trailer(struct dd_buf *out, const int64_t *versions, const char *const *files, size_t n)
{
    dd_buf_adds(out, SCHEMA_TRAILER_HEAD " (read by 'dbdeploy setup')\n--\n\n");
    for (size_t i = 0; i < n; i++)
        dd_buf_addf(out, SCHEMA_APPLIED_PREFIX "%lld %s\n", (long long)versions[i], files[i]);
}

int schema_dump(struct dd_buf *out, struct db_conn *db, const struct dd_config *cfg, struct dd_error *err)
{
    struct db_ledger ledger = DB_LEDGER_INIT;
    char *conninfo = NULL, *password = NULL;
    int64_t *versions = NULL;
    const char **files = NULL;
    size_t n = 0;
    int rc = -1;

    if (db_child_conninfo(db, &conninfo, &password, err) < 0)
        goto cleanup;
    {
        struct backup_schema_request req = {cfg->backup.pg_dump,   conninfo,           password,
                                            db_server_version(db), cfg->ledger_schema, cfg->schema.owner,
                                            cfg->schema.privileges};
        if (backup_schema_dump(out, &req, err) < 0)
            goto cleanup;
    }
    if (db_ledger_load(&ledger, db, cfg->ledger_schema, err) < 0)
        goto cleanup;
    versions = dd_xcalloc(ledger.n + 1, sizeof(*versions));
    files = dd_xcalloc(ledger.n + 1, sizeof(*files));
    for (size_t i = 0; i < ledger.n; i++)
        if (ledger.rows[i].state == DB_LEDGER_APPLIED) {
            versions[n] = ledger.rows[i].version;
            files[n++] = ledger.rows[i].file;
        }
    schema_trailer(out, versions, files, n);
    rc = 0;
cleanup:
    free(versions);
    free(files);
    db_ledger_release(&ledger);
    free(conninfo);
    dd_free_secret(password);
    return rc;
}

int schema_applied_parse(struct schema_applied *out, const char *text, size_t len, const char *file,
                         struct dd_error *err)
{
    const char *p = text, *end = text + len;
    size_t prefix = strlen(SCHEMA_APPLIED_PREFIX), alloc = 0;
    unsigned line = 0;

    memset(out, 0, sizeof(*out));
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        line++;
        if (n > prefix && memcmp(p, SCHEMA_APPLIED_PREFIX, prefix) == 0) {
            char *row = dd_xstrndup(p + prefix, n - prefix), *rest = NULL;
            long long v;
            errno = 0;
            v = strtoll(row, &rest, 10);
            if (errno || rest == row || v < 0 || *rest != ' ' || !rest[1]) {
                dd_error_set(err, DD_EINPUT, "%s:%u: '%s' is not a version and a file", file, line, row);
                dd_error_hint(err, "Lines starting with '" SCHEMA_APPLIED_PREFIX "' are written by dbdeploy; "
                                   "regenerate the file with 'dbdeploy schema check --write'.");
                free(row);
                schema_applied_release(out);
                return -1;
            }
            if (out->n == alloc) {
                alloc = alloc ? alloc * 2 : 16;
                out->versions = dd_xrealloc(out->versions, alloc * sizeof(*out->versions));
                out->files = dd_xrealloc(out->files, alloc * sizeof(*out->files));
            }
            out->versions[out->n] = v;
            out->files[out->n++] = dd_xstrdup(rest + 1);
            free(row);
        }
        p += n + (nl ? 1 : 0);
    }
    return 0;
}

void schema_applied_release(struct schema_applied *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->files[i]);
    free(a->files);
    free(a->versions);
    memset(a, 0, sizeof(*a));
}
