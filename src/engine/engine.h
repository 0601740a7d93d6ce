#ifndef DBDEPLOY_ENGINE_ENGINE_H
#define DBDEPLOY_ENGINE_ENGINE_H

/*
 * The migration engine: joins the migration files with an environment's ledger, refuses unsafe
 * states, plans, and applies or reverts migrations one transaction at a time. `dbdeploy apply`,
 * `rollback`, `mark`, `status` and the pipeline's apply stage all go through here, so they
 * agree on every rule.
 *
 * Callers hold the deployment lock (db_lock_acquire) around engine_apply/engine_rollback/
 * engine_mark and have created the ledger (db_ledger_ensure). Nothing here prints errors; it
 * reports progress through util/out and returns failures in the error struct.
 */
#include "db/ledger.h"
#include "migrations/migrations.h"
#include "util/json.h"

struct dd_config;

enum engine_state {
    ENGINE_APPLIED,      /* in the ledger, file unchanged */
    ENGINE_PENDING,      /* file present, not in the ledger */
    ENGINE_DIRTY,        /* a no-transaction migration stopped part-way */
    ENGINE_MODIFIED,     /* applied, but the file's checksum changed since */
    ENGINE_RENAMED,      /* applied, same content, different file name */
    ENGINE_MISSING,      /* applied, but no file has that version any more */
    ENGINE_OUT_OF_ORDER, /* pending, with a version below the newest applied one */
};

const char *engine_state_name(enum engine_state s);

struct engine_item {
    int64_t version;
    const struct migration *m;       /* borrowed; NULL when missing */
    const struct db_ledger_row *row; /* borrowed; NULL when pending */
    enum engine_state state;
};

/*
 * A repeatable migration joined with the ledger: it runs again when its checksum differs from
 * the one its last successful run recorded (or it never ran).
 */
struct engine_rep_item {
    const struct migration *m;              /* borrowed, from set->rep */
    const struct db_ledger_repeatable *row; /* borrowed; NULL when it never ran */
    bool changed;                           /* new, or edited since it last ran */
};

/* "new" (never ran here), "changed" (runs again) or "unchanged". */
const char *engine_rep_state(const struct engine_rep_item *it);

struct engine_status {
    struct engine_item *v; /* ordered by version */
    size_t n;
    size_t count[ENGINE_OUT_OF_ORDER + 1];
    int64_t newest_applied;      /* -1 when nothing is applied */
    struct migration_set *set;   /* borrowed: the items' migrations (unread ones are read in it) */
    struct engine_rep_item *rep; /* the repeatable migrations, in the order they run */
    size_t nrep, nrep_changed;
};

#define ENGINE_STATUS_INIT                                                                                             \
    {                                                                                                                  \
        NULL, 0, {0}, -1, NULL, NULL, 0, 0                                                                             \
    }

/* Explains a modified applied file (git history lines added as error details). Optional. */
typedef void (*engine_explain_fn)(void *arg, const struct engine_item *it, struct dd_error *err);

/* engine_explain_fn over git history; arg is the struct repo * (NULL: explains nothing). */
void engine_explain_from_git(void *arg, const struct engine_item *it, struct dd_error *err);

/*
 * Whether a modified item is really another branch's migration with the same version (the
 * ledger's row has another name and was applied from a commit not contained in HEAD); then,
 * with msg, appends "<env> has a different <version> (<name>, applied from <commit>, not on
 * this branch): renumber yours, <file>". Optional, like explain; arg is the explain_arg.
 */
typedef bool (*engine_clash_fn)(void *arg, const struct engine_item *it, const char *env, struct dd_buf *msg);
bool engine_clash_from_git(void *arg, const struct engine_item *it, const char *env, struct dd_buf *msg);

/*
 * Statement-level timing for a rehearsal (rehearse/): with engine_opts.trace set, an up
 * migration's statements are sent one at a time (inside the same transaction, so the outcome is
 * the same) and `statement` is called after each, while its transaction (if any) is still open,
 * so the callback may look at the locks the session holds. `released` says when the transaction
 * holding them ended (commit or rollback; for a no-transaction statement, right after it).
 */
struct db_conn;
struct engine_step;
struct engine_trace {
    void (*statement)(void *arg, struct db_conn *db, const struct engine_step *s, size_t k, uint64_t start_ms,
                      uint64_t end_ms, bool ok);
    void (*released)(void *arg, uint64_t at_ms);
    void *arg;
};

