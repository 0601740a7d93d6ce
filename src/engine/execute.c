#include "engine/execute.h"

#include "db/db.h"
#include "engine/adopt.h"

int engine_decide(struct engine_plan *out, const struct engine_status *st, const struct engine_opts *o,
                  const struct engine_goal *g, struct dd_error *err)
{
    if (g->kind == ENGINE_GOAL_ROLLBACK)
        return engine_check(st, o, ENGINE_CHECK_APPLIED_ONLY, err) < 0
                   ? -1
                   : engine_plan_rollback(out, st, o, g->steps, g->to_version, g->allow_missing_down, err);
    if (engine_check(st, o, g->to_version, err) < 0)
        return -1;
    return engine_plan_apply(out, st, o, g->to_version, err);
}

int engine_refresh(struct engine_target *t, struct dd_error *err)
{
    engine_status_release(t->st);
    db_ledger_release(t->ledger);
    /* the files the ledger does not vouch for (by blob id) are read and hashed only now */
    if (db_ledger_load(t->ledger, t->db, t->opts->schema, err) < 0 ||
        engine_read_migrations(t->set, t->ledger, err) < 0)
        return -1;
    engine_status_build(t->st, t->set, t->ledger);
    return 0;
}

int engine_lock(struct engine_target *t, bool create_ledger, struct dd_error *err)
{
    if (db_lock_acquire(t->db, t->lock_wait_ms, err) < 0)
        return -1;
    if (create_ledger && db_ledger_ensure(t->db, t->opts->schema, err) < 0)
        return -1;
    return engine_refresh(t, err);
}

int engine_replan(struct engine_plan *out, struct engine_target *t, const struct engine_goal *g, bool lock,
                  struct dd_error *err)
{
    engine_plan_release(out);
    if ((lock ? engine_lock(t, g->kind != ENGINE_GOAL_ROLLBACK, err) : engine_refresh(t, err)) < 0)
        return -1;
    return engine_decide(out, t->st, t->opts, g, err);
}

int engine_execute(struct engine_result *res, struct engine_plan *plan, struct engine_target *t,
                   const struct engine_goal *g, bool dry_run, const char *git_commit, struct dd_error *err)
{
    /* another tool's ledger and none of ours: its migrations would run a second time */
    if (g->kind == ENGINE_GOAL_APPLY && engine_foreign_check(t->db, t->ledger, t->opts, err) < 0)
        return -1;
    if (engine_decide(plan, t->st, t->opts, g, err) < 0)
        return -1;
    if ((!plan->n && !plan->nrep) || dry_run)
        return 0;
    if (engine_replan(plan, t, g, true, err) < 0)
        return -1;
    if (engine_run(res, t->db, plan, t->opts, git_commit, err) < 0) {
        if (res->n && g->kind == ENGINE_GOAL_APPLY)
            dd_error_detail(err, "%zu migration%s before it %s committed and stay applied", res->n,
                            res->n == 1 ? "" : "s", res->n == 1 ? "was" : "were");
        else if (res->n)
            dd_error_detail(err, "%zu newer migration%s %s reverted before it", res->n, res->n == 1 ? "" : "s",
                            res->n == 1 ? "was" : "were");
        return -1;
    }
    return 0;
}
