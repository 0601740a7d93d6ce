#ifndef DBDEPLOY_DB_DB_H
#define DBDEPLOY_DB_DB_H

/*
 * libpq lives only in this folder. A struct db_conn is one session; every value travels as a
 * query parameter (PQexecParams), identifiers (the ledger schema) through PQescapeIdentifier.
 * Migration files are the only SQL run verbatim.
 *
 * Server errors become a struct db_sql_error (SQLSTATE, message, detail, hint, position) that
 * callers turn into file:line:column messages; connection and protocol failures are DD_EDB.
 */
#include "util/error.h"
#include "util/strv.h"

struct dd_config;
struct db_conn;

struct db_sql_error {
    char sqlstate[6];
    char *message;
    char *detail;
    char *hint;
    char *context;
    long position;  /* 1-based character position in the text sent, 0 when the server gave none */
    long statement; /* 0-based index of the failing statement in a multi-statement text, -1 unknown */
};
#define DB_SQL_ERROR_INIT                                                                                              \
    {                                                                                                                  \
        "", NULL, NULL, NULL, NULL, 0, -1                                                                              \
    }
void db_sql_error_release(struct db_sql_error *e);

/* Connect with cfg->db_url (application_name=dbdeploy, client_encoding=UTF8). */
int db_connect(struct db_conn **out, const struct dd_config *cfg, struct dd_error *err);
void db_free(struct db_conn *c);
/* A session with like's settings (url, timeouts) on another database of the same server. */
int db_connect_database(struct db_conn **out, const struct db_conn *like, const char *dbname, struct dd_error *err);
/* Server version as an integer (150018), the database and the user names (borrowed). */
int db_server_version(const struct db_conn *c);
const char *db_name(const struct db_conn *c);
const char *db_user(const struct db_conn *c);
/* Whether the session is still usable (the server may have closed it). */
bool db_connected(const struct db_conn *c);
/* Whether the server still answers (one round trip: a terminated session shows only then). */
bool db_alive(struct db_conn *c);
/* Close the session (a restore does, rather than terminate it); db_reconnect opens it again. */
void db_disconnect(struct db_conn *c);
/* Close and reopen the session (after the server or a restore terminated it). */
int db_reconnect(struct db_conn *c, struct dd_error *err);
/*
 * --wait: ping cfg->db_url (PQping, which sends no credentials) until a server accepts
 * connections, for at most wait_ms, printing one progress line when it is not up at once. A
 * server that is up returns 0 at once, whatever the password (the connection that follows
 * fails on it then). DD_EBLOCKED when the time ran out (nothing was changed), DD_EINTERRUPTED
 * on SIGINT/SIGTERM.
 */
int db_wait_ready(const struct dd_config *cfg, uint64_t wait_ms, struct dd_error *err);

/*
 * How a child process (pg_dump, pg_restore) reaches the same database: a conninfo string with
 * every connection setting except the password, and the password separately (NULL when none)
 * so the caller can put it in a 0600 password file instead of argv or the environment. The
 * conninfo still holds secrets such as sslpassword: hand it over in a file (backup/ writes a
 * pg_service.conf), never on argv.
 * Both are owned by the caller; wipe the password (dd_free_secret).
 */
int db_child_conninfo(const struct db_conn *c, char **out_conninfo, char **out_password, struct dd_error *err);

/* Run one statement with text parameters; the first column of the first row, if any, is
 * copied to *out_value (may be NULL). */
int db_query_value(struct db_conn *c, char **out_value, const char *sql, int nparams, const char *const *params,
                   struct dd_error *err);

/*
 * Session settings for the migrations that follow (milliseconds; 0 = no limit). Cached: a call
 * that changes nothing costs no round trip.
 */
int db_set_timeouts(struct db_conn *c, uint64_t lock_timeout_ms, uint64_t statement_timeout_ms, struct dd_error *err);

/* Another tool's record of applied migrations (for `dbdeploy adopt`). */
enum db_foreign_tool { DB_FOREIGN_GOLANG_MIGRATE, DB_FOREIGN_DBMATE, DB_FOREIGN_FLYWAY, DB_FOREIGN_SQITCH };

/* One row of Flyway's history, as far as adoption cares. */
enum db_flyway_op {
    DB_FLYWAY_APPLIED, /* a versioned migration ran (SQL, JDBC, ...) */
    DB_FLYWAY_UNDONE,  /* an undo migration ran, or a repair deleted the version (DELETE) */
    DB_FLYWAY_BASELINE /* everything up to this version counts as applied */
};

struct db_foreign_versions {
    int64_t *v; /* golang-migrate: its one current version (none when empty); dbmate: every applied
                   version; Flyway: the version of each versioned row, in installed_rank order */
    size_t n;
    bool dirty;            /* golang-migrate's dirty flag; Flyway: a row with success = false */
    enum db_flyway_op *op; /* Flyway only: what each row of v did (NULL for the other tools) */
    int64_t dirty_version; /* Flyway: the version of the first failed row */
};

