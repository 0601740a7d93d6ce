#include "db/db.h"

#include <stdio.h>

#include "db/internal.h"
#include "util/clock.h"
#include "util/interrupt.h"
#include "util/out.h"
#include "util/parse.h"

#define LOCK_POLL_MS 200

static void key_text(char out[32])
{
    snprintf(out, 32, "%lld", (long long)DB_LOCK_KEY);
}

/* Who holds the lock, from pg_locks and pg_stat_activity, as one readable phrase. */
static void describe_holder(struct db_conn *c, struct dd_buf *out)
{
    char hi[16], lo[16];
    const char *params[2] = {hi, lo};
    PGresult *res;

    snprintf(hi, sizeof(hi), "%u", (unsigned)((uint64_t)DB_LOCK_KEY >> 32));
    snprintf(lo, sizeof(lo), "%u", (unsigned)((uint64_t)DB_LOCK_KEY & 0xffffffffu));
    res = PQexecParams(c->pg,
                       "SELECT a.pid, coalesce(nullif(a.application_name, ''), 'unknown'), "
                       "coalesce(host(a.client_addr), 'local socket'), coalesce(a.usename, '?'), "
                       "to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                       "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                       "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::oid AND l.objid = $2::oid "
                       "AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = "
                       "current_database())",
                       2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
        dd_buf_addf(out, "pid %s (application '%s', user '%s', client %s, connected since %s)", PQgetvalue(res, 0, 0),
                    PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 4));
    else
        dd_buf_adds(out, "another session (it is no longer visible in pg_stat_activity)");
    PQclear(res);
}

static int try_lock(struct db_conn *c, bool *got, struct dd_error *err)
{
    char key[32];
    const char *params[1] = {key};
    PGresult *res;

    key_text(key);
    res = PQexecParams(c->pg, "SELECT pg_try_advisory_lock($1::bigint)", 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        db_error_from_result(err, res, c->pg, "cannot take the deployment lock");
        PQclear(res);
        return -1;
    }
    *got = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return 0;
}

int db_lock_acquire(struct db_conn *c, uint64_t wait_ms, struct dd_error *err)
{
    uint64_t start = dd_now_ms();
    bool got = false, announced = false;

    if (c->lock_held)
        return 0;
    for (;;) {
        uint64_t now;
        if (try_lock(c, &got, err) < 0)
            return -1;
        if (got) {
            c->lock_held = true;
            return 0;
        }
        now = dd_now_ms();
        if (wait_ms != DB_LOCK_WAIT_FOREVER && now - start >= wait_ms) {
            struct dd_buf who = DD_BUF_INIT;
            char waited[32];
            describe_holder(c, &who);
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
            describe_holder(c, &who);
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

int db_lock_release(struct db_conn *c, struct dd_error *err)
{
    char key[32];
    const char *params[1] = {key};
    PGresult *res;

    if (!c->lock_held)
        return 0;
    key_text(key);
    res = PQexecParams(c->pg, "SELECT pg_advisory_unlock($1::bigint)", 1, NULL, params, NULL, NULL, 0);
    c->lock_held = false;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        db_error_from_result(err, res, c->pg, "cannot release the deployment lock");
        PQclear(res);
        return -1;
    }
    PQclear(res);
    return 0;
}

bool db_lock_held(const struct db_conn *c)
{
    return c->lock_held;
}
