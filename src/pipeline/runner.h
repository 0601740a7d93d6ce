#ifndef DBDEPLOY_PIPELINE_RUNNER_H
#define DBDEPLOY_PIPELINE_RUNNER_H

/*
 * The stage runner: walks a table of stages, prints one line per stage (outcome, duration,
 * note), and on failure undoes every stage that started, newest first (the failed one
 * included, so an undo copes with partial work), then runs the STAGE_ALWAYS stages so the
 * record of a failure survives it. It checks for SIGINT/SIGTERM between stages; while undoing it
 * blocks interrupts, because a restore that has started must finish.
 *
 * It knows nothing about databases: stages talk through the opaque `ctx` they are given. The
 * ops struct is the seam unit tests use (fake stages, a fake clock).
 */
#include "util/error.h"

enum stage_flags {
    STAGE_READ_ONLY = 1 << 0, /* runs in --dry-run */
    STAGE_ALWAYS = 1 << 1,    /* runs after success and after undo (record) */
};

/* What a stage's run returns besides 0 (ok) and -1 (failed, err set). */
#define STAGE_SKIPPED 1 /* nothing to do here (not configured); the pipeline goes on */
#define STAGE_FINISH  2 /* the deployment is complete early with success ("up to date"); nothing else runs */

struct stage {
    const char *name; /* printed; code in stage_<name>.c ('-' as '_') */
    int (*run)(void *ctx, char **note, struct dd_error *err);
    /* NULL when there is nothing to undo; prints its own line name ("restore") via undo_name */
    int (*undo)(void *ctx, char **note, struct dd_error *err);
    const char *undo_name;
    unsigned flags;
};

enum stage_outcome { STAGE_OUT_NOT_RUN, STAGE_OUT_OK, STAGE_OUT_SKIPPED, STAGE_OUT_DRY, STAGE_OUT_FAILED };
enum undo_outcome { UNDO_NONE, UNDO_OK, UNDO_FAILED };

struct stage_result {
    const char *name;
    enum stage_outcome outcome;
    uint64_t ms;
    char *note; /* owned; what the stage said ("3 migrations", "prod/2026...tar.zst") */
    enum undo_outcome undo;
    uint64_t undo_ms;
    char *undo_note;
};

struct pipeline_ops {
    uint64_t (*now_ms)(void *arg); /* NULL: the monotonic clock */
    void *arg;
    /* called for every printed line (tests capture them); NULL: log_stage */
    void (*line)(void *arg, const char *name, const char *outcome, uint64_t ms, const char *note);
};

struct pipeline_run {
    struct stage_result *results; /* one per stage, in table order */
    size_t n;
    bool finished_early; /* a stage returned STAGE_FINISH */
    bool undo_ran;       /* some undo was attempted */
    bool undo_failed;    /* some undo failed (its error is added as a detail of err) */
};

#define PIPELINE_RUN_INIT                                                                                              \
    {                                                                                                                  \
        NULL, 0, false, false, false                                                                                   \
    }

/*
 * Run the stages. Returns 0 on success (also when finished early), -1 when a stage failed or
 * an interrupt arrived: err holds the first failure, wrapped with "running stage 'x'", and any
 * undo failure as details.
 */
int pipeline_run(struct pipeline_run *out, const struct stage *stages, size_t n, void *ctx, bool dry_run,
                 const struct pipeline_ops *ops, struct dd_error *err);
void pipeline_run_release(struct pipeline_run *r);
const char *stage_outcome_name(enum stage_outcome o);

#endif
