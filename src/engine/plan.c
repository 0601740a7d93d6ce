#include "engine/engine.h"

#include <stdio.h>

static struct engine_step *add_step(struct engine_plan *p, size_t *alloc)
{
    struct engine_step *s;

    DD_ALLOC_GROW(p->v, p->n + 1, *alloc);
    s = &p->v[p->n++];
    memset(s, 0, sizeof(*s));
    s->exec = (struct migration_exec)MIGRATION_EXEC_INIT;
    return s;
}

static bool has_version(const struct engine_status *st, int64_t v)
{
    for (size_t i = 0; i < st->n; i++)
        if (st->v[i].version == v)
            return true;
    return false;
}

static int unknown_target(const struct engine_status *st, int64_t to_version, struct dd_error *err)
{
    dd_error_set(err, DD_EUSAGE, "no migration has version %lld", (long long)to_version);
    if (st->n)
        dd_error_hint(err, "Versions run from %lld to %lld; 'dbdeploy status ENV' lists them.",
                      (long long)st->v[0].version, (long long)st->v[st->n - 1].version);
    return -1;
}

/*
 * The repeatable migrations that changed, after the versioned ones. Each must run in a
 * transaction: re-running a file that stops half-way would leave its objects half
 * replaced, with no previous state to return to.
 */
static int plan_repeatables(struct engine_plan *out, const struct engine_status *st, struct dd_error *err)
{
    size_t alloc = 0;

    for (size_t i = 0; i < st->nrep; i++) {
        struct engine_step *s;

        if (!st->rep[i].changed)
            continue;
        DD_ALLOC_GROW(out->rep, out->nrep + 1, alloc);
        s = &out->rep[out->nrep++];
        memset(s, 0, sizeof(*s));
        s->exec = (struct migration_exec)MIGRATION_EXEC_INIT;
        s->m = st->rep[i].m;
        s->script = &st->rep[i].m->up;
        if (s->m->unread)
            DD_BUG("plan_repeatables: '%s' was not read", s->m->name);
        if (migration_exec_prepare(&s->exec, s->script, false, err) < 0 ||
            migration_exec_check_empty(&s->exec, s->script, err) < 0)
            return -1;
        if (s->exec.mode != MIGRATION_EXEC_TX) {
            if (s->exec.why_line)
                dd_error_set(err, DD_EINPUT, "%s:%u: %s %s; a repeatable migration must run in a transaction",
                             s->script->path, s->exec.why_line, s->exec.why_no_tx,
                             s->exec.own_transactions ? "manages its own transaction" : "cannot run inside one");
            else
                dd_error_set(err, DD_EINPUT,
                             "%s: -- dbdeploy:no-transaction; a repeatable migration must run in a "
                             "transaction",
                             s->script->path);
            dd_error_hint(err, "It runs again on every change, so it must apply whole or not at all: move that "
                               "statement to a versioned migration.");
            return -1;
        }
    }
    return 0;
}

int engine_plan_apply(struct engine_plan *out, const struct engine_status *st, const struct engine_opts *o,
                      int64_t to_version, struct dd_error *err)
{
    size_t alloc = 0;

    memset(out, 0, sizeof(*out));
    if (to_version >= 0 && !has_version(st, to_version))
        return unknown_target(st, to_version, err);
    for (size_t i = 0; i < st->n; i++) {
        const struct engine_item *it = &st->v[i];
        struct engine_step *s;
        if (it->state != ENGINE_PENDING && it->state != ENGINE_OUT_OF_ORDER)
            continue;
        if (to_version >= 0 && it->version > to_version)
            break;
        if (engine_item_read(st, it, err) < 0) {
            engine_plan_release(out);
            return -1;
        }
        s = add_step(out, &alloc);
        s->m = it->m;
        s->script = &it->m->up;
        if (migration_exec_prepare(&s->exec, s->script, o->strict_transactions, err) < 0 ||
            migration_exec_check_empty(&s->exec, s->script, err) < 0) {
            engine_plan_release(out);
            return -1;
        }
    }
    if (plan_repeatables(out, st, err) < 0) {
        engine_plan_release(out);
        return -1;
    }
    return 0;
}

int engine_plan_rollback(struct engine_plan *out, const struct engine_status *st, const struct engine_opts *o,
                         uint32_t steps, int64_t to_version, bool allow_missing_down, struct dd_error *err)
{
    size_t alloc = 0, missing = 0;

    memset(out, 0, sizeof(*out));
    out->down = true;
    if (to_version > 0 && !has_version(st, to_version))
        return unknown_target(st, to_version, err);
    for (size_t i = st->n; i-- > 0;) {
        const struct engine_item *it = &st->v[i];
        struct engine_step *s;
        if (it->state != ENGINE_APPLIED)
            continue;
        if (to_version >= 0 ? it->version <= to_version : out->n >= steps)
            break;
        if (engine_item_read(st, it, err) < 0) /* a dbmate file's down section is only known once read */
            goto fail;
        s = add_step(out, &alloc);
        s->m = it->m;
        s->script = &it->m->down;
        if (!it->m->down.present) {
            s->skip_sql = true;
            missing++;
            continue;
        }
        if (migration_exec_prepare(&s->exec, s->script, o->strict_transactions, err) < 0)
            goto fail;
    }
    if (missing && !allow_missing_down) {
        dd_error_set(err, DD_EBLOCKED, "%zu migration%s to roll back on %s %s no down migration", missing,
                     missing == 1 ? "" : "s", o->env, missing == 1 ? "has" : "have");
        for (size_t i = 0; i < out->n; i++)
            if (out->v[i].skip_sql)
                dd_error_detail(err, "no down file: %s", out->v[i].m->up.path);
        dd_error_hint(err, "Write the down migration, or pass --allow-missing-down to only unrecord them, as "
                           "golang-migrate does (their schema changes then stay in the database).");
        goto fail;
    }
    return 0;
fail:
    engine_plan_release(out);
    return -1;
}

void engine_plan_release(struct engine_plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        migration_exec_release(&p->v[i].exec);
    for (size_t i = 0; i < p->nrep; i++)
        migration_exec_release(&p->rep[i].exec);
    free(p->rep);
    free(p->v);
    memset(p, 0, sizeof(*p));
}
