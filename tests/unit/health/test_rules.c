/* The pure health-check rules: backoff, what retries, deadline clipping, headers, status sets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "health/health.h"
#include "util/parse.h"

static struct health_opts opts(void)
{
    struct health_opts o;

    health_opts_init(&o);
    o.url = "http://127.0.0.1:1/healthz";
    return o;
}

static void test_defaults_match_the_config_defaults(void **state)
{
    struct health_opts o = opts();

    (void)state;
    assert_string_equal(o.method, "GET");
    assert_string_equal(o.expect_status_text, "2xx");
    assert_int_equal(o.timeout_ms, 5000);
    assert_int_equal(o.deadline_ms, 60000);
    assert_int_equal(o.retries, 10);
    assert_int_equal(o.backoff_ms, 500);
    assert_int_equal(o.max_backoff_ms, 5000);
    assert_false(o.follow_redirects);
    assert_true(dd_status_set_has(&o.expect_status, 200));
    assert_true(dd_status_set_has(&o.expect_status, 299));
    assert_false(dd_status_set_has(&o.expect_status, 300));
}

static void test_backoff_doubles_then_caps(void **state)
{
    struct health_opts o = opts();
    const uint64_t want[] = {500, 1000, 2000, 4000, 5000, 5000, 5000};

    (void)state;
    for (uint32_t n = 1; n <= DD_ARRAY_SIZE(want); n++)
        assert_int_equal(health_backoff_ms(n, &o), want[n - 1]);
}

static void test_backoff_cap_below_first_wait_wins(void **state)
{
    struct health_opts o = opts();

    (void)state;
    o.backoff_ms = 500;
    o.max_backoff_ms = 200;
    assert_int_equal(health_backoff_ms(1, &o), 200);
    assert_int_equal(health_backoff_ms(5, &o), 200);
}

static void test_backoff_without_cap_saturates(void **state)
{
    struct health_opts o = opts();

    (void)state;
    o.backoff_ms = 1000;
    o.max_backoff_ms = 0;
    assert_int_equal(health_backoff_ms(11, &o), 1024000);
    assert_true(health_backoff_ms(200, &o) == UINT64_MAX);
    assert_true(health_backoff_ms(UINT32_MAX, &o) == UINT64_MAX);
}

static void test_backoff_zero_stays_zero(void **state)
{
    struct health_opts o = opts();

    (void)state;
    o.backoff_ms = 0;
    assert_int_equal(health_backoff_ms(1, &o), 0);
    assert_int_equal(health_backoff_ms(30, &o), 0);
}

static void test_retry_on_timeout_and_connection_failure(void **state)
{
    (void)state;
    assert_true(health_should_retry(HEALTH_NET_TIMEOUT, 0));
    assert_true(health_should_retry(HEALTH_NET_CONNECT, 0));
}

static void test_retry_on_408_429_and_5xx_only(void **state)
{
    const long retried[] = {408, 429, 500, 502, 503, 504, 599};
    const long final[] = {200, 204, 301, 302, 304, 400, 401, 403, 404, 410, 418, 428, 430, 499};

    (void)state;
    for (size_t i = 0; i < DD_ARRAY_SIZE(retried); i++)
        assert_true(health_should_retry(HEALTH_NET_OK, retried[i]));
    for (size_t i = 0; i < DD_ARRAY_SIZE(final); i++)
        assert_false(health_should_retry(HEALTH_NET_OK, final[i]));
}

static void test_no_retry_for_tls_dns_url_redirects_or_resets(void **state)
{
    (void)state;
    assert_false(health_should_retry(HEALTH_NET_TLS, 0));
    assert_false(health_should_retry(HEALTH_NET_RESOLVE, 0));
    assert_false(health_should_retry(HEALTH_NET_BAD_URL, 0));
    assert_false(health_should_retry(HEALTH_NET_REDIRECTS, 0));
    assert_false(health_should_retry(HEALTH_NET_INTERRUPTED, 0));
    assert_false(health_should_retry(HEALTH_NET_OTHER, 0));
    /* a status is only looked at when a response arrived */
    assert_false(health_should_retry(HEALTH_NET_OTHER, 503));
}

