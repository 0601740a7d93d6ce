/*
 * Which backup a rehearsal copies: the newest archive of the environment that verifies, or,
 * with --fresh, a new one. pg_dump only reads (it runs in a read-only transaction), so taking one
 * writes nothing to the environment.
 */
#include "rehearse/internal.h"

#include <stdio.h>

#include "backup/backup.h"
#include "config/config.h"
#include "db/db.h"
#include "db/ledger.h"
#include "util/clock.h"
#include "util/out.h"

/* The newest archive of env that verifies completely; damaged ones are skipped with a warning. */
int rh_newest_verified(struct rehearse_result *r, const struct dd_config *cfg, struct dd_error *err)
{
    struct backup_list l = BACKUP_LIST_INIT;
    uint64_t t0 = dd_now_ms();
    int rc = -1;

    if (backup_list(&l, cfg->backup.dir, cfg->env, 0, err) < 0)
        goto cleanup;
    for (size_t i = l.n; i-- > 0;) {
        struct backup_manifest m = BACKUP_MANIFEST_INIT;
        struct dd_error verr = DD_ERROR_INIT;
        int v = backup_verify(&m, l.v[i].path, &verr);

        if (v < 0)
            log_warn("skipping %s: %s", l.v[i].path, dd_error_msg(&verr));
        dd_error_release(&verr);
        backup_manifest_release(&m);
        if (v == 0) {
            r->archive = dd_xstrdup(l.v[i].path);
            break;
        }
    }
    if (!r->archive) {
        dd_error_set(err, DD_EBLOCKED, "no verified backup of %s in '%s' to rehearse on", cfg->env, cfg->backup.dir);
        dd_error_hint(err,
                      "Take one with 'dbdeploy rehearse %s --fresh' (or 'dbdeploy backup %s'); pg_dump only reads "
                      "the database.",
                      cfg->env, cfg->env);
        goto cleanup;
    }
    r->backup_ms = dd_now_ms() - t0;
    rc = 0;
cleanup:
    backup_list_release(&l);
    return rc;
}

/* A new archive of the environment, as the backup stage takes it (pg_dump reads only). */
int rh_take_backup(struct rehearse_result *r, const struct dd_config *cfg, struct db_conn *db, struct dd_error *err)
{
    struct backup_request req;
    struct backup_result res = BACKUP_RESULT_INIT;
    struct db_ledger ledger = DB_LEDGER_INIT;
    char *conninfo = NULL, *password = NULL;
    int64_t *applied = NULL;
    size_t n_applied = 0;
    int rc = -1;

    if (db_ledger_load(&ledger, db, cfg->ledger_schema, err) < 0 ||
        db_child_conninfo(db, &conninfo, &password, err) < 0)
        goto cleanup;
    applied = dd_xcalloc(ledger.n ? ledger.n : 1, sizeof(*applied));
    for (size_t i = 0; i < ledger.n; i++)
        if (ledger.rows[i].state == DB_LEDGER_APPLIED)
            applied[n_applied++] = ledger.rows[i].version;
    memset(&req, 0, sizeof(req));
    req.env = cfg->env;
    req.dir = cfg->backup.dir;
    req.pg_dump = cfg->backup.pg_dump;
    req.level = cfg->backup.level;
    req.keep = cfg->backup.keep;
    req.conninfo = conninfo;
    req.password = password;
    req.database = db_name(db);
    req.server_version = db_server_version(db);
    req.git_commit = cfg->commit;
    req.applied = applied;
    req.n_applied = n_applied;
    if (backup_create(&res, &req, err) < 0) {
        dd_error_wrap(err, "taking a fresh backup of %s to rehearse on", cfg->env);
        goto cleanup;
    }
    r->archive = res.path;
    res.path = NULL;
    r->fresh = true;
    r->backup_ms = res.ms;
    rc = 0;
cleanup:
    backup_result_release(&res);
    db_ledger_release(&ledger);
    free(applied);
    free(conninfo);
    dd_free_secret(password);
    return rc;
}
