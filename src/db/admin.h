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
#include "util/strv.h"

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
 * in one transaction target is renamed to `retired` and replacement to target, the database now
 * named target gets target's comment back (replacement carried a marker) and `retired` gets
 * `retired_marker`. On failure target is as it was, connections allowed again, and replacement
 * keeps its name. Test hook point: "switch-disabled" (util/test_hook.h).
 */
int db_database_switch(struct db_conn *admin, const char *target, const char *replacement, const char *retired,
                       const char *retired_marker, uint64_t wait_ms, unsigned *terminated, struct dd_error *err);

/*
 * db_database_switch with a last check: once every other session on target has ended (and
 * before the rename), check->fn runs once; failing, it stops the switch as any failure does
 * (target as it was, connections allowed again). keep_pid (0: none) is a session of ours on
 * target that is not terminated, so that fn can look at the target through it; fn must close
 * it before returning 0, since a database with sessions cannot be renamed.
 */
struct db_switch_check {
    int keep_pid;
    int (*fn)(void *arg, struct dd_error *err);
    void *arg;
};

int db_database_switch_checked(struct db_conn *admin, const char *target, const char *replacement, const char *retired,
                               const char *retired_marker, uint64_t wait_ms, const struct db_switch_check *check,
                               unsigned *terminated, struct dd_error *err);
/* The server process id of c's session (0 when not connected). */
int db_backend_pid(const struct db_conn *c);

/* CREATE DATABASE name TEMPLATE template0, owned by the session's user (scratch databases). */
int db_database_create_empty(struct db_conn *admin, const char *name, struct dd_error *err);
/* DROP DATABASE IF EXISTS, ending its sessions first (WITH (FORCE) from PostgreSQL 13). */
int db_database_drop(struct db_conn *admin, const char *name, struct dd_error *err);
/* COMMENT ON DATABASE name IS text (NULL: no comment). */
int db_database_comment(struct db_conn *admin, const char *name, const char *text, struct dd_error *err);
/* ALTER DATABASE name WITH ALLOW_CONNECTIONS allow. */
int db_database_allow_connections(struct db_conn *admin, const char *name, bool allow, struct dd_error *err);

/*
 * The marker a restore writes as the comment of its side databases, so that the next dbdeploy
 * command can tell what a killed run left behind (db_restore_heal):
 *   "dbdeploy restore side database; target=<db>; role=new|old; state=<s>; pid=<n>; archive=<file>"
 * role new: the copy being loaded (state loading, then ready once complete and verified);
 * role old: the database it replaced (state replaced). Owned by the caller.
 */
char *db_restore_marker(const char *target, const char *role, const char *state, long pid, const char *archive);
/* "<target>_dbdeploy_<what>_<pid>", the target cut at a character boundary to fit 63 bytes. */
char *db_restore_side_name(const char *target, const char *what, long pid);

/*
 * Finish or revert a restore switch that a killed dbdeploy left half-done on database `target`,
 * and drop the side databases of dead restores. Runs only when the deployment lock of `target`
 * is free at once (a live run owns its side databases); otherwise does nothing. Decisions, from
 * the target's ALLOW_CONNECTIONS and the markers:
 *   target refuses connections, a complete copy (state ready) exists -> finish the switch;
 *   target refuses connections, no complete copy                     -> allow connections again;
 *   target accepts connections: an unswitched copy is dropped (the restore did not happen), a
 *   replaced database is dropped (the restore had happened).
 * Each action adds one sentence to `notes`. Side databases without a marker naming `target`
 * are left alone.
 */
int db_restore_heal(struct db_conn *admin, const char *target, struct dd_strv *notes, struct dd_error *err);

/*
 * db_connect, then db_restore_heal when needed: when the target refuses connections (connecting
 * through a maintenance database instead), or when databases named like a restore's side
 * databases exist (one cheap query otherwise).
 */
int db_connect_healing(struct db_conn **out, const struct dd_config *cfg, struct dd_strv *notes, struct dd_error *err);

#endif
