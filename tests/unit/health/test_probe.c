/*
 * The retry loop of health checks, driven through health/internal.h with a fake transport and a
 * fake clock: every schedule below is exact, and no test touches the network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "config/config.h"
#include "health/health.h"
#include "health/internal.h"
#include "util/interrupt.h"

#define FOREVER UINT64_MAX

/* One scripted answer: how the transfer ends and how long it takes (FOREVER = hangs). */
struct step {
    enum health_net net;
    long status;
    bool body_matched;
    uint64_t takes_ms;
};

struct fake {
    uint64_t now;
    const struct step *script;
    size_t n_steps, next;
    uint64_t timeouts[64]; /* what each request was allowed */
    size_t n_sends;
    uint64_t sleeps[64];
    size_t n_sleeps;
    size_t interrupt_on_sleep; /* 1-based sleep that gets "interrupted"; 0 = never */
};

static uint64_t fake_now(void *arg)
{
    return ((struct fake *)arg)->now;
}

static int fake_sleep(void *arg, uint64_t ms)
{
    struct fake *f = arg;

    if (f->n_sleeps < DD_ARRAY_SIZE(f->sleeps))
        f->sleeps[f->n_sleeps] = ms;
    f->n_sleeps++;
    if (f->interrupt_on_sleep && f->n_sleeps == f->interrupt_on_sleep) {
        dd_interrupt_raise(15);
        f->now += ms / 2;
        return -1;
    }
    f->now += ms;
    return 0;
}

/* Like a server: a step that takes longer than the timeout becomes a timeout at the limit. */
static void fake_send(void *arg, const struct health_opts *o, uint64_t timeout_ms, struct health_response *out)
{
    struct fake *f = arg;
    const struct step *s = &f->script[f->next < f->n_steps ? f->next : f->n_steps - 1];

    (void)o;
    f->next++;
    if (f->n_sends < DD_ARRAY_SIZE(f->timeouts))
        f->timeouts[f->n_sends] = timeout_ms;
    f->n_sends++;
    memset(out, 0, sizeof(*out));
    if (timeout_ms && s->takes_ms > timeout_ms) {
        f->now += timeout_ms;
        out->net = HEALTH_NET_TIMEOUT;
        return;
    }
    if (s->takes_ms == FOREVER)
        fail_msg("a hanging step needs a timeout");
    f->now += s->takes_ms;
    out->net = s->net;
    out->status = s->status;
    out->body_matched = s->body_matched;
    out->refused = s->net == HEALTH_NET_CONNECT;
    if (s->net != HEALTH_NET_OK)
        snprintf(out->detail, sizeof(out->detail), "scripted failure");
}

struct run {
    struct fake fake;
    struct health_result res;
    struct dd_error err;
    int rc;
};

static void run(struct run *r, const struct health_opts *o, const struct step *script, size_t n)
{
    struct health_clock clock = {fake_now, fake_sleep, &r->fake};
    struct health_transport t = {fake_send, &r->fake};

    r->fake.now = 1000000; /* the clock's origin must not matter */
    r->fake.script = script;
    r->fake.n_steps = n;
    r->rc = health_run(&r->res, o, &clock, &t, &r->err);
}

static struct run *new_run(void)
{
    struct run *r = calloc(1, sizeof(*r));
    struct dd_error e = DD_ERROR_INIT;
    struct health_result res = HEALTH_RESULT_INIT;

    r->err = e;
    r->res = res;
    return r;
}

static void free_run(struct run *r)
{
    health_result_release(&r->res);
    dd_error_release(&r->err);
    free(r);
    dd_interrupt_clear();
}

static struct health_opts opts(void)
{
    struct health_opts o;

    health_opts_init(&o);
    o.url = "http://127.0.0.1:8080/healthz";
    return o;
}

#define OK200                                                                                                          \
    {                                                                                                                  \
        HEALTH_NET_OK, 200, true, 20                                                                                   \
    }
#define S503                                                                                                           \
    {                                                                                                                  \
        HEALTH_NET_OK, 503, true, 10                                                                                   \
    }
#define REFUSED                                                                                                        \
    {                                                                                                                  \
        HEALTH_NET_CONNECT, 0, false, 0                                                                                \
    }
#define HANG                                                                                                           \
    {                                                                                                                  \
        HEALTH_NET_OK, 200, true, FOREVER                                                                              \
    }
#define RUN(r, o, s) run(r, o, s, DD_ARRAY_SIZE(s))

