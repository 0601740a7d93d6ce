#include "pipeline/undo.h"

#include <stdio.h>

#include "changelog/changelog.h"
#include "config/config.h"
#include "db/db.h"
#include "git/git.h"
#include "pipeline/deploy.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/common.h"

/* How long the guard waits for the statistics to name the tables foreign writes went to. */
#define UNDO_STATS_WAIT_MS 11000

static bool applied_status(const struct db_deployment_migration *m)
{
    return strcmp(m->status, "applied") == 0;
}

static const struct db_ledger_row *ledger_row(const struct db_ledger *l, int64_t version)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->rows[i].version == version)
            return &l->rows[i];
    return NULL;
}

static bool has_version(const struct db_deployment *d, int64_t version)
{
    for (size_t k = 0; k < d->n; k++)
        if (d->m[k].version == version && applied_status(&d->m[k]))
            return true;
    return false;
}

/* A later deployment (an undo, or one that applied it again) recorded the version after d did. */
static bool superseded(const struct db_deployments *deps, const struct db_deployment *d, int64_t version)
{
    for (size_t i = 0; i < deps->n; i++)
        if (deps->v[i].id > d->id)
            for (size_t k = 0; k < deps->v[i].n; k++)
                if (deps->v[i].m[k].version == version && strcmp(deps->v[i].m[k].status, "failed") != 0)
                    return true;
    return false;
}

/* Every migration d applied is still in the ledger as d recorded it, and no later deployment touched it. */
static bool still_applied(const struct db_deployments *deps, const struct db_deployment *d, const struct db_ledger *l)
{
    size_t n = 0;

    for (size_t k = 0; k < d->n; k++) {
        const struct db_ledger_row *r = ledger_row(l, d->m[k].version);
        if (!applied_status(&d->m[k]))
            continue;
        if (!r || r->state != DB_LEDGER_APPLIED || strcmp(r->checksum, d->m[k].checksum) != 0 ||
            superseded(deps, d, d->m[k].version))
            return false;
        n++;
    }
    return n > 0;
}

static const struct db_deployment *choose(const struct db_deployments *deps, const struct db_ledger *l, int64_t id,
                                          const char *env, struct dd_error *err)
{
    for (size_t i = deps->n; i-- > 0;) {
        const struct db_deployment *d = &deps->v[i];
        if (id ? d->id == id : strcmp(d->result, "applied") == 0 && still_applied(deps, d, l))
            return d;
    }
    if (id) {
        dd_error_set(err, DD_EBLOCKED, "there is no deployment #%lld of %s", (long long)id, env);
        dd_error_hint(err, "Nothing was changed. 'dbdeploy log %s' lists the deployments and their ids.", env);
    } else {
        dd_error_set(err, DD_EBLOCKED, "nothing to undo on %s: no deployment's migrations are still applied", env);
        dd_error_hint(err, "Nothing was changed. 'dbdeploy log %s' lists the deployments.", env);
    }
    return NULL;
}

/* Deployments after d whose migrations sit on top of d's: they must be undone first. */
static int blocked_by_newer(const struct db_deployments *deps, const struct db_deployment *d, const struct db_ledger *l,
                            int64_t lowest, const char *env, struct dd_error *err)
{
    struct dd_buf names = DD_BUF_INIT;
    int64_t newest = 0;
    bool outside = false;

    for (size_t i = 0; i < l->n; i++) {
        const struct db_ledger_row *r = &l->rows[i];
        const struct db_deployment *by = NULL;
        if (r->version <= lowest || has_version(d, r->version))
            continue;
        for (size_t k = deps->n; k-- > 0 && !by;)
            if (deps->v[k].id > d->id && has_version(&deps->v[k], r->version))
                by = &deps->v[k];
        if (by) {
            dd_buf_addf(&names, "%s#%lld (%lld)", names.len ? ", " : "", (long long)by->id, (long long)r->version);
            newest = by->id > newest ? by->id : newest;
        } else {
            dd_buf_addf(&names, "%smigration %lld (applied outside a deployment)", names.len ? ", " : "",
                        (long long)r->version);
            outside = true;
        }
    }
    if (!names.len)
        return 0;
    dd_error_set(err, DD_EBLOCKED,
                 "deployment #%lld is not the newest still applied: later changes sit on top of it: %s",
                 (long long)d->id, names.buf);
    if (newest && !outside)
        dd_error_hint(err, "Nothing was changed. Undo those first, newest first: dbdeploy undo %s --deployment %lld",
                      env, (long long)newest);
    else
        dd_error_hint(err, "Nothing was changed. Revert the newer migrations first (dbdeploy rollback %s).", env);
    dd_buf_release(&names);
    return -1;
}

