#ifndef DBDEPLOY_SCHEMA_SCHEMA_H
#define DBDEPLOY_SCHEMA_SCHEMA_H

/*
 * Schema as code: the schema a database holds as canonical text (pg_dump --schema-only made
 * byte-stable, then the ledger's applied versions as comments), and the schema the migrations
 * build, made on a scratch database: a database of its own on [schema] scratch-url's server, or
 * on a temporary cluster started for the occasion and always removed.
 *
 * The schema file ends with one line per applied migration,
 *     -- dbdeploy:applied <version> <file>
 * which psql ignores (comments) and `dbdeploy setup` reads back.
 */
#include "engine/engine.h"
#include "util/buf.h"
#include "util/error.h"

struct dd_config;
struct db_conn;
struct migration_set;

#define SCHEMA_APPLIED_PREFIX "-- dbdeploy:applied "

/* The schema of a connected database (the ledger's schema excluded, its versions appended). */
int schema_dump(struct dd_buf *out, struct db_conn *db, const struct dd_config *cfg, struct dd_error *err);

/* A server for scratch databases: [schema] scratch-url, or a temporary cluster. */
struct schema_server;
int schema_server_open(struct schema_server **out, const struct dd_config *cfg, struct dd_error *err);
/* Drop what is left of the scratch databases, stop and remove a temporary cluster. NULL is fine. */
void schema_server_close(struct schema_server *s);
/* What the server is, for messages ("a temporary cluster", or the masked url). Borrowed. */
const char *schema_server_name(const struct schema_server *s);

/* Apply every migration of set (read) to a new scratch database, dump it, drop it. */
int schema_build(struct dd_buf *out, struct schema_server *s, struct migration_set *set, const struct dd_config *cfg,
                 struct dd_error *err);
/*
 * Load a schema file into a new scratch database (a fresh install), dump it, drop it; the
 * file's applied-version lines are carried over, as a dump of an installed database has them.
 * An error in the file names its line.
 */
int schema_load(struct dd_buf *out, struct schema_server *s, const char *text, size_t len, const char *file,
                const struct dd_config *cfg, struct dd_error *err);

/* The versions listed by a schema file's applied lines, in file order. */
struct schema_applied {
    int64_t *versions;
    char **files;
    size_t n;
};
int schema_applied_parse(struct schema_applied *out, const char *text, size_t len, const char *file,
                         struct dd_error *err);
void schema_applied_release(struct schema_applied *a);

/*
 * dbdeploy setup (schema/setup.c): on t's database, which must be empty (DD_EBLOCKED otherwise),
 * take the lock, load the schema file text, record the versions it lists as applied (each must
 * be a migration of t->set; the ledger rows carry t->opts->applied_by), then apply the newer
 * migrations. The lock stays held for the caller to release.
 */
struct engine_target;
struct schema_setup_result {
    size_t installed;             /* versions recorded from the file */
    struct engine_result applied; /* newer migrations applied after it */
};
int schema_setup(struct schema_setup_result *out, struct engine_target *t, const struct dd_config *cfg,
                 const char *text, size_t len, const char *file, const char *git_commit, struct dd_error *err);

#endif
