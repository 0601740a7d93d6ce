/*
 * The data-loss guard at apply time (see dataloss.h). Statements the parse tree says may destroy
 * or change rows run one at a time, between a probe before (what the table or column holds) and
 * the server's count after (rows the statement affected); the others run in batches, as they
 * would without the guard.
 */
#include "engine/dataloss.h"

#include <stdarg.h>
#include <stdio.h>

#include "config/config.h"
#include "db/dataloss.h"
#include "util/clock.h"
#include "util/out.h"

enum check { CHECK_DATA_LOSS, CHECK_ROW_CHANGES, CHECK_NOT_VALID, CHECK_INVALID_INDEX };

static unsigned severity(const struct engine_guard_mig *m, enum check c)
{
    const struct engine_opts *o = m->g->o;

    return c == CHECK_DATA_LOSS     ? o->guard_data_loss
           : c == CHECK_ROW_CHANGES ? o->guard_row_changes
           : c == CHECK_NOT_VALID   ? o->guard_not_valid
                                    : o->guard_invalid_index;
}

void engine_guard_init(struct engine_guard *g, const struct engine_opts *o)
{
    g->o = o;
    dd_strv_init(&g->new_tables);
}

void engine_guard_release(struct engine_guard *g)
{
    if (g)
        dd_strv_release(&g->new_tables);
}

static void table_key(char *out, size_t n, const struct lint_op *op)
{
    if (op->schema && strcmp(op->schema, "public") != 0)
        snprintf(out, n, "%s.%s", op->schema, op->table);
    else
        snprintf(out, n, "%s", op->table);
}

static bool is_new(const struct engine_guard_mig *m, const struct lint_op *op)
{
    char key[300];

    table_key(key, sizeof(key), op);
    return dd_strv_contains(&m->g->new_tables, key);
}

/*
 * A statement the guard runs alone: any op but CREATE TABLE needs a probe or a count, unless
 * its table is new in this run (nothing there to lose; the INSERT that fills a table created
 * just before runs in the batch).
 */
static bool needs_probe(const struct engine_guard_mig *m, size_t k)
{
    for (size_t i = 0; i < m->ops.n; i++)
        if (m->ops.v[i].stmt == k && m->ops.v[i].kind != LINT_OP_CREATE_TABLE && !is_new(m, &m->ops.v[i]))
            return true;
    return false;
}

/* Whether the migration may leave invalid indexes or NOT VALID constraints the guard must see. */
static bool watches_leftovers(const struct engine_guard_mig *m)
{
    const struct engine_opts *o = m->g->o;

    return m->ops.may_leave_invalid &&
           (o->guard_not_valid != CONFIG_GUARD_OFF || o->guard_invalid_index != CONFIG_GUARD_OFF);
}

static int run_body(void *arg, struct db_conn *db, struct db_sql_error *se, struct dd_error *err);

int engine_guard_begin(struct engine_guard_mig *m, struct engine_guard *g, const struct engine_step *s,
                       struct dd_error *err)
{
    const struct migration_exec *x = &s->exec;
    const struct engine_opts *o = g->o;
    char msg[256];
    unsigned line;

    memset(m, 0, sizeof(*m));
    m->g = g;
    m->s = s;
    m->body.run = run_body;
    m->body.arg = m;
    m->changes = engine_step_changes(s);
    if (o->guard_data_loss == CONFIG_GUARD_OFF && o->guard_row_changes == CONFIG_GUARD_OFF &&
        o->guard_not_valid == CONFIG_GUARD_OFF && o->guard_invalid_index == CONFIG_GUARD_OFF)
        return 0;
    if (lint_ops_read(&m->ops, x->text.buf, x->text.len, &x->stmts, msg, sizeof(msg), &line) < 0) {
        if (strstr(msg, "dbdeploy:allow")) {
            dd_error_set(err, DD_EINPUT, "%s:%u: %s", s->script->path, line, msg);
            dd_error_hint(err, "Say why the change is safe: '-- dbdeploy:allow KIND reason...' (docs/guard.md).");
            return -1;
        }
        log_warn("%s%s%u: %s; the data-loss guard cannot check this file", s->script->path, line ? ":" : "", line, msg);
        return 0;
    }
    m->active = true;
    return 0;
}