/* Without down files: the deployment's own backup, if it has one and nothing was deployed since. */
static int via_backup(struct undo *u, const struct db_deployments *deps, const struct db_deployment *d,
                      const char *no_down, struct dd_error *err)
{
    const struct db_deployment *last = &deps->v[deps->n - 1];

    if (!d->archive) {
        dd_error_set(err, DD_EBLOCKED,
                     "deployment #%lld cannot be undone: %s has no down file and the deployment took no backup",
                     (long long)d->id, no_down);
        dd_error_hint(err, "Nothing was changed. Write the down file and run the undo again.");
        return -1;
    }
    if (last->id != d->id) {
        /* their transactions would look like foreign writes to the guard, and their changes would be lost */
        dd_error_set(err, DD_EBLOCKED,
                     "deployment #%lld cannot be undone through its backup: %s has no down file, and deployment "
                     "#%lld (%s) ran after it",
                     (long long)d->id, no_down, (long long)last->id, last->result);
        dd_error_hint(err,
                      "Nothing was changed. Write the down file, or restore the backup by hand, discarding "
                      "everything since: dbdeploy restore %s %s",
                      u->cfg->env, d->archive);
        return -1;
    }
    free(u->archive);
    u->archive = dd_xstrdup(d->archive);
    return 0;
}

/* d can be undone with down files against ledger l; fills u->versions. */
static int check(struct undo *u, const struct db_deployments *deps, const struct db_deployment *d,
                 const struct db_ledger *l, struct dd_error *err)
{
    const char *env = u->cfg->env;

    if (strcmp(d->result, "applied") != 0) {
        dd_error_set(err, DD_EBLOCKED, "deployment #%lld did not apply (result: %s); there is nothing of it to undo",
                     (long long)d->id, d->result);
        dd_error_hint(err, "Nothing was changed. 'dbdeploy log %s' shows what each deployment did.", env);
        return -1;
    }
    if (!still_applied(deps, d, l)) {
        dd_error_set(err, DD_EBLOCKED,
                     "the migrations of deployment #%lld are no longer applied as it recorded them (the ledger changed "
                     "since)",
                     (long long)d->id);
        dd_error_hint(err, "Nothing was changed. 'dbdeploy status %s' shows what is applied now.", env);
        return -1;
    }
    free(u->versions);
    u->versions = dd_xcalloc(d->n, sizeof(*u->versions));
    u->n = 0;
    for (size_t k = 0; k < d->n; k++)
        if (applied_status(&d->m[k]))
            u->versions[u->n++] = d->m[k].version;
    if (blocked_by_newer(deps, d, l, u->versions[0], env, err) < 0)
        return -1;
    for (size_t k = 0; k < u->n; k++) {
        const struct migration *m = NULL;
        for (size_t i = 0; i < u->t.set->n && !m; i++)
            if (u->t.set->v[i].version == u->versions[k])
                m = &u->t.set->v[i];
        if (!m || !m->down.present)
            return via_backup(u, deps, d, m ? m->up.path : d->m[k].file, err);
    }
    free(u->archive);
    u->archive = NULL;
    return 0;
}

/* Load the deployments, choose one, check it against the ledger read last. */
static int decide(struct undo *u, int64_t id, struct dd_error *err)
{
    struct db_deployments deps = {NULL, 0};
    const struct db_deployment *d;
    int rc = -1;

    if (db_deployments_load(&deps, u->t.db, u->cfg->ledger_schema, u->cfg->env, err) < 0)
        goto cleanup;
    if (!(d = choose(&deps, u->t.ledger, id, u->cfg->env, err)) || check(u, &deps, d, u->t.ledger, err) < 0)
        goto cleanup;
    u->id = d->id;
    rc = 0;
cleanup:
    db_deployments_release(&deps);
    return rc;
}

int undo_prepare(struct undo *u, int64_t id, struct dd_error *err)
{
    return decide(u, id, err);
}

/* The planned rollback must be exactly the deployment's migrations, newest first. */
static int plan_matches(const struct undo *u, struct dd_error *err)
{
    bool same = u->plan.n == u->n;

    for (size_t i = 0; same && i < u->n; i++)
        same = u->plan.v[i].m->version == u->versions[u->n - 1 - i] && !u->plan.v[i].skip_sql;
    if (same)
        return 0;
    dd_error_set(err, DD_EBLOCKED,
                 "the ledger changed since deployment #%lld: its migrations are not the newest applied",
                 (long long)u->id);
    dd_error_hint(err, "Nothing was changed. 'dbdeploy status %s' shows what is applied now.", u->cfg->env);
    return -1;
}

