#ifndef DBDEPLOY_PIPELINE_UNDO_H
#define DBDEPLOY_PIPELINE_UNDO_H

/*
 * dbdeploy undo: take back one past deployment with the down files of the migrations it
 * applied (the recovery ladder's rung "down"), newest first, each in its own transaction with its
 * ledger row, and record the undo as a deployment of its own (result "undone", recovery "down")
 * with its changelog entry. Only the newest deployment still applied can be undone, and only
 * while the ledger still holds exactly what it recorded; otherwise nothing is changed (exit 3).
 *
 * When one of its migrations has no down file, the rung "backup": the deployment's pre-deploy
 * archive is restored, under the foreign-write guard (db/guard.h) with the mark stored in the
 * deployment's ledger row. Only the newest deployment of the environment can be undone so (the
 * transactions of any later dbdeploy command would count as foreign writes); foreign writes
 * since the backup refuse it (DD_EBLOCKED, nothing changed) unless discard_writes. The ledger's
 * deployment history, which the archive predates, is carried across the restore; the undo is
 * recorded with recovery "backup".
 */
#include "backup/backup.h"
#include "db/guard.h"
#include "engine/execute.h"

struct dd_config;
struct repo;

struct undo {
    /* borrowed from the caller */
    const struct dd_config *cfg;
    struct repo *repo; /* NULL: authors unknown in the changelog */
    struct engine_target t;
    const char *who;
    bool discard_writes; /* --discard-writes: restore even over other sessions' writes */
    /* chosen by undo_prepare */
    int64_t id;        /* the deployment undone */
    int64_t *versions; /* the versions it applied, ascending */
    size_t n;
    char *archive; /* set when the undo restores this archive (rung backup) */
    /* filled by undo_run */
    struct engine_plan plan;
    struct engine_result reverted;
    int64_t record_id; /* the undo's own deployments row */
    char *changelog_path;
    struct db_foreign_writes foreign;     /* what the guard found (rung backup) */
    struct backup_restore_result restore; /* rung backup */
};

/* Which deployment (id 0: the newest that applied migrations still in the ledger), and whether it
 * can be undone from what the caller read (no lock): DD_EBLOCKED when not. */
int undo_prepare(struct undo *u, int64_t id, struct dd_error *err);
/* Under the deployment lock: check again, run the downs, record the undo and its changelog entry. */
int undo_run(struct undo *u, struct dd_error *err);
void undo_release(struct undo *u);

#endif