static void assert_contains(const char *haystack, const char *needle)
{
    if (!haystack || !strstr(haystack, needle))
        fail_msg("'%s' does not contain '%s'", haystack ? haystack : "(null)", needle);
}

static void test_healthy_first_try_makes_one_attempt(void **state)
{
    struct health_opts o = opts();
    const struct step script[] = {OK200};
    struct run *r = new_run();

    (void)state;
    RUN(r, &o, script);
    assert_int_equal(r->rc, 0);
    assert_false(dd_error_isset(&r->err));
    assert_true(r->res.healthy);
    assert_int_equal(r->res.stop, HEALTH_STOP_HEALTHY);
    assert_int_equal(r->res.attempts, 1);
    assert_int_equal(r->res.status, 200);
    assert_int_equal(r->res.elapsed_ms, 20);
    assert_int_equal(r->fake.n_sleeps, 0);
    assert_int_equal(r->fake.timeouts[0], 5000);
    assert_int_equal(r->res.n, 1);
    assert_string_equal(r->res.v[0].reason, "answered 200");
    free_run(r);
}

static void test_503_then_200_passes_after_backoff(void **state)
{
    struct health_opts o = opts();
    const struct step script[] = {S503, S503, OK200};
    struct run *r = new_run();

    (void)state;
    RUN(r, &o, script);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->res.attempts, 3);
    assert_int_equal(r->fake.n_sleeps, 2);
    assert_int_equal(r->fake.sleeps[0], 500);
    assert_int_equal(r->fake.sleeps[1], 1000);
    assert_int_equal(r->res.elapsed_ms, 10 + 500 + 10 + 1000 + 20);
    assert_int_equal(r->res.v[0].status, 503);
    assert_true(r->res.v[0].retryable);
    assert_int_equal(r->res.v[0].wait_ms, 500);
    assert_int_equal(r->res.v[1].start_ms, 510);
    assert_int_equal(r->res.v[2].wait_ms, 0);
    free_run(r);
}

static void test_always_503_uses_every_retry(void **state)
{
    struct health_opts o = opts();
    const struct step script[] = {S503};
    struct run *r = new_run();

    (void)state;
    o.retries = 3;
    RUN(r, &o, script);
    assert_int_equal(r->rc, -1);
    assert_int_equal(r->err.code, DD_EHTTP);
    assert_int_equal(r->res.stop, HEALTH_STOP_RETRIES);
    assert_int_equal(r->res.attempts, 4);
    assert_int_equal(r->fake.n_sleeps, 3);
    assert_int_equal(r->fake.sleeps[2], 2000);
    assert_int_equal(r->res.status, 503);
    assert_string_equal(dd_error_msg(&r->err), "health check failed: GET http://127.0.0.1:8080/healthz answered 503 "
                                               "after 4 attempts in 3.5s (expected 2xx)");
    assert_contains(r->err.hint, "retries and deadline");
    free_run(r);
}

static void test_404_fails_at_once(void **state)
{
    struct health_opts o = opts();
    const struct step script[] = {{HEALTH_NET_OK, 404, true, 5}, OK200};
    struct run *r = new_run();

    (void)state;
    o.source = "pipeline/prod.conf";
    RUN(r, &o, script);
    assert_int_equal(r->rc, -1);
    assert_int_equal(r->err.code, DD_EHTTP);
    assert_int_equal(r->res.stop, HEALTH_STOP_FATAL);
    assert_int_equal(r->res.attempts, 1);
    assert_int_equal(r->fake.n_sleeps, 0);
    assert_false(r->res.v[0].retryable);
    assert_contains(dd_error_msg(&r->err), "answered 404 after 1 attempt in 0.0s (expected 2xx)");
    assert_contains(r->err.hint, "in pipeline/prod.conf");
    free_run(r);
}

static void test_401_is_not_retried_and_hints_at_headers(void **state)
{
    struct health_opts o = opts();
    const struct step script[] = {{HEALTH_NET_OK, 401, true, 5}};
    struct run *r = new_run();

    (void)state;
    RUN(r, &o, script);
    assert_int_equal(r->res.attempts, 1);
    assert_contains(r->err.hint, "[health] header");
    free_run(r);
}