void engine_guard_end(struct engine_guard_mig *m)
{
    if (!m)
        return;
    lint_ops_release(&m->ops);
    free(m->snapshot);
    m->snapshot = NULL;
    free(m->changes);
    m->changes = NULL;
    m->active = false;
}

static const char *const hints[] = {
    "If the loss is intended, back the data up and declare it above the statement: '-- dbdeploy:allow data-loss "
    "<why it is safe>' (docs/guard.md).",
    "If the change is intended, declare it above the statement: '-- dbdeploy:allow row-changes <why>' "
    "(docs/guard.md).",
    "VALIDATE the constraint in this migration, or declare the add-now-validate-later pattern: '-- dbdeploy:allow "
    "not-valid <when it is validated>' (docs/guard.md).",
    "Drop the invalid index (DROP INDEX CONCURRENTLY) and build it again; a failed or unfinished build leaves it "
    "unusable but still maintained on every write.",
};

/*
 * Report what statement k (SIZE_MAX: the migration as a whole) did. Declared: logged with the
 * reason. Otherwise a warning, or an error (-1) by the check's severity.
 */
static int DD_PRINTF(6, 7) violation(struct engine_guard_mig *m, enum check c, enum lint_decl_kind decl, size_t k,
                                     struct dd_error *err, const char *fmt, ...)
{
    const struct migration_exec *x = &m->s->exec;
    const struct lint_decl *d = c == CHECK_INVALID_INDEX ? NULL : lint_ops_declared(&m->ops, decl, k);
    struct dd_buf what = DD_BUF_INIT, where = DD_BUF_INIT;
    va_list ap;
    int rc = 0;

    if (severity(m, c) == CONFIG_GUARD_OFF)
        return 0;
    if (!d && decl == LINT_DECL_ROW_CHANGES && fmt[0] == 'U')
        d = lint_ops_declared(&m->ops, LINT_DECL_DATA_LOSS, k); /* an UPDATE overwrites: data-loss covers it */
    va_start(ap, fmt);
    dd_buf_vaddf(&what, fmt, ap);
    va_end(ap);
    dd_buf_adds(&where, m->s->script->path);
    if (k < x->stmts.n)
        dd_buf_addf(&where, ":%u:%u", x->stmts.stmts[k].line, x->stmts.stmts[k].col);
    if (d) {
        log_info("%s: %s (declared %s at line %u: %s)", where.buf, what.buf, lint_decl_name(d->kind), d->line,
                 d->reason);
    } else if (severity(m, c) == CONFIG_GUARD_WARNING) {
        log_warn("%s: %s, which the migration does not declare", where.buf, what.buf);
    } else {
        dd_error_set(err, DD_EDB, "%s: %s%s", where.buf, what.buf,
                     c == CHECK_INVALID_INDEX ? "" : ", which the migration does not declare");
        dd_error_hint(err, "%s", hints[c]);
        rc = -1;
    }
    dd_buf_release(&what);
    dd_buf_release(&where);
    return rc;
}

/* "3 rows", "more than 100000 rows" */
static const char *rows_text(char *out, size_t n, int64_t rows, const char *unit)
{
    if (rows >= ENGINE_GUARD_COUNT_LIMIT)
        snprintf(out, n, "more than %lld %ss", (long long)ENGINE_GUARD_COUNT_LIMIT, unit);
    else
        snprintf(out, n, "%lld %s%s", (long long)rows, unit, rows == 1 ? "" : "s");
    return out;
}

static void type_text(char *out, size_t n, const char *typname, int mod)
{
    if (mod >= 4 && dd_streq(typname, "numeric"))
        snprintf(out, n, "numeric(%d,%d)", ((mod - 4) >> 16) & 0xffff, (mod - 4) & 0xffff);
    else if (mod >= 4 && (dd_streq(typname, "varchar") || dd_streq(typname, "bpchar")))
        snprintf(out, n, "%s(%d)", typname, mod - 4);
    else if (mod >= 0)
        snprintf(out, n, "%s(%d)", typname, mod);
    else
        snprintf(out, n, "%s", typname);
}

