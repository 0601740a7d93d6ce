#include "engine/engine.h"

#include <stdio.h>

#include "config/config.h"
#include "engine/dataloss.h"
#include "util/clock.h"
#include "util/interrupt.h"
#include "util/mask.h"
#include "util/out.h"
#include "util/parse.h"

#define LOCK_RETRY_FIRST_MS 1000
#define LOCK_RETRY_MAX_MS   10000

struct step_ctx {
    struct db_conn *db;
    const struct engine_opts *o;
    const struct engine_step *s;
    struct db_ledger_entry entry;
    const char *verb;               /* "applying" / "rolling back" */
    struct engine_guard_mig *guard; /* the data-loss guard of an up migration; NULL when unguarded */
};

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

/* First line of a multi-line server field, for a compact detail line. */
static void add_first_line(struct dd_error *err, const char *label, const char *text)
{
    size_t n = strcspn(text, "\n");

    dd_error_detail(err, "%s: %.*s%s", label, (int)n, text, text[n] ? " ..." : "");
}

/*
 * Turn a server error into "file:line:col: message (SQLSTATE x)". `base` is the byte offset of
 * the text that was sent within the script (0 for a whole file, the statement start otherwise).
 */
static void sql_failure(struct dd_error *err, const struct step_ctx *c, const struct db_sql_error *se, size_t base,
                        size_t len, const struct sql_stmt *stmt, size_t stmt_no)
{
    const struct migration_exec *x = &c->s->exec;
    unsigned line = stmt ? stmt->line : 0, col = stmt ? stmt->col : 0;
    struct dd_buf where = DD_BUF_INIT;
    enum dd_errcode code = dd_interrupt_pending() ? DD_EINTERRUPTED : DD_EDB;

    if (se->position > 0) {
        size_t off = base + sql_char_to_byte(x->text.buf + base, len, (size_t)se->position);
        sql_linecol(x->text.buf, x->text.len, off, &line, &col);
    } else if (!stmt && se->statement >= 0 && (size_t)se->statement < x->stmts.n) {
        /* runtime errors carry no position: point at the statement that failed */
        line = x->stmts.stmts[se->statement].line;
        col = x->stmts.stmts[se->statement].col;
    }
    if (line)
        dd_buf_addf(&where, "%s:%u:%u", c->s->script->path, line, col);
    else
        dd_buf_adds(&where, c->s->script->path);
    if (code == DD_EINTERRUPTED)
        dd_error_set(err, code, "%s: interrupted by signal %d; the running statement was cancelled", where.buf,
                     dd_interrupt_signal());
    else if (stmt)
        dd_error_set(err, code, "%s: statement %zu of %zu failed: %s%s%s%s", where.buf, stmt_no, x->stmts.n,
                     se->message ? se->message : "unknown error", se->sqlstate[0] ? " (SQLSTATE " : "", se->sqlstate,
                     se->sqlstate[0] ? ")" : "");
    else
        dd_error_set(err, code, "%s: %s%s%s%s", where.buf, se->message ? se->message : "unknown error",
                     se->sqlstate[0] ? " (SQLSTATE " : "", se->sqlstate, se->sqlstate[0] ? ")" : "");
    if (code == DD_EINTERRUPTED) {
        dd_buf_release(&where);
        return;
    }
    if (se->detail)
        add_first_line(err, "detail", se->detail);
    if (se->context)
        add_first_line(err, "context", se->context);
    if (se->hint)
        dd_error_hint(err, "%s", se->hint);
    dd_buf_release(&where);
}

static void fill_entry(struct step_ctx *c, const char *git_commit)
{
    const struct migration *m = c->s->m;

    c->entry.version = m->version;
    c->entry.name = m->name;
    c->entry.file = m->up.path;
    c->entry.checksum = m->checksum;
    c->entry.transactional = c->s->exec.mode == MIGRATION_EXEC_TX;
    c->entry.statements_total = (int)c->s->exec.stmts.n;
    c->entry.applied_by = c->o->applied_by;
    c->entry.git_commit = nonempty(git_commit);
    c->entry.git_blob = nonempty(m->up.blob_id);
    c->entry.repeatable = m->repeatable;
}

