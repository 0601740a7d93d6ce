#include "pipeline/deploy.h"

#include "config/config.h"
#include "db/db.h"
#include "util/parse.h"

/* A verified archive before anything changes; a deployment never goes on without one when enabled. */
int stage_backup_run(void *ctx, char **note, struct dd_error *err)
{
    struct deploy *d = ctx;
    struct backup_request req;
    char *conninfo = NULL, *password = NULL;
    int64_t *applied = NULL;
    size_t n_applied = 0;
    char size[32];
    int rc = -1;

    if (!d->cfg->backup.enabled) {
        *note = dd_xstrdup("disabled ([backup] enabled = false)");
        return STAGE_SKIPPED;
    }
    /* before pg_dump's snapshot: the guard looks for foreign writes from here on */
    if (db_write_mark_take(&d->mark, d->db, err) < 0 || db_child_conninfo(d->db, &conninfo, &password, err) < 0)
        goto cleanup;
    d->have_mark = true;
    applied = dd_xcalloc(d->ledger.n ? d->ledger.n : 1, sizeof(*applied));
    for (size_t i = 0; i < d->ledger.n; i++)
        if (d->ledger.rows[i].state == DB_LEDGER_APPLIED)
            applied[n_applied++] = d->ledger.rows[i].version;
    memset(&req, 0, sizeof(req));
    req.env = d->cfg->env;
    req.dir = d->cfg->backup.dir;
    req.pg_dump = d->cfg->backup.pg_dump;
    req.level = d->cfg->backup.level;
    req.keep = d->cfg->backup.keep;
    req.conninfo = conninfo;
    req.password = password;
    req.database = db_name(d->db);
    req.server_version = db_server_version(d->db);
    req.git_commit = d->set.commit;
    req.applied = applied;
    req.n_applied = n_applied;
    if (backup_create(&d->backup, &req, err) < 0) {
        dd_error_hint(err, "A deployment never goes on without a verified backup; nothing was changed.");
        goto cleanup;
    }
    dd_format_bytes(size, sizeof(size), d->backup.archive_size);
    *note = dd_xasprintf("%s (%s)", d->backup.path, size);
    rc = 0;
cleanup:
    free(applied);
    free(conninfo);
    dd_free_secret(password);
    return rc;
}
