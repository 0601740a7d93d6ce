#ifndef DBDEPLOY_DB_INTERNAL_H
#define DBDEPLOY_DB_INTERNAL_H

/* Shared inside db/ only: the session struct and libpq error conversion. */
#include <libpq-fe.h>

#include "db/db.h"

struct db_conn {
    PGconn *pg;
    char *url;        /* secret-bearing, kept for db_reconnect; wiped on free */
    char *url_masked; /* for messages */
    char *url_origin; /* where the url was configured, for hints */
    int server_version;
    char *dbname;              /* of the last session, for db_name() while disconnected */
    bool lock_held;            /* the deployment lock, on lock_conn (see db/lock.c) */
    bool db_lock_held;         /* its per-database twin, on this session */
    struct db_conn *lock_conn; /* session on a maintenance database holding the lock */
    uint64_t default_lock_timeout_ms, default_statement_timeout_ms; /* session defaults (startup options) */
    uint64_t cur_lock_timeout_ms, cur_statement_timeout_ms;         /* what the session has now */
    int64_t *own_xids; /* transaction ids of dbdeploy's own committed writes (foreign-write guard) */
    size_t n_own_xids, own_xids_alloc;
    char *dbname_override;   /* connect to this database instead of the url's (db_scratch_create) */
    char *prefetched_schema; /* db_ledger_prefetch's query is in flight for this schema */
};

/* Remember a transaction id of this session's own writes (text from txid_current()). */
void db_own_xid_add(struct db_conn *c, const char *xid_text);

/* Fill e from a failed result (or from the connection when res carries no fields). */
void db_sql_error_from_result(struct db_sql_error *e, const PGresult *res, const PGconn *pg);
/* Set err (DD_EDB) to "<what>: <message> (SQLSTATE x)" with detail and hint. Returns -1. */
int db_error_from_result(struct dd_error *err, const PGresult *res, const PGconn *pg, const char *what);
/* 0 when res succeeded (rows or a command), else -1 with err set by db_error_from_result(what). */
int db_result_check(struct db_conn *c, const PGresult *res, const char *what, struct dd_error *err);
/*
 * Run sql with nparams text parameters (0: the simple protocol, which also takes several
 * statements) and check it succeeded (db_result_check). Returns the result, which the caller
 * PQclears, or NULL with err set and the failed result cleared.
 */
PGresult *db_exec(struct db_conn *c, const char *sql, int nparams, const char *const *params, const char *what,
                  struct dd_error *err);
/* db_exec for a query that returns exactly one row: any other count is an error too. */
PGresult *db_exec_one_row(struct db_conn *c, const char *sql, int nparams, const char *const *params, const char *what,
                          struct dd_error *err);
/*
 * db_exec for a read of a table that may not exist yet (a ledger not created, another tool's
 * table): when the table or its schema is missing (SQLSTATE 42P01, 3F000) it returns NULL with
 * *missing set and err untouched.
 */
PGresult *db_exec_maybe_missing(struct db_conn *c, bool *missing, const char *sql, int nparams,
                                const char *const *params, const char *what, struct dd_error *err);

/* A copy of the value at row, col of res; NULL for SQL NULL. */
char *db_value_dup(const PGresult *res, int row, int col);

/* A quoted identifier (PQescapeIdentifier), owned by the caller. */
char *db_quote_ident(struct db_conn *c, const char *ident);

#endif
