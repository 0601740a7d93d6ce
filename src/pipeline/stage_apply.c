#include "pipeline/deploy.h"

#include <stdio.h>

#include "config/config.h"
#include "db/db.h"
#include "util/out.h"

int stage_apply_run(void *ctx, char **note, struct dd_error *err)
{
    struct deploy *d = ctx;
    int rc = engine_run(&d->applied, d->db, &d->plan, &d->opts, d->set.commit, err);

    /* committed migrations, or a no-transaction file that may have run part-way, changed the database */
    d->db_changed = d->applied.n > 0 || (rc < 0 && d->applied.failed_index < d->plan.n &&
                                         d->plan.v[d->applied.failed_index].exec.mode == MIGRATION_EXEC_NO_TX);
    if (rc < 0)
        return -1;
    *note = dd_xasprintf("%zu migration%s", d->applied.n, d->applied.n == 1 ? "" : "s");
    return 0;
}

/* The ledger after a restore must be exactly the one read under the lock before apply. */
static int ledger_is_back(struct deploy *d, struct dd_error *err)
{
    struct db_ledger now = DB_LEDGER_INIT;
    int rc = -1;

    if (db_ledger_load(&now, d->db, d->cfg->ledger_schema, err) < 0)
        goto cleanup;
    if (now.n != d->ledger.n) {
        dd_error_set(err, DD_ERESTOREFAIL, "after the restore the ledger has %zu migrations, not the %zu it had before",
                     now.n, d->ledger.n);
        goto cleanup;
    }
    for (size_t i = 0; i < now.n; i++) {
        const struct db_ledger_row *a = &now.rows[i], *b = &d->ledger.rows[i];
        if (a->version != b->version || strcmp(a->checksum, b->checksum) != 0 || a->state != b->state) {
            dd_error_set(err, DD_ERESTOREFAIL, "after the restore the ledger differs at version %lld",
                         (long long)a->version);
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    db_ledger_release(&now);
    return rc;
}

/* Auto-restore: put back the archive taken by the backup stage, then check the ledger. */
int stage_apply_undo(void *ctx, char **note, struct dd_error *err)
{
    struct deploy *d = ctx;
    struct backup_restore_request req;
    char *conninfo = NULL, *password = NULL;
    int rc = -1;

    if (!d->db_changed) {
        d->restore_unneeded = true;
        *note = dd_xstrdup("not needed: no migration had been committed");
        return 0;
    }
    if (!d->cfg->restore.on_failure) {
        *note = dd_xstrdup("off ([restore] on-failure = false)");
        return STAGE_SKIPPED;
    }
    if (!d->backup.path) {
        d->restore_failed = true;
        dd_error_set(err, DD_ERESTOREFAIL, "there is no backup of this deployment to restore from");
        dd_error_hint(err, "Turn [backup] enabled on for environments with [restore] on-failure = true.");
        return -1;
    }
    /*
     * Keep this session if it still works: with it the deployment lock stays held, so no other
     * deployment can start on the database we are about to replace. A lost session is reconnected
     * and the lock retaken (db_lock_acquire) before anything else happens.
     */
    db_rollback_quietly(d->db);
    if (db_lock_acquire(d->db, d->cfg->lock_wait_ms, err) < 0)
        goto failed;
    if (db_child_conninfo(d->db, &conninfo, &password, err) < 0)
        goto failed;
    memset(&req, 0, sizeof(req));
    req.archive = d->backup.path;
    req.env = d->cfg->env;
    req.pg_restore = d->cfg->backup.pg_restore;
    req.db = d->db;
    req.conninfo = conninfo;
    req.password = password;
    req.dir = d->cfg->backup.dir;
    if (backup_restore(&d->restore, &req, err) < 0 || ledger_is_back(d, err) < 0)
        goto failed;
    d->restored = true;
    *note = dd_xasprintf("from %s", d->backup.path);
    rc = 0;
    goto cleanup;
failed:
    d->restore_failed = true;
cleanup:
    free(conninfo);
    dd_free_secret(password);
    return rc;
}
