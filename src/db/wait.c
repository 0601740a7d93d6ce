#include "db/db.h"

#include <stdio.h>

#include <libpq-fe.h>

#include "config/config.h"
#include "util/clock.h"
#include "util/out.h"
#include "util/parse.h"

/* How long to pause between two pings: short, since a container's database is up in seconds. */
#define DB_WAIT_PAUSE_MS 500

/*
 * One ping with libpq's own "is a server there" question: it sends no password, so a server
 * that is up answers PQPING_OK whatever the credentials, and the real connection that follows
 * reports a bad password at once instead of it being retried.
 */
static PGPing ping(const char *url, uint64_t left_ms)
{
    char timeout[32];
    /* libpq counts connect_timeout in whole seconds (2 at least); an unreachable host costs that much */
    uint64_t s = (left_ms + 999) / 1000;
    const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
    const char *vals[] = {url, "dbdeploy", timeout, NULL};

    snprintf(timeout, sizeof(timeout), "%llu", (unsigned long long)(s < 2 ? 2 : s > 10 ? 10 : s));
    return PQpingParams(keys, vals, 1);
}

int db_wait_ready(const struct dd_config *cfg, uint64_t wait_ms, struct dd_error *err)
{
    uint64_t start = dd_now_ms();
    PGPing last;
    char limit[32];

    dd_format_duration(limit, sizeof(limit), wait_ms);
    for (bool said = false;; said = true) {
        uint64_t used = dd_now_ms() - start, left = used < wait_ms ? wait_ms - used : 0;
        last = ping(cfg->db_url, left);
        /* a setting libpq cannot use: the real connection names it */
        if (last == PQPING_OK || last == PQPING_NO_ATTEMPT) {
            if (said)
                log_detail("%s accepts connections after %.1fs", cfg->db_url_masked,
                           (double)(dd_now_ms() - start) / 1000.0);
            return 0;
        }
        used = dd_now_ms() - start;
        if (used >= wait_ms)
            break;
        if (!said)
            log_info("waiting up to %s for %s to accept connections", limit, cfg->db_url_masked);
        if (dd_sleep_ms(wait_ms - used < DB_WAIT_PAUSE_MS ? wait_ms - used : DB_WAIT_PAUSE_MS) < 0)
            return dd_error_set(err, DD_EINTERRUPTED, "interrupted while waiting for %s", cfg->db_url_masked);
    }
    dd_error_set(err, DD_EBLOCKED, "%s did not accept connections within %s (--wait): %s", cfg->db_url_masked, limit,
                 last == PQPING_REJECT ? "the server is rejecting connections (starting up, shutting down or in "
                                         "recovery)"
                                       : "no server answered");
    dd_error_hint(err,
                  "Nothing was changed; start the database server (or check [database] url, from %s) or give "
                  "it longer with a larger --wait.",
                  cfg->db_url_origin ? cfg->db_url_origin : "the configuration");
    return -1;
}