static void test_body_mismatch_fails_at_once(void **state)
{
    struct health_opts o = opts();
    const struct step script[] = {{HEALTH_NET_OK, 200, false, 5}, OK200};
    struct run *r = new_run();

    (void)state;
    o.expect_body = "\"status\":\"up\"";
    RUN(r, &o, script);
    assert_int_equal(r->rc, -1);
    assert_int_equal(r->res.attempts, 1);
    assert_false(r->res.v[0].body_matched);
    assert_contains(dd_error_msg(&r->err), "answered 200 without '\"status\":\"up\"' in the body after 1 attempt");
    assert_contains(r->err.hint, "expect-body");
    free_run(r);
}

static void test_the_expected_set_decides_what_passes(void **state)
{
    struct health_opts o = opts();
    const struct step teapot[] = {{HEALTH_NET_OK, 418, true, 5}};
    const struct step no_content[] = {{HEALTH_NET_OK, 204, true, 5}, {HEALTH_NET_OK, 418, true, 5}};
    struct run *r = new_run();

    (void)state;
    assert_int_equal(dd_parse_status_set("418", &o.expect_status), 0);
    o.expect_status_text = "418";
    RUN(r, &o, teapot);
    assert_int_equal(r->rc, 0);
    free_run(r);

    /* 204 is not in {418} and is not worth retrying: it fails at once */
    r = new_run();
    RUN(r, &o, no_content);
    assert_int_equal(r->rc, -1);
    assert_int_equal(r->res.attempts, 1);
    assert_contains(dd_error_msg(&r->err), "answered 204 after 1 attempt in 0.0s (expected 418)");
    free_run(r);
}

static void test_redirect_is_not_followed_and_says_so(void **state)
{
    struct health_opts o = opts();
    const struct step script[] = {{HEALTH_NET_OK, 302, true, 5}};
    struct run *r = new_run();

    (void)state;
    RUN(r, &o, script);
    assert_int_equal(r->res.attempts, 1);
    assert_contains(dd_error_msg(&r->err), "answered 302");
    assert_contains(dd_error_msg(&r->err), "redirects are not followed");
    assert_contains(r->err.hint, "follow-redirects = true");
    free_run(r);
}

static void test_hang_clips_request_timeouts_to_the_deadline(void **state)
{
    struct health_opts o = opts();
    const struct step script[] = {HANG};
    struct run *r = new_run();

    (void)state;
    o.timeout_ms = 5000;
    o.deadline_ms = 12000;
    RUN(r, &o, script);
    /* 0-5000 timeout, wait 500, 5500-10500 timeout, wait 1000, 11500-12000 (clipped) timeout */
    assert_int_equal(r->rc, -1);
    assert_int_equal(r->res.stop, HEALTH_STOP_DEADLINE);
    assert_int_equal(r->res.attempts, 3);
    assert_int_equal(r->fake.timeouts[0], 5000);
    assert_int_equal(r->fake.timeouts[1], 5000);
    assert_int_equal(r->fake.timeouts[2], 500);
    assert_int_equal(r->fake.sleeps[0], 500);
    assert_int_equal(r->fake.sleeps[1], 1000);
    assert_int_equal(r->res.elapsed_ms, 12000);
    assert_int_equal(r->res.v[0].net, HEALTH_NET_TIMEOUT);
    assert_string_equal(dd_error_msg(&r->err), "health check failed: GET http://127.0.0.1:8080/healthz did not "
                                               "answer in time after 3 attempts in 12.0s (deadline 12s reached)");
    free_run(r);
}

static void test_deadline_is_never_exceeded(void **state)
{
    const uint64_t deadlines[] = {100, 250, 251, 999, 1000, 3700, 12345, 60000};
    const uint64_t timeouts[] = {0, 1, 300, 1000, 5000};

    (void)state;
    for (size_t d = 0; d < DD_ARRAY_SIZE(deadlines); d++) {
        for (size_t t = 0; t < DD_ARRAY_SIZE(timeouts); t++) {
            struct health_opts o = opts();
            const struct step hang[] = {HANG};
            const struct step refused[] = {{HEALTH_NET_CONNECT, 0, false, 3}};
            struct run *r = new_run();

            o.deadline_ms = deadlines[d];
            o.timeout_ms = timeouts[t];
            o.retries = 1000;
            RUN(r, &o, hang);
            assert_true(r->res.elapsed_ms <= deadlines[d]);
            assert_int_equal(r->res.stop, HEALTH_STOP_DEADLINE);
            free_run(r);

            r = new_run();
            RUN(r, &o, refused);
            assert_true(r->res.elapsed_ms <= deadlines[d]);
            /* a refused connection is retried until no attempt fits any more */
            assert_true(r->res.elapsed_ms + HEALTH_MIN_ATTEMPT_MS + 3 >= deadlines[d] ||
                        deadlines[d] <= HEALTH_MIN_ATTEMPT_MS);
            assert_int_equal(r->res.stop, HEALTH_STOP_DEADLINE);
            free_run(r);
        }
    }
}

