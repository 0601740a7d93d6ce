/*
 * Notification bodies: the JSON document's fields, Slack's escaping of &, < and > inside a JSON
 * string, masking of registered secrets, the summary line per event, and the origin that
 * warnings may name (no user, password, path or query).
 */
#include "unit.h"

#include "config/config.h"
#include "notify/notify.h"
#include "util/mask.h"

static const int64_t versions[] = {1, 20261121};

static struct notify_event event(enum notify_kind kind)
{
    struct notify_event ev = {kind, "prod", "1a2b3c4d5e6f", "ann@ci", NULL, NULL, versions, 2, 0, 0, "deploy"};

    if (kind != NOTIFY_START) {
        ev.result = kind == NOTIFY_SUCCESS ? "applied" : kind == NOTIFY_RESTORED ? "restored" : "failed";
        ev.n_applied = kind == NOTIFY_SUCCESS ? 2 : 0;
        ev.duration_ms = 1250;
    }
    return ev;
}

static char *payload(const struct notify_event *ev, unsigned format)
{
    struct dd_buf b = DD_BUF_INIT;

    notify_payload(&b, ev, format);
    return dd_buf_detach(&b, NULL);
}

static void test_json_start_has_every_field(void **state)
{
    struct notify_event ev = event(NOTIFY_START);
    char *p = payload(&ev, CONFIG_NOTIFY_JSON);

    (void)state;
    assert_string_equal(
        p, "{\"event\":\"start\",\"command\":\"deploy\",\"environment\":\"prod\",\"commit\":\"1a2b3c4d5e6f\","
           "\"versions\":[1,20261121],\"result\":null,\"applied\":null,\"duration_ms\":null,"
           "\"error\":null,\"who\":\"ann@ci\","
           "\"text\":\"dbdeploy: deploying 2 migrations to prod at 1a2b3c4 (by ann@ci)\"}\n");
    free(p);
}

static void test_json_success_has_result_and_duration(void **state)
{
    struct notify_event ev = event(NOTIFY_SUCCESS);
    char *p = payload(&ev, CONFIG_NOTIFY_JSON);

    (void)state;
    assert_non_null(strstr(p, "\"event\":\"success\""));
    assert_non_null(strstr(p, "\"result\":\"applied\",\"applied\":2,\"duration_ms\":1250"));
    assert_non_null(strstr(p, "\"text\":\"dbdeploy: deployed 2 migrations to prod at 1a2b3c4 in 1.2s (by ann@ci)\""));
    free(p);
}

static void test_json_escapes_and_masks_the_error(void **state)
{
    struct notify_event ev = event(NOTIFY_RESTORED);
    char *p;

    (void)state;
    dd_mask_register("Sup3r-Secret");
    ev.error = "cannot connect to postgres://app:Sup3r-Secret@db/prod: \"quoted\"\n\ttab";
    p = payload(&ev, CONFIG_NOTIFY_JSON);
    assert_null(strstr(p, "Sup3r-Secret"));
    assert_non_null(strstr(p, "\"error\":\"cannot connect to postgres://app:***@db/prod: \\\"quoted\\\"\\n\\ttab\""));
    assert_non_null(strstr(p, "failed after 1.2s; the database is back to its state before it: cannot connect"));
    free(p);
    dd_mask_clear();
}

static void test_slack_escapes_markup_inside_json(void **state)
{
    struct notify_event ev = event(NOTIFY_FAILURE);
    char *p;

    (void)state;
    ev.error = "a <b> & \"c\"";
    ev.result = "blocked";
    ev.commit = NULL;
    p = payload(&ev, CONFIG_NOTIFY_SLACK);
    assert_string_equal(p, "{\"text\":\"dbdeploy: deployment to prod failed after 1.2s (blocked): a &lt;b&gt; &amp; "
                           "\\\"c\\\" (by ann@ci)\"}\n");
    free(p);
}

static void test_other_commands_say_what_they_did(void **state)
{
    struct notify_event ev = event(NOTIFY_SUCCESS);
    struct dd_buf b = DD_BUF_INIT;
    char *p;

    (void)state;
    ev.command = "rollback";
    ev.result = "rolled-back";
    notify_summary(&b, &ev);
    assert_string_equal(b.buf, "rollback on prod at 1a2b3c4: rolled-back (2 migrations) in 1.2s (by ann@ci)");
    dd_buf_reset(&b);
    ev = event(NOTIFY_FAILURE);
    ev.command = "apply";
    ev.error = "boom";
    notify_summary(&b, &ev);
    assert_string_equal(b.buf, "apply on prod at 1a2b3c4 failed after 1.2s: boom (by ann@ci)");
    p = payload(&ev, CONFIG_NOTIFY_JSON);
    assert_non_null(strstr(p, "\"command\":\"apply\""));
    free(p);
    dd_buf_release(&b);
}

static void test_slack_escape_leaves_other_text(void **state)
{
    struct dd_buf b = DD_BUF_INIT;

    (void)state;
    notify_slack_escape(&b, "x&y<z>w é");
    assert_string_equal(b.buf, "x&amp;y&lt;z&gt;w é");
    dd_buf_release(&b);
}

static void test_origin_drops_credentials_path_and_query(void **state)
{
    char *o;

    (void)state;
    o = notify_origin("https://hooks.slack.com/services/T0/B0/XYZ");
    assert_string_equal(o, "https://hooks.slack.com");
    free(o);
    o = notify_origin("http://user:p@ss@127.0.0.1:8080/hook?token=abc");
    assert_string_equal(o, "http://127.0.0.1:8080");
    free(o);
    o = notify_origin("http://example.com?k=v");
    assert_string_equal(o, "http://example.com");
    free(o);
}

static void test_kind_names_are_the_config_words(void **state)
{
    (void)state;
    assert_string_equal(notify_kind_name(NOTIFY_START), "start");
    assert_string_equal(notify_kind_name(NOTIFY_SUCCESS), "success");
    assert_string_equal(notify_kind_name(NOTIFY_FAILURE), "failure");
    assert_string_equal(notify_kind_name(NOTIFY_RESTORED), "restored");
    assert_int_equal(CONFIG_NOTIFY_RESTORED, 1u << NOTIFY_RESTORED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_json_start_has_every_field),
        UNIT_TEST(test_json_success_has_result_and_duration),
        UNIT_TEST(test_json_escapes_and_masks_the_error),
        UNIT_TEST(test_slack_escapes_markup_inside_json),
        UNIT_TEST(test_other_commands_say_what_they_did),
        UNIT_TEST(test_slack_escape_leaves_other_text),
        UNIT_TEST(test_origin_drops_credentials_path_and_query),
        UNIT_TEST(test_kind_names_are_the_config_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
