#ifndef DBDEPLOY_FLEET_FLEET_H
#define DBDEPLOY_FLEET_FLEET_H

/*
 * Fleets: one environment, many target databases ([targets] in pipeline/<env>.conf).
 *
 *   targets.c  the list of targets: [targets] url (repeated), file or query (run on the
 *              environment's own [database] url as the catalog); a target is a name and a url
 *   waves.c    the rollout plan: [rollout] waves turned into counts for N targets, the halt rule
 *              and which exit status is the worst
 *   run.c      the runner: one child dbdeploy per target (`dbdeploy CMD ENV --target NAME`,
 *              posix_spawn through util/proc with an argv array), N at once, wave by wave
 *   pick.c     reading a few members of a child's --json document
 *   report.c   the summary, one line (or one JSON object) per target
 *
 * A child is a whole dbdeploy run on one target, so each target has its own lock, backup,
 * apply, health, recovery and ledger record, exactly as a single-database environment, and the
 * single-target deploy is untouched. Nothing here prints; reports are built into buffers.
 */
#include "config/config.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strv.h"

struct fleet_target {
    char *name;       /* [A-Za-z0-9][A-Za-z0-9_-]*: used in backup and changelog paths */
    char *url;        /* secret-bearing: only for the child's selection */
    char *url_masked; /* for display */
};

struct fleet_targets {
    struct fleet_target *v;
    size_t n;
};

#define FLEET_TARGETS_INIT                                                                                             \
    {                                                                                                                  \
        NULL, 0                                                                                                        \
    }

/*
 * Resolve the environment's targets, in the order given (file lines, url entries, query rows),
 * with [targets] url first, then file, then query when several are set. A target without a
 * name is named after its database. Errors (DD_ECONFIG, naming the file line or key, with a
 * hint): a name that is not a valid target name, a duplicate name, an empty url, an unreadable
 * file, a failing query. Credentials in every url are registered for masking.
 */
int fleet_targets_resolve(struct fleet_targets *out, const struct dd_config *cfg, struct dd_error *err);
void fleet_targets_release(struct fleet_targets *t);
/* The target called name, or NULL. */
const struct fleet_target *fleet_targets_find(const struct fleet_targets *t, const char *name);
/*
 * `--target NAME`: resolve the fleet and point cfg at that target (config_select_target).
 * DD_EUSAGE when the environment is not a fleet or has no such target (the hint lists names).
 */
int fleet_select(struct dd_config *cfg, const char *name, struct dd_error *err);

/* ---- waves.c ---------------------------------------------------------------------------- */

#define FLEET_WAVES_MAX (CONFIG_WAVES_MAX + 1)

/*
 * The end (exclusive index) of each wave for n targets, in order: an entry's count is its
 * number, or ceil(n * percent / 100), at least one more than the wave before and at most n;
 * entries that add no target are dropped, and a last wave takes whatever the entries left.
 * Returns the number of waves (0 when n is 0).
 */
size_t fleet_plan_waves(size_t ends[FLEET_WAVES_MAX], const struct config_waves *w, size_t n);
/* Whether `failures` failed targets stop the rollout under halt_failures (0 = never). */
bool fleet_should_halt(size_t failures, uint32_t halt_failures);
/*
 * The worse of two exit statuses: 5 (failed, restore failed) > 1 (failed; changes may remain)
 * > 4 (failed, restored) > 3 (blocked) > 2 (bad input) > 0.
 */
int fleet_worse_status(int a, int b);

/* ---- run.c ------------------------------------------------------------------------------ */

enum fleet_state {
    FLEET_SKIPPED, /* never started: the rollout halted before its wave or its turn */
    FLEET_DONE,    /* the child ran (see exit_status) */
};

/* What one target's child did. */
struct fleet_outcome {
    enum fleet_state state;
    unsigned wave;      /* 1-based wave it belonged to (0: not part of a rollout) */
    int exit_status;    /* the child's exit status (128 + signal when killed) */
    uint64_t ms;        /* its wall time */
    struct dd_buf out;  /* its stdout (a --json document when json was asked) */
    struct dd_buf errs; /* the tail of its stderr */
};

struct fleet_run_opts {
    const char *exe;             /* this dbdeploy (fleet_self_exe) */
    const char *root;            /* -C */
    const char *env;             /* ENV */
    const char *command;         /* "deploy", "plan", "status", "log" */
    const struct dd_strv *extra; /* further arguments for every child, borrowed (may be NULL) */
    bool json;                   /* children run with --json */
    uint32_t parallel;           /* at most this many children at once (0 counts as 1) */
    uint32_t halt_failures;      /* stop starting children after this many failed (0 = never) */
    const size_t *wave_ends;     /* waves (fleet_plan_waves); NULL = one wave of all */
    size_t nwaves;
    const char *commit; /* the commit every child reads (FLEET_COMMIT_ENV); NULL = each its own HEAD */
};

