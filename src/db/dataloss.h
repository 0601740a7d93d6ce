#ifndef DBDEPLOY_DB_DATALOSS_H
#define DBDEPLOY_DB_DATALOSS_H

/*
 * Catalog and data probes for the data-loss guard (engine/dataloss.c). They run on the
 * migration's session, inside its transaction when it has one, right before or after the
 * statement they judge. Each is cheap on a big table: counts stop at a limit, existence
 * questions stop at the first row, the rest reads the catalog only.
 */
#include "db/db.h"
#include "util/strv.h"

/*
 * Rows of schema.table (schema NULL: found through the session's search_path), or with column,
 * rows where that column is not NULL; counted up to `limit` (the scan stops there). *out is -1
 * when the table (or column) does not exist.
 */
int db_count_rows(struct db_conn *c, const char *schema, const char *table, const char *column, int64_t limit,
                  int64_t *out, struct dd_error *err);
/* The tables of a schema that hold rows ("schema.table"), at most `max` of them. */
int db_schema_tables_with_rows(struct db_conn *c, const char *schema, size_t max, struct dd_strv *out,
                               struct dd_error *err);
/* A column's type name (pg_type.typname) and typmod; *typname NULL when there is no such column. */
int db_column_type(struct db_conn *c, const char *schema, const char *table, const char *column, char **typname,
                   int *typmod, struct dd_error *err);
/* Invalid indexes and unvalidated constraints as they are now (an opaque snapshot, caller frees). */
int db_guard_snapshot(struct db_conn *c, char **out, struct dd_error *err);
/*
 * Since snapshot: invalid indexes into indexes, and constraints left NOT VALID into constraints,
 * each as "KEY\tNAME on TABLE", KEY being the table as "table" (public) or "schema.table".
 */
int db_guard_new_leftovers(struct db_conn *c, const char *snapshot, struct dd_strv *indexes,
                           struct dd_strv *constraints, struct dd_error *err);

#endif
