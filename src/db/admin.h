#ifndef DBDEPLOY_DB_ADMIN_H
#define DBDEPLOY_DB_ADMIN_H

/*
 * Whole-database operations, for restores (db/restore_support.c): a session on a maintenance
 * database, reading a database's properties, creating a database shaped like another, switching
 * a database for another by renaming, dropping.
 *
 * pg_dump without --create carries none of the database's own properties, so a restore into a
 * new database copies them from the database it replaces: owner, encoding, collation and ctype,
 * locale provider and locale, tablespace (at creation), then connection limit, database-level
 * settings (ALTER DATABASE ... SET and ALTER ROLE ... IN DATABASE ... SET), comment and
 * privileges (after the data is loaded, so that settings such as default_transaction_read_only
 * cannot get in pg_restore's way). Privileges are granted again by the owner.
 *
 * Identifiers and literals are quoted with PQescapeIdentifier / PQescapeLiteral: these are
 * utility statements, which take no parameters. Errors are DD_EDB with the server's message.
 */
#include "db/db.h"

struct db_database_props;

/*
 * A session with like's connection settings on a maintenance database: "postgres", or
 * "template1" when "postgres" is `avoid` (the database being replaced) or cannot be reached.
 */
int db_admin_connect(struct db_conn **out, const struct db_conn *like, const char *avoid, struct dd_error *err);

/* Read the properties listed above of database `name`. */
int db_database_props_read(struct db_database_props **out, struct db_conn *admin, const char *name,
                           struct dd_error *err);
void db_database_props_free(struct db_database_props *p);

/* CREATE DATABASE name from template0 with p's owner, encoding, locale and tablespace. */
int db_database_create_like(struct db_conn *admin, const char *name, const struct db_database_props *p,
                            struct dd_error *err);
/* Connection limit, settings, comment and privileges of p onto database `name`. */
int db_database_apply_props(struct db_conn *admin, const char *name, const struct db_database_props *p,
                            struct dd_error *err);

/*
 * Put `replacement` in the place of `target`: new connections to target are refused, its other
 * sessions are terminated (waiting up to wait_ms for them to end; *terminated counts them), and
 * in one transaction target is renamed to `retired` and replacement to target. On failure target
 * is as it was, connections allowed again, and replacement keeps its name.
 */
int db_database_switch(struct db_conn *admin, const char *target, const char *replacement, const char *retired,
                       uint64_t wait_ms, unsigned *terminated, struct dd_error *err);

/* DROP DATABASE IF EXISTS, ending its sessions first (WITH (FORCE) from PostgreSQL 13). */
int db_database_drop(struct db_conn *admin, const char *name, struct dd_error *err);

#endif