/* What one op's probe found before its statement ran. */
struct probe {
    int64_t rows; /* rows or values held; -1 unknown/absent */
    char *typname;
    int typmod;
    struct dd_strv tables;
};

static int probe_before(struct engine_guard_mig *m, struct db_conn *db, const struct lint_op *op, struct probe *p,
                        struct dd_error *err)
{
    switch (op->kind) {
    case LINT_OP_DROP_TABLE:
    case LINT_OP_TRUNCATE:
        return db_count_rows(db, op->schema, op->table, NULL, ENGINE_GUARD_COUNT_LIMIT, &p->rows, err);
    case LINT_OP_DROP_COLUMN:
        return db_count_rows(db, op->schema, op->table, op->column, ENGINE_GUARD_COUNT_LIMIT, &p->rows, err);
    case LINT_OP_ALTER_TYPE:
        return db_column_type(db, op->schema, op->table, op->column, &p->typname, &p->typmod, err);
    case LINT_OP_DROP_SCHEMA:
        return db_schema_tables_with_rows(db, op->table, 10, &p->tables, err);
    default:
        (void)m;
        return 0;
    }
}

static int judge_after(struct engine_guard_mig *m, struct db_conn *db, const struct lint_op *op, struct probe *p,
                       size_t k, int64_t affected, struct dd_error *err)
{
    char key[300], n[64], from[64], to[64], *typname = NULL;
    int typmod = -1, rc = 0;
    int64_t values = -1;

    table_key(key, sizeof(key), op);
    switch (op->kind) {
    case LINT_OP_DROP_TABLE:
        if (p->rows > 0)
            rc = violation(m, CHECK_DATA_LOSS, LINT_DECL_DATA_LOSS, k, err, "DROP TABLE %s destroyed %s", key,
                           rows_text(n, sizeof(n), p->rows, "row"));
        break;
    case LINT_OP_TRUNCATE:
        if (p->rows > 0)
            rc = violation(m, CHECK_DATA_LOSS, LINT_DECL_DATA_LOSS, k, err, "TRUNCATE %s removed %s", key,
                           rows_text(n, sizeof(n), p->rows, "row"));
        break;
    case LINT_OP_DROP_COLUMN:
        if (p->rows > 0)
            rc = violation(m, CHECK_DATA_LOSS, LINT_DECL_DATA_LOSS, k, err, "DROP COLUMN %s.%s destroyed %s", key,
                           op->column, rows_text(n, sizeof(n), p->rows, "non-null value"));
        break;
    case LINT_OP_DROP_SCHEMA:
        if (p->tables.n)
            rc = violation(m, CHECK_DATA_LOSS, LINT_DECL_DATA_LOSS, k, err,
                           "DROP SCHEMA %s destroyed the rows of %zu%s table%s (%s%s)", op->table, p->tables.n,
                           p->tables.n >= 10 ? " or more" : "", p->tables.n == 1 ? "" : "s", p->tables.v[0],
                           p->tables.n > 1 ? ", ..." : "");
        break;
    case LINT_OP_DELETE:
        if (affected > 0)
            rc = violation(m, CHECK_DATA_LOSS, LINT_DECL_DATA_LOSS, k, err, "DELETE removed %lld row%s from %s",
                           (long long)affected, affected == 1 ? "" : "s", key);
        break;
    case LINT_OP_UPDATE:
        if (affected > 0)
            rc = violation(m, CHECK_ROW_CHANGES, LINT_DECL_ROW_CHANGES, k, err, "UPDATE changed %lld row%s of %s",
                           (long long)affected, affected == 1 ? "" : "s", key);
        break;
    case LINT_OP_INSERT:
        if (affected > 0)
            rc = violation(m, CHECK_ROW_CHANGES, LINT_DECL_ROW_CHANGES, k, err, "INSERT added %lld row%s to %s",
                           (long long)affected, affected == 1 ? "" : "s", key);
        break;
    case LINT_OP_ALTER_TYPE:
        if (!p->typname)
            break;
        if (db_column_type(db, op->schema, op->table, op->column, &typname, &typmod, err) < 0)
            return -1;
        if (typname && engine_type_narrows(p->typname, p->typmod, typname, typmod)) {
            if (db_count_rows(db, op->schema, op->table, op->column, ENGINE_GUARD_COUNT_LIMIT, &values, err) < 0)
                rc = -1;
            else if (values > 0) {
                type_text(from, sizeof(from), p->typname, p->typmod);
                type_text(to, sizeof(to), typname, typmod);
                rc = violation(m, CHECK_DATA_LOSS, LINT_DECL_DATA_LOSS, k, err,
                               "ALTER COLUMN %s.%s TYPE narrowed %s to %s while it held %s", key, op->column, from, to,
                               rows_text(n, sizeof(n), values, "value"));
            }
        }
        free(typname);
        break;
    case LINT_OP_CREATE_TABLE:
        if (!dd_strv_contains(&m->g->new_tables, key))
            dd_strv_push(&m->g->new_tables, key);
        break;
    }
    return rc;
}