static void test_refused_is_retried_with_the_last_wait_shortened(void **state)
{
    struct health_opts o = opts();
    const struct step script[] = {REFUSED};
    struct run *r = new_run();

    (void)state;
    o.deadline_ms = 2000;
    o.backoff_ms = 1000;
    RUN(r, &o, script);
    /* 0 refused, wait 1000; 1000 refused, wait 2000 shortened to 750; 1750 refused; 250 left: stop */
    assert_int_equal(r->res.attempts, 3);
    assert_int_equal(r->fake.n_sleeps, 2);
    assert_int_equal(r->fake.sleeps[1], 750);
    assert_int_equal(r->fake.timeouts[2], 250);
    assert_int_equal(r->res.elapsed_ms, 1750);
    assert_int_equal(r->res.stop, HEALTH_STOP_DEADLINE);
    assert_string_equal(r->res.v[2].reason, "connection refused");
    assert_contains(dd_error_msg(&r->err), "refused the connection after 3 attempts in 1.8s (deadline 2s reached)");
    free_run(r);
}

static void test_retries_zero_means_one_attempt(void **state)
{
    struct health_opts o = opts();
    const struct step script[] = {S503, OK200};
    struct run *r = new_run();

    (void)state;
    o.retries = 0;
    RUN(r, &o, script);
    assert_int_equal(r->rc, -1);
    assert_int_equal(r->res.attempts, 1);
    assert_int_equal(r->res.stop, HEALTH_STOP_RETRIES);
    assert_contains(dd_error_msg(&r->err), "after 1 attempt in");
    free_run(r);
}

static void test_without_deadline_retries_alone_bound_the_probe(void **state)
{
    struct health_opts o = opts();
    const struct step script[] = {S503};
    struct run *r = new_run();

    (void)state;
    o.deadline_ms = 0;
    o.retries = 6;
    RUN(r, &o, script);
    assert_int_equal(r->res.attempts, 7);
    /* 500 1000 2000 4000 5000 5000: doubling, then capped */
    assert_int_equal(r->fake.sleeps[3], 4000);
    assert_int_equal(r->fake.sleeps[4], 5000);
    assert_int_equal(r->fake.sleeps[5], 5000);
    assert_int_equal(r->fake.timeouts[6], 5000);
    free_run(r);
}

static void test_timeouts_and_429_are_retried_tls_is_not(void **state)
{
    struct health_opts o = opts();
    const struct step retried[] = {
        {HEALTH_NET_TIMEOUT, 0, false, 5}, {HEALTH_NET_OK, 429, true, 5}, {HEALTH_NET_OK, 408, true, 5}, OK200};
    const struct step tls[] = {{HEALTH_NET_TLS, 0, false, 5}, OK200};
    struct run *r = new_run();

    (void)state;
    RUN(r, &o, retried);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->res.attempts, 4);
    free_run(r);

    r = new_run();
    RUN(r, &o, tls);
    assert_int_equal(r->rc, -1);
    assert_int_equal(r->res.attempts, 1);
    assert_contains(dd_error_msg(&r->err), "failed after 1 attempt in 0.0s: TLS error: scripted failure");
    assert_contains(r->err.hint, "ca-file");
    free_run(r);
}

static void test_interrupt_during_a_wait_stops_the_probe(void **state)
{
    struct health_opts o = opts();
    const struct step script[] = {S503};
    struct run *r = new_run();

    (void)state;
    r->fake.interrupt_on_sleep = 2;
    RUN(r, &o, script);
    assert_int_equal(r->rc, -1);
    assert_int_equal(r->err.code, DD_EINTERRUPTED);
    assert_int_equal(r->res.stop, HEALTH_STOP_INTERRUPTED);
    assert_int_equal(r->res.attempts, 2);
    assert_contains(dd_error_msg(&r->err), "interrupted after 2 attempts");
    free_run(r);
}

