#include "health/health.h"

#include <stdarg.h>
#include <stdio.h>

#include "health/internal.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/interrupt.h"
#include "util/out.h"

static uint64_t real_now(void *arg)
{
    (void)arg;
    return dd_now_ms();
}

static int real_sleep(void *arg, uint64_t ms)
{
    (void)arg;
    return dd_sleep_ms(ms);
}

static const struct health_clock real_clock = {real_now, real_sleep, NULL};

static const char *method_of(const struct health_opts *o)
{
    return o->method ? o->method : "GET";
}

static const char *expected_of(const struct health_opts *o)
{
    return o->expect_status_text ? o->expect_status_text : "2xx";
}

/* " in pipeline/prod.conf" for hints, or "" when the options did not come from a file */
static const char *in_source(const struct health_opts *o, char *buf, size_t bufsz)
{
    if (!o->source)
        return "";
    snprintf(buf, bufsz, " in %s", o->source);
    return buf;
}

static void format_secs(char *out, size_t outsz, uint64_t ms)
{
    snprintf(out, outsz, "%.1fs", (double)ms / 1000.0);
}

#define REASON_REFUSED "connection refused" /* set_error() words this case its own way */

static bool is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* Reasons are short by design; a longer libcurl message is cut rather than grown without bound. */
static void set_reason(struct health_attempt *a, const char *fmt, ...) DD_PRINTF(2, 3);
static void set_reason(struct health_attempt *a, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
    va_end(ap);
}

/* The attempt's one-line reason, without secrets: header values never reach a response. */
static void describe_attempt(struct health_attempt *a, const struct health_opts *o, const struct health_response *r)
{
    char secs[32];
    const char *detail = r->detail[0] ? r->detail : "no detail from libcurl";

    switch (r->net) {
    case HEALTH_NET_OK:
        if (!dd_status_set_has(&o->expect_status, r->status))
            set_reason(a, "answered %ld (expected %s%s)", r->status, expected_of(o),
                       is_redirect(r->status) && !o->follow_redirects ? "; redirects are not followed" : "");
        else if (!r->body_matched)
            set_reason(a, "answered %ld without '%.60s' in the body", r->status, o->expect_body);
        else
            set_reason(a, "answered %ld", r->status);
        break;
    case HEALTH_NET_TIMEOUT:
        format_secs(secs, sizeof(secs), a->duration_ms);
        set_reason(a, "no answer within %s", secs);
        break;
    case HEALTH_NET_CONNECT:
        if (r->refused)
            set_reason(a, REASON_REFUSED);
        else
            set_reason(a, "cannot connect: %s", detail);
        break;
    case HEALTH_NET_RESOLVE:
        set_reason(a, "cannot resolve the host: %s", detail);
        break;
    case HEALTH_NET_TLS:
        set_reason(a, "TLS error: %s", detail);
        break;
    case HEALTH_NET_BAD_URL:
        set_reason(a, "unusable URL: %s", detail);
        break;
    case HEALTH_NET_REDIRECTS:
        set_reason(a, "more than %d redirects", HEALTH_MAX_REDIRECTS);
        break;
    case HEALTH_NET_INTERRUPTED:
        set_reason(a, "interrupted");
        break;
    case HEALTH_NET_OTHER:
        set_reason(a, "%s", detail);
        break;
    }
}

/* Keep the first attempts and always the latest, which is what a report needs most. */
static void record(struct health_result *out, const struct health_attempt *a)
{
    if (out->n >= HEALTH_MAX_RECORDED) {
        out->v[out->n - 1] = *a;
        return;
    }
    DD_ALLOC_GROW(out->v, out->n + 1, out->alloc);
    out->v[out->n++] = *a;
}

/* -v: one line per attempt, with what happens next */
static void log_attempt(const struct health_opts *o, const struct health_attempt *a, bool retrying,
                        enum health_stop stop)
{
    char took[32], wait[32];
    const char *next;

    format_secs(took, sizeof(took), a->duration_ms);
    dd_format_duration(wait, sizeof(wait), a->wait_ms);
    if (a->passed)
        next = "";
    else if (retrying)
        next = "; retrying in ";
    else if (stop == HEALTH_STOP_FATAL)
        next = "; not retried";
    else if (stop == HEALTH_STOP_RETRIES)
        next = "; no retries left";
    else if (stop == HEALTH_STOP_DEADLINE)
        next = "; deadline reached";
    else
        next = "; interrupted";
    log_detail("health: attempt %u/%llu %s: %s %s in %s%s%s", a->n, (unsigned long long)o->retries + 1,
               a->passed ? "ok" : "failed", method_of(o), a->reason, took, next, retrying ? wait : "");
    if (retrying)
        out_progress("health: attempt %u failed (%s), retrying in %s", a->n, a->reason, wait);
}