struct engine_opts {
    const char *env;
    const char *schema;       /* ledger schema */
    bool out_of_order;        /* allow pending versions below the newest applied */
    bool strict_transactions; /* refuse files that cannot run in a transaction */
    uint32_t lock_retries;    /* retries of a migration that timed out waiting for a lock */
    uint64_t lock_timeout_ms;
    uint64_t statement_timeout_ms;
    const char *applied_by; /* user@host */
    unsigned transaction;   /* enum config_transaction: one transaction for the whole plan when possible */
    engine_explain_fn explain;
    void *explain_arg;
    unsigned guard_data_loss, guard_row_changes, guard_not_valid, guard_invalid_index; /* enum config_guard */
    engine_clash_fn clash;                                                             /* called with explain_arg */
    bool drift_accepted; /* the run records its schema even though the schema drifted before it (--accept-drift) */
    const struct engine_trace *trace; /* NULL: statements run in batches (rehearse/ sets it) */
};

/* Fill options from the environment's configuration (applied_by and explain left to the caller). */
void engine_opts_from_config(struct engine_opts *o, const struct dd_config *cfg);

/*
 * Join files and ledger. Borrowed pointers stay valid while set and ledger live. Unread
 * migrations (engine_list_migrations) must have their checksums by now (engine_read_migrations).
 */
void engine_status_build(struct engine_status *out, struct migration_set *set, const struct db_ledger *ledger);
void engine_status_release(struct engine_status *st);

/*
 * Loading migrations (engine/load.c): the committed tree of HEAD (uncommitted changes under the
 * directory block with DD_EBLOCKED, listed), or the working tree when the environment has [git]
 * allow-dirty (repo may then be NULL; with a repository, blob ids are still filled in).
 *
 * engine_load_migrations reads every file. engine_list_migrations lists committed files by
 * name and blob id only (working trees are read); engine_read_migrations then reads, after the
 * ledger is loaded, every listed migration the ledger does not vouch for. It vouches for a
 * migration when its row recorded the same blob id for the up file: the migration takes the
 * row's checksum and stays unread until a plan needs its SQL (engine_item_read; the plans and
 * engine_mark call it). With ledger NULL everything is read.
 */
struct repo;
int engine_load_migrations(struct migration_set *out, struct repo *repo, const struct dd_config *cfg,
                           struct dd_error *err);
int engine_list_migrations(struct migration_set *out, struct repo *repo, const struct dd_config *cfg,
                           struct dd_error *err);
int engine_read_migrations(struct migration_set *set, const struct db_ledger *ledger, struct dd_error *err);
/* The migrations of `dir` in any commit, all read. */
int engine_load_migrations_at(struct migration_set *out, struct repo *repo, const char *dir, const char *rev,
                              struct dd_error *err);
/* Read an item's migration if it is still unread (no-op otherwise; the item keeps pointing at it). */
int engine_item_read(const struct engine_status *st, const struct engine_item *it, struct dd_error *err);

/*
 * Refuse (DD_EBLOCKED) when an applied migration was modified, renamed or deleted, when one is
 * dirty, or when a pending migration up to `to_version` (-1 = all) is out of order. All
 * offenders are listed as details.
 */
#define ENGINE_CHECK_APPLIED_ONLY INT64_C(-2) /* to_version for rollback: ignore pending files */
int engine_check(const struct engine_status *st, const struct engine_opts *o, int64_t to_version, struct dd_error *err);

/* One migration to run, with its prepared SQL. */
struct engine_step {
    const struct migration *m;             /* borrowed */
    const struct migration_script *script; /* up or down */
    struct migration_exec exec;
    bool skip_sql; /* rollback of a migration without a down file (allowed explicitly) */
};

/*
 * The versioned steps in v; after them, the repeatable migrations that changed (rep), which
 * always run in a transaction. Code that only deals with versions (gate, down files, the
 * deployment's migration rows) reads v alone.
 */
struct engine_plan {
    struct engine_step *v;
    size_t n;
    bool down;
    struct engine_step *rep;
    size_t nrep;
};

#define ENGINE_PLAN_INIT                                                                                               \
    {                                                                                                                  \
        NULL, 0, false, NULL, 0                                                                                        \
    }

