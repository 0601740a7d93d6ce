#ifndef DBDEPLOY_DB_REHEARSAL_H
#define DBDEPLOY_DB_REHEARSAL_H

/*
 * What `dbdeploy rehearse` needs from a session (db/rehearsals.c): the record of a rehearsal in
 * the environment's ledger (<schema>.rehearsals, created by db_ledger_ensure), and, on the
 * scratch database, the locks the applying session holds.
 */
#include "db/db.h"

/* One row of <schema>.rehearsals. */
struct db_rehearsal {
    int64_t id;
    char *env;
    char *git_commit;                 /* NULL when not rehearsed from a commit */
    char *plan;                       /* "<version> <checksum>\n" per migration of the plan, in order */
    char *result;                     /* "passed" or "failed" */
    uint64_t started_ms, finished_ms; /* epoch milliseconds (insert) */
    char *finished_at;                /* ISO 8601 UTC (read) */
    int64_t age_ms;                   /* now() - finished_at on the server (read) */
    char *rehearsed_by;
    char *archive;    /* the backup that was restored */
    char *server;     /* where (masked url) */
    int64_t total_ms; /* the predicted apply time */
    char *migrations; /* JSON array: version, file, checksum, duration_ms, status */
    char *locks;      /* JSON array: relation, file, line, held_ms */
    char *error;      /* first line of the failure, masked; NULL when passed */
};

void db_rehearsal_release(struct db_rehearsal *r);

/* Insert r (the ledger must exist: db_ledger_ensure); r->id receives the row's id. */
int db_rehearsal_insert(struct db_conn *c, const char *schema, struct db_rehearsal *r, struct dd_error *err);

/*
 * The newest rehearsal of env: with matching, the newest PASSED one of that commit (NULL: none)
 * and plan; otherwise the newest of any kind. *found is false when there is none, also when the
 * ledger or its rehearsals table does not exist yet (an older ledger).
 */
int db_rehearsal_find(struct db_rehearsal *out, bool *found, struct db_conn *c, const char *schema, const char *env,
                      bool matching, const char *commit, const char *plan, struct dd_error *err);

/*
 * default_transaction_read_only for the session: a rehearsal reads its environment with it on,
 * so nothing but the final record (switched off for it) can write there by mistake.
 */
int db_session_read_only(struct db_conn *c, bool on, struct dd_error *err);

/* The highest relation oid so far: relations above it are created later (by the rehearsal). */
int db_relation_oid_floor(struct db_conn *c, char **out, struct dd_error *err);

/*
 * The relations (schema.name; the oid when it was dropped meanwhile) on which this session now
 * holds a granted ACCESS EXCLUSIVE lock, existing before `floor` (db_relation_oid_floor).
 * Appended to out, sorted.
 */
int db_exclusive_locks(struct db_conn *c, const char *floor, struct dd_strv *out, struct dd_error *err);

#endif