/* Statements [from, to) as one simple query; a rehearsal's trace hears of a single one (to == from + 1). */
static int traced_exec(struct engine_guard_mig *m, struct db_conn *db, size_t from, size_t to, const char *sql,
                       size_t len, int64_t *affected, struct db_sql_error *se, struct dd_error *err)
{
    const struct engine_trace *t = m->g->o->trace;
    uint64_t start = dd_now_ms();
    int rc = db_exec_counted(db, sql, len, affected, se, err);

    if (t && to == from + 1)
        t->statement(t->arg, db, m->s, from, start, dd_now_ms(), rc == 0);
    return rc;
}

/* Statement k alone: probe, run, judge. A server error fills se (position relative to the statement). */
static int run_probed(struct engine_guard_mig *m, struct db_conn *db, size_t k, bool trace, struct db_sql_error *se,
                      struct dd_error *err)
{
    const struct migration_exec *x = &m->s->exec;
    const struct sql_stmt *st = &x->stmts.stmts[k];
    struct probe *p = dd_xcalloc(m->ops.n ? m->ops.n : 1, sizeof(*p));
    int64_t affected = -1;
    int rc = 0;

    for (size_t i = 0; i < m->ops.n && rc == 0; i++) {
        dd_strv_init(&p[i].tables);
        p[i].rows = -1;
        if (m->ops.v[i].stmt == k && !is_new(m, &m->ops.v[i]))
            rc = probe_before(m, db, &m->ops.v[i], &p[i], err);
    }
    if (rc == 0)
        rc = traced_exec(m, db, k, trace ? k + 1 : k, x->text.buf + st->start, st->end - st->start, &affected, se, err);
    for (size_t i = 0; i < m->ops.n && rc == 0; i++)
        if (m->ops.v[i].stmt == k && (m->ops.v[i].kind == LINT_OP_CREATE_TABLE || !is_new(m, &m->ops.v[i])))
            rc = judge_after(m, db, &m->ops.v[i], &p[i], k, affected, err);
    for (size_t i = 0; i < m->ops.n; i++) {
        free(p[i].typname);
        dd_strv_release(&p[i].tables);
    }
    free(p);
    return rc;
}

/* "KEY\tTEXT" -> "TEXT" */
static const char *after_tab(const char *s)
{
    const char *t = strchr(s, '\t');

    return t ? t + 1 : s;
}

/* Invalid indexes and NOT VALID constraints the migration left (since the snapshot). */
static int check_leftovers(struct engine_guard_mig *m, struct db_conn *db, struct dd_error *err)
{
    struct dd_strv idx = DD_STRV_INIT, cons = DD_STRV_INIT;
    int rc = -1;

    if (db_guard_new_leftovers(db, m->snapshot, &idx, &cons, err) < 0)
        goto cleanup;
    rc = 0;
    for (size_t i = 0; i < idx.n && rc == 0; i++)
        rc = violation(m, CHECK_INVALID_INDEX, LINT_DECL_DATA_LOSS, SIZE_MAX, err, "index %s is left invalid",
                       after_tab(idx.v[i]));
    for (size_t i = 0; i < cons.n && rc == 0; i++) {
        /* a table of this run had nothing to validate before it */
        char *key = dd_xstrndup(cons.v[i], strcspn(cons.v[i], "\t"));
        if (!dd_strv_contains(&m->g->new_tables, key))
            rc = violation(m, CHECK_NOT_VALID, LINT_DECL_NOT_VALID, SIZE_MAX, err, "constraint %s is left NOT VALID",
                           after_tab(cons.v[i]));
        free(key);
    }
cleanup:
    dd_strv_release(&idx);
    dd_strv_release(&cons);
    return rc;
}