/* The undo as a deployment of its own, and its changelog entry (the same bytes `changelog` renders). */
static int record(struct undo *u, uint64_t started_ms, struct dd_error *err)
{
    struct db_deployment dep;
    struct changelog_entry e;
    struct changelog_migration *cm = NULL;
    struct dd_strv hold = DD_STRV_INIT;
    char started[32], finished[32];
    int rc = -1;

    memset(&dep, 0, sizeof(dep));
    dd_time_iso8601_ms(started, started_ms);
    dd_time_iso8601_ms(finished, dd_epoch_ms());
    dep.env = dd_xstrdup(u->cfg->env);
    dep.git_commit = u->t.set->commit ? dd_xstrdup(u->t.set->commit) : NULL;
    dep.deployed_by = dd_xstrdup(u->who);
    dep.started_at = dd_xstrdup(started);
    dep.finished_at = dd_xstrdup(finished);
    dep.result = dd_xstrdup("undone");
    dep.stages_json =
        dd_xasprintf("[{\"name\":\"undo\",\"outcome\":\"ok\",\"note\":\"deployment #%lld\"}]", (long long)u->id);
    dep.recovery = dd_xstrdup(u->archive ? "backup" : "down");
    dep.archive = u->archive ? dd_xstrdup(u->archive) : NULL;
    dep.kind = dd_xstrdup("undo");
    dep.git_user = repo_identity(u->repo);
    /* ascending, as the ledger reads them back: the changelog must regenerate the same bytes */
    for (size_t i = u->reverted.n < u->plan.n ? u->reverted.n : u->plan.n; i-- > 0;)
        deploy_record_migration(&dep, u->plan.v[i].m, u->reverted.v[i].duration_ms, "restored");
    for (size_t k = 0; u->archive && k < u->n; k++) {
        const struct migration *m = NULL;
        for (size_t i = 0; i < u->t.set->n && !m; i++)
            if (u->t.set->v[i].version == u->versions[k])
                m = &u->t.set->v[i];
        if (m)
            deploy_record_migration(&dep, m, 0, "restored");
    }
    if (db_deployment_insert(u->t.db, u->cfg->ledger_schema, &dep, err) < 0)
        goto cleanup;
    u->record_id = dep.id;
    cm = dd_xcalloc(dep.n ? dep.n : 1, sizeof(*cm));
    deploy_changelog_entry(&e, cm, &hold, u->repo, &dep);
    rc = changelog_prepend(&u->changelog_path, u->cfg->root, u->cfg->env, &e, err);
cleanup:
    free(cm);
    dd_strv_release(&hold);
    db_deployment_release(&dep);
    return rc;
}

/* The guard's late check during the restore (db/guard.h): writes while pg_restore loads. */
struct undo_late {
    struct undo *u;
    struct db_write_mark base;
};

static int refuse(struct undo *u, struct dd_error *err)
{
    deploy_foreign_writes_error(&u->foreign, DD_EBLOCKED, err);
    dd_error_hint(err,
                  "Nothing was changed: restoring the backup of deployment #%lld would discard those writes. Write "
                  "the down files, or undo it anyway, discarding them: dbdeploy undo %s --deployment %lld --yes "
                  "--discard-writes",
                  (long long)u->id, u->cfg->env, (long long)u->id);
    return -1;
}

static int undo_late_check(void *arg, struct db_conn *db, bool final, struct dd_error *err)
{
    struct undo_late *g = arg;

    (void) final;
    if (db_foreign_writes_recheck(&g->u->foreign, db, &g->base, g->u->cfg->ledger_schema, err) < 0)
        return dd_error_wrap(err, "not restored: cannot tell whether other sessions wrote during the restore");
    return g->u->foreign.n ? refuse(g->u, err) : 0;
}

