#include "engine/redo.h"

#include <stdio.h>

/* The newest applied version (file changed or not), or -1. */
static int64_t newest_applied(const struct engine_status *st)
{
    for (size_t i = st->n; i-- > 0;)
        if (st->v[i].row)
            return st->v[i].version;
    return -1;
}

/* Only applied migrations, changed or not, are redone; a missing one has no file to run. */
static int refuse_state(const struct engine_item *it, const char *env, struct dd_error *err)
{
    if (it->state == ENGINE_APPLIED || it->state == ENGINE_MODIFIED)
        return 0;
    dd_error_set(err, DD_EBLOCKED, "%s is %s on %s; redo only re-runs applied migrations",
                 it->m ? it->m->up.path : it->row->file, engine_state_name(it->state), env);
    dd_error_hint(err, "'dbdeploy status %s' shows why; resolve it first (see docs/migrations.md).", env);
    return -1;
}

static int refuse_no_down(const struct engine_item *it, struct dd_error *err)
{
    if (it->m->down.present)
        return 0;
    dd_error_set(err, DD_EBLOCKED, "%s has no down migration, so redo cannot revert it", it->m->up.path);
    dd_error_hint(err, "Write its down file (or -- migrate:down section), then redo again.");
    return -1;
}

/* Down steps for every applied migration from `version` up, newest first; checked before any runs. */
static int plan_down(struct engine_plan *out, const struct engine_status *st, const char *env, int64_t version,
                     struct dd_error *err)
{
    size_t alloc = 0;

    *out = (struct engine_plan)ENGINE_PLAN_INIT;
    out->down = true;
    for (size_t i = st->n; i-- > 0;) {
        const struct engine_item *it = &st->v[i];
        struct engine_step *s;
        if (it->version < version)
            break;
        if (!it->row)
            continue; /* pending above it: applied again below anyway */
        /* a dbmate file's down section is only known once read */
        if (refuse_state(it, env, err) < 0 || engine_item_read(st, it, err) < 0 || refuse_no_down(it, err) < 0)
            return -1;
        DD_ALLOC_GROW(out->v, out->n + 1, alloc);
        s = &out->v[out->n++];
        memset(s, 0, sizeof(*s));
        s->exec = (struct migration_exec)MIGRATION_EXEC_INIT;
        s->m = it->m;
        s->script = &it->m->down;
        if (migration_exec_prepare(&s->exec, s->script, false, err) < 0)
            return -1;
    }
    return 0;
}

int engine_redo(struct engine_result *reverted, struct engine_result *applied, struct engine_target *t, int64_t version,
                const char *git_commit, struct dd_error *err)
{
    struct engine_plan down = ENGINE_PLAN_INIT, up = ENGINE_PLAN_INIT;
    struct engine_goal g = {ENGINE_GOAL_APPLY, -1, 0, false};
    const struct db_ledger_row *row;
    int rc = -1;

    if (engine_lock(t, false, err) < 0)
        goto cleanup;
    if (version < 0)
        version = newest_applied(t->st);
    row = version >= 0 ? db_ledger_find(t->ledger, version) : NULL;
    if (!row) {
        if (version < 0)
            dd_error_set(err, DD_EUSAGE, "nothing is applied on %s; there is nothing to redo", t->opts->env);
        else
            dd_error_set(err, DD_EUSAGE, "version %lld is not applied on %s", (long long)version, t->opts->env);
        dd_error_hint(err, "'dbdeploy apply %s' applies pending migrations; redo re-runs an applied one.",
                      t->opts->env);
        goto cleanup;
    }
    g.to_version = newest_applied(t->st);
    if (plan_down(&down, t->st, t->opts->env, version, err) < 0 ||
        engine_run(reverted, t->db, &down, t->opts, git_commit, err) < 0)
        goto cleanup;
    /* the reverted rows are gone: the edited files are pending now and apply as usual */
    if (engine_refresh(t, err) < 0 || engine_decide(&up, t->st, t->opts, &g, err) < 0 ||
        engine_run(applied, t->db, &up, t->opts, git_commit, err) < 0)
        goto cleanup;
    rc = 0;
cleanup:
    engine_plan_release(&down);
    engine_plan_release(&up);
    return rc;
}
