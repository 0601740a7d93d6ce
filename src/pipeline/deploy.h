#ifndef DBDEPLOY_PIPELINE_DEPLOY_H
#define DBDEPLOY_PIPELINE_DEPLOY_H

/*
 * `dbdeploy deploy ENV`: the deployment pipeline and its record.
 *
 *   preflight      config, repository, migrations, applied files unchanged; nothing pending
 *                  ends here with "up to date"
 *   lint           the pending migrations linted with the target's table sizes (lint/lint.h);
 *                  an error-level finding blocks here, before anything changes
 *   gate           [gate] requires: every pending migration already applied on that
 *                  environment, successfully, with the same checksum (and its health, optionally)
 *   health-before  the application must be healthy before anything changes
 *   lock           the deployment lock, then everything re-checked under it
 *   backup         a verified archive ([backup] enabled)
 *   apply          the pending migrations; undo = the recovery ladder ("restore" line,
 *                  pipeline/recover.c): roll back the one transaction, else run the down
 *                  files, else restore the backup, unless other sessions wrote since it
 *   health-after   the application must be healthy afterwards
 *   record         a row in <schema>.deployments and a changelog entry, written after any
 *                  restore so the history of a failure survives it
 *
 * Each stage is one file, stage_<name>.c, and talks to the others only through struct deploy.
 * Stages 1-4 are read-only and are all that --dry-run runs.
 */
#include <time.h>

#include "backup/backup.h"
#include "db/guard.h"
#include "engine/engine.h"
#include "health/health.h"
#include "lint/lint.h"
#include "pipeline/runner.h"

struct dd_config;
struct repo;

enum deploy_result {
    DEPLOY_UP_TO_DATE,
    DEPLOY_PLANNED, /* --dry-run */
    DEPLOY_APPLIED,
    DEPLOY_BLOCKED,        /* refused before any change */
    DEPLOY_FAILED,         /* failed; nothing was changed, or no restore was possible */
    DEPLOY_RESTORED,       /* failed and the database is back to its pre-deploy state */
    DEPLOY_RESTORE_FAILED, /* failed and the restore failed too */
    DEPLOY_NOT_RESTORED,   /* failed; a restore was refused because other sessions wrote since the backup */
};

/* How a failed deployment was undone (the rung of the recovery ladder that was used). */
enum deploy_recovery {
    DEPLOY_RECOVERY_NONE,        /* nothing failed, or nothing was tried */
    DEPLOY_RECOVERY_TRANSACTION, /* the deployment's one transaction was rolled back */
    DEPLOY_RECOVERY_UNCHANGED,   /* nothing had been committed */
    DEPLOY_RECOVERY_DOWN,        /* the down files of the committed migrations ran */
    DEPLOY_RECOVERY_BACKUP,      /* the backup was restored */
    DEPLOY_RECOVERY_REFUSED,     /* the backup restore was refused: foreign writes */
    DEPLOY_RECOVERY_OFF,         /* [restore] strategy = none / on-failure = false */
    DEPLOY_RECOVERY_FAILED,      /* the chosen rung failed */
};

const char *deploy_recovery_name(enum deploy_recovery r);
/* The foreign-write guard's refusal as an error of `code`: what was found, table by table. -1. */
int deploy_foreign_writes_error(const struct db_foreign_writes *f, enum dd_errcode code, struct dd_error *err);

const char *deploy_result_name(enum deploy_result r);

struct deploy {
    /* inputs (borrowed) */
    const struct dd_config *cfg;
    const struct dd_error *err; /* the run's error so far (set by deploy_run), read by record */
    struct repo *repo;          /* NULL only for allow-dirty environments outside git */
    struct db_conn *db;
    bool dry_run;
    bool show_sql;            /* dry run: the report includes the exact SQL each migration sends */
    int64_t to_version;       /* deploy up to this version (-1: everything pending) */
    const char *who;          /* user@host */
    const char *accept_drift; /* --accept-drift REASON: deploy over schema drift, recording it */