static void set_hint(struct dd_error *err, const struct health_opts *o, const struct health_attempt *last,
                     enum health_stop stop)
{
    char src[256];
    const char *in = in_source(o, src, sizeof(src));

    if (last->net == HEALTH_NET_OK && dd_status_set_has(&o->expect_status, last->status))
        dd_error_hint(err,
                      "The status was right but the body was not; check [health] expect-body%s against what "
                      "the application's health endpoint returns.",
                      in);
    else if (last->net == HEALTH_NET_OK && is_redirect(last->status) && !o->follow_redirects)
        dd_error_hint(err,
                      "The endpoint redirects; point [health] url at the final address, or set "
                      "follow-redirects = true%s.",
                      in);
    else if (last->net == HEALTH_NET_OK && (last->status == 401 || last->status == 403))
        dd_error_hint(err,
                      "The endpoint rejected the request; check the [health] header lines%s and the "
                      "variables they use.",
                      in);
    else if (last->net == HEALTH_NET_OK && !last->retryable)
        dd_error_hint(err, "Only 408, 429 and 5xx answers are retried; check [health] url and expect-status%s.", in);
    else if (stop == HEALTH_STOP_DEADLINE)
        dd_error_hint(err,
                      "The endpoint was not healthy before the deadline; check the application, or allow "
                      "longer with [health] deadline%s.",
                      in);
    else if (stop == HEALTH_STOP_RETRIES)
        dd_error_hint(err,
                      "The endpoint kept failing; check the application, or allow longer with [health] "
                      "retries and deadline%s.",
                      in);
    else if (last->net == HEALTH_NET_TLS && strstr(last->reason, "host name"))
        dd_error_hint(err,
                      "The server's certificate does not name the host in [health] url%s; use a name the "
                      "certificate was issued for.",
                      in);
    else if (last->net == HEALTH_NET_TLS)
        dd_error_hint(err,
                      "Set [health] ca-file%s to the CA bundle that signed the server's certificate; "
                      "verification cannot be turned off.",
                      in);
    else if (last->net == HEALTH_NET_BAD_URL && strstr(last->reason, "from https to http"))
        dd_error_hint(err,
                      "The endpoint redirects to plain http, which would expose the request and its headers; "
                      "point [health] url%s at an address that stays on https.",
                      in);
    else if (last->net == HEALTH_NET_RESOLVE || last->net == HEALTH_NET_BAD_URL)
        dd_error_hint(err, "Check the host and scheme of [health] url%s.", in);
    else if (last->net == HEALTH_NET_REDIRECTS)
        dd_error_hint(err, "Point [health] url%s at the final address instead of a redirect chain.", in);
    else
        dd_error_hint(err, "Check that the application is running and that [health] url%s names it.", in);
}

/* "health check failed: GET <url> answered 503 after 4 attempts in 12.3s (expected 2xx)" */
static void set_error(struct dd_error *err, const struct health_opts *o, const struct health_result *res,
                      const struct health_attempt *last)
{
    struct dd_buf b = DD_BUF_INIT;
    char secs[32];
    bool status_wrong = last->net == HEALTH_NET_OK && !dd_status_set_has(&o->expect_status, last->status);
    bool other = false;

    format_secs(secs, sizeof(secs), res->elapsed_ms);
    dd_buf_addf(&b, "health check failed: %s %s ", method_of(o), o->url);
    if (status_wrong)
        dd_buf_addf(&b, "answered %ld", last->status);
    else if (last->net == HEALTH_NET_OK)
        dd_buf_adds(&b, last->reason); /* the body did not match */
    else if (last->net == HEALTH_NET_TIMEOUT)
        dd_buf_adds(&b, "did not answer in time");
    else if (last->net == HEALTH_NET_CONNECT && !strcmp(last->reason, REASON_REFUSED))
        dd_buf_adds(&b, "refused the connection");
    else {
        dd_buf_adds(&b, "failed"); /* the reason follows at the end */
        other = true;
    }
    dd_buf_addf(&b, " after %u attempt%s in %s", res->attempts, res->attempts == 1 ? "" : "s", secs);
    if (status_wrong || res->stop == HEALTH_STOP_DEADLINE) {
        char dl[32];
        dd_format_duration(dl, sizeof(dl), o->deadline_ms);
        dd_buf_adds(&b, " (");
        if (status_wrong)
            dd_buf_addf(&b, "expected %s%s", expected_of(o),
                        is_redirect(last->status) && !o->follow_redirects ? "; redirects are not followed" : "");
        if (res->stop == HEALTH_STOP_DEADLINE)
            dd_buf_addf(&b, "%sdeadline %s reached", status_wrong ? "; " : "", dl);
        dd_buf_addch(&b, ')');
    }
    if (other)
        dd_buf_addf(&b, ": %s", last->reason);
    dd_error_set(err, DD_EHTTP, "%s", b.buf);
    set_hint(err, o, last, res->stop);
    dd_buf_release(&b);
}