/*
 * golang-migrate: SELECT version, dirty FROM table (bigint, boolean); dbmate: SELECT version
 * FROM table (varchar); Flyway: flyway_schema_history's versioned rows (repeatable and schema
 * rows, whose version is NULL, are skipped). table may be schema-qualified. A missing table is
 * DD_EINPUT; so is a version that is not a whole number.
 */
int db_foreign_versions_read(struct db_foreign_versions *out, struct db_conn *c, enum db_foreign_tool tool,
                             const char *table, struct dd_error *err);
void db_foreign_versions_release(struct db_foreign_versions *f);

/* Another tool's ledger found in a database (db_foreign_find). */
struct db_foreign_ledger {
    enum db_foreign_tool tool;
    char *schema; /* where its table lives ("public"); for Sqitch, its registry schema */
    char *table;  /* "schema_migrations", "flyway_schema_history"; for Sqitch, "changes" */
};

/*
 * Look for another migration tool's ledger in any schema except skip_schema (dbdeploy's own):
 * golang-migrate's schema_migrations (version bigint, dirty boolean), dbmate's schema_migrations
 * (version varchar), Flyway's flyway_schema_history, Sqitch's "sqitch" registry schema. Returns
 * 1 and fills *out for the first found (in schema order), 0 when there is none, -1 on error.
 */
int db_foreign_find(struct db_foreign_ledger *out, struct db_conn *c, const char *skip_schema, struct dd_error *err);
void db_foreign_ledger_release(struct db_foreign_ledger *f);
const char *db_foreign_tool_name(enum db_foreign_tool tool);

/*
 * The deployment lock (db/lock.c says why it is two locks): a session-level advisory lock
 * (DB_LOCK_CLASS, hash of the database name) on a second session connected to a maintenance
 * database, which survives a restore's switch of the target database, and the single-key lock
 * DB_LOCK_KEY on the target's own session, for other tools. Both are polled with
 * pg_try_advisory_lock outside any transaction (never waiting inside the server, so no deadlock
 * with CREATE INDEX CONCURRENTLY; the server frees them when we die). After wait_ms it fails
 * with DD_EBLOCKED naming the holder (pid, application, client, since).
 *
 * db_lock_acquire may be called again while the lock is held: it first checks both sessions,
 * reconnects a lost one and retakes what was lost with it, so after it returns 0 the session is
 * usable and the lock held. wait_ms == DB_LOCK_WAIT_FOREVER (0, as "lock-wait = 0" in the
 * config) waits without limit (Ctrl-C still interrupts it).
 */
#define DB_LOCK_KEY          INT64_C(0x64626465706c6f79) /* "dbdeploy" in ASCII = 7233454338351067001 */
#define DB_LOCK_CLASS        INT32_C(0x64626470)         /* "dbdp": first key of the maintenance-database lock */
#define DB_LOCK_WAIT_FOREVER 0
int db_lock_acquire(struct db_conn *c, uint64_t wait_ms, struct dd_error *err);
int db_lock_release(struct db_conn *c, struct dd_error *err);
bool db_lock_held(const struct db_conn *c);
/* One attempt at the maintenance-database lock of `dbname` on an admin session (db/admin.h). */
int db_lock_try_named(struct db_conn *admin, const char *dbname, bool *got, struct dd_error *err);

/* Every table's row estimate and size, for lint: "orders", or "schema.orders" outside public. */
struct db_table_size {
    char *name;
    double rows;   /* planner's estimate (reltuples), or the live-tuple count before the first ANALYZE */
    int64_t bytes; /* pg_total_relation_size */
};
struct db_table_sizes {
    struct db_table_size *v;
    size_t n;
};
#define DB_TABLE_SIZES_INIT                                                                                            \
    {                                                                                                                  \
        NULL, 0                                                                                                        \
    }
int db_table_sizes_read(struct db_table_sizes *out, struct db_conn *c, struct dd_error *err);
void db_table_sizes_release(struct db_table_sizes *s);

/*
 * Drift detection (db/catalog.c). The schema as sorted "<kind> <name>\t<definition>" lines from
 * the catalog, without the ledger's schema, system schemas and extension members. With lines
 * NULL only *fingerprint (the md5 of the lines joined by newlines) is computed, on the server;
 * otherwise the lines are appended to *lines and *fingerprint (when not NULL) is the same md5.
 */
int db_schema_catalog(struct db_conn *c, const char *ledger_schema, char **fingerprint, struct dd_strv *lines,
                      struct dd_error *err);
/* The schema recorded by the last dbdeploy run (NULLs when none was recorded yet); catalog may be NULL. */
int db_schema_state_read(struct db_conn *c, const char *ledger_schema, char **fingerprint, char **catalog,
                         struct dd_error *err);
int db_schema_state_write(struct db_conn *c, const char *ledger_schema, const char *fingerprint, const char *catalog,
                          struct dd_error *err);

#endif