/* Step i of the plan: the versioned ones, then the repeatable ones. */
static size_t plan_total(const struct engine_plan *p)
{
    return p->n + p->nrep;
}

static const struct engine_step *step_at(const struct engine_plan *p, size_t i)
{
    return i < p->n ? &p->v[i] : &p->rep[i - p->n];
}

/* Where a step that ran is reported: res->v for a version, res->rep for a repeatable migration. */
static struct engine_done *done_slot(struct engine_result *res, const struct engine_step *s)
{
    return s->m->repeatable ? &res->rep[res->nrep++] : &res->v[res->n++];
}

/*
 * Prepare the data-loss guard for c->s, an up migration (c->guard points at its storage, released
 * by engine_guard_end): the ledger entry records its changes and runs the text through it when it
 * is active.
 */
static int guard_step(struct step_ctx *c, struct engine_guard *guard, struct dd_error *err)
{
    struct engine_guard_mig *gm = c->guard;

    c->entry.body = NULL;
    if (engine_guard_begin(gm, guard, c->s, err) < 0)
        return -1;
    c->entry.changes = gm->changes;
    if (gm->active || c->o->trace) /* a rehearsal times each statement: the guard's body sends them */
        c->entry.body = &gm->body;
    return 0;
}

/* A rehearsal's trace: the transaction holding the locks taken so far has ended. */
static void trace_released(const struct engine_opts *o)
{
    if (o->trace)
        o->trace->released(o->trace->arg, dd_now_ms());
}

static int set_timeouts(struct step_ctx *c, struct dd_error *err)
{
    const struct migration_directives *d = &c->s->exec.directives;

    return db_set_timeouts(c->db, d->has_lock_timeout ? d->lock_timeout_ms : c->o->lock_timeout_ms,
                           d->has_statement_timeout ? d->statement_timeout_ms : c->o->statement_timeout_ms, err);
}

/*
 * After a lock timeout (55P03) with retries left: warn, wait (doubling) and return 1 so the
 * caller runs again; 0 when the failure is to be reported; -1 when interrupted while waiting.
 */
static int lock_retry(const struct step_ctx *c, struct db_sql_error *se, uint32_t attempt, uint64_t *wait,
                      const char *what, struct dd_error *err)
{
    char w[32];

    if (strcmp(se->sqlstate, "55P03") != 0 || attempt >= c->o->lock_retries || dd_interrupt_pending())
        return 0;
    dd_format_duration(w, sizeof(w), *wait);
    dd_error_release(err); /* this attempt's failure is retried, not reported */
    log_warn("%s: %s; retrying%s in %s (%u of %u)", c->s->script->path, se->message, what, w, attempt + 1,
             c->o->lock_retries);
    db_sql_error_release(se);
    if (dd_sleep_ms(*wait) < 0)
        return dd_error_set(err, DD_EINTERRUPTED, "interrupted while waiting to retry %s", c->s->script->path);
    *wait = *wait * 2 > LOCK_RETRY_MAX_MS ? LOCK_RETRY_MAX_MS : *wait * 2;
    return 1;
}

/* A transactional migration; a lock timeout (55P03) is retried with backoff. */
static int run_tx(struct step_ctx *c, int64_t *duration_ms, struct dd_error *err)
{
    uint64_t wait = LOCK_RETRY_FIRST_MS;

    for (uint32_t attempt = 0;; attempt++) {
        struct db_sql_error se = DB_SQL_ERROR_INIT;
        int rc;

        if (set_timeouts(c, err) < 0)
            return -1;
        rc = c->verb[0] == 'a'
                 ? db_apply_tx(c->db, c->o->schema, &c->entry, c->s->exec.text.buf, duration_ms, &se, err)
                 : db_revert_tx(c->db, c->o->schema, c->entry.version, c->s->exec.text.buf, duration_ms, &se, err);
        if (rc == 0)
            return 0;
        if (!se.message) {
            db_sql_error_release(&se);
            return -1;
        }
        rc = lock_retry(c, &se, attempt, &wait, "", err);
        if (rc < 0)
            return -1;
        if (rc > 0)
            continue;
        sql_failure(err, c, &se, 0, c->s->exec.text.len, NULL, 0);
        if (strcmp(se.sqlstate, "55P03") == 0 && !se.hint)
            dd_error_hint(err,
                          "Another session held a lock this migration needed for longer than lock-timeout, "
                          "%u times; retry when traffic is lower or raise [database] lock-timeout.",
                          c->o->lock_retries + 1);
        else if (!se.hint)
            dd_error_hint(err, "The migration was rolled back as a whole; fix it and run the command again.");
        db_sql_error_release(&se);
        return -1;
    }
}

