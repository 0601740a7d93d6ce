#ifndef DBDEPLOY_HEALTH_HEALTH_H
#define DBDEPLOY_HEALTH_HEALTH_H

/*
 * HTTP health checks: the only folder that includes libcurl.
 *
 * health_probe() sends GET (or HEAD) to a URL until it passes, a failure that retrying cannot
 * fix happens, the retries are used up or the overall deadline is reached. An attempt passes
 * when the status is in the expected set (default 2xx) and, when expect_body is set, the body
 * contains that text (searched as the body streams in; at most HEALTH_BODY_MAX bytes are held).
 *
 * Rules (pure functions below, so unit tests can check them with a fake clock):
 *  - Only timeouts, connection failures (refused, unreachable) and HTTP 408, 429 and 5xx are
 *    retried. Anything else (other statuses, a body mismatch, TLS verification failure, a bad
 *    URL, a name that does not resolve, a reset connection) fails at once.
 *  - At most 1 + retries attempts. The wait after attempt n is backoff * 2^(n-1), capped at
 *    max_backoff (0 = no cap).
 *  - Nothing passes the overall deadline: each request's timeout is clipped to the time left,
 *    and a wait that would leave less than HEALTH_MIN_ATTEMPT_MS is shortened so that one last
 *    attempt still fits; once no more than HEALTH_MIN_ATTEMPT_MS is left, the probe stops.
 *  - TLS verification is always on (ca_file replaces the system CA bundle); only http and https
 *    are spoken; redirects are followed only with follow_redirects (at most HEALTH_MAX_REDIRECTS).
 *  - SIGINT/SIGTERM (util/interrupt) abort a request in flight and cut a wait short.
 *
 * With -v, every attempt is logged as one line on stderr (log_detail). Header values are secrets:
 * they are sent, never printed or put into messages or results.
 *
 * Errors: DD_EHTTP when the endpoint is unhealthy (a gate such as the pipeline's health-before
 * stage recodes it to DD_EBLOCKED); DD_ECONFIG for options that cannot work (no url, a URL that
 * is not http(s), a header line that is not "Name: value", expect_body with HEAD, an unreadable
 * ca_file), named by o->source and the [health] key; DD_EINTERRUPTED when a signal stopped the
 * probe; DD_EIO when libcurl cannot be set up. Messages carry the URL, which util/out masks.
 */
#include "util/error.h"
#include "util/parse.h"
#include "util/strv.h"

struct dd_config;

#define HEALTH_BODY_MAX       (64 * 1024) /* body bytes kept for expect_body matching */
#define HEALTH_MAX_REDIRECTS  5
#define HEALTH_MIN_ATTEMPT_MS 250 /* the least time worth starting an attempt with */
#define HEALTH_MAX_RECORDED   256 /* attempts listed in struct health_result (the count is exact) */
#define HEALTH_REASON_MAX     160

/* What one probe does. Every pointer is borrowed and must outlive the health_probe() call. */
struct health_opts {
    const char *url;                    /* http:// or https:// (may hold a masked secret) */
    const char *method;                 /* "GET" or "HEAD"; NULL = GET */
    struct dd_status_set expect_status; /* statuses that pass */
    const char *expect_status_text;     /* the set as written, for messages; NULL = "2xx" */
    const char *expect_body;            /* text the body must contain; NULL = any body */
    const struct dd_strv *headers;      /* "Name: value" lines, values secret; NULL = none */
    uint64_t timeout_ms;                /* per request; 0 = only the deadline limits it */
    uint64_t deadline_ms;               /* overall, across attempts and waits; 0 = none */
    uint32_t retries;                   /* further attempts after the first */
    uint64_t backoff_ms;                /* wait after the first failed attempt; doubles */
    uint64_t max_backoff_ms;            /* cap on one wait; 0 = no cap */
    const char *ca_file;                /* CA bundle for TLS verification; NULL = system default */
    bool follow_redirects;
    const char *source; /* names the settings in messages ("pipeline/prod.conf"); NULL = none */
};

/* The defaults of pipeline/<env>.conf [health] (GET, 2xx, 5s, 60s, 10 retries, 500ms, 5s), no url. */
void health_opts_init(struct health_opts *out);
/* Point *out at cfg->health (borrowed: out must not outlive cfg); source names cfg->env_file. */
void health_opts_from_config(struct health_opts *out, const struct dd_config *cfg);

/* How an attempt's transfer ended, before its status is looked at. */
enum health_net {
    HEALTH_NET_OK,          /* a response arrived (its status decides) */
    HEALTH_NET_TIMEOUT,     /* no complete answer within the request timeout (retried) */
    HEALTH_NET_CONNECT,     /* connection refused or host unreachable (retried) */
    HEALTH_NET_RESOLVE,     /* the host name does not resolve */
    HEALTH_NET_TLS,         /* TLS handshake or certificate verification failed */
    HEALTH_NET_BAD_URL,     /* malformed URL or a protocol other than http/https */
    HEALTH_NET_REDIRECTS,   /* more than HEALTH_MAX_REDIRECTS redirects */
    HEALTH_NET_INTERRUPTED, /* SIGINT/SIGTERM arrived during the request */
    HEALTH_NET_OTHER,       /* anything else: reset connection, empty reply, protocol error */
};

/* Why the probe stopped. */
enum health_stop {
    HEALTH_STOP_HEALTHY,     /* an attempt passed */
    HEALTH_STOP_FATAL,       /* an attempt failed in a way retrying cannot fix */
    HEALTH_STOP_RETRIES,     /* 1 + retries attempts failed */
    HEALTH_STOP_DEADLINE,    /* the deadline left no room for another attempt */
    HEALTH_STOP_INTERRUPTED, /* SIGINT/SIGTERM */
};