/*
 * The pending migrations up to to_version (-1 = all), in order, each lexed and prepared so that
 * every input error shows before anything runs, then every repeatable migration that changed
 * (one that cannot run in a transaction is DD_EINPUT). to_version must name an existing version.
 */
int engine_plan_apply(struct engine_plan *out, const struct engine_status *st, const struct engine_opts *o,
                      int64_t to_version, struct dd_error *err);
/*
 * Applied migrations to revert, newest first: the last `steps`, or all above to_version when
 * to_version >= 0. A migration without a down file blocks (DD_EBLOCKED) unless allow_missing_down.
 */
int engine_plan_rollback(struct engine_plan *out, const struct engine_status *st, const struct engine_opts *o,
                         uint32_t steps, int64_t to_version, bool allow_missing_down, struct dd_error *err);
void engine_plan_release(struct engine_plan *p);

/* What happened to each step, for reports and --json. */
struct engine_done {
    int64_t version;
    const char *file; /* borrowed from the migration set */
    int64_t duration_ms;
    bool no_transaction;
};

/*
 * failed_index: the failed step, SIZE_MAX when none failed; plan->n + j when it was the
 * repeatable plan->rep[j]. Repeatable migrations that ran are in rep (their version is -1).
 */
struct engine_result {
    struct engine_done *v;
    size_t n;
    size_t failed_index;
    struct engine_done *rep;
    size_t nrep;
};

#define ENGINE_RESULT_INIT                                                                                             \
    {                                                                                                                  \
        NULL, 0, SIZE_MAX, NULL, 0                                                                                     \
    }

/*
 * Whether the plan runs as ONE transaction (every file transactional, [apply] transaction not
 * per-migration, and not a rollback). With per-deploy, a file that cannot run in a transaction
 * is DD_EBLOCKED (returns -1); otherwise returns 1 (one transaction) or 0.
 */
int engine_plan_one_transaction(const struct engine_plan *plan, const struct engine_opts *o, struct dd_error *err);

/*
 * Run the plan; stops at the first failure, which names file:line:col and the server's message.
 * As one transaction (engine_plan_one_transaction), a failure leaves nothing applied (res->n
 * is 0) and a lock timeout retries the whole transaction.
 */
int engine_run(struct engine_result *res, struct db_conn *db, const struct engine_plan *plan,
               const struct engine_opts *o, const char *git_commit, struct dd_error *err);
void engine_result_release(struct engine_result *r);
void engine_result_json(struct dd_json *j, const char *key, const struct engine_result *r);

/* mark VERSION --applied (file must exist) or --pending (row must exist). */
int engine_mark(struct db_conn *db, const struct engine_status *st, const struct engine_opts *o, int64_t version,
                bool applied, const char *git_commit, struct dd_error *err);

/* Parse a VERSION argument ("0003", "3", "20240101120000"); DD_EUSAGE on junk. */
int engine_parse_version(int64_t *out, const char *arg, struct dd_error *err);

/*
 * Drift (engine/drift.c): the live schema against the one the last dbdeploy run recorded.
 * engine_run records the schema it leaves when it started from the recorded one (or none was
 * recorded, or o->drift_accepted), so drift is only ever what happened outside dbdeploy.
 */
struct engine_drift {
    bool recorded;              /* a schema was recorded; false: nothing to compare with yet */
    bool drifted;               /* the live schema differs from it */
    char *recorded_fingerprint; /* md5, NULL when none */
    char *live_fingerprint;
    struct dd_strv changes; /* "column public.accounts.nickname added (text)", "index public.x dropped" */
};
int engine_drift_check(struct engine_drift *out, struct db_conn *db, const char *ledger_schema, struct dd_error *err);
void engine_drift_release(struct engine_drift *d);
/* What differs between two sorted catalog listings (db_schema_catalog lines), object by object. */
void engine_drift_diff(struct dd_strv *changes, const struct dd_strv *recorded, const struct dd_strv *live);
/* Record the live schema as the one dbdeploy left. */
int engine_schema_record(struct db_conn *db, const char *ledger_schema, struct dd_error *err);
/* *out: no schema recorded yet, or the live schema is the recorded one. */
int engine_schema_unchanged(bool *out, struct db_conn *db, const char *ledger_schema, struct dd_error *err);

#endif
