/*
 * The recovery ladder: a failed deployment is undone by the least destructive means that works.
 *
 *   1. transaction  the deployment ran as one transaction and failed inside it: the rollback
 *                   already put everything back; nobody else's writes were touched
 *   2. down         the migrations committed (health-after failed, or a per-migration deploy
 *                   failed part-way) and every one has a down file: they run newest first, each
 *                   in its own transaction with its ledger row; other sessions' writes survive.
 *                   A repeatable migration's down is its previous content (the blob its ledger
 *                   row recorded), run again first
 *   3. backup       otherwise the pre-deploy backup is restored, but only when no other session
 *                   committed a write since it was taken (db/guard.h); if one did, nothing is
 *                   restored (exit 5) and the report names the tables and the command that
 *                   restores anyway
 *
 * [restore] strategy pins a rung (down, backup) or turns recovery off (none).
 */
#include "pipeline/deploy.h"

#include <stdio.h>

#include "config/config.h"
#include "db/db.h"
#include "util/strv.h"
#include "util/out.h"

/* How long the guard waits for the statistics to name the tables foreign writes went to. */
#define GUARD_STATS_WAIT_MS 11000

const char *deploy_recovery_name(enum deploy_recovery r)
{
    static const char *const names[] = {"none",   "transaction", "unchanged", "down",
                                        "backup", "refused",     "off",       "failed"};

    return names[r];
}

static unsigned strategy(const struct dd_config *cfg)
{
    return cfg->restore.on_failure ? cfg->restore.strategy : CONFIG_RESTORE_NONE;
}

static const struct migration *planned(const struct deploy *d, int64_t version)
{
    for (size_t k = 0; k < d->plan.n; k++)
        if (d->plan.v[k].m->version == version)
            return d->plan.v[k].m;
    return NULL;
}

/* The ledger row a planned repeatable migration had before this deployment (NULL: it never ran). */
static const struct db_ledger_repeatable *previous_run(const struct deploy *d, const struct migration *m)
{
    for (size_t i = 0; i < d->st.nrep; i++)
        if (d->st.rep[i].m == m)
            return d->st.rep[i].row;
    return NULL;
}

/* Why a repeatable migration's previous content cannot be run again; NULL when it can. Owned by the caller. */
static char *previous_unusable(const struct deploy *d, const struct migration *m)
{
    const struct db_ledger_repeatable *r = previous_run(d, m);

    if (!r)
        return dd_xasprintf("%s ran on %s for the first time: there is no previous content to run again", m->up.path,
                            d->cfg->env);
    if (!r->git_blob || !d->set.reader.read)
        return dd_xasprintf("%s: its previous content is not known from git", m->up.path);
    return NULL;
}

/* What keeps the down files from undoing what committed; NULL when they can. Owned by the caller. */
static char *downs_unusable(const struct deploy *d)
{
    size_t fi = d->applied.failed_index;

    if (fi < d->plan.n && d->plan.v[fi].exec.mode == MIGRATION_EXEC_NO_TX)
        return dd_xasprintf("%s stopped part-way without a transaction", d->plan.v[fi].script->path);
    for (size_t i = 0; i < d->applied.nrep && i < d->plan.nrep; i++) {
        char *why = previous_unusable(d, d->plan.rep[i].m);
        if (why)
            return why;
    }
    for (size_t i = 0; i < d->applied.n; i++) {
        const struct migration *m = planned(d, d->applied.v[i].version);
        if (!m || !m->down.present)
            return dd_xasprintf("%s has no down file", m ? m->up.path : d->applied.v[i].file);
    }
    return NULL;
}