/* Say exactly what stayed applied: nothing, statement 1, or statements 1 to N. */
static void dirty_hint(struct dd_error *err, const struct step_ctx *c, int done)
{
    char applied[64];

    if (done == 0)
        snprintf(applied, sizeof(applied), "none of its statements stayed applied");
    else if (done == 1)
        snprintf(applied, sizeof(applied), "statement 1 stayed applied");
    else
        snprintf(applied, sizeof(applied), "statements 1 to %d stayed applied", done);
    dd_error_hint(err,
                  "This migration runs without a transaction: %s and it is marked dirty. Finish or undo it by "
                  "hand, then run 'dbdeploy mark %s %s --applied' or '--pending'.",
                  applied, c->o->env, c->s->m->version_text);
}

/* A no-transaction migration: statement by statement, progress in the ledger. */
static int run_no_tx(struct step_ctx *c, int64_t *duration_ms, struct dd_error *err)
{
    const struct migration_exec *x = &c->s->exec;
    const char *op = c->verb[0] == 'a' ? "apply" : "rollback";
    uint64_t start = dd_now_ms();
    int done = 0;

    if (set_timeouts(c, err) < 0 || db_ledger_start(c->db, c->o->schema, &c->entry, op, err) < 0 ||
        (c->guard && engine_guard_start(c->guard, c->db, err) < 0))
        return -1;
    for (size_t k = 0; k < x->stmts.n; k++) {
        const struct sql_stmt *st = &x->stmts.stmts[k];
        struct db_sql_error se = DB_SQL_ERROR_INIT;
        struct dd_error ignored = DD_ERROR_INIT;
        char *msg;
        uint64_t t0 = dd_now_ms();
        int src;

        log_detail("  statement %zu of %zu at line %u", k + 1, x->stmts.n, st->line);
        src = c->guard ? engine_guard_statement(c->guard, c->db, k, &se, err)
                       : db_exec_statement(c->db, x->text.buf + st->start, st->end - st->start, &se, err);
        if (c->o->trace) {
            c->o->trace->statement(c->o->trace->arg, c->db, c->s, k, t0, dd_now_ms(), src == 0);
            if (!db_in_transaction(c->db))
                trace_released(c->o);
        }
        if (src < 0) {
            if (se.message)
                sql_failure(err, c, &se, st->start, st->end - st->start, st, k + 1);
            db_sql_error_release(&se);
            msg = dd_mask_str(dd_error_msg(err));
            if (db_ledger_fail(c->db, c->o->schema, c->entry.version, done, msg, &ignored) < 0)
                dd_error_detail(err, "the ledger could not record the failure: %s", dd_error_msg(&ignored));
            free(msg);
            dd_error_release(&ignored);
            engine_guard_explain_failure(c->guard, c->db, err);
            dirty_hint(err, c, done);
            return -1;
        }
        if (!db_in_transaction(c->db)) {
            done = (int)k + 1;
            if (db_ledger_progress(c->db, c->o->schema, c->entry.version, done, err) < 0)
                return -1;
        }
    }
    if (db_in_transaction(c->db)) {
        struct dd_error ignored = DD_ERROR_INIT;
        dd_error_set(err, DD_EINPUT, "%s: the file leaves a transaction open (BEGIN without COMMIT)",
                     c->s->script->path);
        db_ledger_fail(c->db, c->o->schema, c->entry.version, done, "left a transaction open", &ignored);
        dd_error_release(&ignored);
        dd_error_hint(err, "Close every BEGIN with COMMIT; the open transaction was rolled back and the migration is "
                           "marked dirty.");
        return -1;
    }
    if (c->guard && engine_guard_finish(c->guard, c->db, err) < 0) {
        struct dd_error ignored = DD_ERROR_INIT;
        char *msg = dd_mask_str(dd_error_msg(err));
        db_ledger_fail(c->db, c->o->schema, c->entry.version, done, msg, &ignored);
        free(msg);
        dd_error_release(&ignored);
        dd_error_detail(err, "%s", err->hint ? err->hint : "");
        dirty_hint(err, c, done);
        return -1;
    }
    *duration_ms = (int64_t)(dd_now_ms() - start);
    if (c->verb[0] == 'a')
        return db_ledger_complete(c->db, c->o->schema, c->entry.version, *duration_ms, err);
    return db_ledger_remove(c->db, c->o->schema, c->entry.version, err);
}

