#ifndef DBDEPLOY_ENGINE_EXECUTE_H
#define DBDEPLOY_ENGINE_EXECUTE_H

/*
 * The sequence every command that writes the ledger follows, in one place:
 *
 *   1. check and plan from what the caller read, without the lock, so bad input never queues
 *      behind a running deployment;
 *   2. take the deployment lock ([database] lock-wait) and create the ledger if needed;
 *   3. re-read the ledger and decide again: another run may have finished while we waited;
 *   4. run the plan.
 *
 * `dbdeploy apply` and `rollback` call engine_execute; `adopt`, `mark` and the pipeline's
 * preflight and lock stages use the steps. The caller releases the lock (cli_ctx_release,
 * deploy_run), whatever happened.
 */
#include "engine/engine.h"

/* What the sequence works on; every member is borrowed from the caller. */
struct engine_target {
    struct db_conn *db;
    struct migration_set *set; /* the files (unread ones are read on refresh) */
    struct db_ledger *ledger;  /* re-read in place */
    struct engine_status *st;  /* rebuilt in place, from set and ledger */
    const struct engine_opts *opts;
    uint64_t lock_wait_ms;
};

enum engine_goal_kind { ENGINE_GOAL_APPLY, ENGINE_GOAL_ROLLBACK };

/* What to plan, the same way before and under the lock. */
struct engine_goal {
    enum engine_goal_kind kind;
    int64_t to_version;      /* apply: up to and including (-1 all); rollback: revert above (-1: use steps) */
    uint32_t steps;          /* rollback: the newest N */
    bool allow_missing_down; /* rollback: unrecord migrations without a down file */
};

/* Step 1 (no I/O): refuse unsafe states (engine_check) and plan the goal from st. */
int engine_decide(struct engine_plan *out, const struct engine_status *st, const struct engine_opts *o,
                  const struct engine_goal *g, struct dd_error *err);
/* Re-read the ledger and rebuild the status. */
int engine_refresh(struct engine_target *t, struct dd_error *err);
/*
 * Steps 2 and 3 without deciding: take the lock, create the ledger when create_ledger (not for
 * rollback, which only reverts what a ledger records), and re-read it.
 */
int engine_lock(struct engine_target *t, bool create_ledger, struct dd_error *err);
/* engine_refresh (or, with lock, engine_lock) followed by engine_decide; *out is replaced. */
int engine_replan(struct engine_plan *out, struct engine_target *t, const struct engine_goal *g, bool lock,
                  struct dd_error *err);

/*
 * The whole sequence. *plan receives what was (or, with dry_run, would be) run; nothing to do
 * or dry_run stop after step 1 without taking the lock. On a failed step the error says how
 * many migrations before it stay committed (res lists them).
 */
int engine_execute(struct engine_result *res, struct engine_plan *plan, struct engine_target *t,
                   const struct engine_goal *g, bool dry_run, const char *git_commit, struct dd_error *err);

#endif
