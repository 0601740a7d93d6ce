#include "db/ledger.h"

#include <stdio.h>

#include "db/internal.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/interrupt.h"
#include "util/out.h"
#include "version.h"

#define TX_PREFIX "BEGIN;"

struct pq_query {
    const char *sql;
    int nparams;
    const char *const *params;
    char **out; /* when set: the first value of the first row (caller frees) */
};

/* Ask for the transaction id inside a pipeline, so the guard knows dbdeploy's own writes. */
#define OWN_XID_QUERY "SELECT txid_current()::text"

void db_own_xid_add(struct db_conn *c, const char *xid_text)
{
    if (!xid_text)
        return;
    if (c->n_own_xids == c->own_xids_alloc) {
        c->own_xids_alloc = c->own_xids_alloc ? c->own_xids_alloc * 2 : 16;
        c->own_xids = dd_xrealloc(c->own_xids, c->own_xids_alloc * sizeof(*c->own_xids));
    }
    c->own_xids[c->n_own_xids++] = strtoll(xid_text, NULL, 10);
}

static void own_xid_keep(struct db_conn *c, char *xid_text)
{
    db_own_xid_add(c, xid_text);
    free(xid_text);
}

/*
 * RESET ALL leaves the role and the session authorization alone, so a migration's SET ROLE would
 * own the next migration's objects and write the ledger. These go before every ledger write that
 * ends a migration (in its transaction, after its text), taking us back to the deploy user.
 */
#define DB_IDENTITY_RESET_QUERIES                                                                                      \
    {"RESET SESSION AUTHORIZATION", 0, NULL, NULL},                                                                    \
    {                                                                                                                  \
        "RESET ROLE", 0, NULL, NULL                                                                                    \
    }
#define DB_IDENTITY_RESET_N 2

/*
 * Send queries as one pipeline (one round trip). Returns 0 when all succeeded; otherwise -1
 * with the first failure in *sqlerr (when given) and err, and *failed_at set to its index.
 */
static int run_pipeline(struct db_conn *c, const struct pq_query *q, int n, int *failed_at, struct db_sql_error *sqlerr,
                        struct dd_error *err)
{
    int rc = 0, i;
    bool resets = false;

    for (i = 0; i < n; i++)
        resets = resets || strcmp(q[i].sql, "RESET ALL") == 0;

    *failed_at = -1;
    if (!PQenterPipelineMode(c->pg))
        return db_error_from_result(err, NULL, c->pg, "cannot enter pipeline mode");
    for (i = 0; i < n; i++) {
        if (!PQsendQueryParams(c->pg, q[i].sql, q[i].nparams, NULL, q[i].params, NULL, NULL, 0)) {
            db_error_from_result(err, NULL, c->pg, "cannot send a query");
            rc = -1;
            break;
        }
    }
    if (!PQpipelineSync(c->pg) && rc == 0) {
        db_error_from_result(err, NULL, c->pg, "cannot send a query");
        rc = -1;
    }
    /*
     * Drain up to the sync result, whatever happened. Each query's results end with a NULL;
     * the sync result is not followed by one. The NULL count bounds the loop on a dead connection.
     */
    for (int k = 0, nulls = 0; nulls <= n + 1;) {
        PGresult *res = PQgetResult(c->pg);
        ExecStatusType st;
        if (!res) {
            nulls++;
            k++;
            continue;
        }
        st = PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            break;
        }
        if (st == PGRES_TUPLES_OK && k < n && q[k].out && !*q[k].out && PQntuples(res) > 0)
            *q[k].out = dd_xstrdup(PQgetvalue(res, 0, 0));
        if (st == PGRES_FATAL_ERROR && *failed_at < 0) {
            *failed_at = k;
            if (sqlerr)
                db_sql_error_from_result(sqlerr, res, c->pg);
            db_error_from_result(err, res, c->pg, "query failed");
            rc = -1;
        }
        PQclear(res);
    }
    if (!PQexitPipelineMode(c->pg) && rc == 0)
        rc = db_error_from_result(err, NULL, c->pg, "cannot leave pipeline mode");
    if (rc == 0 && resets) {
        /* RESET ALL went back to the startup options, i.e. the configured timeouts */
        c->cur_lock_timeout_ms = c->default_lock_timeout_ms;
        c->cur_statement_timeout_ms = c->default_statement_timeout_ms;
    }
    return rc;
}

