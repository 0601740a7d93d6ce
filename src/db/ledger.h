#ifndef DBDEPLOY_DB_LEDGER_H
#define DBDEPLOY_DB_LEDGER_H

/*
 * The ledger: dbdeploy's own bookkeeping tables inside the target database, in their own schema
 * (default "dbdeploy", so they never clash with another tool's schema_migrations).
 *
 *   <schema>.migrations   one row per applied (or dirty) migration
 *   <schema>.deployments  one row per deployment (pipeline runs)
 *   <schema>.info         key/value: ledger format version
 *   <schema>.repeatables  one row per repeatable migration: the checksum it last ran with
 *
 * Read-only commands never create it: a missing schema loads as an empty ledger with
 * exists == false. db_ledger_ensure creates it idempotently (run it under the deployment lock).
 */
#include "db/db.h"

enum db_ledger_state { DB_LEDGER_APPLIED, DB_LEDGER_DIRTY };

/* One applied (or dirty) migration; its text fields point into the ledger's strings block. */
struct db_ledger_row {
    int64_t version;
    char *name;     /* description part of the file name */
    char *file;     /* path of the up file relative to the project root */
    char *checksum; /* "sha256:<hex>" of the up file's bytes */
    enum db_ledger_state state;
    bool transactional;
    int statements_done;  /* no-transaction files: statements completed */
    int statements_total; /* no-transaction files: statements in the file */
    char *dirty_op;       /* "apply" or "rollback" when dirty, else NULL */
    char *error;          /* dirty: the error that stopped it */
    char *applied_at;     /* ISO 8601 UTC */
    char *applied_by;     /* user@host */
    int64_t duration_ms;
    char *git_commit; /* commit deployed from, NULL when not from git */
    char *git_blob;   /* blob id of the up file, NULL when not from git */
    char *changes;    /* schema changes ("+table orders, -column orders.note"), NULL when none or unknown */
};

/* The last successful run of a repeatable migration. */
struct db_ledger_repeatable {
    char *name;     /* relative to the migrations directory: "repeatable/rls.sql", "R__views.sql" */
    char *file;     /* path relative to the project root */
    char *checksum; /* "sha256:<hex>" of the bytes that ran */
    char *applied_at;
    char *applied_by;
    char *git_commit; /* NULL when not from git */
    char *git_blob;   /* NULL when not from git: the previous content, for recovery */
};

struct db_ledger {
    struct db_ledger_row *rows; /* ordered by version */
    size_t n, alloc;
    char *strings;                    /* the rows' text fields point into this one block */
    bool exists;                      /* false when the ledger schema has not been created yet */
    struct db_ledger_repeatable *rep; /* ordered by name; empty on a ledger from before repeatables */
    size_t nrep;
};

#define DB_LEDGER_INIT                                                                                                 \
    {                                                                                                                  \
        NULL, 0, 0, NULL, false, NULL, 0                                                                               \
    }

int db_ledger_load(struct db_ledger *out, struct db_conn *c, const char *schema, struct dd_error *err);
/*
 * Send db_ledger_load's query without waiting for it, so that the server reads the ledger while
 * the caller reads the repository; the next db_ledger_load on c takes the answer. Nothing else
 * may run on c in between.
 */
int db_ledger_prefetch(struct db_conn *c, const char *schema, struct dd_error *err);
const struct db_ledger_row *db_ledger_find(const struct db_ledger *l, int64_t version);
const struct db_ledger_repeatable *db_ledger_find_repeatable(const struct db_ledger *l, const char *name);
void db_ledger_release(struct db_ledger *l);
int db_ledger_ensure(struct db_conn *c, const char *schema, struct dd_error *err);

/* --- writing: applying and reverting migrations with their ledger rows --- */

