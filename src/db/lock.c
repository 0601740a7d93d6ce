/*
 * The deployment lock. It is held twice, for two reasons:
 *
 * 1. On a session connected to a maintenance database ("postgres", else "template1"), as the
 *    two-key advisory lock (DB_LOCK_CLASS, hash of the target database's name). This is the lock
 *    dbdeploy runs wait for. A restore replaces the target database by renaming a new one into
 *    its place, which ends every session on the old one: a lock held on the target itself would
 *    vanish at that moment, and another run could take it on the new database before we had
 *    reconnected. The maintenance session is not touched by the switch, so the lock is held
 *    without a gap from the lock stage to the end of the record stage.
 * 2. On the target database's own session, as the documented single-key lock DB_LOCK_KEY, for
 *    other tools (and older dbdeploy versions) that coordinate through it. A switch drops it
 *    with the session; db_lock_acquire takes it again on the new session.
 *
 * When no maintenance database can be reached (a role limited to its own database), only the
 * second lock is taken, as before, and a restore cannot run anyway.
 */
#include "db/db.h"

#include <stdio.h>

#include "db/admin.h"
#include "db/internal.h"
#include "util/clock.h"
#include "util/interrupt.h"
#include "util/out.h"
#include "util/parse.h"

#define LOCK_POLL_MS 200

/* FNV-1a: a stable 32-bit key for a database name, the same in every dbdeploy process. */
static int32_t name_key(const char *name)
{
    uint32_t h = 2166136261u;

    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    return (int32_t)h;
}

struct lock_key {
    char a[16], b[16];
    int nparams; /* 1: the bigint DB_LOCK_KEY (a), 2: (DB_LOCK_CLASS, name hash) */
};

static void db_key(struct lock_key *k)
{
    snprintf(k->a, sizeof(k->a), "%u", (unsigned)((uint64_t)DB_LOCK_KEY >> 32));
    snprintf(k->b, sizeof(k->b), "%u", (unsigned)((uint64_t)DB_LOCK_KEY & 0xffffffffu));
    k->nparams = 1;
}

static void named_key(struct lock_key *k, const char *dbname)
{
    snprintf(k->a, sizeof(k->a), "%d", (int)DB_LOCK_CLASS);
    snprintf(k->b, sizeof(k->b), "%d", (int)name_key(dbname));
    k->nparams = 2;
}

/* Who holds the lock, from pg_locks and pg_stat_activity, as one readable phrase. */
static void describe_holder(struct db_conn *c, const struct lock_key *k, struct dd_buf *out)
{
    char hi[16], lo[16];
    const char *params[3] = {hi, lo, k->nparams == 1 ? "1" : "2"};
    PGresult *res;

    if (k->nparams == 1) {
        snprintf(hi, sizeof(hi), "%s", k->a);
        snprintf(lo, sizeof(lo), "%s", k->b);
    } else {
        /* pg_locks shows the two int4 keys as unsigned oids */
        snprintf(hi, sizeof(hi), "%u", (unsigned)strtol(k->a, NULL, 10));
        snprintf(lo, sizeof(lo), "%u", (unsigned)strtol(k->b, NULL, 10));
    }
    res = PQexecParams(c->pg,
                       "SELECT a.pid, coalesce(nullif(a.application_name, ''), 'unknown'), "
                       "coalesce(host(a.client_addr), 'local socket'), coalesce(a.usename, '?'), "
                       "to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                       "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                       "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::oid AND l.objid = $2::oid "
                       "AND l.objsubid = $3::int2 AND l.database = (SELECT oid FROM pg_database WHERE datname = "
                       "current_database())",
                       3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
        dd_buf_addf(out, "pid %s (application '%s', user '%s', client %s, connected since %s)", PQgetvalue(res, 0, 0),
                    PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 4));
    else
        dd_buf_adds(out, "another session (it is no longer visible in pg_stat_activity)");
    PQclear(res);
}

static int try_key(struct db_conn *c, const struct lock_key *k, bool *got, struct dd_error *err)
{
    char key[32];
    const char *params[2] = {key, k->b};
    PGresult *res;

    if (k->nparams == 1)
        snprintf(key, sizeof(key), "%lld", (long long)DB_LOCK_KEY);
    else
        snprintf(key, sizeof(key), "%s", k->a);
    res = db_exec(c,
                  k->nparams == 1 ? "SELECT pg_try_advisory_lock($1::bigint)"
                                  : "SELECT pg_try_advisory_lock($1::int, $2::int)",
                  k->nparams, params, "cannot take the deployment lock", err);
    if (!res)
        return -1;
    *got = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return 0;
}

int db_lock_try_named(struct db_conn *admin, const char *dbname, bool *got, struct dd_error *err)
{
    struct lock_key k;

    named_key(&k, dbname);
    return try_key(admin, &k, got, err);
}