    /* filled by the stages */
    uint64_t started_ms, finished_ms; /* wall clock, epoch milliseconds */
    struct migration_set set;
    struct db_ledger ledger; /* the ledger before anything changed (under the lock) */
    struct engine_status st;
    struct engine_opts opts;
    struct engine_plan plan;
    struct engine_result applied;
    bool db_changed; /* apply ran something that may have committed */
    struct health_result health_before, health_after;
    bool health_configured;
    struct backup_result backup; /* path NULL when no backup was taken */
    struct backup_restore_result restore;
    bool restored, restore_failed, restore_unneeded;
    bool one_tx;                   /* apply ran (or would run) as one transaction */
    enum deploy_recovery recovery; /* what undid the failure */
    struct engine_result reverted; /* down files run by the ladder */
    struct db_write_mark mark;     /* taken just before the backup's pg_dump */
    bool have_mark;
    struct db_foreign_writes foreign; /* what the guard found */
    char *gate_env;                   /* the environment the gate checked */
    struct pipeline_run run;
    enum deploy_result result;
    char *error;          /* first line of the failure, masked, for the record */
    char *changelog_path; /* written by record, relative to the root */
    int64_t record_id;
    struct lint_run lint; /* findings and suppressions of the lint stage */
    bool linted;          /* the lint stage ran */
    char *drift_accepted; /* "reason: change; change" when preflight found drift and accept_drift was given */
    bool notified_start;  /* the start notification went out ([notify]), so a result one follows */
    int64_t rehearsal_id; /* the passed rehearsal of this plan the gate found (pipeline/rehearsal.h), 0: none */
    int64_t rehearsal_ms; /* its predicted apply time */
    char *rehearsal_at;   /* when it finished (ISO 8601) */
};

/* [notify]: send the event (enum notify_kind) as the deployment stands now; a failure only warns. */
void deploy_notify(struct deploy *d, int kind);

/* Prepare an empty deployment (every member in its empty state). */
void deploy_init(struct deploy *d);
/* Run the whole pipeline. d->result says what happened; err holds the failure (recoded so that
 * the exit status is 3 when blocked, 4 when restored, 5 when the restore failed). */
int deploy_run(struct deploy *d, struct dd_error *err);
void deploy_release(struct deploy *d);
struct dd_json;
/* The stages as a JSON array (key NULL at the top level); not_run_too includes those that never ran. */
void deploy_stages_json(struct dd_json *j, const char *key, const struct pipeline_run *run, bool not_run_too);
/* The report: human text or the --json document. */
void deploy_report(struct dd_buf *out, const struct deploy *d, bool json);

/* Stages (pipeline/stage_*.c); ctx is the struct deploy. */
int stage_preflight_run(void *ctx, char **note, struct dd_error *err);
int stage_gate_run(void *ctx, char **note, struct dd_error *err);
int stage_lint_run(void *ctx, char **note, struct dd_error *err);
int stage_health_before_run(void *ctx, char **note, struct dd_error *err);
int stage_lock_run(void *ctx, char **note, struct dd_error *err);
int stage_backup_run(void *ctx, char **note, struct dd_error *err);
int stage_apply_run(void *ctx, char **note, struct dd_error *err);
int stage_apply_undo(void *ctx, char **note, struct dd_error *err);
int stage_health_after_run(void *ctx, char **note, struct dd_error *err);
int stage_record_run(void *ctx, char **note, struct dd_error *err);

/* The record (pipeline/record.c). */
struct changelog_entry;
struct changelog_migration;
struct db_deployment;
enum deploy_result deploy_result_of(const struct deploy *d);
void deploy_to_record(struct db_deployment *dep, const struct deploy *d, const char *stages_json);
int deploy_changelog(struct deploy *d, const struct db_deployment *dep, struct dd_error *err);
/* Append m to dep's migrations with its duration and status (applied, restored, failed). */
void deploy_record_migration(struct db_deployment *dep, const struct migration *m, int64_t ms, const char *status);
/* m must have room for dep->n migrations; strings (and the array of lint suppressions) live in dep or hold. */
void deploy_changelog_entry(struct changelog_entry *out, struct changelog_migration *m, struct dd_strv *hold,
                            struct repo *repo, const struct db_deployment *dep);

/*
 * (Re)read the ledger, join it with d->set, refuse unsafe states and plan the pending
 * migrations (preflight). deploy_plan_locked takes the deployment lock and creates the ledger
 * first (the lock stage). Both are engine_replan (engine/execute.h).
 */
int deploy_plan(struct deploy *d, struct dd_error *err);
int deploy_plan_locked(struct deploy *d, struct dd_error *err);

/*
 * The recovery ladder (pipeline/recover.c): undo a failed apply or health-after by the least
 * destructive means that works. Called as apply's undo.
 */
int deploy_recover(struct deploy *d, char **note, struct dd_error *err);
/*
 * Preflight: the rung the plan would need exists (down files; for a restore the role's CREATEDB,
 * ownership and right to end sessions, pg_restore, free space). DD_EBLOCKED naming the fix.
 */
int deploy_check_way_back(struct deploy *d, struct dd_error *err);
/* "on failure: ..." for the plan (preflight note, --dry-run, --json), owned by the caller. */
char *deploy_recovery_plan(const struct deploy *d);

/* The target's table sizes into r (what makes a table big for lock rules); the lint stage and `lint ENV`. */
int deploy_lint_catalog(struct lint_run *r, struct db_conn *db, struct dd_error *err);

/* Shared by the health stages: probe cfg's endpoint, fill *res; 1 when none is configured. */
int deploy_probe_health(struct health_result *res, const struct dd_config *cfg, const char *when, struct dd_error *err);

#endif