struct db_ledger_entry {
    int64_t version;
    const char *name;
    const char *file;
    const char *checksum;
    bool transactional;
    int statements_total;
    const char *applied_by;
    const char *git_commit;     /* NULL when not deployed from a commit */
    const char *git_blob;       /* NULL when not deployed from a commit */
    const struct db_body *body; /* db_apply_tx, db_tx_apply_step: runs the text instead (NULL: sent whole) */
    const char *changes;        /* schema changes to record (NULL: none) */
    /*
     * A repeatable migration (db_apply_tx, db_tx_apply_step): name is its name relative to the
     * migrations directory, and its row in <schema>.repeatables is inserted or replaced instead.
     */
    bool repeatable;
};

/*
 * A migration's text run piece by piece inside its open transaction (the data-loss guard,
 * engine/dataloss.c), instead of as one simple query. run returns -1 with err set; a server
 * error fills *sqlerr with its position relative to the whole text.
 */
struct db_body {
    int (*run)(void *arg, struct db_conn *c, struct db_sql_error *sqlerr, struct dd_error *err);
    void *arg;
};

/*
 * Run `text` and record (or, for revert, delete) the ledger row in one transaction, in two round
 * trips: "BEGIN;<text>" as one simple query, then INSERT/DELETE + COMMIT + RESET ALL pipelined.
 * RESET ALL drops any SET the migration made, as a fresh psql session per file would.
 * A server error in the text (or at COMMIT, e.g. a deferred constraint) rolls everything back,
 * fills *sqlerr (position relative to text) and returns -1 with err set (DD_EDB); any other
 * failure leaves sqlerr->message NULL.
 */
int db_apply_tx(struct db_conn *c, const char *schema, const struct db_ledger_entry *e, const char *text,
                int64_t *duration_ms, struct db_sql_error *sqlerr, struct dd_error *err);
int db_revert_tx(struct db_conn *c, const char *schema, int64_t version, const char *text, int64_t *duration_ms,
                 struct db_sql_error *sqlerr, struct dd_error *err);

/*
 * No-transaction files run one statement at a time. The row is written first as dirty
 * (op "apply": inserted; op "rollback": the applied row is flipped to dirty), progress is
 * recorded between statements while no transaction is open, and the row is completed
 * (apply) or removed (rollback) at the end; a failure leaves it dirty with the error text.
 */
int db_ledger_start(struct db_conn *c, const char *schema, const struct db_ledger_entry *e, const char *op,
                    struct dd_error *err);
int db_ledger_progress(struct db_conn *c, const char *schema, int64_t version, int done, struct dd_error *err);
int db_ledger_fail(struct db_conn *c, const char *schema, int64_t version, int done, const char *error,
                   struct dd_error *err);
int db_ledger_complete(struct db_conn *c, const char *schema, int64_t version, int64_t duration_ms,
                       struct dd_error *err);
/* Delete the row (rollback finished, or mark --pending); also RESET ALL. */
int db_ledger_remove(struct db_conn *c, const char *schema, int64_t version, struct dd_error *err);
/* Insert or overwrite the row as applied (mark --applied). */
int db_ledger_mark_applied(struct db_conn *c, const char *schema, const struct db_ledger_entry *e,
                           struct dd_error *err);

/*
 * One transaction for a whole deployment ([apply] transaction): BEGIN, then each file with its
 * ledger row (and RESET ALL / RESET ROLE / SET SESSION AUTHORIZATION DEFAULT, so files do not see
 * each other's settings), then COMMIT. A failure anywhere leaves the transaction to abort:
 * db_tx_abort rolls it back, so nothing of the deployment remains. db_tx_apply_step fills
 * *sqlerr like db_apply_tx; *duration_ms is the file's own time. db_tx_commit records the
 * transaction id as dbdeploy's own (db_guard.h); a failing COMMIT (deferred constraint) fills
 * *sqlerr and has already rolled back.
 */
int db_tx_begin(struct db_conn *c, struct dd_error *err);
int db_tx_apply_step(struct db_conn *c, const char *schema, const struct db_ledger_entry *e, const char *text,
                     int64_t *duration_ms, struct db_sql_error *sqlerr, struct dd_error *err);
int db_tx_commit(struct db_conn *c, struct db_sql_error *sqlerr, struct dd_error *err);
void db_tx_abort(struct db_conn *c);