/* The maintenance session; NULL (and a -v note) when the role cannot reach one. */
static void open_lock_conn(struct db_conn *c)
{
    struct dd_error e = DD_ERROR_INIT;

    if (c->lock_conn && db_alive(c->lock_conn))
        return;
    if (c->lock_conn && c->lock_held)
        log_warn("the session holding the deployment lock was lost; taking the lock again");
    db_free(c->lock_conn);
    c->lock_conn = NULL;
    c->lock_held = false;
    if (db_admin_connect(&c->lock_conn, c, db_name(c), &e) < 0)
        log_detail("deployment lock on database '%s' only: %s", db_name(c), dd_error_msg(&e));
    dd_error_release(&e);
}

/* One attempt at both locks, the shared one first; *got when both are held. */
static int try_both(struct db_conn *c, struct lock_key *busy, struct db_conn **busy_on, bool *got, struct dd_error *err)
{
    struct lock_key k;

    *got = false;
    if (c->lock_conn && !c->lock_held) {
        named_key(&k, db_name(c));
        if (try_key(c->lock_conn, &k, &c->lock_held, err) < 0)
            return -1;
        if (!c->lock_held) {
            *busy = k;
            *busy_on = c->lock_conn;
            return 0;
        }
    }
    /*
     * Only now, holding the shared lock: a restore (ours or the run we waited for) may have
     * ended the session on the target, and nothing may happen before it is back. Reconnecting
     * earlier could meet the target refusing connections in the middle of another run's switch.
     */
    if (!db_alive(c) && db_reconnect(c, err) < 0)
        return -1;
    if (!c->db_lock_held) {
        db_key(&k);
        if (try_key(c, &k, &c->db_lock_held, err) < 0)
            return -1;
        if (!c->db_lock_held) {
            *busy = k;
            *busy_on = c;
            return 0;
        }
    }
    *got = true;
    return 0;
}

int db_lock_acquire(struct db_conn *c, uint64_t wait_ms, struct dd_error *err)
{
    uint64_t start = dd_now_ms();
    bool got = false, announced = false;

    open_lock_conn(c);
    for (;;) {
        struct lock_key busy;
        struct db_conn *busy_on = NULL;
        uint64_t now;

        if (try_both(c, &busy, &busy_on, &got, err) < 0)
            return -1;
        if (got)
            return 0;
        now = dd_now_ms();
        if (wait_ms != DB_LOCK_WAIT_FOREVER && now - start >= wait_ms) {
            struct dd_buf who = DD_BUF_INIT;
            char waited[32];
            describe_holder(busy_on, &busy, &who);
            dd_format_duration(waited, sizeof(waited), wait_ms);
            dd_error_set(err, DD_EBLOCKED, "another deployment holds the lock on %s: %s", db_name(c), who.buf);
            dd_error_hint(err,
                          "Waited %s ([database] lock-wait). Let the other run finish; if it is stuck, end its "
                          "session with pg_terminate_backend(pid).",
                          waited);
            dd_buf_release(&who);
            return -1;
        }
        if (!announced) {
            struct dd_buf who = DD_BUF_INIT;
            describe_holder(busy_on, &busy, &who);
            log_info("waiting for the deployment lock held by %s", who.buf);
            dd_buf_release(&who);
            announced = true;
        }
        if (dd_sleep_ms(wait_ms == DB_LOCK_WAIT_FOREVER || LOCK_POLL_MS < wait_ms - (now - start)
                            ? LOCK_POLL_MS
                            : wait_ms - (now - start)) < 0)
            return dd_error_set(err, DD_EINTERRUPTED, "interrupted while waiting for the deployment lock");
    }
}

static int unlock_sql(struct db_conn *c, const char *sql, int n, const char *const *params, struct dd_error *err)
{
    PGresult *res = db_exec(c, sql, n, params, "cannot release the deployment lock", err);
    int rc = res ? 0 : -1;

    PQclear(res);
    return rc;
}

int db_lock_release(struct db_conn *c, struct dd_error *err)
{
    int rc = 0;

    if (c->db_lock_held && c->pg) {
        char key[32];
        const char *params[1] = {key};
        snprintf(key, sizeof(key), "%lld", (long long)DB_LOCK_KEY);
        rc = unlock_sql(c, "SELECT pg_advisory_unlock($1::bigint)", 1, params, err);
    }
    c->db_lock_held = false;
    /* closing the maintenance session frees its lock, even when the unlock cannot be sent */
    db_free(c->lock_conn);
    c->lock_conn = NULL;
    c->lock_held = false;
    return rc;
}

bool db_lock_held(const struct db_conn *c)
{
    return c->lock_held || c->db_lock_held;
}
