#include "db/db.h"

#include <stdio.h>

#include <libpq-fe.h>

#include "config/config.h"
#include "db/internal.h"
#include "util/buf.h"
#include "util/out.h"

void db_sql_error_release(struct db_sql_error *e)
{
    free(e->message);
    free(e->detail);
    free(e->hint);
    free(e->context);
    e->message = e->detail = e->hint = e->context = NULL;
    e->sqlstate[0] = '\0';
    e->position = 0;
    e->statement = -1;
}

static char *dup_field(const PGresult *res, int field)
{
    const char *v = PQresultErrorField(res, field);

    return v && *v ? dd_xstrdup(v) : NULL;
}

void db_sql_error_from_result(struct db_sql_error *e, const PGresult *res, const PGconn *pg)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *pos = res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;

    db_sql_error_release(e);
    snprintf(e->sqlstate, sizeof(e->sqlstate), "%s", state ? state : "");
    e->message = res ? dup_field(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!e->message) {
        /* connection-level failure: no structured fields */
        struct dd_buf b = DD_BUF_INIT;
        dd_buf_adds(&b, PQerrorMessage(pg));
        dd_buf_rtrim(&b);
        e->message = dd_buf_detach(&b, NULL);
    }
    e->detail = res ? dup_field(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    e->hint = res ? dup_field(res, PG_DIAG_MESSAGE_HINT) : NULL;
    e->context = res ? dup_field(res, PG_DIAG_CONTEXT) : NULL;
    e->position = pos ? strtol(pos, NULL, 10) : 0;
}

int db_error_from_result(struct dd_error *err, const PGresult *res, const PGconn *pg, const char *what)
{
    struct db_sql_error e = DB_SQL_ERROR_INIT;

    db_sql_error_from_result(&e, res, pg);
    if (e.sqlstate[0])
        dd_error_set(err, DD_EDB, "%s: %s (SQLSTATE %s)", what, e.message, e.sqlstate);
    else
        dd_error_set(err, DD_EDB, "%s: %s", what, e.message);
    if (e.detail)
        dd_error_detail(err, "detail: %s", e.detail);
    if (e.hint)
        dd_error_hint(err, "%s", e.hint);
    db_sql_error_release(&e);
    return -1;
}

char *db_value_dup(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : dd_xstrdup(PQgetvalue(res, row, col));
}

int db_result_check(struct db_conn *c, const PGresult *res, const char *what, struct dd_error *err)
{
    ExecStatusType st = PQresultStatus(res);

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        return db_error_from_result(err, res, c->pg, what);
    return 0;
}

static PGresult *exec_any(struct db_conn *c, const char *sql, int nparams, const char *const *params)
{
    return nparams ? PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0) : PQexec(c->pg, sql);
}

PGresult *db_exec(struct db_conn *c, const char *sql, int nparams, const char *const *params, const char *what,
                  struct dd_error *err)
{
    PGresult *res = exec_any(c, sql, nparams, params);

    if (db_result_check(c, res, what, err) == 0)
        return res;
    PQclear(res);
    return NULL;
}

PGresult *db_exec_one_row(struct db_conn *c, const char *sql, int nparams, const char *const *params, const char *what,
                          struct dd_error *err)
{
    PGresult *res = exec_any(c, sql, nparams, params);

    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        return res;
    db_error_from_result(err, res, c->pg, what);
    PQclear(res);
    return NULL;
}

PGresult *db_exec_maybe_missing(struct db_conn *c, bool *missing, const char *sql, int nparams,
                                const char *const *params, const char *what, struct dd_error *err)
{
    PGresult *res = exec_any(c, sql, nparams, params);
    const char *state;

    *missing = false;
    if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK)
        return res;
    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state && (strcmp(state, "42P01") == 0 || strcmp(state, "3F000") == 0))
        *missing = true;
    else
        db_error_from_result(err, res, c->pg, what);
    PQclear(res);
    return NULL;
}

/* Server messages during migrations: warnings are shown, notices only with -v. */
static void on_notice(void *arg, const PGresult *res)
{
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

    (void)arg;
    if (!msg)
        return;
    if (sev && strcmp(sev, "WARNING") == 0)
        log_warn("server: %s", msg);
    else
        log_detail("server %s: %s", sev ? sev : "notice", msg);
}

/*
 * The configured timeouts go into the startup packet's options, so they are the session's
 * defaults: the RESET ALL we send after each migration (undoing any SET it made, as a fresh
 * psql session per file would) brings them back without another round trip.
 */
