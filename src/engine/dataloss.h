#ifndef DBDEPLOY_ENGINE_DATALOSS_H
#define DBDEPLOY_ENGINE_DATALOSS_H

/*
 * The data-loss guard and validator, at apply time (docs/guard.md). While an up migration runs,
 * inside its transaction and before its COMMIT (no-transaction migrations: around each
 * statement), it finds out what the migration destroyed and what it left behind, and fails the
 * migration (which rolls it back when it has a transaction) for what the file did not declare:
 *
 *   data-loss    a table dropped or truncated while it held rows, a column dropped while it held
 *                values, rows removed by DELETE, a column narrowed while it held values;
 *   row-changes  rows added by INSERT or changed by UPDATE/MERGE in a table that existed before
 *                (an UPDATE is also covered by a data-loss declaration);
 *   not-valid    a FOREIGN KEY or CHECK constraint left NOT VALID;
 *   invalid-index  an index left invalid (no declaration covers it).
 *
 * Tables created earlier in the same run (this migration or an earlier one of the same apply
 * or deploy) hold nothing that existed before it: they are not checked, as lint does not.
 * Statements come from lint/destroy.h (the parse tree); what was really there is asked from the
 * database right before and after each statement (db/dataloss.h): counts stop at
 * ENGINE_GUARD_COUNT_LIMIT rows, affected rows come from the server's command tags.
 * Down migrations are not guarded: undoing an up migration drops what it created.
 */
#include "engine/engine.h"
#include "lint/destroy.h"

#define ENGINE_GUARD_COUNT_LIMIT INT64_C(100000)

/* One per engine_run: what the run created. */
struct engine_guard {
    const struct engine_opts *o; /* borrowed */
    struct dd_strv new_tables;   /* "table" or "schema.table" (public unqualified) */
};

/* One up migration being applied. */
struct engine_guard_mig {
    struct engine_guard *g;      /* borrowed */
    const struct engine_step *s; /* borrowed */
    struct lint_ops ops;
    bool active;         /* guarded (false: every check off, or the file does not parse) */
    char *snapshot;      /* invalid indexes and NOT VALID constraints before it ran */
    struct db_body body; /* for db_apply_tx / db_tx_apply_step */
    char *changes;       /* lint_changes of its text, recorded in the ledger */
};

void engine_guard_init(struct engine_guard *g, const struct engine_opts *o);
void engine_guard_release(struct engine_guard *g);

/*
 * Read the step's statements and declarations (m->active says whether it is guarded). A
 * declaration without a reason is DD_EINPUT naming file:line; a file libpg_query cannot parse
 * runs unguarded, with a warning.
 */
int engine_guard_begin(struct engine_guard_mig *m, struct engine_guard *g, const struct engine_step *s,
                       struct dd_error *err);
void engine_guard_end(struct engine_guard_mig *m);

/* No-transaction migrations: before the first statement, each statement, after the last (plain when inactive). */
int engine_guard_start(struct engine_guard_mig *m, struct db_conn *db, struct dd_error *err);
int engine_guard_statement(struct engine_guard_mig *m, struct db_conn *db, size_t k, struct db_sql_error *se,
                           struct dd_error *err);
int engine_guard_finish(struct engine_guard_mig *m, struct db_conn *db, struct dd_error *err);
/* After a failed statement: name the invalid indexes it left (a failed CREATE INDEX CONCURRENTLY). */
void engine_guard_explain_failure(struct engine_guard_mig *m, struct db_conn *db, struct dd_error *err);

/* What a step changes in the schema (lint_changes of its text); NULL when nothing. Caller frees. */
char *engine_step_changes(const struct engine_step *s);

/*
 * Whether changing a column from type `from` (pg_type.typname, typmod) to `to` can lose what it
 * holds: a shorter length or precision, or a smaller type (bigint -> integer, float8 -> float4,
 * numeric -> integer, text -> varchar(n), timestamptz -> date...).
 */
bool engine_type_narrows(const char *from, int from_mod, const char *to, int to_mod);

#endif