/* Before the restore: the mark stored with the deployment, and who committed since. */
static int guard_first(struct undo *u, struct undo_late *late, struct dd_error *err)
{
    struct db_write_mark mark = DB_WRITE_MARK_INIT;
    bool found = false;
    int rc = -1;

    if (db_write_mark_load(&mark, &found, u->t.db, u->cfg->ledger_schema, u->id, err) < 0)
        goto cleanup;
    if (!found) {
        dd_error_set(err, DD_EBLOCKED,
                     "not restored: deployment #%lld stored no foreign-write guard mark (an older dbdeploy recorded "
                     "it), so other sessions' writes since its backup cannot be ruled out",
                     (long long)u->id);
        dd_error_hint(err,
                      "Nothing was changed. If writes since %s may be lost: dbdeploy undo %s --deployment %lld "
                      "--yes --discard-writes",
                      u->archive, u->cfg->env, (long long)u->id);
        goto cleanup;
    }
    /* the late check's baseline first, as in the recovery ladder (pipeline/recover.c) */
    if (db_write_recheck_begin(&late->base, u->t.db, err) < 0 ||
        db_foreign_writes_find(&u->foreign, u->t.db, &mark, u->cfg->ledger_schema, UNDO_STATS_WAIT_MS, err) < 0)
        goto cleanup;
    rc = u->foreign.n_xids ? refuse(u, err) : 0;
cleanup:
    db_write_mark_release(&mark);
    return rc;
}

/* Rung backup: restore the deployment's archive, carrying the deployment history across. */
static int undo_backup(struct undo *u, struct dd_error *err)
{
    struct undo_late late = {u, DB_WRITE_MARK_INIT};
    struct backup_restore_request req;
    char *conninfo = NULL, *password = NULL, *deps = NULL, *migs = NULL;
    int rc = -1;

    if (!u->discard_writes && guard_first(u, &late, err) < 0)
        goto cleanup;
    if (db_deployments_snapshot(&deps, &migs, u->t.db, u->cfg->ledger_schema, err) < 0 ||
        db_child_conninfo(u->t.db, &conninfo, &password, err) < 0)
        goto cleanup;
    memset(&req, 0, sizeof(req));
    req.archive = u->archive;
    req.env = u->cfg->env;
    req.pg_restore = u->cfg->backup.pg_restore;
    req.db = u->t.db;
    req.conninfo = conninfo;
    req.password = password;
    req.dir = u->cfg->backup.dir;
    req.late_check = u->discard_writes ? NULL : undo_late_check;
    req.late_check_arg = &late;
    if (backup_restore(&u->restore, &req, err) < 0) {
        if (err->code != DD_EBLOCKED)
            dd_error_hint(err, "The database was not changed. Deployment #%lld is still applied.", (long long)u->id);
        goto cleanup;
    }
    /* the archive predates the ledger rows written since: put them back (a ledger from an
     * older dbdeploy gets the newer columns first) */
    if (db_ledger_ensure(u->t.db, u->cfg->ledger_schema, err) < 0 ||
        db_deployments_carry(u->t.db, u->cfg->ledger_schema, deps, migs, err) < 0) {
        dd_error_wrap(err, "restored the backup of deployment #%lld, but", (long long)u->id);
        goto cleanup;
    }
    rc = 0;
cleanup:
    db_write_mark_release(&late.base);
    free(conninfo);
    dd_free_secret(password);
    free(deps);
    free(migs);
    return rc;
}

int undo_run(struct undo *u, struct dd_error *err)
{
    struct engine_goal g = {ENGINE_GOAL_ROLLBACK, -1, 0, false};
    uint64_t started = dd_epoch_ms(); /* a timestamp: the wall clock, not the monotonic one */

    /* under the lock the ledger is read again: another run may have changed it meanwhile */
    if (engine_lock(&u->t, false, err) < 0 || decide(u, u->id, err) < 0)
        return -1;
    if (u->archive)
        return undo_backup(u, err) < 0 ? -1 : record(u, started, err);
    g.steps = (uint32_t)u->n;
    engine_plan_release(&u->plan);
    if (engine_decide(&u->plan, u->t.st, u->t.opts, &g, err) < 0 || plan_matches(u, err) < 0)
        return -1;
    if (engine_run(&u->reverted, u->t.db, &u->plan, u->t.opts, u->t.set->commit, err) < 0) {
        if (u->reverted.n)
            dd_error_detail(err, "%zu newer migration%s of deployment #%lld %s reverted before it", u->reverted.n,
                            u->reverted.n == 1 ? "" : "s", (long long)u->id, u->reverted.n == 1 ? "was" : "were");
        return -1;
    }
    return record(u, started, err);
}

void undo_release(struct undo *u)
{
    free(u->archive);
    u->archive = NULL;
    db_foreign_writes_release(&u->foreign);
    backup_restore_result_release(&u->restore);
    free(u->versions);
    free(u->changelog_path);
    engine_plan_release(&u->plan);
    engine_result_release(&u->reverted);
    u->versions = NULL;
    u->changelog_path = NULL;
}