static char *startup_options(const char *url, uint64_t lock_timeout_ms, uint64_t statement_timeout_ms,
                             bool check_client)
{
    PQconninfoOption *opts = PQconninfoParse(url, NULL);
    struct dd_buf b = DD_BUF_INIT;

    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "options") == 0 && o->val && *o->val)
            dd_buf_addf(&b, "%s ", o->val);
    dd_buf_addf(&b, "-c lock_timeout=%llu -c statement_timeout=%llu", (unsigned long long)lock_timeout_ms,
                (unsigned long long)statement_timeout_ms);
    /*
     * If dbdeploy dies mid-migration (SIGKILL, lost runner), the server notices within a second
     * and rolls the migration back instead of finishing it for nobody (PostgreSQL 14+).
     */
    if (check_client)
        dd_buf_adds(&b, " -c client_connection_check_interval=1000");
    PQconninfoFree(opts);
    return dd_buf_detach(&b, NULL);
}

static int open_session(struct db_conn *c, struct dd_error *err)
{
    char *options = startup_options(c->url, c->default_lock_timeout_ms, c->default_statement_timeout_ms, true);
    /* a second dbname overrides the one inside the expanded url */
    const char *keys[] = {"dbname",  "application_name", "client_encoding",
                          "options", "connect_timeout",  c->dbname_override ? "dbname" : NULL,
                          NULL};
    const char *vals[] = {c->url, "dbdeploy", "UTF8", options, "15", c->dbname_override, NULL};
    int rc = -1;

    c->pg = PQconnectdbParams(keys, vals, 1);
    if (c->pg && PQstatus(c->pg) != CONNECTION_OK &&
        strstr(PQerrorMessage(c->pg), "client_connection_check_interval")) {
        /* a server older than 14 does not know the setting; connect without it */
        PQfinish(c->pg);
        free(options);
        options = startup_options(c->url, c->default_lock_timeout_ms, c->default_statement_timeout_ms, false);
        vals[3] = options;
        c->pg = PQconnectdbParams(keys, vals, 1);
    }
    if (!c->pg) {
        dd_error_set(err, DD_EDB, "cannot connect to %s: out of memory", c->url_masked);
        goto cleanup;
    }
    if (PQstatus(c->pg) != CONNECTION_OK) {
        struct dd_buf msg = DD_BUF_INIT;
        dd_buf_adds(&msg, PQerrorMessage(c->pg));
        dd_buf_rtrim(&msg);
        dd_error_set(err, DD_EDB, "cannot connect to %s: %s", c->url_masked, msg.buf);
        dd_error_hint(err, "Check [database] url (from %s) and that the server is running.", c->url_origin);
        dd_buf_release(&msg);
        goto cleanup;
    }
    PQsetNoticeReceiver(c->pg, on_notice, NULL);
    c->server_version = PQserverVersion(c->pg);
    free(c->dbname);
    c->dbname = dd_xstrdup(PQdb(c->pg));
    /* the per-database lock died with the old session; lock_conn's lock did not */
    c->db_lock_held = false;
    c->cur_lock_timeout_ms = c->default_lock_timeout_ms;
    c->cur_statement_timeout_ms = c->default_statement_timeout_ms;
    rc = 0;
cleanup:
    free(options);
    return rc;
}

int db_connect(struct db_conn **out, const struct dd_config *cfg, struct dd_error *err)
{
    struct db_conn *c = dd_xcalloc(1, sizeof(*c));

    *out = NULL;
    c->url = dd_xstrdup(cfg->db_url);
    c->url_masked = dd_xstrdup(cfg->db_url_masked);
    c->url_origin = dd_xstrdup(cfg->db_url_origin ? cfg->db_url_origin : "the configuration");
    c->default_lock_timeout_ms = cfg->lock_timeout_ms;
    c->default_statement_timeout_ms = cfg->statement_timeout_ms;
    if (open_session(c, err) < 0) {
        db_free(c);
        return -1;
    }
    /* PQserverVersion gives 150018 for 15.18 (10 and later: major * 10000 + minor) */
    log_detail("connected to %s (PostgreSQL %d.%d)", c->url_masked, c->server_version / 10000,
               c->server_version % 10000);
    *out = c;
    return 0;
}