int engine_plan_one_transaction(const struct engine_plan *plan, const struct engine_opts *o, struct dd_error *err)
{
    size_t blockers = 0;

    if (plan->down || !plan_total(plan) || o->transaction == CONFIG_TX_PER_MIGRATION)
        return 0;
    for (size_t i = 0; i < plan->n; i++)
        blockers += plan->v[i].exec.mode != MIGRATION_EXEC_TX;
    if (!blockers)
        return 1;
    if (o->transaction == CONFIG_TX_AUTO)
        return 0;
    dd_error_set(err, DD_EBLOCKED,
                 "[apply] transaction = per-deploy, but %zu of the %zu migrations cannot run in a "
                 "transaction",
                 blockers, plan->n);
    for (size_t i = 0; i < plan->n; i++)
        if (plan->v[i].exec.mode != MIGRATION_EXEC_TX)
            dd_error_detail(err, "%s: %s%s", plan->v[i].script->path,
                            plan->v[i].exec.why_no_tx ? plan->v[i].exec.why_no_tx : "-- dbdeploy:no-transaction",
                            plan->v[i].exec.why_no_tx ? " cannot run inside a transaction" : "");
    dd_error_hint(err, "Deploy those files on their own, or set [apply] transaction = auto (one transaction "
                       "per file when a file needs it).");
    return -1;
}

/* A failure inside the deployment's transaction: report it against the file that failed. */
static void one_tx_failure(struct step_ctx *c, struct db_sql_error *se, size_t n, struct dd_error *err)
{
    if (se->message && c->s) {
        sql_failure(err, c, se, 0, c->s->exec.text.len, NULL, 0);
        if (strcmp(se->sqlstate, "53200") == 0)
            dd_error_hint(err,
                          "One transaction for %zu migrations needs more locks than the server's lock table "
                          "holds: raise max_locks_per_transaction, or set [apply] transaction = per-migration.",
                          n);
        else if (strcmp(se->sqlstate, "55P03") == 0 && !se->hint)
            dd_error_hint(err,
                          "Another session held a lock a migration needed for longer than lock-timeout, %u "
                          "times; the deployment's transaction was rolled back each time. Retry when traffic is "
                          "lower or raise [database] lock-timeout.",
                          c->o->lock_retries + 1);
    } else if (se->message) {
        dd_error_set(err, DD_EDB, "COMMIT of the deployment's transaction failed: %s (SQLSTATE %s)", se->message,
                     se->sqlstate);
    }
    if (!err->hint)
        dd_error_hint(err,
                      "The deployment's transaction was rolled back: none of its %zu migrations stayed applied and "
                      "the database is as it was. Fix the file and run the command again.",
                      n);
}

/* One attempt: BEGIN, every file with its ledger row, COMMIT. *failed is the step that failed. */
static int one_tx_attempt(struct engine_result *res, struct step_ctx *c, const struct engine_plan *plan,
                          const char *git_commit, struct engine_guard *guard, struct db_sql_error *se, size_t *failed,
                          struct dd_error *err)
{
    size_t total = plan_total(plan);

