#ifndef DBDEPLOY_ENGINE_ADOPT_H
#define DBDEPLOY_ENGINE_ADOPT_H

/*
 * Adoption: switch a database from golang-migrate, dbmate or Flyway to dbdeploy without re-running
 * anything. The versions the other tool recorded become ledger rows with the current files'
 * checksums; the other tool's table is only read.
 *
 *   golang-migrate keeps one row (version, dirty): every file up to that version counts as
 *   applied, and a dirty flag refuses. dbmate keeps one row per applied version; each must
 *   have a file. Flyway's flyway_schema_history is a log replayed in installed_rank order
 *   (undo and DELETE rows take a version out, BASELINE stands for every file up to it); a
 *   failed row refuses.
 */
#include "db/db.h"
#include "engine/execute.h"

/* "golang-migrate" (or "migrate"), "dbmate" and "flyway"; anything else, or NULL, is DD_EUSAGE. */
int engine_adopt_tool(enum db_foreign_tool *out, const char *name, struct dd_error *err);
/* The tool's table when --table is not given: flyway_schema_history or schema_migrations. */
const char *engine_adopt_default_table(enum db_foreign_tool tool);

/*
 * Before anything is applied to a database without a dbdeploy ledger: when another tool's
 * ledger is there (db_foreign_find), DD_EBLOCKED naming the tool, its table and the exact
 * 'dbdeploy adopt' command, so its migrations are not run a second time. 0 when the ledger
 * exists or no other tool's is found.
 */
int engine_foreign_check(struct db_conn *db, const struct db_ledger *ledger, const struct engine_opts *o,
                         struct dd_error *err);

struct engine_adoption {
    int64_t *versions; /* to record, ascending for golang-migrate, in the tool's order for dbmate */
    size_t n;
    size_t already; /* of those, already recorded in dbdeploy's ledger (left as they are) */
};

#define ENGINE_ADOPTION_INIT                                                                                           \
    {                                                                                                                  \
        NULL, 0, 0                                                                                                     \
    }

/*
 * The versions to record, from what the other tool says (no I/O). A dirty golang-migrate is
 * DD_EBLOCKED; a version without a file is DD_EINPUT (every one listed for dbmate).
 */
int engine_adopt_select(struct engine_adoption *out, const struct migration_set *set, enum db_foreign_tool tool,
                        const struct db_foreign_versions *fv, const char *env, struct dd_error *err);
/*
 * Against dbdeploy's own ledger (no I/O): count the versions it already has as applied; any in
 * another state (dirty, modified, renamed) is DD_EBLOCKED, before anything is recorded.
 */
int engine_adopt_check(struct engine_adoption *a, const struct engine_status *st, struct dd_error *err);

/*
 * The whole adoption: read the other tool's `table`, select, and unless dry_run take the lock,
 * create and re-read the ledger (engine_lock), check, and record each version with
 * engine_mark (t->opts->applied_by says who). With dry_run nothing is locked or written.
 */
int engine_adopt(struct engine_adoption *out, struct engine_target *t, enum db_foreign_tool tool, const char *table,
                 bool dry_run, const char *git_commit, struct dd_error *err);
void engine_adoption_release(struct engine_adoption *a);

#endif