/* Called from the SIGINT/SIGTERM handler: ask the server to cancel the running statement. */
static void cancel_from_signal(void *arg)
{
    char errbuf[256];

    PQcancel((PGcancel *)arg, errbuf, sizeof(errbuf));
}

/* Simple-query the text; on a server error fill sqlerr with the position relative to text. */
static int run_script(struct db_conn *c, const char *prefix, const char *text, int64_t *affected,
                      struct db_sql_error *sqlerr, struct dd_error *err)
{
    struct dd_buf q = DD_BUF_INIT;
    PGcancel *cancel = NULL;
    PGresult *res;
    int rc = 0;
    long prefix_chars = (long)strlen(prefix), done = 0, prefix_stmts = *prefix ? 1 : 0;

    dd_buf_adds(&q, prefix);
    dd_buf_adds(&q, text);
    if (dd_interrupt_pending()) {
        dd_buf_release(&q);
        return dd_error_set(err, DD_EINTERRUPTED, "interrupted by signal %d", dd_interrupt_signal());
    }
    cancel = PQgetCancel(c->pg);
    if (cancel)
        dd_interrupt_set_hook(cancel_from_signal, cancel);
    if (!PQsendQuery(c->pg, q.buf)) {
        dd_interrupt_set_hook(NULL, NULL);
        PQfreeCancel(cancel);
        dd_buf_release(&q);
        return db_error_from_result(err, NULL, c->pg, "cannot send the migration");
    }
    while ((res = PQgetResult(c->pg))) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            done++; /* the server sends one result per statement: count them to know which one failed */
            if (affected)
                *affected = *PQcmdTuples(res) ? strtoll(PQcmdTuples(res), NULL, 10) : -1;
        }
        if ((st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE) && rc == 0) {
            db_sql_error_from_result(sqlerr, res, c->pg);
            sqlerr->position = sqlerr->position > prefix_chars ? sqlerr->position - prefix_chars : 0;
            sqlerr->statement = done >= prefix_stmts ? done - prefix_stmts : -1;
            db_error_from_result(err, res, c->pg, "migration failed");
            rc = -1;
        } else if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
            /* COPY ... FROM STDIN needs psql's data lines, which a migration cannot carry */
            if (rc == 0) {
                sqlerr->message = dd_xstrdup("COPY to or from the client is not supported in migrations");
                dd_error_set(err, DD_EDB, "migration failed: %s", sqlerr->message);
                rc = -1;
            }
            PQputCopyEnd(c->pg, "dbdeploy does not support COPY FROM STDIN");
        }
        PQclear(res);
    }
    dd_interrupt_set_hook(NULL, NULL);
    PQfreeCancel(cancel);
    if (rc == 0 && PQstatus(c->pg) != CONNECTION_OK)
        rc = db_error_from_result(err, NULL, c->pg, "lost the connection");
    if (rc < 0 && dd_interrupt_pending())
        dd_error_recode(err, DD_EINTERRUPTED);
    dd_buf_release(&q);
    return rc;
}