    res->n = res->nrep = 0;
    *failed = total - 1; /* a failing COMMIT is blamed on the last file */
    if (db_tx_begin(c->db, err) < 0)
        return -1;
    for (size_t i = 0; i < total; i++) {
        struct engine_done *done;
        int64_t ms = 0;

        *failed = i;
        c->s = step_at(plan, i);
        fill_entry(c, git_commit);
        if (dd_interrupt_pending())
            return dd_error_set(err, DD_EINTERRUPTED, "interrupted by signal %d after %zu of %zu migrations",
                                dd_interrupt_signal(), i, total);
        if (set_timeouts(c, err) < 0 || guard_step(c, guard, err) < 0 ||
            db_tx_apply_step(c->db, c->o->schema, &c->entry, c->s->exec.text.buf, &ms, se, err) < 0) {
            engine_guard_end(c->guard);
            return -1;
        }
        engine_guard_end(c->guard);
        done = done_slot(res, c->s);
        done->version = c->s->m->version;
        done->file = c->s->script->path;
        done->duration_ms = ms;
        done->no_transaction = false;
    }
    *failed = total - 1;
    return db_tx_commit(c->db, se, err);
}

/* The whole plan in one transaction; a lock timeout anywhere reruns all of it. */
static int run_one_tx(struct engine_result *res, struct db_conn *db, const struct engine_plan *plan,
                      const struct engine_opts *o, const char *git_commit, struct engine_guard *guard,
                      struct dd_error *err)
{
    struct engine_guard_mig gm;
    uint64_t wait = LOCK_RETRY_FIRST_MS;

    memset(&gm, 0, sizeof(gm)); /* released after each file, also when a file failed before its guard began */

    log_info("applying %zu migration%s in one transaction", plan_total(plan), plan_total(plan) == 1 ? "" : "s");
    for (uint32_t attempt = 0;; attempt++) {
        struct step_ctx c = {db, o, NULL, {0}, "applying", &gm};
        struct db_sql_error se = DB_SQL_ERROR_INIT;
        size_t failed;
        int rc = one_tx_attempt(res, &c, plan, git_commit, guard, &se, &failed, err);

        if (rc == 0) {
            trace_released(o);
            for (size_t i = 0; i < res->n; i++)
                log_info("%-10s %s  %lldms", "applied", res->v[i].file, (long long)res->v[i].duration_ms);
            for (size_t i = 0; i < res->nrep; i++)
                log_info("%-10s %s  %lldms", "reapplied", res->rep[i].file, (long long)res->rep[i].duration_ms);
            return 0;
        }
        db_tx_abort(db);
        trace_released(o);
        res->n = res->nrep = 0;
        c.s = step_at(plan, failed);
        if (se.message) {
            rc = lock_retry(&c, &se, attempt, &wait, " the deployment's transaction", err);
            if (rc > 0)
                continue;
        }
        if (rc == 0 || se.message)
            one_tx_failure(&c, &se, plan_total(plan), err);
        db_sql_error_release(&se);
        res->failed_index = failed;
        dd_error_wrap(err, "applying %s to %s", migration_display(step_at(plan, failed)->m), o->env);
        return -1;
    }
}

static int run_steps(struct engine_result *res, struct db_conn *db, const struct engine_plan *plan,
                     const struct engine_opts *o, const char *git_commit, struct engine_guard *guard,
                     struct dd_error *err);

static int run_plan(struct engine_result *res, struct db_conn *db, const struct engine_plan *plan,
                    const struct engine_opts *o, const char *git_commit, struct dd_error *err)
{
    struct engine_guard guard;
    int one, rc;

    *res = (struct engine_result)ENGINE_RESULT_INIT;
    res->v = dd_xcalloc(plan->n ? plan->n : 1, sizeof(*res->v));
    res->rep = dd_xcalloc(plan->nrep ? plan->nrep : 1, sizeof(*res->rep));
    one = engine_plan_one_transaction(plan, o, err);
    if (one < 0)
        return -1;
    engine_guard_init(&guard, o);
    rc = one ? run_one_tx(res, db, plan, o, git_commit, &guard, err)
             : run_steps(res, db, plan, o, git_commit, &guard, err);
    engine_guard_release(&guard);
    return rc;
}

