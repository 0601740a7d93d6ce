#include "unit.h"

#include "config/config.h"
#include "fleet/fleet.h"

static struct config_waves waves(const char *text)
{
    struct config_waves w;

    assert_int_equal(config_parse_waves(&w, text), 0);
    return w;
}

/* ends as "a,b,c" for compact assertions */
static void assert_plan(const char *text, size_t n, const char *expect)
{
    struct config_waves w = waves(text);
    size_t ends[FLEET_WAVES_MAX], nw = fleet_plan_waves(ends, &w, n);
    char got[256] = "";

    for (size_t i = 0; i < nw; i++)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%zu", i ? "," : "", ends[i]);
    assert_string_equal(got, expect);
}

static void test_canary_share_then_all(void **state)
{
    (void)state;
    /* the example: 20 targets, a canary, a quarter, the rest */
    assert_plan("1, 25%, 100%", 20, "1,5,20");
    assert_plan("1, 10%, 100%", 100, "1,10,100");
    assert_plan("1,10%,100%", 1000, "1,100,1000");
}

static void test_shares_round_up_and_empty_waves_drop(void **state)
{
    (void)state;
    /* 10% of 5 is half a target: one, and then the canary's wave already has it */
    assert_plan("1, 10%, 100%", 5, "1,5");
    assert_plan("1, 25%, 100%", 3, "1,3");
    assert_plan("33%, 100%", 10, "4,10");
    assert_plan("1, 100%", 1, "1");
    assert_plan("1, 100%", 0, "");
}

static void test_counts_clamp_and_the_rest_is_a_last_wave(void **state)
{
    (void)state;
    assert_plan("1, 5, 50", 20, "1,5,20");
    /* entries that end short of everyone: the targets left form one more wave */
    assert_plan("1, 10%", 40, "1,4,40");
    assert_plan("2", 7, "2,7");
    assert_plan("100%", 7, "7");
}

static void test_bad_waves_are_refused(void **state)
{
    struct config_waves w;

    (void)state;
    assert_int_equal(config_parse_waves(&w, ""), -1);
    assert_int_equal(config_parse_waves(&w, "0, 100%"), -1);
    assert_int_equal(config_parse_waves(&w, "1, 0%"), -1);
    assert_int_equal(config_parse_waves(&w, "1, 101%"), -1);
    assert_int_equal(config_parse_waves(&w, "5, 3"), -1);
    assert_int_equal(config_parse_waves(&w, "50%, 10%"), -1);
    assert_int_equal(config_parse_waves(&w, "1,,100%"), -1);
    assert_int_equal(config_parse_waves(&w, "one, all"), -1);
    assert_int_equal(config_parse_waves(&w, "1 2"), -1);
    assert_int_equal(config_parse_waves(&w, "1, 100%"), 0);
    assert_int_equal(w.n, 2);
    assert_false(w.v[0].percent);
    assert_true(w.v[1].percent);
    assert_int_equal(w.v[1].value, 100);
}

static void test_halt_rules(void **state)
{
    uint32_t h = 0;

    (void)state;
    assert_int_equal(config_parse_halt(&h, "first-failure"), 0);
    assert_int_equal(h, 1);
    assert_int_equal(config_parse_halt(&h, "3-failures"), 0);
    assert_int_equal(h, 3);
    assert_int_equal(config_parse_halt(&h, "0-failures"), -1);
    assert_int_equal(config_parse_halt(&h, "-failures"), -1);
    assert_int_equal(config_parse_halt(&h, "never"), -1);
    assert_int_equal(config_parse_halt(&h, "3 failures"), -1);

    assert_false(fleet_should_halt(0, 1));
    assert_true(fleet_should_halt(1, 1));
    assert_false(fleet_should_halt(2, 3));
    assert_true(fleet_should_halt(3, 3));
    assert_true(fleet_should_halt(4, 3));
    /* 0 = never: the plan and status phases run every target */
    assert_false(fleet_should_halt(100, 0));
}

static void test_worst_status(void **state)
{
    (void)state;
    assert_int_equal(fleet_worse_status(0, 0), 0);
    assert_int_equal(fleet_worse_status(0, 3), 3);
    assert_int_equal(fleet_worse_status(4, 3), 4);
    assert_int_equal(fleet_worse_status(4, 1), 1);
    assert_int_equal(fleet_worse_status(1, 5), 5);
    assert_int_equal(fleet_worse_status(5, 1), 5);
    assert_int_equal(fleet_worse_status(2, 3), 3);
    assert_int_equal(fleet_worse_status(0, 2), 2);
}

static void test_pick_reads_a_child_document(void **state)
{
    const char *doc = "{\"schema\":1,\"command\":\"deploy\",\"stages\":[{\"name\":\"x\",\"n\":[1,2,{\"a\":\"]\"}]}],"
                      "\"result\":\"restored\",\"pending\":[{\"version\":1},{\"version\":2}],\"applied\":[],"
                      "\"error\":{\"message\":\"relation \\\"t\\\" already exists\\n\",\"details\":[]}}\n";
    char *s;

    (void)state;
    s = fleet_json_string(fleet_json_member(doc, "result"));
    assert_string_equal(s, "restored");
    free(s);
    assert_int_equal(fleet_json_array_len(fleet_json_member(doc, "pending")), 2);
    assert_int_equal(fleet_json_array_len(fleet_json_member(doc, "applied")), 0);
    s = fleet_json_string(fleet_json_member(fleet_json_member(doc, "error"), "message"));
    assert_string_equal(s, "relation \"t\" already exists\n");
    free(s);
    assert_null(fleet_json_member(doc, "missing"));
    assert_null(fleet_json_member("not json", "result"));
    assert_null(fleet_json_member("{\"result\":", "x"));
    assert_int_equal(fleet_json_array_len(fleet_json_member(doc, "result")), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canary_share_then_all),
        cmocka_unit_test(test_shares_round_up_and_empty_waves_drop),
        cmocka_unit_test(test_counts_clamp_and_the_rest_is_a_last_wave),
        cmocka_unit_test(test_bad_waves_are_refused),
        cmocka_unit_test(test_halt_rules),
        cmocka_unit_test(test_worst_status),
        cmocka_unit_test(test_pick_reads_a_child_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
