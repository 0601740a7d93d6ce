#ifndef DBDEPLOY_ENGINE_REDO_H
#define DBDEPLOY_ENGINE_REDO_H

/*
 * Redo, the development loop's "I edited the migration I just applied": revert it with its
 * (current) down file and apply it again, so an edited migration never needs `mark`. Migrations
 * applied after it are reverted first and re-applied after it, newest reverted first. An
 * applied migration whose file changed is exactly what redo is for, so "modified" does not
 * block here; dirty, renamed or missing ones do. The caller only offers it on environments with
 * [git] allow-dirty (development databases deployed from the working tree).
 */
#include "engine/execute.h"

/*
 * Under the lock (engine_lock): revert every applied migration from `version` (-1: the newest
 * applied) upward with its down file, then apply the pending ones up to the newest reverted.
 * `reverted` and `applied` say what ran. Errors: DD_EUSAGE when version is not applied,
 * DD_EBLOCKED for a migration without a down file or in another state (nothing run), and the
 * run's own errors (the error says how far it got).
 */
int engine_redo(struct engine_result *reverted, struct engine_result *applied, struct engine_target *t, int64_t version,
                const char *git_commit, struct dd_error *err);

#endif