/* One migration of a deployment, as it was applied (kept even when a restore rewound it). */
struct db_deployment_migration {
    int64_t version;
    char *name;
    char *file;
    char *checksum;
    int64_t duration_ms;
    char *status;  /* applied, restored, failed */
    char *changes; /* schema changes of an applied migration ("+column orders.note"), NULL when none */
};

/* A lint suppression that silenced a finding in the deployment (deployments.lint). */
struct db_deployment_allow {
    char *rule;
    char *file;
    int64_t line;
    char *reason;
};

/* One row of <schema>.deployments with its migrations. Text is masked by the writer. */
struct db_deployment {
    int64_t id; /* set by insert / load */
    char *env;
    char *git_commit; /* NULL when not deployed from a commit */
    char *deployed_by;
    char *started_at; /* ISO 8601 UTC */
    char *finished_at;
    char *result;      /* applied, failed, restored, restore-failed */
    char *stages_json; /* JSON array of {name, outcome, ms, note} */
    char *archive;     /* backup archive path, NULL when none */
    char *error;       /* first error line, NULL on success */
    char *recovery;    /* how a failure was undone (transaction, down, backup, refused...), NULL when none */
    char *drift;       /* schema drift the deployment accepted: "reason: change; change", NULL when none */
    struct db_deployment_migration *m;
    size_t n;
    char *guard_json; /* the foreign-write guard's mark (db_write_mark_json; insert only), NULL when none */
    char *lint_json;  /* the lint stage's run as a JSON object (insert only), NULL when none */
    struct db_deployment_allow *allow; /* suppressions used (load reads them back from lint_json) */
    size_t nallow;
    char *kind;     /* deploy, apply, rollback, mark, restore, adopt, undo; NULL (read: "deploy") on old rows */
    char *git_user; /* "Name <email>" from git config of who ran it; NULL when unknown */
};

struct db_deployments {
    struct db_deployment *v; /* oldest first */
    size_t n;
};

/* Insert the deployment and its migrations in one transaction; sets d->id. */
int db_deployment_insert(struct db_conn *c, const char *schema, struct db_deployment *d, struct dd_error *err);
/* Every recorded deployment of env, oldest first (empty when there is no ledger). */
int db_deployments_load(struct db_deployments *out, struct db_conn *c, const char *schema, const char *env,
                        struct dd_error *err);
void db_deployments_release(struct db_deployments *l);
/*
 * DD_EBLOCKED when env's latest deployment refused to restore `archive` because other sessions
 * had written since the backup (recovery = refused): restoring it needs --discard-writes. 0
 * otherwise, also when there is no ledger.
 */
int db_deployment_restore_refused(struct db_conn *c, const char *schema, const char *env, const char *archive,
                                  struct dd_error *err);
void db_deployment_release(struct db_deployment *d);

/*
 * Carrying the deployment history across a restore (undo by backup): db_deployments_snapshot
 * copies every row of deployments and deployment_migrations as two JSON arrays (owned by the
 * caller); db_deployments_carry inserts, in one transaction, the rows the restored ledger does
 * not hold (same ids and columns) and moves the id sequence past them.
 */
int db_deployments_snapshot(char **out_deployments, char **out_migrations, struct db_conn *c, const char *schema,
                            struct dd_error *err);
int db_deployments_carry(struct db_conn *c, const char *schema, const char *deployments, const char *migrations,
                         struct dd_error *err);

/* One statement, sent as is (autocommit unless the script opened a transaction). */
int db_exec_statement(struct db_conn *c, const char *sql, size_t len, struct db_sql_error *sqlerr,
                      struct dd_error *err);
/* Like db_exec_statement (any number of statements); *affected: rows the last one reported (-1: none). */
int db_exec_counted(struct db_conn *c, const char *sql, size_t len, int64_t *affected, struct db_sql_error *sqlerr,
                    struct dd_error *err);
/* Is a transaction block open (or failed) on the session? */
bool db_in_transaction(const struct db_conn *c);
/* ROLLBACK if a transaction is open; errors are ignored (used on failure paths). */
void db_rollback_quietly(struct db_conn *c);

#endif
