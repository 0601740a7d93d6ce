#include "engine/gate.h"

#include <stdio.h>

const char *engine_gate_kind_name(enum engine_gate_kind k)
{
    static const char *const names[] = {"missing", "modified", "dirty", "renamed", "extra"};

    return names[k];
}

static bool in_plan(const struct engine_plan *p, int64_t version)
{
    for (size_t i = 0; p && i < p->n; i++)
        if (p->v[i].m->version == version)
            return true;
    return false;
}

/* The problem an item of the joined status is, if any: the one rule both gates share. */
static bool problem_of(struct engine_gate_problem *g, const struct engine_item *it, const char *env,
                       enum engine_gate_scope scope)
{
    g->version = it->version;
    g->file = it->m ? it->m->up.path : it->row->file;
    switch (it->state) {
    case ENGINE_APPLIED:
        return false;
    case ENGINE_PENDING:
    case ENGINE_OUT_OF_ORDER:
        g->kind = ENGINE_GATE_MISSING;
        g->message = dd_xasprintf("%s is not applied on %s", g->file, env);
        return true;
    case ENGINE_MODIFIED:
        g->kind = ENGINE_GATE_MODIFIED;
        g->message = dd_xasprintf("%s differs from what %s applied (%.15s there, %.15s here)", g->file, env,
                                  it->row->checksum, it->m->checksum);
        return true;
    case ENGINE_DIRTY:
        g->kind = ENGINE_GATE_DIRTY;
        g->message = dd_xasprintf("%s is dirty on %s (stopped after statement %d of %d)", g->file, env,
                                  it->row->statements_done, it->row->statements_total);
        return true;
    case ENGINE_RENAMED:
        /* same bytes: what runs is the same; only the readiness check wants the same name too */
        if (scope == ENGINE_GATE_PROMOTION)
            return false;
        g->kind = ENGINE_GATE_RENAMED;
        g->message = dd_xasprintf("%s was applied on %s as %s", g->file, env, it->row->file);
        return true;
    case ENGINE_MISSING:
        g->kind = ENGINE_GATE_EXTRA;
        g->message = dd_xasprintf("%s is applied on %s but no longer in this commit", g->file, env);
        return true;
    }
    return false;
}

static bool rep_in_plan(const struct engine_plan *p, const struct migration *m)
{
    for (size_t j = 0; p && j < p->nrep; j++)
        if (strcmp(p->rep[j].m->name, m->name) == 0)
            return true;
    return false;
}

/* A repeatable migration is on env as it is here when env's last run of it had these bytes. */
static bool rep_problem_of(struct engine_gate_problem *g, const struct engine_rep_item *it, const char *env)
{
    if (!it->changed)
        return false;
    g->version = -1;
    g->file = it->m->up.path;
    if (!it->row) {
        g->kind = ENGINE_GATE_MISSING;
        g->message = dd_xasprintf("%s (repeatable) has never run on %s", g->file, env);
    } else {
        g->kind = ENGINE_GATE_MODIFIED;
        g->message = dd_xasprintf("%s (repeatable) differs from what %s last ran (%.15s there, %.15s here)", g->file,
                                  env, it->row->checksum, it->m->checksum);
    }
    return true;
}

void engine_gate_compare(struct engine_gate_result *out, const struct engine_status *st, const char *env,
                         enum engine_gate_scope scope, const struct engine_plan *pending)
{
    out->v = dd_xcalloc(st->n + st->nrep + 1, sizeof(*out->v));
    out->n = 0;
    for (size_t i = 0; i < st->n; i++) {
        const struct engine_item *it = &st->v[i];
        if (scope == ENGINE_GATE_PROMOTION && !in_plan(pending, it->version))
            continue;
        if (problem_of(&out->v[out->n], it, env, scope))
            out->n++;
    }
    /* then the repeatable migrations: those about to run again elsewhere must have run here first */
    for (size_t i = 0; i < st->nrep; i++) {
        const struct engine_rep_item *it = &st->rep[i];
        if (scope == ENGINE_GATE_PROMOTION && !rep_in_plan(pending, it->m))
            continue;
        if (rep_problem_of(&out->v[out->n], it, env))
            out->n++;
    }
}

void engine_gate_result_release(struct engine_gate_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i].message);
    free(r->v);
    r->v = NULL;
    r->n = 0;
}