static int run_steps(struct engine_result *res, struct db_conn *db, const struct engine_plan *plan,
                     const struct engine_opts *o, const char *git_commit, struct engine_guard *guard,
                     struct dd_error *err)
{
    struct engine_guard_mig gm;

    memset(&gm, 0, sizeof(gm));
    for (size_t i = 0; i < plan_total(plan); i++) {
        struct step_ctx c = {db, o, step_at(plan, i), {0}, plan->down ? "rolling back" : "applying", &gm};
        struct engine_done *done;
        int64_t ms = 0;
        int rc = 0;

        if (dd_interrupt_pending()) {
            res->failed_index = i;
            return dd_error_set(err, DD_EINTERRUPTED, "interrupted by signal %d after %zu of %zu migrations",
                                dd_interrupt_signal(), i, plan_total(plan));
        }
        fill_entry(&c, git_commit);
        if (plan->down || c.s->skip_sql)
            c.guard = NULL; /* down files undo what the up created: not guarded */
        else
            rc = guard_step(&c, guard, err);
        if (rc < 0) {
            /* a declaration without a reason: nothing ran */
        } else if (c.s->skip_sql) {
            log_warn("%s has no down migration: only its ledger row is removed", c.s->m->up.path);
            rc = db_ledger_remove(db, o->schema, c.entry.version, err);
        } else if (c.s->exec.mode == MIGRATION_EXEC_NO_TX) {
            if (c.s->exec.own_transactions)
                log_info("%s runs without a transaction: it manages its own (%s at line %u)", c.s->script->path,
                         c.s->exec.why_no_tx, c.s->exec.why_line);
            else if (c.s->exec.why_line)
                log_info("%s runs without a transaction: %s at line %u cannot run inside one", c.s->script->path,
                         c.s->exec.why_no_tx, c.s->exec.why_line);
            else
                log_info("%s runs without a transaction (-- dbdeploy:no-transaction)", c.s->script->path);
            rc = run_no_tx(&c, &ms, err);
        } else {
            rc = run_tx(&c, &ms, err);
        }
        engine_guard_end(c.guard);
        trace_released(o);
        if (rc < 0) {
            res->failed_index = i;
            dd_error_wrap(err, "%s %s %s %s", c.verb, migration_display(c.s->m), plan->down ? "on" : "to", o->env);
            return -1;
        }
        done = done_slot(res, c.s);
        done->version = c.s->m->version;
        done->file = c.s->script->present ? c.s->script->path : c.s->m->up.path;
        done->duration_ms = ms;
        done->no_transaction = c.s->exec.mode == MIGRATION_EXEC_NO_TX && !c.s->skip_sql;
        log_info("%-10s %s  %lldms%s",
                 plan->down           ? "reverted"
                 : c.s->m->repeatable ? "reapplied"
                                      : "applied",
                 done->file, (long long)ms,
                 c.s->exec.unwrapped ? "  (its own BEGIN/COMMIT replaced by dbdeploy's transaction)" : "");
    }
    return 0;
}

void engine_result_release(struct engine_result *r)
{
    free(r->rep);
    free(r->v);
    *r = (struct engine_result)ENGINE_RESULT_INIT;
}

void engine_result_json(struct dd_json *j, const char *key, const struct engine_result *r)
{
    dd_json_arr_begin(j, key);
    for (size_t i = 0; i < r->n; i++) {
        dd_json_obj_begin(j, NULL);
        dd_json_int(j, "version", r->v[i].version);
        dd_json_str(j, "file", r->v[i].file);
        dd_json_int(j, "duration_ms", r->v[i].duration_ms);
        dd_json_bool(j, "transaction", !r->v[i].no_transaction);
        dd_json_obj_end(j);
    }
    dd_json_arr_end(j);
    if (!r->nrep)
        return; /* documents without repeatable migrations keep their shape */
    dd_json_arr_begin(j, "reapplied");
    for (size_t i = 0; i < r->nrep; i++) {
        dd_json_obj_begin(j, NULL);
        dd_json_str(j, "file", r->rep[i].file);
        dd_json_int(j, "duration_ms", r->rep[i].duration_ms);
        dd_json_obj_end(j);
    }
    dd_json_arr_end(j);
}