/* Tables created by the statements before `to` are new: later statements may fill and empty them. */
static void created_before(struct engine_guard_mig *m, size_t to)
{
    char key[300];

    for (size_t i = 0; i < m->ops.n; i++)
        if (m->ops.v[i].kind == LINT_OP_CREATE_TABLE && m->ops.v[i].stmt < to) {
            table_key(key, sizeof(key), &m->ops.v[i]);
            if (!dd_strv_contains(&m->g->new_tables, key))
                dd_strv_push(&m->g->new_tables, key);
        }
}

/* Statements [from, to) as one piece; a server error is made relative to the whole text. */
static int run_piece(struct engine_guard_mig *m, struct db_conn *db, size_t from, size_t to, struct db_sql_error *se,
                     struct dd_error *err)
{
    const struct migration_exec *x = &m->s->exec;
    size_t start, end;

    if (from >= to)
        return 0;
    if (m->g->o->trace && to - from > 1) {
        /* a rehearsal times every statement: one at a time, in the same transaction */
        for (size_t k = from; k < to; k++)
            if (run_piece(m, db, k, k + 1, se, err) < 0)
                return -1;
        return 0;
    }
    start = x->stmts.stmts[from].start;
    end = x->stmts.stmts[to - 1].end;
    if (traced_exec(m, db, from, to, x->text.buf + start, end - start, NULL, se, err) == 0)
        return 0;
    if (se->message) {
        if (se->position > 0)
            se->position += (int)sql_char_count(x->text.buf, start);
        if (se->statement >= 0)
            se->statement += (long)from;
    }
    return -1;
}

/* The migration's text inside its open transaction (db_body): batches, probed statements, leftovers. */
static int run_body(void *arg, struct db_conn *db, struct db_sql_error *se, struct dd_error *err)
{
    struct engine_guard_mig *m = arg;
    const struct migration_exec *x = &m->s->exec;
    size_t from = 0;

    free(m->snapshot);
    m->snapshot = NULL;
    /* inactive (a rehearsal's trace sends the text through here): nothing to watch */
    if (m->active && watches_leftovers(m) && db_guard_snapshot(db, &m->snapshot, err) < 0)
        return -1;
    for (size_t k = 0; k < x->stmts.n; k++) {
        created_before(m, k);
        if (!needs_probe(m, k))
            continue;
        if (run_piece(m, db, from, k, se, err) < 0)
            return -1;
        created_before(m, k);
        if (run_probed(m, db, k, true, se, err) < 0) {
            if (se->message) {
                if (se->position > 0)
                    se->position += (int)sql_char_count(x->text.buf, x->stmts.stmts[k].start);
                se->statement = (long)k;
            }
            return -1;
        }
        from = k + 1;
    }
    if (run_piece(m, db, from, x->stmts.n, se, err) < 0)
        return -1;
    created_before(m, x->stmts.n);
    return m->snapshot ? check_leftovers(m, db, err) : 0;
}

int engine_guard_start(struct engine_guard_mig *m, struct db_conn *db, struct dd_error *err)
{
    if (!m->active || !watches_leftovers(m))
        return 0;
    free(m->snapshot);
    m->snapshot = NULL;
    return db_guard_snapshot(db, &m->snapshot, err);
}

/*
 * Without the migration's transaction, a probed statement gets one of its own (unless the file
 * opened one), so that what it destroyed can still be rolled back.
 */
int engine_guard_statement(struct engine_guard_mig *m, struct db_conn *db, size_t k, struct db_sql_error *se,
                           struct dd_error *err)
{
    const struct sql_stmt *st = &m->s->exec.stmts.stmts[k];
    struct db_sql_error ignored = DB_SQL_ERROR_INIT;
    bool own = false;
    int rc;