int db_connect_database(struct db_conn **out, const struct db_conn *like, const char *dbname, struct dd_error *err)
{
    struct db_conn *c = dd_xcalloc(1, sizeof(*c));

    *out = NULL;
    c->url = dd_xstrdup(like->url);
    c->url_masked = dd_xasprintf("%s (database %s)", like->url_masked, dbname);
    c->url_origin = dd_xstrdup(like->url_origin);
    c->default_lock_timeout_ms = like->default_lock_timeout_ms;
    c->default_statement_timeout_ms = like->default_statement_timeout_ms;
    c->dbname_override = dd_xstrdup(dbname);
    if (open_session(c, err) < 0) {
        db_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

bool db_connected(const struct db_conn *c)
{
    return c->pg && PQstatus(c->pg) == CONNECTION_OK;
}

void db_disconnect(struct db_conn *c)
{
    if (c->pg)
        PQfinish(c->pg);
    c->pg = NULL;
    free(c->prefetched_schema); /* its query went with the session */
    c->prefetched_schema = NULL;
    c->db_lock_held = false;
}

bool db_alive(struct db_conn *c)
{
    PGresult *res;
    bool ok;

    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK)
        return false;
    /* a failed transaction would refuse the probe; it is the caller's to roll back, not a lost session */
    if (PQtransactionStatus(c->pg) == PQTRANS_INERROR)
        return true;
    /* a terminated session only shows when we next talk to it */
    res = PQexec(c->pg, "SELECT 1");
    ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    return ok;
}

int db_reconnect(struct db_conn *c, struct dd_error *err)
{
    if (c->pg)
        PQfinish(c->pg);
    c->pg = NULL;
    free(c->prefetched_schema); /* its query went with the session */
    c->prefetched_schema = NULL;
    return open_session(c, err);
}

void db_free(struct db_conn *c)
{
    if (!c)
        return;
    if (c->pg)
        PQfinish(c->pg);
    db_free(c->lock_conn);
    free(c->dbname);
    dd_free_secret(c->url);
    free(c->url_masked);
    free(c->url_origin);
    free(c->own_xids);
    free(c->dbname_override);
    free(c->prefetched_schema);
    free(c);
}

int db_server_version(const struct db_conn *c)
{
    return c->server_version;
}

const char *db_name(const struct db_conn *c)
{
    return c->pg ? PQdb(c->pg) : c->dbname;
}

const char *db_user(const struct db_conn *c)
{
    return PQuser(c->pg);
}

/* Quote a conninfo value: 'value' with \ and ' escaped. */
static void add_conninfo_value(struct dd_buf *b, const char *v)
{
    dd_buf_addch(b, '\'');
    for (; *v; v++) {
        if (*v == '\'' || *v == '\\')
            dd_buf_addch(b, '\\');
        dd_buf_addch(b, *v);
    }
    dd_buf_addch(b, '\'');
}

int db_child_conninfo(const struct db_conn *c, char **out_conninfo, char **out_password, struct dd_error *err)
{
    PQconninfoOption *opts = PQconninfo(c->pg);
    struct dd_buf b = DD_BUF_INIT;

    *out_conninfo = NULL;
    *out_password = NULL;
    if (!opts)
        return dd_error_set(err, DD_EDB, "cannot read the connection settings of %s", c->url_masked);
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || !*o->val)
            continue;
        if (strcmp(o->keyword, "password") == 0) {
            *out_password = dd_xstrdup(o->val);
            continue;
        }
        /* our own session settings are not the child's business */
        if (strcmp(o->keyword, "options") == 0 || strcmp(o->keyword, "application_name") == 0 ||
            strcmp(o->keyword, "client_encoding") == 0 || strcmp(o->keyword, "passfile") == 0 ||
            strcmp(o->keyword, "service") == 0) /* resolved already; backup/ hands these over as a service */
            continue;
        dd_buf_addf(&b, "%s%s=", b.len ? " " : "", o->keyword);
        add_conninfo_value(&b, o->val);
    }
    PQconninfoFree(opts);
    *out_conninfo = dd_buf_detach(&b, NULL);
    return 0;
}

int db_query_value(struct db_conn *c, char **out_value, const char *sql, int nparams, const char *const *params,
                   struct dd_error *err)
{
    PGresult *res = PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0);

    if (out_value)
        *out_value = NULL;
    if (db_result_check(c, res, "query failed", err) < 0) {
        PQclear(res);
        return -1;
    }
    if (out_value && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
        *out_value = dd_xstrdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

int db_set_timeouts(struct db_conn *c, uint64_t lock_timeout_ms, uint64_t statement_timeout_ms, struct dd_error *err)
{
    char lt[32], st[32];
    const char *params[2] = {lt, st};
    int rc;

    if (lock_timeout_ms == c->cur_lock_timeout_ms && statement_timeout_ms == c->cur_statement_timeout_ms)
        return 0;
    snprintf(lt, sizeof(lt), "%llu", (unsigned long long)lock_timeout_ms);
    snprintf(st, sizeof(st), "%llu", (unsigned long long)statement_timeout_ms);
    rc = db_query_value(c, NULL,
                        "SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)", 2,
                        params, err);
    if (rc == 0) {
        c->cur_lock_timeout_ms = lock_timeout_ms;
        c->cur_statement_timeout_ms = statement_timeout_ms;
    }
    return rc;
}