static void test_pending_interrupt_prevents_any_attempt(void **state)
{
    struct health_opts o = opts();
    const struct step script[] = {OK200};
    struct run *r = new_run();

    (void)state;
    dd_interrupt_raise(2);
    RUN(r, &o, script);
    assert_int_equal(r->rc, -1);
    assert_int_equal(r->err.code, DD_EINTERRUPTED);
    assert_int_equal(r->res.attempts, 0);
    assert_int_equal(r->fake.n_sends, 0);
    free_run(r);
}

static void test_interrupted_transfer_is_not_retried(void **state)
{
    struct health_opts o = opts();
    const struct step script[] = {{HEALTH_NET_INTERRUPTED, 0, false, 5}, OK200};
    struct run *r = new_run();

    (void)state;
    RUN(r, &o, script);
    assert_int_equal(r->err.code, DD_EINTERRUPTED);
    assert_int_equal(r->res.attempts, 1);
    free_run(r);
}

static void test_header_values_never_reach_messages(void **state)
{
    struct health_opts o = opts();
    struct dd_strv headers = DD_STRV_INIT;
    const struct step script[] = {{HEALTH_NET_OK, 401, true, 5}};
    struct run *r = new_run();

    (void)state;
    dd_strv_push(&headers, "Authorization: Bearer s3cr3t-t0ken");
    o.headers = &headers;
    RUN(r, &o, script);
    assert_int_equal(r->rc, -1);
    assert_null(strstr(dd_error_msg(&r->err), "s3cr3t"));
    assert_null(strstr(r->err.hint, "s3cr3t"));
    for (size_t i = 0; i < r->res.n; i++)
        assert_null(strstr(r->res.v[i].reason, "s3cr3t"));
    free_run(r);

    /* a malformed header is named by its name only */
    dd_strv_clear(&headers);
    dd_strv_push(&headers, "X-Token: s3cr3t\r\nX-Admin: yes");
    r = new_run();
    RUN(r, &o, script);
    assert_int_equal(r->err.code, DD_ECONFIG);
    assert_contains(dd_error_msg(&r->err), "'X-Token'");
    assert_null(strstr(dd_error_msg(&r->err), "s3cr3t"));
    free_run(r);

    dd_strv_clear(&headers);
    dd_strv_push(&headers, "Bearer s3cr3t-without-a-name");
    r = new_run();
    RUN(r, &o, script);
    assert_int_equal(r->err.code, DD_ECONFIG);
    assert_string_equal(dd_error_msg(&r->err), "[health] header #1: no ':' between the name and the value");
    free_run(r);
    dd_strv_release(&headers);
}

static void test_options_that_cannot_work_are_config_errors(void **state)
{
    const struct step script[] = {OK200};
    struct health_opts o = opts();
    struct run *r = new_run();

    (void)state;
    o.url = NULL;
    o.source = "pipeline/prod.conf";
    RUN(r, &o, script);
    assert_int_equal(r->err.code, DD_ECONFIG);
    assert_string_equal(dd_error_msg(&r->err), "pipeline/prod.conf: [health] url is not set");
    assert_int_equal(r->fake.n_sends, 0);
    free_run(r);

    o = opts();
    o.url = "ftp://example.com/health";
    r = new_run();
    RUN(r, &o, script);
    assert_int_equal(r->err.code, DD_ECONFIG);
    assert_contains(dd_error_msg(&r->err), "'ftp://example.com/health' is not an http:// or https:// URL");
    free_run(r);

    o = opts();
    o.method = "HEAD";
    o.expect_body = "ok";
    r = new_run();
    RUN(r, &o, script);
    assert_int_equal(r->err.code, DD_ECONFIG);
    assert_contains(dd_error_msg(&r->err), "[health] expect-body: cannot be checked with method HEAD");
    free_run(r);

    o = opts();
    o.method = "POST";
    r = new_run();
    RUN(r, &o, script);
    assert_int_equal(r->err.code, DD_ECONFIG);
    free_run(r);

    o = opts();
    o.ca_file = "/nonexistent/dbdeploy-test-ca.pem";
    r = new_run();
    RUN(r, &o, script);
    assert_int_equal(r->err.code, DD_ECONFIG);
    assert_contains(dd_error_msg(&r->err), "[health] ca-file: cannot read '/nonexistent/dbdeploy-test-ca.pem'");
    assert_int_equal(r->fake.n_sends, 0);
    free_run(r);

    o = opts();
    o.url = "HTTPS://EXAMPLE.COM/health";
    r = new_run();
    RUN(r, &o, script);
    assert_int_equal(r->rc, 0);
    free_run(r);
}