int health_run(struct health_result *out, const struct health_opts *o, const struct health_clock *clock,
               const struct health_transport *t, struct dd_error *err)
{
    struct health_attempt last;
    uint64_t start;
    int rc = -1;

    health_result_release(out);
    memset(&last, 0, sizeof(last));
    if (!clock)
        clock = &real_clock;
    if (health_opts_check(o, err) < 0)
        return -1;

    start = clock->now_ms(clock->arg);
    for (uint32_t n = 1;; n++) {
        struct health_response r;
        uint64_t t0, left;

        if (dd_interrupt_pending()) {
            out->stop = HEALTH_STOP_INTERRUPTED;
            break;
        }
        memset(&last, 0, sizeof(last));
        memset(&r, 0, sizeof(r));
        t0 = clock->now_ms(clock->arg);
        left = health_time_left(o, t0 - start);
        last.n = n;
        last.start_ms = t0 - start;
        last.timeout_ms = health_request_timeout_ms(o, left);
        t->send(t->arg, o, last.timeout_ms, &r);
        last.duration_ms = clock->now_ms(clock->arg) - t0;
        last.net = r.net;
        last.status = r.net == HEALTH_NET_OK ? r.status : 0;
        last.body_matched = r.net == HEALTH_NET_OK && r.body_matched;
        last.passed = r.net == HEALTH_NET_OK && dd_status_set_has(&o->expect_status, r.status) && r.body_matched;
        last.retryable = !last.passed && health_should_retry(r.net, last.status);
        describe_attempt(&last, o, &r);
        out->attempts = n;
        out->status = last.status;

        if (last.passed) {
            out->stop = HEALTH_STOP_HEALTHY;
        } else if (r.net == HEALTH_NET_INTERRUPTED) {
            out->stop = HEALTH_STOP_INTERRUPTED;
        } else if (health_next(&last.wait_ms, &out->stop, o, n, last.retryable, clock->now_ms(clock->arg) - start)) {
            record(out, &last);
            log_attempt(o, &last, true, out->stop);
            if (clock->sleep_ms(clock->arg, last.wait_ms) < 0) {
                out->stop = HEALTH_STOP_INTERRUPTED;
                break;
            }
            continue;
        }
        record(out, &last);
        log_attempt(o, &last, false, out->stop);
        break;
    }
    out_progress_end();
    out->elapsed_ms = clock->now_ms(clock->arg) - start;
    out->healthy = out->stop == HEALTH_STOP_HEALTHY;

    if (out->healthy) {
        rc = 0;
    } else if (out->stop == HEALTH_STOP_INTERRUPTED) {
        char secs[32];
        format_secs(secs, sizeof(secs), out->elapsed_ms);
        dd_error_set(err, DD_EINTERRUPTED, "health check of %s %s interrupted after %u attempt%s in %s", method_of(o),
                     o->url, out->attempts, out->attempts == 1 ? "" : "s", secs);
    } else {
        set_error(err, o, out, &last);
    }
    return rc;
}

int health_probe(struct health_result *out, const struct health_opts *o, const struct health_clock *clock,
                 struct dd_error *err)
{
    struct health_http *http = NULL;
    struct health_transport t;
    int rc = -1;

    health_result_release(out);
    /* check first so a bad option is reported as such, not as a libcurl failure */
    if (health_opts_check(o, err) < 0 || health_http_new(&http, o, err) < 0)
        goto cleanup;
    t.send = health_http_send;
    t.arg = http;
    rc = health_run(out, o, clock, &t, err);
cleanup:
    health_http_free(http);
    return rc;
}

void health_result_release(struct health_result *r)
{
    if (!r)
        return;
    free(r->v);
    memset(r, 0, sizeof(*r));
    r->stop = HEALTH_STOP_FATAL;
}