/*
 * The environment variable through which a rollout hands its children the commit it planned
 * (cfg->commit): a child given --target reads its configuration, targets and migrations from
 * that commit instead of HEAD, so every target gets the same commit even if HEAD moves meanwhile.
 */
#define FLEET_COMMIT_ENV "DBDEPLOY_FLEET_COMMIT"

/*
 * Run the command on every target (out: t->n outcomes, caller releases each with
 * fleet_outcome_release), wave by wave: a wave starts once the one before it ended without
 * reaching the halt rule; inside a wave no new child starts once it is reached, and children
 * already running finish. An interrupt (SIGINT/SIGTERM) also stops new starts. Returns the
 * number of waves started; -1 when a child could not be started at all (err set; children
 * already running were waited for).
 */
int fleet_run(struct fleet_outcome *out, const struct fleet_targets *t, const struct fleet_run_opts *o,
              struct dd_error *err);
void fleet_outcome_release(struct fleet_outcome *o);
/* The path of the running executable (caller frees), or NULL with err set. */
char *fleet_self_exe(struct dd_error *err);

/* ---- pick.c ----------------------------------------------------------------------------- */

/*
 * A few members of a child's --json document (a JSON object). fleet_json_member returns where
 * the value of the top-level member key starts inside obj (which points at '{'), or NULL.
 */
const char *fleet_json_member(const char *obj, const char *key);
/* A JSON string value, decoded (caller frees); NULL when v is not a string. */
char *fleet_json_string(const char *v);
/* The element count of a JSON array value; -1 when v is not an array. */
long fleet_json_array_len(const char *v);

/* ---- report.c --------------------------------------------------------------------------- */

/* One target's line of a summary: its result word and counts, read from its outcome. */
struct fleet_line {
    const char *result;    /* "applied", "up-to-date", "restored", ..., "skipped" (borrowed or static) */
    long pending, applied; /* -1 when unknown */
    char *error;           /* the child's error message, NULL when none */
    char *result_owned;
};

void fleet_line_read(struct fleet_line *l, const struct fleet_outcome *o);
void fleet_line_release(struct fleet_line *l);

struct fleet_summary {
    const char *env;
    const char *command; /* "deploy" */
    const struct fleet_targets *targets;
    const struct fleet_outcome *plan;    /* the plan phase (every target), NULL when not run */
    const struct fleet_outcome *rollout; /* the rollout, NULL when it did not start */
    const size_t *wave_ends;
    size_t nwaves;
    size_t waves_started;
    bool dry_run;
};

/*
 * The summary of a fleet deploy: text (one line per target, then a verdict) or a --json
 * document {"command":"deploy","fleet":true,"env","result","exit_status","waves",[...],
 * "targets":[{"name","database","wave","phase","result","exit_status","pending","applied",
 * "duration_ms","error","report"}]}. Returns the exit status (the worst target's).
 */
int fleet_summary_render(struct dd_buf *out, const struct fleet_summary *s, bool json);
/*
 * `status ENV` / `log ENV` over a fleet: each target's own output under a "== NAME (url)"
 * heading, or {"command","env","fleet":true,"targets":[{"name","database","exit_status",
 * "report"}]}. Returns the worst exit status.
 */
int fleet_aggregate_render(struct dd_buf *out, const char *command, const char *env, const struct fleet_targets *t,
                           const struct fleet_outcome *o, bool json);

/* ---- deploy.c ---------------------------------------------------------------------------- */

struct fleet_deploy_opts {
    const char *exe, *root, *env;
    bool dry_run, json;
    const struct dd_strv *extra; /* --to VERSION, --accept-drift REASON: passed to every child */
};

/*
 * `deploy ENV` on a fleet: plan every target (`deploy --dry-run` per target, [rollout] parallel
 * at once); when every plan passed, roll out in waves ([rollout] waves, parallel, halt). The
 * summary goes into out (text or JSON); *exit_status is the worst target's. -1 (err set) only
 * when the fleet could not be listed or run at all.
 */
int fleet_deploy(struct dd_buf *out, int *exit_status, const struct dd_config *cfg, const struct fleet_deploy_opts *o,
                 struct dd_error *err);
/* The error a fleet run that ended with exit status `status` leaves for main() (its code gives that status). */
int fleet_status_error(struct dd_error *err, int status, const char *what, const char *env);

#endif