static void test_result_lists_the_first_and_the_last_attempts(void **state)
{
    struct health_opts o = opts();
    const struct step script[] = {{HEALTH_NET_OK, 503, true, 0}};
    struct run *r = new_run();

    (void)state;
    o.retries = HEALTH_MAX_RECORDED + 9;
    o.deadline_ms = 0;
    o.backoff_ms = 0;
    RUN(r, &o, script);
    assert_int_equal(r->res.attempts, HEALTH_MAX_RECORDED + 10);
    assert_int_equal(r->res.n, HEALTH_MAX_RECORDED);
    assert_int_equal(r->res.v[0].n, 1);
    assert_int_equal(r->res.v[HEALTH_MAX_RECORDED - 2].n, HEALTH_MAX_RECORDED - 1);
    assert_int_equal(r->res.v[HEALTH_MAX_RECORDED - 1].n, HEALTH_MAX_RECORDED + 10);
    free_run(r);
}

static void test_opts_from_config_borrows_every_setting(void **state)
{
    struct dd_config *cfg = calloc(1, sizeof(*cfg));
    struct health_opts o;

    (void)state;
    cfg->env_file = "pipeline/prod.conf";
    cfg->health.url = "https://app/healthz";
    cfg->health.method = "HEAD";
    assert_int_equal(dd_parse_status_set("200,204", &cfg->health.expect_status), 0);
    cfg->health.expect_status_text = "200,204";
    cfg->health.expect_body = "up";
    dd_strv_init(&cfg->health.headers);
    cfg->health.timeout_ms = 1;
    cfg->health.deadline_ms = 2;
    cfg->health.retries = 3;
    cfg->health.backoff_ms = 4;
    cfg->health.max_backoff_ms = 5;
    cfg->health.ca_file = "/etc/ca.pem";
    cfg->health.follow_redirects = true;
    health_opts_from_config(&o, cfg);
    assert_ptr_equal(o.url, cfg->health.url);
    assert_string_equal(o.method, "HEAD");
    assert_true(dd_status_set_has(&o.expect_status, 204));
    assert_false(dd_status_set_has(&o.expect_status, 201));
    assert_string_equal(o.expect_status_text, "200,204");
    assert_string_equal(o.expect_body, "up");
    assert_ptr_equal(o.headers, &cfg->health.headers);
    assert_int_equal(o.timeout_ms, 1);
    assert_int_equal(o.deadline_ms, 2);
    assert_int_equal(o.retries, 3);
    assert_int_equal(o.backoff_ms, 4);
    assert_int_equal(o.max_backoff_ms, 5);
    assert_string_equal(o.ca_file, "/etc/ca.pem");
    assert_true(o.follow_redirects);
    assert_string_equal(o.source, "pipeline/prod.conf");
    free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthy_first_try_makes_one_attempt),
        cmocka_unit_test(test_503_then_200_passes_after_backoff),
        cmocka_unit_test(test_always_503_uses_every_retry),
        cmocka_unit_test(test_404_fails_at_once),
        cmocka_unit_test(test_401_is_not_retried_and_hints_at_headers),
        cmocka_unit_test(test_body_mismatch_fails_at_once),
        cmocka_unit_test(test_the_expected_set_decides_what_passes),
        cmocka_unit_test(test_redirect_is_not_followed_and_says_so),
        cmocka_unit_test(test_hang_clips_request_timeouts_to_the_deadline),
        cmocka_unit_test(test_deadline_is_never_exceeded),
        cmocka_unit_test(test_refused_is_retried_with_the_last_wait_shortened),
        cmocka_unit_test(test_retries_zero_means_one_attempt),
        cmocka_unit_test(test_without_deadline_retries_alone_bound_the_probe),
        cmocka_unit_test(test_timeouts_and_429_are_retried_tls_is_not),
        cmocka_unit_test(test_interrupt_during_a_wait_stops_the_probe),
        cmocka_unit_test(test_pending_interrupt_prevents_any_attempt),
        cmocka_unit_test(test_interrupted_transfer_is_not_retried),
        cmocka_unit_test(test_header_values_never_reach_messages),
        cmocka_unit_test(test_options_that_cannot_work_are_config_errors),
        cmocka_unit_test(test_result_lists_the_first_and_the_last_attempts),
        cmocka_unit_test(test_opts_from_config_borrows_every_setting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