static void test_curl_codes_map_to_classes(void **state)
{
    (void)state;
    assert_int_equal(health_net_from_curl(CURLE_OK), HEALTH_NET_OK);
    assert_int_equal(health_net_from_curl(CURLE_OPERATION_TIMEDOUT), HEALTH_NET_TIMEOUT);
    assert_int_equal(health_net_from_curl(CURLE_COULDNT_CONNECT), HEALTH_NET_CONNECT);
    assert_int_equal(health_net_from_curl(CURLE_COULDNT_RESOLVE_HOST), HEALTH_NET_RESOLVE);
    assert_int_equal(health_net_from_curl(CURLE_PEER_FAILED_VERIFICATION), HEALTH_NET_TLS);
    assert_int_equal(health_net_from_curl(CURLE_SSL_CONNECT_ERROR), HEALTH_NET_TLS);
    assert_int_equal(health_net_from_curl(CURLE_SSL_CACERT_BADFILE), HEALTH_NET_TLS);
    assert_int_equal(health_net_from_curl(CURLE_UNSUPPORTED_PROTOCOL), HEALTH_NET_BAD_URL);
    assert_int_equal(health_net_from_curl(CURLE_URL_MALFORMAT), HEALTH_NET_BAD_URL);
    assert_int_equal(health_net_from_curl(CURLE_TOO_MANY_REDIRECTS), HEALTH_NET_REDIRECTS);
    assert_int_equal(health_net_from_curl(CURLE_ABORTED_BY_CALLBACK), HEALTH_NET_INTERRUPTED);
    assert_int_equal(health_net_from_curl(CURLE_GOT_NOTHING), HEALTH_NET_OTHER);
    assert_int_equal(health_net_from_curl(CURLE_RECV_ERROR), HEALTH_NET_OTHER);
    /* the classes that retry are exactly the ones the rules name */
    assert_true(health_should_retry(health_net_from_curl(CURLE_OPERATION_TIMEDOUT), 0));
    assert_true(health_should_retry(health_net_from_curl(CURLE_COULDNT_CONNECT), 0));
    assert_false(health_should_retry(health_net_from_curl(CURLE_GOT_NOTHING), 0));
}

static void test_time_left_counts_down_to_zero(void **state)
{
    struct health_opts o = opts();

    (void)state;
    o.deadline_ms = 10000;
    assert_int_equal(health_time_left(&o, 0), 10000);
    assert_int_equal(health_time_left(&o, 9000), 1000);
    assert_int_equal(health_time_left(&o, 10000), 0);
    assert_int_equal(health_time_left(&o, 12000), 0);
    o.deadline_ms = 0;
    assert_true(health_time_left(&o, 123456789) == UINT64_MAX);
}

static void test_request_timeout_is_clipped_to_the_deadline(void **state)
{
    struct health_opts o = opts();

    (void)state;
    o.timeout_ms = 5000;
    assert_int_equal(health_request_timeout_ms(&o, 60000), 5000);
    assert_int_equal(health_request_timeout_ms(&o, 5000), 5000);
    assert_int_equal(health_request_timeout_ms(&o, 1200), 1200);
    /* never 0, which libcurl reads as "no limit" */
    assert_int_equal(health_request_timeout_ms(&o, 0), 1);
    /* no per-request timeout: the deadline alone limits the request */
    o.timeout_ms = 0;
    assert_int_equal(health_request_timeout_ms(&o, 7000), 7000);
    /* no deadline: the per-request timeout alone; neither: unlimited */
    o.timeout_ms = 5000;
    assert_int_equal(health_request_timeout_ms(&o, UINT64_MAX), 5000);
    o.timeout_ms = 0;
    assert_int_equal(health_request_timeout_ms(&o, UINT64_MAX), 0);
}

static void test_next_stops_at_once_when_not_retryable(void **state)
{
    struct health_opts o = opts();
    enum health_stop stop = HEALTH_STOP_HEALTHY;
    uint64_t wait = 99;

    (void)state;
    assert_int_equal(health_next(&wait, &stop, &o, 1, false, 0), 0);
    assert_int_equal(stop, HEALTH_STOP_FATAL);
    assert_int_equal(wait, 0);
}

static void test_next_counts_retries_after_the_first_attempt(void **state)
{
    struct health_opts o = opts();
    enum health_stop stop = HEALTH_STOP_HEALTHY;
    uint64_t wait;

    (void)state;
    o.retries = 3;
    o.deadline_ms = 0;
    for (uint32_t n = 1; n <= 3; n++)
        assert_int_equal(health_next(&wait, &stop, &o, n, true, 0), 1);
    assert_int_equal(health_next(&wait, &stop, &o, 4, true, 0), 0);
    assert_int_equal(stop, HEALTH_STOP_RETRIES);
    o.retries = 0;
    assert_int_equal(health_next(&wait, &stop, &o, 1, true, 0), 0);
    assert_int_equal(stop, HEALTH_STOP_RETRIES);
}

static void test_next_shortens_the_wait_to_fit_a_last_attempt(void **state)
{
    struct health_opts o = opts();
    enum health_stop stop = HEALTH_STOP_HEALTHY;
    uint64_t wait;

    (void)state;
    o.deadline_ms = 10000;
    /* attempt 4 wants 4000ms but only 3000ms are left: wait 2750, leaving 250 for the last try */
    assert_int_equal(health_next(&wait, &stop, &o, 4, true, 7000), 1);
    assert_int_equal(wait, 3000 - HEALTH_MIN_ATTEMPT_MS);
    /* a full backoff that fits is not shortened */
    assert_int_equal(health_next(&wait, &stop, &o, 1, true, 7000), 1);
    assert_int_equal(wait, 500);
    /* with HEALTH_MIN_ATTEMPT_MS or less left, stop instead of waiting */
    assert_int_equal(health_next(&wait, &stop, &o, 1, true, 10000 - HEALTH_MIN_ATTEMPT_MS), 0);
    assert_int_equal(stop, HEALTH_STOP_DEADLINE);
    assert_int_equal(health_next(&wait, &stop, &o, 1, true, 10000), 0);
    assert_int_equal(stop, HEALTH_STOP_DEADLINE);
    assert_int_equal(health_next(&wait, &stop, &o, 1, true, 15000), 0);
}