bool db_in_transaction(const struct db_conn *c)
{
    PGTransactionStatusType t = PQtransactionStatus(c->pg);

    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

void db_rollback_quietly(struct db_conn *c)
{
    if (db_in_transaction(c))
        PQclear(PQexec(c->pg, "ROLLBACK"));
}

static void to_text(char out[32], int64_t v)
{
    snprintf(out, 32, "%lld", (long long)v);
}

/*
 * "BEGIN;<text>" as one simple query, then the ledger statement, COMMIT and RESET ALL as one
 * pipeline: two round trips for a whole migration and its ledger row, all or nothing.
 */
static int run_with_ledger(struct db_conn *c, const char *text, const struct db_body *ledger_body,
                           const struct pq_query *ledger, const char *file, int64_t *duration_ms,
                           struct db_sql_error *sqlerr, struct dd_error *err)
{
    uint64_t start = dd_now_ms();
    int failed_at;

    *duration_ms = 0;
    if ((ledger_body ? run_script(c, "", "BEGIN", NULL, sqlerr, err) < 0 ||
                           ledger_body->run(ledger_body->arg, c, sqlerr, err) < 0
                     : run_script(c, TX_PREFIX, text, NULL, sqlerr, err) < 0))
        goto failed;
    if (!db_in_transaction(c))
        log_warn("%s ended the transaction itself; its ledger row is written separately", file);
    {
        char *xid = NULL;
        const struct pq_query q[] = {DB_IDENTITY_RESET_QUERIES,
                                     *ledger,
                                     {OWN_XID_QUERY, 0, NULL, &xid},
                                     {"COMMIT", 0, NULL, NULL},
                                     {"RESET ALL", 0, NULL, NULL}};
        if (run_pipeline(c, q, DB_IDENTITY_RESET_N + 4, &failed_at, sqlerr, err) < 0) {
            free(xid);
            /* a failing COMMIT is the migration's failure (deferred constraints); a ledger one is ours */
            if (failed_at != DB_IDENTITY_RESET_N + 2)
                db_sql_error_release(sqlerr);
            goto failed;
        }
        own_xid_keep(c, xid);
    }
    *duration_ms = (int64_t)(dd_now_ms() - start);
    return 0;
failed:
    db_rollback_quietly(c);
    return -1;
}

/*
 * The row of a repeatable migration, replaced on each run: parameters $1 name, $2 file,
 * $3 checksum, $4 applied_by, $5 git_commit, $6 git_blob, $7 dbdeploy version, and the duration
 * as the SQL expression `duration`.
 */
static char *repeatable_upsert(const char *qs, const char *duration)
{
    return dd_xasprintf("INSERT INTO %s.repeatables AS r (name, file, checksum, applied_by, duration_ms, git_commit, "
                        "git_blob, dbdeploy_version) VALUES ($1, $2, $3, $4, %s, $5, $6, $7) ON CONFLICT (name) DO "
                        "UPDATE SET file = EXCLUDED.file, checksum = EXCLUDED.checksum, applied_at = now(), "
                        "applied_by = EXCLUDED.applied_by, duration_ms = EXCLUDED.duration_ms, git_commit = "
                        "EXCLUDED.git_commit, git_blob = EXCLUDED.git_blob, dbdeploy_version = "
                        "EXCLUDED.dbdeploy_version",
                        qs, duration);
}

int db_apply_tx(struct db_conn *c, const char *schema, const struct db_ledger_entry *e, const char *text,
                int64_t *duration_ms, struct db_sql_error *sqlerr, struct dd_error *err)
{
    char *qs = db_quote_ident(c, schema);
    char version[32], total[32];
    /*
     * duration_ms: from the transaction's start (the BEGIN in front of the file) to this row,
     * measured by the server, so the ledger write costs no extra round trip
     */
    char *insert = dd_xasprintf("INSERT INTO %s.migrations (version, name, file, checksum, state, transactional, "
                                "statements_done, statements_total, applied_by, duration_ms, git_commit, git_blob, "
                                "dbdeploy_version, changes) VALUES ($1::bigint, $2, $3, $4, 'applied', true, $5::int, "
                                "$5::int, $6, (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint, $7, $8, "
                                "$9, $10)",
                                qs);
    const char *params[] = {version,       e->name,       e->file,     e->checksum,      total,
                            e->applied_by, e->git_commit, e->git_blob, DBDEPLOY_VERSION, e->changes};
    const char *rparams[] = {e->name,       e->file,     e->checksum,     e->applied_by,
                             e->git_commit, e->git_blob, DBDEPLOY_VERSION};
    char *upsert =
        e->repeatable ? repeatable_upsert(qs, "(extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint") : NULL;
    const struct pq_query q =
        upsert ? (struct pq_query){upsert, 7, rparams, NULL} : (struct pq_query){insert, 10, params, NULL};
    int rc;

    to_text(version, e->version);
    to_text(total, e->statements_total);
    rc = run_with_ledger(c, text, e->body, &q, e->file, duration_ms, sqlerr, err);
    free(upsert);
    free(insert);
    free(qs);
    return rc;
}

int db_revert_tx(struct db_conn *c, const char *schema, int64_t version, const char *text, int64_t *duration_ms,
                 struct db_sql_error *sqlerr, struct dd_error *err)
{
    char *qs = db_quote_ident(c, schema);
    char v[32];
    char *del = dd_xasprintf("DELETE FROM %s.migrations WHERE version = $1::bigint", qs);
    const char *params[] = {v};
    const struct pq_query q = {del, 1, params, NULL};
    int rc;

    to_text(v, version);
    rc = run_with_ledger(c, text, NULL, &q, "the down migration", duration_ms, sqlerr, err);
    free(del);
    free(qs);
    return rc;
}

int db_exec_statement(struct db_conn *c, const char *sql, size_t len, struct db_sql_error *sqlerr, struct dd_error *err)
{
    return db_exec_counted(c, sql, len, NULL, sqlerr, err);
}

int db_exec_counted(struct db_conn *c, const char *sql, size_t len, int64_t *affected, struct db_sql_error *sqlerr,
                    struct dd_error *err)
{
    char *stmt = dd_xstrndup(sql, len);
    int rc;

    if (affected)
        *affected = -1;
    rc = run_script(c, "", stmt, affected, sqlerr, err);
    free(stmt);
    return rc;
}

/*
 * One parameterised ledger statement (autocommit). With reset (the migration is over), preceded
 * by the identity reset and followed by RESET ALL; without (progress between the statements of
 * a migration), the migration's role stays in effect for its remaining statements.
 */
static int ledger_exec(struct db_conn *c, const char *fmt, const char *schema, int nparams, const char *const *params,
                       bool reset, struct dd_error *err)
{
    char *qs = db_quote_ident(c, schema);
    char *sql = dd_xasprintf(fmt, qs), *xid = NULL;
    /* one pipeline is one implicit transaction: the xid is the ledger write's */
    const struct pq_query q[] = {DB_IDENTITY_RESET_QUERIES,
                                 {sql, nparams, params, NULL},
                                 {OWN_XID_QUERY, 0, NULL, &xid},
                                 {"RESET ALL", 0, NULL, NULL}};
    int failed_at, rc;

    if (reset)
        rc = run_pipeline(c, q, DB_IDENTITY_RESET_N + 3, &failed_at, NULL, err);
    else
        rc = run_pipeline(c, q + DB_IDENTITY_RESET_N, 2, &failed_at, NULL, err);
    if (rc < 0)
        dd_error_wrap(err, "writing the ledger in schema '%s'", schema);
    else
        own_xid_keep(c, xid);
    if (rc < 0)
        free(xid);
    free(sql);
    free(qs);
    return rc;
}

int db_ledger_start(struct db_conn *c, const char *schema, const struct db_ledger_entry *e, const char *op,
                    struct dd_error *err)
{
    char version[32], total[32];

    to_text(version, e->version);
    to_text(total, e->statements_total);
    if (strcmp(op, "apply") == 0) {
        const char *params[] = {version,       e->name,       e->file,     e->checksum,      total,
                                e->applied_by, e->git_commit, e->git_blob, DBDEPLOY_VERSION, e->changes};
        return ledger_exec(c,
                           "INSERT INTO %s.migrations (version, name, file, checksum, state, transactional, "
                           "statements_done, statements_total, dirty_op, applied_by, git_commit, git_blob, "
                           "dbdeploy_version, changes) VALUES ($1::bigint, $2, $3, $4, 'dirty', false, 0, $5::int, "
                           "'apply', $6, $7, $8, $9, $10)",
                           schema, 10, params, false, err);
    } else {
        const char *params[] = {version, total};
        return ledger_exec(c,
                           "UPDATE %s.migrations SET state = 'dirty', dirty_op = 'rollback', statements_done = 0, "
                           "statements_total = $2::int, error = NULL WHERE version = $1::bigint",
                           schema, 2, params, false, err);
    }
}

int db_ledger_progress(struct db_conn *c, const char *schema, int64_t version, int done, struct dd_error *err)
{
    char v[32], d[32];
    const char *params[] = {v, d};

    to_text(v, version);
    to_text(d, done);
    return ledger_exec(c, "UPDATE %s.migrations SET statements_done = $2::int WHERE version = $1::bigint", schema, 2,
                       params, false, err);
}

int db_ledger_fail(struct db_conn *c, const char *schema, int64_t version, int done, const char *error,
                   struct dd_error *err)
{
    char v[32], d[32];
    const char *params[] = {v, d, error};

    to_text(v, version);
    to_text(d, done);
    db_rollback_quietly(c);
    return ledger_exec(c,
                       "UPDATE %s.migrations SET state = 'dirty', statements_done = $2::int, error = $3 "
                       "WHERE version = $1::bigint",
                       schema, 3, params, true, err);
}

int db_ledger_complete(struct db_conn *c, const char *schema, int64_t version, int64_t duration_ms,
                       struct dd_error *err)
{
    char v[32], d[32];
    const char *params[] = {v, d};

    to_text(v, version);
    to_text(d, duration_ms);
    return ledger_exec(c,
                       "UPDATE %s.migrations SET state = 'applied', dirty_op = NULL, error = NULL, "
                       "statements_done = statements_total, duration_ms = $2::bigint, applied_at = now() "
                       "WHERE version = $1::bigint",
                       schema, 2, params, true, err);
}

int db_ledger_remove(struct db_conn *c, const char *schema, int64_t version, struct dd_error *err)
{
    char v[32];
    const char *params[] = {v};

    to_text(v, version);
    return ledger_exec(c, "DELETE FROM %s.migrations WHERE version = $1::bigint", schema, 1, params, true, err);
}

int db_ledger_mark_applied(struct db_conn *c, const char *schema, const struct db_ledger_entry *e, struct dd_error *err)
{
    char version[32], total[32];
    const char *params[] = {version, e->name,       e->file,       e->checksum, e->transactional ? "true" : "false",
                            total,   e->applied_by, e->git_commit, e->git_blob, DBDEPLOY_VERSION};

    to_text(version, e->version);
    to_text(total, e->statements_total);
    return ledger_exec(c,
                       "INSERT INTO %s.migrations (version, name, file, checksum, state, transactional, "
                       "statements_done, statements_total, applied_by, git_commit, git_blob, dbdeploy_version) "
                       "VALUES ($1::bigint, $2, $3, $4, 'applied', $5::boolean, $6::int, $6::int, $7, $8, $9, $10) "
                       "ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, file = EXCLUDED.file, "
                       "checksum = EXCLUDED.checksum, state = 'applied', dirty_op = NULL, error = NULL, "
                       "statements_done = EXCLUDED.statements_total, statements_total = EXCLUDED.statements_total, "
                       "applied_by = EXCLUDED.applied_by, applied_at = now(), git_commit = EXCLUDED.git_commit, "
                       "git_blob = EXCLUDED.git_blob, dbdeploy_version = EXCLUDED.dbdeploy_version",
                       schema, 10, params, false, err);
}

/* --- one transaction for a whole deployment --- */

/* The session's timeouts after a transaction ended are unknown (a rollback undoes SETs). */
static void forget_timeouts(struct db_conn *c)
{
    c->cur_lock_timeout_ms = UINT64_MAX;
    c->cur_statement_timeout_ms = UINT64_MAX;
}

int db_tx_begin(struct db_conn *c, struct dd_error *err)
{
    PGresult *res = db_exec(c, "BEGIN", 0, NULL, "cannot begin the deployment's transaction", err);
    int rc = res ? 0 : -1;

    PQclear(res);
    return rc;
}

int db_tx_apply_step(struct db_conn *c, const char *schema, const struct db_ledger_entry *e, const char *text,
                     int64_t *duration_ms, struct db_sql_error *sqlerr, struct dd_error *err)
{
    char *qs = db_quote_ident(c, schema);
    char version[32], total[32], ms[32];
    /* the duration is the file's own: measured around it, since now() is the whole deployment's start */
    char *insert = dd_xasprintf("INSERT INTO %s.migrations (version, name, file, checksum, state, transactional, "
                                "statements_done, statements_total, applied_by, duration_ms, git_commit, git_blob, "
                                "dbdeploy_version, changes) VALUES ($1::bigint, $2, $3, $4, 'applied', true, $5::int, "
                                "$5::int, $6, $10::bigint, $7, $8, $9, $11)",
                                qs);
    const char *params[] = {version,       e->name,     e->file,          e->checksum, total,     e->applied_by,
                            e->git_commit, e->git_blob, DBDEPLOY_VERSION, ms,          e->changes};
    /* what one psql session per file would drop between files: a role the file took (dropped
     * before the ledger row, which the deploy user writes), and SETs */
    const char *rparams[] = {e->name,       e->file,     e->checksum,     e->applied_by,
                             e->git_commit, e->git_blob, DBDEPLOY_VERSION};
    char *upsert = e->repeatable ? repeatable_upsert(qs, "$8::bigint") : NULL;
    const char *rparams_ms[] = {rparams[0], rparams[1], rparams[2], rparams[3], rparams[4], rparams[5], rparams[6], ms};
    struct pq_query q[] = {DB_IDENTITY_RESET_QUERIES, {insert, 11, params, NULL}, {"RESET ALL", 0, NULL, NULL}};
    uint64_t start = dd_now_ms();
    int failed_at, rc = -1;

    if (upsert)
        q[DB_IDENTITY_RESET_N] = (struct pq_query){upsert, 8, rparams_ms, NULL};

    to_text(version, e->version);
    to_text(total, e->statements_total);
    if ((e->body ? e->body->run(e->body->arg, c, sqlerr, err) : run_script(c, "", text, NULL, sqlerr, err)) < 0)
        goto cleanup;
    if (!db_in_transaction(c)) {
        dd_error_set(err, DD_EINPUT, "%s ended the deployment's transaction itself", e->file);
        dd_error_hint(err, "Remove its COMMIT, or set [apply] transaction = per-migration.");
        goto cleanup;
    }
    *duration_ms = (int64_t)(dd_now_ms() - start);
    to_text(ms, *duration_ms);
    if (run_pipeline(c, q, DB_IDENTITY_RESET_N + 2, &failed_at, NULL, err) < 0)
        goto cleanup;
    rc = 0;
cleanup:
    free(upsert);
    free(insert);
    free(qs);
    return rc;
}

int db_tx_commit(struct db_conn *c, struct db_sql_error *sqlerr, struct dd_error *err)
{
    char *xid = NULL;
    const struct pq_query q[] = {{OWN_XID_QUERY, 0, NULL, &xid}, {"COMMIT", 0, NULL, NULL}};
    int failed_at, rc = run_pipeline(c, q, 2, &failed_at, sqlerr, err);

    forget_timeouts(c);
    if (rc < 0) {
        free(xid);
        db_rollback_quietly(c);
        return -1;
    }
    own_xid_keep(c, xid);
    return 0;
}

void db_tx_abort(struct db_conn *c)
{
    db_rollback_quietly(c);
    forget_timeouts(c);
}