    if (!m->active || !needs_probe(m, k) || st->kind == SQL_KIND_NO_TX) {
        rc = db_exec_statement(db, m->s->exec.text.buf + st->start, st->end - st->start, se, err);
        created_before(m, k + 1);
        return rc;
    }
    if (!db_in_transaction(db)) {
        if (db_exec_statement(db, "BEGIN", 5, &ignored, err) < 0) {
            db_sql_error_release(&ignored);
            return -1;
        }
        own = true;
    }
    rc = run_probed(m, db, k, false, se, err); /* run_no_tx traces the statement as a whole */
    if (rc < 0 && own)
        db_rollback_quietly(db);
    else if (own)
        rc = db_exec_statement(db, "COMMIT", 6, se, err);
    created_before(m, k + 1);
    return rc;
}

int engine_guard_finish(struct engine_guard_mig *m, struct db_conn *db, struct dd_error *err)
{
    if (!m->active || !m->snapshot)
        return 0;
    return check_leftovers(m, db, err);
}

void engine_guard_explain_failure(struct engine_guard_mig *m, struct db_conn *db, struct dd_error *err)
{
    struct dd_strv idx = DD_STRV_INIT, cons = DD_STRV_INIT;
    struct dd_error ignored = DD_ERROR_INIT;

    if (!m || !m->snapshot || db_in_transaction(db))
        return;
    if (db_guard_new_leftovers(db, m->snapshot, &idx, &cons, &ignored) == 0)
        for (size_t i = 0; i < idx.n; i++)
            dd_error_detail(err,
                            "index %s is left invalid: drop it (DROP INDEX CONCURRENTLY) before running the "
                            "migration again",
                            after_tab(idx.v[i]));
    dd_error_release(&ignored);
    dd_strv_release(&idx);
    dd_strv_release(&cons);
}

char *engine_step_changes(const struct engine_step *s)
{
    return lint_changes(s->exec.text.buf, s->exec.text.len);
}

/* --- narrowing --- */

static int int_rank(const char *t)
{
    return dd_streq(t, "int2") ? 1 : dd_streq(t, "int4") ? 2 : dd_streq(t, "int8") ? 3 : 0;
}

static bool is_text(const char *t)
{
    return dd_streq(t, "text") || dd_streq(t, "varchar") || dd_streq(t, "bpchar");
}

/* Types whose typmod is a length or precision: a smaller one keeps less. */
static bool mod_is_size(const char *t)
{
    return dd_streq(t, "varchar") || dd_streq(t, "bpchar") || dd_streq(t, "bit") || dd_streq(t, "varbit") ||
           dd_streq(t, "timestamp") || dd_streq(t, "timestamptz") || dd_streq(t, "time") || dd_streq(t, "timetz");
}

bool engine_type_narrows(const char *from, int from_mod, const char *to, int to_mod)
{
    if (!from || !to)
        return false;
    if (strcmp(from, to) == 0) {
        if (to_mod < 0)
            return false; /* unbounded again */
        if (from_mod < 0)
            return mod_is_size(to) || dd_streq(to, "numeric");
        if (dd_streq(to, "numeric"))
            return ((to_mod - 4) >> 16) < ((from_mod - 4) >> 16) || ((to_mod - 4) & 0xffff) < ((from_mod - 4) & 0xffff);
        return mod_is_size(to) && to_mod < from_mod;
    }
    if (int_rank(to))
        return int_rank(from) > int_rank(to) || dd_streq(from, "numeric") || dd_streq(from, "float4") ||
               dd_streq(from, "float8");
    if (dd_streq(to, "float4"))
        return dd_streq(from, "float8") || dd_streq(from, "numeric") || dd_streq(from, "int4") ||
               dd_streq(from, "int8");
    if (dd_streq(to, "float8"))
        return dd_streq(from, "numeric") || dd_streq(from, "int8");
    if (is_text(to) && is_text(from))
        return to_mod >= 0 && (from_mod < 0 || to_mod < from_mod);
    if (dd_streq(to, "date") || dd_streq(to, "time"))
        return dd_streq(from, "timestamp") || dd_streq(from, "timestamptz");
    return false;
}
