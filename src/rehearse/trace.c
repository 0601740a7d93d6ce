/*
 * What the rehearsal measures, statement by statement: its time, and the ACCESS EXCLUSIVE locks
 * the applying session holds right after it (read inside its transaction, so a lock is seen as
 * long as it is held: until the transaction ends, which `released` reports).
 */
#include "rehearse/internal.h"

#include <stdio.h>

#include "db/ledger.h"
#include "db/rehearsal.h"
#include "migrations/sql.h"
#include "pipeline/deploy.h"
#include "util/json.h"
#include "util/out.h"

#define RH_TEXT_MAX 72

/* The statement's first non-blank line, shortened, for the report. */
static char *first_line(const char *sql, size_t len)
{
    size_t i = 0, n;

    while (i < len && (sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n' || sql[i] == '\r'))
        i++;
    n = i;
    while (n < len && sql[n] != '\n' && sql[n] != '\r')
        n++;
    n -= i;
    if (n > RH_TEXT_MAX)
        return dd_xasprintf("%.*s...", RH_TEXT_MAX - 3, sql + i);
    return dd_xstrndup(sql + i, n);
}

static bool lock_open(const struct rehearse_result *r, const char *relation)
{
    for (size_t i = 0; i < r->n_locks; i++)
        if (!r->locks[i].to_ms && strcmp(r->locks[i].relation, relation) == 0)
            return true;
    return false;
}

static void see_locks(struct rh_trace *t, struct db_conn *db, size_t stmt, uint64_t from)
{
    struct rehearse_result *r = t->r;
    struct dd_strv names = DD_STRV_INIT;
    struct dd_error err = DD_ERROR_INIT;

    if (db_exclusive_locks(db, t->floor, &names, &err) < 0) {
        if (!t->warned)
            log_warn("rehearsal: cannot read the locks held: %s", dd_error_msg(&err));
        t->warned = true;
    }
    for (size_t i = 0; i < names.n; i++) {
        if (lock_open(r, names.v[i]))
            continue;
        DD_ALLOC_GROW(r->locks, r->n_locks + 1, r->locks_alloc);
        r->locks[r->n_locks++] = (struct rehearse_lock){dd_xstrdup(names.v[i]), stmt, from, 0};
    }
    dd_strv_release(&names);
    dd_error_release(&err);
}

static void on_statement(void *arg, struct db_conn *db, const struct engine_step *s, size_t k, uint64_t start_ms,
                         uint64_t end_ms, bool ok)
{
    struct rh_trace *t = arg;
    struct rehearse_result *r = t->r;
    const struct sql_stmt *st = &s->exec.stmts.stmts[k];
    struct rehearse_statement *rs;

    DD_ALLOC_GROW(r->statements, r->n_statements + 1, r->statements_alloc);
    rs = &r->statements[r->n_statements++];
    memset(rs, 0, sizeof(*rs));
    rs->migration = (size_t)(s - t->plan->v);
    rs->index = k;
    rs->line = st->line;
    rs->text = first_line(s->exec.text.buf + st->start, st->end - st->start);
    rs->start_ms = start_ms;
    rs->ms = end_ms - start_ms;
    rs->ok = ok;
    /* after a failure the transaction only accepts ROLLBACK: look no further */
    if (ok)
        see_locks(t, db, r->n_statements - 1, start_ms);
}

static void on_released(void *arg, uint64_t at_ms)
{
    struct rehearse_result *r = ((struct rh_trace *)arg)->r;

    for (size_t i = 0; i < r->n_locks; i++)
        if (!r->locks[i].to_ms)
            r->locks[i].to_ms = at_ms;
}

void rh_trace_init(struct rh_trace *t, struct rehearse_result *r, const struct engine_plan *plan, char *floor)
{
    memset(t, 0, sizeof(*t));
    t->ops.statement = on_statement;
    t->ops.released = on_released;
    t->ops.arg = t;
    t->r = r;
    t->plan = plan;
    t->floor = floor;
}

void rh_trace_release(struct rh_trace *t)
{
    free(t->floor);
    t->floor = NULL;
}

uint64_t rehearse_lock_ms(const struct rehearse_result *r, const struct rehearse_lock *l)
{
    uint64_t end = l->to_ms;

    if (!end) /* never released: until the last statement's end */
        for (size_t i = 0; i < r->n_statements; i++)
            if (r->statements[i].start_ms + r->statements[i].ms > end)
                end = r->statements[i].start_ms + r->statements[i].ms;
    return end > l->from_ms ? end - l->from_ms : 0;
}

void rh_collect(struct rehearse_result *r, const struct deploy *d)
{
    size_t failed = d->applied.failed_index;

    r->n_migrations = d->plan.n;
    r->migrations = dd_xcalloc(d->plan.n ? d->plan.n : 1, sizeof(*r->migrations));
    for (size_t i = 0; i < d->plan.n; i++) {
        struct rehearse_migration *m = &r->migrations[i];
        const struct engine_step *s = &d->plan.v[i];
        m->version = s->m->version;
        m->file = dd_xstrdup(s->script->path);
        m->checksum = dd_xstrdup(s->m->checksum);
        if (i == failed)
            m->status = "failed";
        else if (i < d->applied.n)
            m->status = "applied";
        else if (failed != SIZE_MAX && i < failed && d->one_tx)
            m->status = "rolled back"; /* the deployment's one transaction ended with the failure */
        else
            m->status = "not run";
        if (i < d->applied.n)
            m->ms = d->applied.v[i].duration_ms;
        else
            for (size_t k = 0; k < r->n_statements; k++)
                if (r->statements[k].migration == i)
                    m->ms += (int64_t)r->statements[k].ms;
    }
}

void rh_json_migrations(struct dd_json *j, const char *key, const struct rehearse_result *r)
{
    dd_json_arr_begin(j, key);
    for (size_t i = 0; i < r->n_migrations; i++) {
        dd_json_obj_begin(j, NULL);
        dd_json_int(j, "version", r->migrations[i].version);
        dd_json_str(j, "file", r->migrations[i].file);
        dd_json_str(j, "checksum", r->migrations[i].checksum);
        dd_json_int(j, "duration_ms", r->migrations[i].ms);
        dd_json_str(j, "status", r->migrations[i].status);
        dd_json_obj_end(j);
    }
    dd_json_arr_end(j);
}

void rh_json_locks(struct dd_json *j, const char *key, const struct rehearse_result *r)
{
    dd_json_arr_begin(j, key);
    for (size_t i = 0; i < r->n_locks; i++) {
        const struct rehearse_statement *s = &r->statements[r->locks[i].statement];
        dd_json_obj_begin(j, NULL);
        dd_json_str(j, "relation", r->locks[i].relation);
        dd_json_str(j, "file", s->migration < r->n_migrations ? r->migrations[s->migration].file : NULL);
        dd_json_uint(j, "line", s->line);
        dd_json_str(j, "statement", s->text);
        dd_json_uint(j, "held_ms", rehearse_lock_ms(r, &r->locks[i]));
        dd_json_obj_end(j);
    }
    dd_json_arr_end(j);
}

char *rh_json_text(void (*fn)(struct dd_json *, const char *, const struct rehearse_result *),
                   const struct rehearse_result *r)
{
    struct dd_buf b = DD_BUF_INIT;
    struct dd_json j;

    dd_json_init(&j, &b);
    fn(&j, NULL, r);
    return dd_buf_detach(&b, NULL);
}