/* The ledger after an undo must be exactly the one read under the lock before apply. */
static int ledger_is_back(struct deploy *d, const char *what, struct dd_error *err)
{
    struct db_ledger now = DB_LEDGER_INIT;
    int rc = -1;

    if (db_ledger_load(&now, d->db, d->cfg->ledger_schema, err) < 0)
        goto cleanup;
    if (now.n != d->ledger.n) {
        dd_error_set(err, DD_ERESTOREFAIL, "after the %s the ledger has %zu migrations, not the %zu it had before",
                     what, now.n, d->ledger.n);
        goto cleanup;
    }
    for (size_t i = 0; i < now.n; i++) {
        const struct db_ledger_row *a = &now.rows[i], *b = &d->ledger.rows[i];
        if (a->version != b->version || strcmp(a->checksum, b->checksum) != 0 || a->state != b->state) {
            dd_error_set(err, DD_ERESTOREFAIL, "after the %s the ledger differs at version %lld", what,
                         (long long)a->version);
            goto cleanup;
        }
    }
    for (size_t i = 0; i < d->ledger.nrep; i++) {
        const struct db_ledger_repeatable *b = &d->ledger.rep[i], *a = db_ledger_find_repeatable(&now, b->name);
        if (!a || strcmp(a->checksum, b->checksum) != 0) {
            dd_error_set(err, DD_ERESTOREFAIL, "after the %s the ledger differs at repeatable migration %s", what,
                         b->name);
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    db_ledger_release(&now);
    return rc;
}

/*
 * The session must still work and hold the deployment lock: keep it if it does (no other
 * deployment can start meanwhile); db_lock_acquire replaces a dead session and takes the lock
 * again before anything else happens.
 */
static int session_ready(struct deploy *d, struct dd_error *err)
{
    db_rollback_quietly(d->db);
    return db_lock_acquire(d->db, d->cfg->lock_wait_ms, err);
}

/*
 * The repeatable migrations that committed, run again with the content their ledger rows
 * recorded before this deployment (read from git by blob id), in one plan; *n says how many.
 */
static int rerun_previous(struct deploy *d, size_t *n, struct dd_error *err)
{
    struct migration_source src = MIGRATION_SOURCE_INIT;
    struct migration_set prev = MIGRATION_SET_INIT;
    struct engine_plan p = ENGINE_PLAN_INIT;
    struct engine_result res = ENGINE_RESULT_INIT;
    size_t alloc = 0;
    int rc = -1;

    *n = 0;
    if (!d->applied.nrep)
        return 0;
    migration_source_init(&src, d->set.dir, d->set.commit);
    for (size_t i = 0; i < d->applied.nrep && i < d->plan.nrep; i++) {
        const struct migration *m = d->plan.rep[i].m;
        const struct db_ledger_repeatable *r = previous_run(d, m);
        struct dd_buf data = DD_BUF_INIT;
        int got = d->set.reader.read(d->set.reader.arg, r->git_blob, &data, err);
        if (got == 0)
            migration_source_add(&src, m->name, data.buf, data.len, r->git_blob);
        dd_buf_release(&data);
        if (got < 0) {
            dd_error_wrap(err, "reading the previous content of %s", m->up.path);
            goto cleanup;
        }
    }
    if (migration_set_build(&prev, &src, err) < 0)
        goto cleanup;
    for (size_t i = 0; i < prev.nrep; i++) {
        struct engine_step *s;
        DD_ALLOC_GROW(p.rep, p.nrep + 1, alloc);
        s = &p.rep[p.nrep++];
        memset(s, 0, sizeof(*s));
        s->m = &prev.rep[i];
        s->script = &prev.rep[i].up;
        if (migration_exec_prepare(&s->exec, s->script, false, err) < 0)
            goto cleanup;
    }
    if (engine_run(&res, d->db, &p, &d->opts, d->set.commit, err) < 0)
        goto cleanup;
    *n = res.nrep;
    rc = 0;
cleanup:
    engine_result_release(&res);
    engine_plan_release(&p);
    migration_set_release(&prev);
    migration_source_release(&src);
    return rc;
}

/*
 * Rung 2: the previous content of the repeatable migrations that committed, then the down
 * files of the versions that did, newest first, each in its own transaction.
 */
static int run_downs(struct deploy *d, char **note, struct dd_error *err)
{
    struct engine_plan p = ENGINE_PLAN_INIT;
    size_t nprev = 0;
    int rc = -1;

    if (session_ready(d, err) < 0 || rerun_previous(d, &nprev, err) < 0)
        return -1;
    p.down = true;
    p.v = dd_xcalloc(d->applied.n ? d->applied.n : 1, sizeof(*p.v));
    for (size_t i = d->applied.n; i-- > 0;) {
        struct engine_step *s = &p.v[p.n++];
        s->m = planned(d, d->applied.v[i].version);
        s->script = &s->m->down;
        if (migration_exec_prepare(&s->exec, s->script, d->opts.strict_transactions, err) < 0)
            goto cleanup;
    }
    engine_result_release(&d->reverted);
    if ((p.n && engine_run(&d->reverted, d->db, &p, &d->opts, d->set.commit, err) < 0) ||
        ledger_is_back(d, "down files", err) < 0)
        goto cleanup;
    if (!p.n)
        *note = dd_xasprintf("ran the previous content of %zu repeatable migration%s again; other sessions' writes "
                             "kept",
                             nprev, DD_PLURAL(nprev));
    else
        *note = dd_xasprintf("%sran the down files of %s..%s (newest first); other sessions' writes kept",
                             nprev ? "ran the previous content of the repeatable migrations again, then " : "",
                             p.v[0].m->version_text, p.v[p.n - 1].m->version_text);
    rc = 0;
cleanup:
    engine_plan_release(&p);
    return rc;
}

int deploy_foreign_writes_error(const struct db_foreign_writes *f, enum dd_errcode code, struct dd_error *err)
{
    if (f->late)
        dd_error_set(err, code, "not restored: other sessions wrote to %zu table%s while the backup was being loaded",
                     f->n, f->n == 1 ? "" : "s");
    else
        dd_error_set(err, code, "not restored: %s%lld transaction%s of other sessions committed after the backup",
                     f->capped ? "more than " : "", (long long)f->n_xids, f->n_xids == 1 ? "" : "s");
    for (size_t i = 0; i < f->n; i++)
        dd_error_detail(err, "writes to %s: %lld inserted, %lld updated, %lld deleted%s", f->t[i].name,
                        (long long)f->t[i].ins, (long long)f->t[i].upd, (long long)f->t[i].del,
                        f->t[i].is_new    ? " (a table created after the backup)"
                        : f->t[i].altered ? " (truncated, rewritten, altered or dropped)"
                                          : "");
    if (!f->n)
        dd_error_detail(err, "no table named: the statistics had not caught up, or the writes went to another "
                             "database of the same server");
    return -1;
}

/* The guard said no: leave the database as it is and say exactly what a restore would discard. */
static int refuse(struct deploy *d, struct dd_error *err)
{
    d->recovery = DEPLOY_RECOVERY_REFUSED;
    deploy_foreign_writes_error(&d->foreign, DD_ERESTOREFAIL, err);
    dd_error_hint(err,
                  "A restore would discard those writes, so the database was left as it is, with this "
                  "deployment's changes. Fix forward, or restore anyway, discarding them: dbdeploy restore %s %s "
                  "--yes --discard-writes",
                  d->cfg->env, d->backup.path);
    return -1;
}

/* The guard's late check (db/guard.h), for writes committed while pg_restore loads the copy. */
struct late_guard {
    struct deploy *d;
    struct db_write_mark base; /* right after the first check */
};

static int late_check(void *arg, struct db_conn *db, bool final, struct dd_error *err)
{
    struct late_guard *g = arg;

    if (db_foreign_writes_recheck(&g->d->foreign, db, &g->base, g->d->cfg->ledger_schema, err) < 0)
        return dd_error_wrap(err, "not restored: cannot tell whether other sessions wrote during the restore");
    if (g->d->foreign.n)
        return refuse(g->d, err);
    if (final)
        log_detail("the foreign-write guard found no writes during the restore");
    return 0;
}

/* Rung 3: the backup, after the foreign-write guard. */
static int restore_backup(struct deploy *d, char **note, struct dd_error *err)
{
    struct backup_restore_request req;
    struct late_guard guard = {d, DB_WRITE_MARK_INIT};
    bool late = false;
    char *conninfo = NULL, *password = NULL;
    int rc = -1;

    if (!d->backup.path) {
        dd_error_set(err, DD_ERESTOREFAIL, "there is no backup of this deployment to restore from");
        dd_error_hint(err, "Turn [backup] enabled on for environments with [restore] on-failure = true.");
        return -1;
    }
    if (session_ready(d, err) < 0)
        return -1;
    if (d->have_mark) {
        /*
         * The late check's baseline comes first: a write committed between it and the id check
         * below is then seen by one or the other (a write already counted in the baseline but
         * committed after the id check would be missed the other way round).
         */
        late = d->cfg->restore.on_foreign_writes == CONFIG_FOREIGN_REFUSE;
        if (late && db_write_recheck_begin(&guard.base, d->db, err) < 0)
            goto cleanup;
        if (db_foreign_writes_find(&d->foreign, d->db, &d->mark, d->cfg->ledger_schema, GUARD_STATS_WAIT_MS, err) < 0) {
            dd_error_wrap(err, "not restored: cannot tell whether other sessions wrote since the backup");
            goto cleanup;
        }
        if (d->foreign.n_xids && d->cfg->restore.on_foreign_writes == CONFIG_FOREIGN_REFUSE) {
            refuse(d, err);
            goto cleanup;
        }
        if (d->foreign.n_xids)
            log_warn("restoring anyway ([restore] on-foreign-writes = restore): the writes of %lld transaction%s of "
                     "other sessions since the backup are discarded",
                     (long long)d->foreign.n_xids, d->foreign.n_xids == 1 ? "" : "s");
    }
    if (db_child_conninfo(d->db, &conninfo, &password, err) < 0)
        goto cleanup;
    memset(&req, 0, sizeof(req));
    req.archive = d->backup.path;
    req.env = d->cfg->env;
    req.pg_restore = d->cfg->backup.pg_restore;
    req.db = d->db;
    req.conninfo = conninfo;
    req.password = password;
    req.dir = d->cfg->backup.dir;
    req.late_check = late ? late_check : NULL;
    req.late_check_arg = &guard;
    if (backup_restore(&d->restore, &req, err) < 0 || ledger_is_back(d, "restore", err) < 0)
        goto cleanup;
    *note = dd_xasprintf("from %s", d->backup.path);
    rc = 0;
cleanup:
    db_write_mark_release(&guard.base);
    free(conninfo);
    dd_free_secret(password);
    return rc;
}

int deploy_recover(struct deploy *d, char **note, struct dd_error *err)
{
    unsigned strat = strategy(d->cfg);
    char *why;

    if (!d->db_changed) {
        d->restore_unneeded = true;
        d->recovery = d->one_tx ? DEPLOY_RECOVERY_TRANSACTION : DEPLOY_RECOVERY_UNCHANGED;
        *note = dd_xstrdup(d->one_tx ? "the deployment's transaction was rolled back; nothing to restore"
                                     : "not needed: no migration had been committed");
        return 0;
    }
    if (strat == CONFIG_RESTORE_NONE) {
        d->recovery = DEPLOY_RECOVERY_OFF;
        *note = dd_xstrdup(d->cfg->restore.on_failure ? "off ([restore] strategy = none)"
                                                      : "off ([restore] on-failure = false)");
        return STAGE_SKIPPED;
    }
    why = strat == CONFIG_RESTORE_BACKUP ? NULL : downs_unusable(d);
    if (strat != CONFIG_RESTORE_BACKUP && !why) {
        if (run_downs(d, note, err) == 0) {
            d->recovery = DEPLOY_RECOVERY_DOWN;
            d->restored = true;
            return 0;
        }
        if (strat == CONFIG_RESTORE_DOWN)
            goto failed;
        log_warn("the down files could not undo the deployment (%s); trying the backup", dd_error_msg(err));
        dd_error_release(err);
    } else if (strat == CONFIG_RESTORE_DOWN) {
        dd_error_set(err, DD_ERESTOREFAIL, "[restore] strategy = down, but %s", why);
        dd_error_hint(err, "Undo the deployment by hand, or allow the backup: [restore] strategy = auto.");
        free(why);
        goto failed;
    }
    free(why);
    if (restore_backup(d, note, err) == 0) {
        d->recovery = DEPLOY_RECOVERY_BACKUP;
        d->restored = true;
        return 0;
    }
    if (d->recovery == DEPLOY_RECOVERY_REFUSED)
        return -1;
failed:
    d->recovery = DEPLOY_RECOVERY_FAILED;
    d->restore_failed = true;
    return -1;
}

/*
 * Every planned migration has a down file (a repeatable one: previous content to run again);
 * *no_tx: one runs without a transaction.
 */
static bool plan_has_downs(const struct deploy *d, bool *no_tx)
{
    bool downs = d->plan.n + d->plan.nrep > 0;

    *no_tx = false;
    for (size_t i = 0; i < d->plan.n; i++) {
        downs = downs && d->plan.v[i].m->down.present;
        *no_tx = *no_tx || d->plan.v[i].exec.mode == MIGRATION_EXEC_NO_TX;
    }
    for (size_t i = 0; i < d->plan.nrep && downs; i++) {
        char *why = previous_unusable(d, d->plan.rep[i].m);
        downs = !why;
        free(why);
    }
    return downs;
}

/* What undoes a failure after the migrations committed. */
static void after_commit(struct dd_buf *b, const struct deploy *d)
{
    unsigned strat = strategy(d->cfg);
    bool no_tx, downs = plan_has_downs(d, &no_tx);

    if (strat == CONFIG_RESTORE_NONE)
        dd_buf_adds(b, "nothing: the database is left as it is ([restore] strategy = none)");
    else if (strat != CONFIG_RESTORE_BACKUP && downs && !d->plan.n)
        dd_buf_adds(b, "run the previous content of the repeatable migrations again");
    else if (strat != CONFIG_RESTORE_BACKUP && downs)
        dd_buf_addf(b, "%srun the down files of %s..%s",
                    d->plan.nrep ? "run the previous content of the repeatable migrations again, then " : "",
                    d->plan.v[0].m->version_text, d->plan.v[d->plan.n - 1].m->version_text);
    else if (strat == CONFIG_RESTORE_DOWN)
        dd_buf_adds(b, "nothing: a down file is missing ([restore] strategy = down)");
    else if (d->cfg->backup.enabled)
        dd_buf_adds(b, "restore the backup taken before apply, unless other sessions wrote since");
    else
        dd_buf_adds(b, "nothing: there is no backup ([backup] enabled = false)");
}

char *deploy_recovery_plan(const struct deploy *d)
{
    struct dd_buf b = DD_BUF_INIT;

    dd_buf_adds(&b, "on failure: ");
    if (d->one_tx)
        dd_buf_adds(&b, "roll back the transaction; if health-after fails once it committed: ");
    after_commit(&b, d);
    return dd_buf_detach(&b, NULL);
}

/* The restore by swap: the role's rights, pg_restore, and room for the archive. */
static int check_backup_rung(struct deploy *d, struct dd_error *err)
{
    struct db_restore_rights r;
    struct dd_strv missing = DD_STRV_INIT, fixes = DD_STRV_INIT;
    int rc = -1;

    if (db_restore_rights_read(&r, d->db, err) < 0)
        return -1;
    if (!r.superuser && !r.createdb) {
        dd_strv_pushf(&missing, "CREATEDB (to create the replacement database)");
        dd_strv_pushf(&fixes, "ALTER ROLE %s CREATEDB;", r.role);
    }
    if (!r.superuser && !r.owner) {
        dd_strv_pushf(&missing, "ownership of database '%s' (to rename it away)", db_name(d->db));
        dd_strv_pushf(&fixes, "ALTER DATABASE %s OWNER TO %s;", db_name(d->db), r.role);
    }
    if (!r.signal) {
        dd_strv_pushf(&missing, "the right to end other roles' sessions on it");
        dd_strv_pushf(&fixes, "GRANT pg_signal_backend TO %s;", r.role);
    }
    if (missing.n) {
        dd_error_set(err, DD_EBLOCKED,
                     "no way back: a failure would need to restore the backup, and role '%s' lacks %s%s", r.role,
                     missing.v[0], missing.n > 1 ? " (and more, below)" : "");
        for (size_t i = 1; i < missing.n; i++)
            dd_error_detail(err, "role '%s' also lacks %s", r.role, missing.v[i]);
        {
            char *all = dd_strv_join(&fixes, " ");
            dd_error_hint(err,
                          "Nothing was changed. Grant it (%s), or give every migration a down file and set "
                          "[restore] strategy = down, or state [restore] strategy = none to deploy without an "
                          "automatic way back.",
                          all);
            free(all);
        }
        goto cleanup;
    }
    if (backup_check_restorable(d->cfg->backup.pg_dump, d->cfg->backup.pg_restore, d->cfg->backup.dir,
                                (uint64_t)r.db_size, err) < 0) {
        dd_error_wrap(err, "no way back: a failure would need to restore the backup");
        goto cleanup;
    }
    rc = 0;
cleanup:
    dd_strv_release(&missing);
    dd_strv_release(&fixes);
    return rc;
}

int deploy_check_way_back(struct deploy *d, struct dd_error *err)
{
    unsigned strat = strategy(d->cfg);
    bool no_tx, downs = plan_has_downs(d, &no_tx);

    /* in one transaction, only health-after can fail after the commit */
    if ((!d->plan.n && !d->plan.nrep) || strat == CONFIG_RESTORE_NONE || (d->one_tx && !d->cfg->health.url))
        return 0;
    if (strat == CONFIG_RESTORE_DOWN && !downs) {
        for (size_t i = 0; i < d->plan.n; i++)
            if (!d->plan.v[i].m->down.present) {
                dd_error_set(err, DD_EBLOCKED, "no way back: [restore] strategy = down, but %s has no down file",
                             d->plan.v[i].m->up.path);
                break;
            }
        for (size_t i = 0; i < d->plan.nrep && !dd_error_isset(err); i++) {
            char *why = previous_unusable(d, d->plan.rep[i].m);
            if (why)
                dd_error_set(err, DD_EBLOCKED, "no way back: [restore] strategy = down, but %s", why);
            free(why);
        }
        dd_error_hint(err, "Nothing was changed. Write the down file, or set [restore] strategy = auto (the backup "
                           "where downs are missing) or strategy = none.");
        return -1;
    }
    if (strat == CONFIG_RESTORE_DOWN || !d->cfg->backup.enabled || (strat == CONFIG_RESTORE_AUTO && downs && !no_tx))
        return 0;
    return check_backup_rung(d, err);
}