struct health_attempt {
    uint32_t n;                     /* 1-based */
    uint64_t start_ms;              /* since the probe began */
    uint64_t duration_ms;           /* of the request */
    uint64_t timeout_ms;            /* the request's limit after clipping to the deadline; 0 = none */
    uint64_t wait_ms;               /* pause after this attempt (0 when none followed) */
    enum health_net net;            /* how the transfer ended */
    long status;                    /* HTTP status, 0 when no response arrived */
    bool body_matched;              /* expect_body found (true when no expect_body) */
    bool passed;                    /* status expected and body matched */
    bool retryable;                 /* a failure that health_should_retry() accepts */
    char reason[HEALTH_REASON_MAX]; /* "answered 503 (expected 2xx)", "no answer within 1.0s" */
};

struct health_result {
    bool healthy;
    enum health_stop stop;
    uint32_t attempts;        /* made, exact */
    long status;              /* last HTTP status, 0 when the last attempt got none */
    uint64_t elapsed_ms;      /* whole probe, waits included */
    struct health_attempt *v; /* owned: the first HEALTH_MAX_RECORDED - 1 attempts and the last one */
    size_t n, alloc;
};

#define HEALTH_RESULT_INIT                                                                                             \
    {                                                                                                                  \
        false, HEALTH_STOP_FATAL, 0, 0, 0, NULL, 0, 0                                                                  \
    }

/* An injectable clock; NULL means dd_now_ms/dd_sleep_ms. sleep_ms returns -1 when interrupted. */
struct health_clock {
    uint64_t (*now_ms)(void *arg);
    int (*sleep_ms)(void *arg, uint64_t ms);
    void *arg;
};

/*
 * libcurl's process-wide state: it starts on the first request (DD_EHTTP when it cannot, e.g.
 * its TLS library failed); main() calls health_global_cleanup at the end, which does nothing
 * unless it started.
 */
void health_global_cleanup(void);

/*
 * Probe until healthy or given up. Returns 0 when healthy, else -1 with err set (see top). *out
 * is filled either way (released first), so callers can report the attempts of a failure.
 */
int health_probe(struct health_result *out, const struct health_opts *o, const struct health_clock *clock,
                 struct dd_error *err);
void health_result_release(struct health_result *r);

/* One webhook POST of health_post_all(): the inputs are borrowed, the rest is filled. */
struct health_post {
    const char *url;  /* http:// or https://; may hold secrets, so never put into detail */
    const char *body; /* sent as application/json */
    size_t body_len;
    enum health_net net;            /* how the transfer ended (HEALTH_NET_OK: a response arrived) */
    long status;                    /* HTTP status, 0 when none arrived */
    uint64_t ms;                    /* time until it ended */
    bool done;                      /* the transfer ended before the time limit */
    char detail[HEALTH_REASON_MAX]; /* libcurl's message for a failed transfer, "" otherwise */
};

/*
 * POST every entry at once (libcurl's multi interface), all within timeout_ms in total, so a
 * receiver that hangs costs timeout_ms once however many there are. One attempt each, no
 * redirects, TLS verification on (ca_file NULL = the system bundle), http and https only. A
 * pending SIGINT/SIGTERM does not cut it short: the failure notification of an interrupted
 * deployment must still go out, and timeout_ms bounds the wait. It never fails as such: each
 * entry says what happened to it.
 */
void health_post_all(struct health_post *v, size_t n, uint64_t timeout_ms, const char *ca_file);

/* Pure rules, exposed for unit tests and for callers that want to explain them. */

/* The wait after failed attempt n (1-based): backoff * 2^(n-1) capped at max_backoff, saturating. */
uint64_t health_backoff_ms(uint32_t attempt, const struct health_opts *o);
/* Whether a failed attempt is worth repeating: timeouts, connection failures, 408, 429, 5xx. */
bool health_should_retry(enum health_net net, long status);
/* Time left before the deadline after elapsed ms; UINT64_MAX when there is no deadline. */
uint64_t health_time_left(const struct health_opts *o, uint64_t elapsed_ms);
/* The next request's timeout: timeout_ms clipped to left (0 = unlimited, only when both are). */
uint64_t health_request_timeout_ms(const struct health_opts *o, uint64_t left_ms);
/*
 * After failed attempt n with elapsed ms gone: 0 = stop (with *stop set), 1 = wait *wait_ms and
 * try again. The wait is clipped so that HEALTH_MIN_ATTEMPT_MS remain for the next attempt; with
 * that little or less left, the probe stops (so a shortened wait is always followed by a last try).
 */
int health_next(uint64_t *wait_ms, enum health_stop *stop, const struct health_opts *o, uint32_t attempt,
                bool retryable, uint64_t elapsed_ms);
/*
 * Split "Name: value" into the name (line[0..*name_len)) and the value (*value, borrowed, leading
 * blanks skipped). -1 when there is no ':', the name is not an HTTP token, or the line holds CR,
 * LF or NUL-like control characters (which would let a value inject headers).
 */
int health_header_split(const char *line, size_t *name_len, const char **value);
/* Classify a CURLcode (passed as int so callers need not include curl.h). */
enum health_net health_net_from_curl(int curl_code);
/* "ok", "timeout", "connect", ... for --json and messages. */
const char *health_net_name(enum health_net net);
/* "healthy", "fatal", "retries", "deadline", "interrupted". */
const char *health_stop_name(enum health_stop stop);

#endif