int engine_mark(struct db_conn *db, const struct engine_status *st, const struct engine_opts *o, int64_t version,
                bool applied, const char *git_commit, struct dd_error *err)
{
    const struct engine_item *it = NULL;
    struct migration_exec x = MIGRATION_EXEC_INIT;
    struct db_ledger_entry e;
    int rc = -1;

    for (size_t i = 0; i < st->n; i++)
        if (st->v[i].version == version)
            it = &st->v[i];
    if (!it) {
        dd_error_set(err, DD_EUSAGE, "no migration file or ledger row has version %lld", (long long)version);
        dd_error_hint(err, "'dbdeploy status %s' lists the versions.", o->env);
        return -1;
    }
    if (!applied) {
        if (!it->row) {
            dd_error_set(err, DD_EUSAGE, "%s is not recorded on %s; nothing to mark pending",
                         it->m ? migration_display(it->m) : "that version", o->env);
            return -1;
        }
        rc = db_ledger_remove(db, o->schema, version, err);
        if (rc == 0)
            log_info("marked %s pending on %s (ledger row removed; the database was not changed)", it->row->file,
                     o->env);
        return rc;
    }
    if (!it->m) {
        dd_error_set(err, DD_EINPUT, "version %lld has no migration file; cannot record it as applied",
                     (long long)version);
        dd_error_hint(err, "Restore the file, or use --pending to forget the ledger row.");
        return -1;
    }
    if (engine_item_read(st, it, err) < 0 || migration_exec_prepare(&x, &it->m->up, false, err) < 0)
        return -1;
    memset(&e, 0, sizeof(e));
    e.version = it->m->version;
    e.name = it->m->name;
    e.file = it->m->up.path;
    e.checksum = it->m->checksum;
    e.transactional = x.mode == MIGRATION_EXEC_TX;
    e.statements_total = (int)x.stmts.n;
    e.applied_by = o->applied_by;
    e.git_commit = nonempty(git_commit);
    e.git_blob = nonempty(it->m->up.blob_id);
    if (it->row && it->state == ENGINE_MODIFIED)
        log_warn("%s changed since it was applied; the ledger now records the current checksum", it->m->up.path);
    rc = db_ledger_mark_applied(db, o->schema, &e, err);
    if (rc == 0)
        log_info("marked %s applied on %s (ledger only; no SQL was run)", it->m->up.path, o->env);
    migration_exec_release(&x);
    return rc;
}

/*
 * The plan, and the schema it leaves recorded for drift detection (engine/drift.c) when the
 * schema it started from was dbdeploy's own: a failed or interrupted run records too, since
 * what it left is still dbdeploy's doing. A failure to record only warns: the next run then
 * reports drift, which errs on the side of telling.
 */
int engine_run(struct engine_result *res, struct db_conn *db, const struct engine_plan *plan,
               const struct engine_opts *o, const char *git_commit, struct dd_error *err)
{
    struct dd_error rec_err = DD_ERROR_INIT;
    bool record = o->drift_accepted;
    int rc;

    if (!record && engine_schema_unchanged(&record, db, o->schema, &rec_err) < 0)
        record = false;
    rc = run_plan(res, db, plan, o, git_commit, err);
    if (record && db_connected(db) && !db_in_transaction(db) && engine_schema_record(db, o->schema, &rec_err) < 0)
        log_warn("could not record the schema for drift detection: %s", rec_err.chain.v[0]);
    else if (!record && !dd_error_isset(&rec_err))
        log_info("the schema had drifted before this run; it stays unrecorded ('dbdeploy drift %s' shows how)", o->env);
    dd_error_release(&rec_err);
    return rc;
}
