#ifndef DBDEPLOY_DB_GUARD_H
#define DBDEPLOY_DB_GUARD_H

/*
 * The foreign-write guard: did any session other than dbdeploy's own commit a write to the
 * database after a backup was taken? A restore would silently discard such writes, so the
 * pipeline refuses to restore when the answer is yes (or cannot be proven no).
 *
 * How. db_write_mark_take, run just before pg_dump starts, records the server's transaction
 * snapshot (txid_current_snapshot: xmax and the transactions in progress) and the write counters
 * of every table (pg_stat_user_tables). Every transaction that pg_dump's later snapshot cannot see
 * is either in progress at the mark or has an id at or above the mark's xmax. Before a restore,
 * db_foreign_writes_find asks the server for the commit status (txid_status) of each such id,
 * skipping the ids of dbdeploy's own transactions (recorded by db/migrate.c as it commits them):
 * any other committed id is a write nobody but the backup's restore would undo (an id whose status
 * the server no longer keeps counts as committed). This needs only
 * default settings (no track_commit_timestamp, no logical decoding).
 *
 * Limits, all on the side of false positives: transaction ids are cluster-wide, so a write to
 * another database of the same server, autovacuum's ANALYZE, or a statement of a no-transaction
 * migration (whose ids dbdeploy does not collect) also count. More than DB_GUARD_MAX_IDS new ids
 * are not checked one by one: they are assumed to hold foreign writes. The tables are named from
 * the statistics counters, which a backend flushes up to ~10 s late (PostgreSQL 15), so the
 * search waits for them a little when ids were found but no table yet; counts include dbdeploy's
 * own writes to the same tables, and rows of rolled-back transactions.
 */
#include "db/db.h"

#define DB_GUARD_MAX_IDS INT64_C(5000000)

struct db_table_writes {
    int64_t relid;
    char *name; /* schema.table */
    int64_t ins, upd, del;
    bool is_new;      /* created after the mark */
    int64_t filenode; /* pg_class.relfilenode: a TRUNCATE or a rewrite changes it */
    int64_t cls_xmin; /* pg_class row's xmin: any DDL on the table changes it */
    bool altered;     /* late check: truncated, rewritten, altered or dropped since the baseline */
};

struct db_write_mark {
    int64_t xmax;
    int64_t *xip; /* in progress at the mark */
    size_t n_xip;
    struct db_table_writes *t; /* counters at the mark */
    size_t n;
    int64_t *own; /* dbdeploy's own transactions after the mark, when read back from the ledger */
    size_t n_own;
};

#define DB_WRITE_MARK_INIT                                                                                             \
    {                                                                                                                  \
        0, NULL, 0, NULL, 0, NULL, 0                                                                                   \
    }

int db_write_mark_take(struct db_write_mark *out, struct db_conn *c, struct dd_error *err);
/*
 * The mark as JSON for the deployment's ledger row (column guard), with the ids of the
 * transactions c committed since (dbdeploy's own): {"xmax", "xip", "own", "tables": [{relid, name,
 * ins, upd, del}]}. db_deployment_insert adds "record_xid", the id of the transaction recording it,
 * and "ledger_xid", that of the session's last db_ledger_ensure (which writes too).
 * Transaction ids are the 64-bit, epoch-qualified ones (txid_current, as xid8), so they do not
 * wrap around. Owned by the caller.
 */
char *db_write_mark_json(const struct db_write_mark *m, const struct db_conn *c);
/* The mark stored with deployment `id` (own: its "own" ids and record_xid); *found false when none. */
int db_write_mark_load(struct db_write_mark *out, bool *found, struct db_conn *c, const char *schema, int64_t id,
                       struct dd_error *err);
void db_write_mark_release(struct db_write_mark *m);

struct db_foreign_writes {
    int64_t n_xids;            /* committed foreign transaction ids found (or new ids, when capped) */
    bool capped;               /* too many new ids to check; assumed foreign */
    bool late;                 /* found by the late check (db_foreign_writes_recheck) */
    struct db_table_writes *t; /* tables whose counters grew since the mark (deltas) */
    size_t n;
};

#define DB_FOREIGN_WRITES_INIT                                                                                         \
    {                                                                                                                  \
        0, false, false, NULL, 0                                                                                       \
    }

/*
 * Look for committed foreign writes since the mark (see above). Tables of `skip_schema` (the
 * ledger) are not named. When ids are found but no table has moved yet, re-reads the counters
 * for up to stats_wait_ms.
 */
int db_foreign_writes_find(struct db_foreign_writes *out, struct db_conn *c, const struct db_write_mark *m,
                           const char *skip_schema, uint64_t stats_wait_ms, struct dd_error *err);
void db_foreign_writes_release(struct db_foreign_writes *f);

/*
 * The late check, for the window between db_foreign_writes_find and a restore's switch, while
 * pg_restore loads the copy. Transaction ids cannot tell that window's writes apart: pg_restore's
 * own transactions (in the side database) take ids from the same cluster-wide counter, and a
 * sequence's setval among them leaves no row to recognise it by. So the late check compares
 * per-table evidence instead, against a baseline taken right after the first check:
 *   - the write counters (pg_stat_user_tables), which PostgreSQL 15+ flushes when a session
 *     ends: checked after the switch has ended every other session on the target, they count
 *     every INSERT, UPDATE and DELETE committed (or rolled back) since the baseline;
 *   - each table's pg_class row (relfilenode and xmin), which a TRUNCATE, a rewrite or any DDL
 *     changes at once, and the set of tables (created, dropped).
 * db_write_recheck_begin flushes this session's own pending statistics first, so that its own
 * earlier writes cannot show up as late ones. Tables of skip_schema (the ledger) are ignored.
 * out->late is set; out->n_xids stays 0; out->t lists the tables that changed.
 */
int db_write_recheck_begin(struct db_write_mark *out, struct db_conn *c, struct dd_error *err);
int db_foreign_writes_recheck(struct db_foreign_writes *out, struct db_conn *c, const struct db_write_mark *base,
                              const char *skip_schema, struct dd_error *err);

/* What a restore by swap needs of the connected role, and the database's size (preflight). */
struct db_restore_rights {
    bool superuser;
    bool createdb;   /* CREATE DATABASE for the replacement, rename of the target */
    bool owner;      /* member of the target database's owner */
    bool signal;     /* may terminate other roles' sessions (superuser or pg_signal_backend) */
    int64_t db_size; /* pg_database_size, bytes */
    char role[64];   /* current_user */
};

int db_restore_rights_read(struct db_restore_rights *out, struct db_conn *c, struct dd_error *err);

#endif