static void test_header_split_finds_name_and_value(void **state)
{
    size_t n;
    const char *v;

    (void)state;
    assert_int_equal(health_header_split("Authorization: Bearer abc", &n, &v), 0);
    assert_int_equal(n, 13);
    assert_string_equal(v, "Bearer abc");
    assert_int_equal(health_header_split("X-Api-Key:\t  k:e:y", &n, &v), 0);
    assert_int_equal(n, 9);
    assert_string_equal(v, "k:e:y");
    assert_int_equal(health_header_split("X-Empty:", &n, &v), 0);
    assert_string_equal(v, "");
    assert_int_equal(health_header_split("X-Tab: a\tb", &n, &v), 0);
}

static void test_header_split_rejects_bad_lines(void **state)
{
    size_t n = 0;
    const char *v = NULL;

    (void)state;
    assert_int_equal(health_header_split("no colon here", &n, &v), -1);
    assert_int_equal(health_header_split(": value", &n, &v), -1);
    assert_int_equal(health_header_split("Bad Name: value", &n, &v), -1);
    assert_int_equal(health_header_split("Name : value", &n, &v), -1);
    assert_int_equal(health_header_split("Näme: value", &n, &v), -1);
    /* a line break in a value would let it smuggle in another header */
    assert_int_equal(health_header_split("X-Token: abc\r\nX-Admin: yes", &n, &v), -1);
    assert_int_equal(health_header_split("X-Token: abc\ndef", &n, &v), -1);
    assert_int_equal(health_header_split("", &n, &v), -1);
}

static void test_status_set_edges(void **state)
{
    struct dd_status_set s;

    (void)state;
    assert_int_equal(dd_parse_status_set("2xx", &s), 0);
    assert_false(dd_status_set_has(&s, 199));
    assert_true(dd_status_set_has(&s, 200));
    assert_true(dd_status_set_has(&s, 299));
    assert_false(dd_status_set_has(&s, 300));
    assert_int_equal(dd_parse_status_set("200,204", &s), 0);
    assert_true(dd_status_set_has(&s, 204));
    assert_false(dd_status_set_has(&s, 201));
    assert_int_equal(dd_parse_status_set("200-299, 304", &s), 0);
    assert_true(dd_status_set_has(&s, 250));
    assert_true(dd_status_set_has(&s, 304));
    assert_false(dd_status_set_has(&s, 303));
    assert_int_equal(dd_parse_status_set("5XX", &s), 0);
    assert_true(dd_status_set_has(&s, 599));
    assert_false(dd_status_set_has(&s, 600));
    assert_int_equal(dd_parse_status_set("100-599", &s), 0);
    assert_true(dd_status_set_has(&s, 100));
    assert_true(dd_status_set_has(&s, 599));
    /* codes outside 100..599 (including "no response", 0) are never in a set */
    assert_false(dd_status_set_has(&s, 0));
    assert_false(dd_status_set_has(&s, 99));
    assert_false(dd_status_set_has(&s, -1));
    assert_false(dd_status_set_has(&s, 600));
    assert_int_equal(dd_parse_status_set("6xx", &s), -1);
    assert_int_equal(dd_parse_status_set("20", &s), -1);
    assert_int_equal(dd_parse_status_set("2000", &s), -1);
    assert_int_equal(dd_parse_status_set("299-200", &s), -1);
    assert_int_equal(dd_parse_status_set("ok", &s), -1);
    assert_int_equal(dd_parse_status_set("", &s), -1);
    assert_int_equal(dd_parse_status_set("099", &s), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_match_the_config_defaults),
        cmocka_unit_test(test_backoff_doubles_then_caps),
        cmocka_unit_test(test_backoff_cap_below_first_wait_wins),
        cmocka_unit_test(test_backoff_without_cap_saturates),
        cmocka_unit_test(test_backoff_zero_stays_zero),
        cmocka_unit_test(test_retry_on_timeout_and_connection_failure),
        cmocka_unit_test(test_retry_on_408_429_and_5xx_only),
        cmocka_unit_test(test_no_retry_for_tls_dns_url_redirects_or_resets),
        cmocka_unit_test(test_curl_codes_map_to_classes),
        cmocka_unit_test(test_time_left_counts_down_to_zero),
        cmocka_unit_test(test_request_timeout_is_clipped_to_the_deadline),
        cmocka_unit_test(test_next_stops_at_once_when_not_retryable),
        cmocka_unit_test(test_next_counts_retries_after_the_first_attempt),
        cmocka_unit_test(test_next_shortens_the_wait_to_fit_a_last_attempt),
        cmocka_unit_test(test_header_split_finds_name_and_value),
        cmocka_unit_test(test_header_split_rejects_bad_lines),
        cmocka_unit_test(test_status_set_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
