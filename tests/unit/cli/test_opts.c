#include "unit.h"

#include "cli/cli.h"
#include "util/out.h"

struct t_opts {
    bool dry_run, yes;
    const char *to;
    uint32_t steps;
    int state;
};

static const struct cli_opt t_options[] = {
    CLI_OPT_BOOL('n', "dry-run", struct t_opts, dry_run, "dry"),
    CLI_OPT_BOOL('y', "yes", struct t_opts, yes, "yes"),
    CLI_OPT_STRING('t', "to", struct t_opts, to, "VERSION", "to"),
    CLI_OPT_U32(0, "steps", struct t_opts, steps, "N", "steps"),
    CLI_OPT_SET_INT(0, "applied", struct t_opts, state, 1, "applied"),
    CLI_OPT_SET_INT(0, "pending", struct t_opts, state, 2, "pending"),
    CLI_OPT_END,
};

static const struct cli_spec t_spec = {
    .brief = "test",
    .name = "t",
    .usage = "ENV",
    .summary = "test",
    .opts = t_options,
    .min_args = 1,
    .max_args = 1,
};

/* parse a NULL-terminated word list; returns cli_parse's result */
static int parse(struct cli_ctx *ctx, struct t_opts *o, struct dd_strv *args, char **words)
{
    int argc = 0;

    while (words[argc])
        argc++;
    return cli_parse(ctx, &t_spec, o, argc, words, args);
}

static void test_parse_stores_each_type_at_its_offset(void **state)
{
    struct cli_ctx ctx = CLI_CTX_INIT;
    struct t_opts o = {0};
    struct dd_strv args = DD_STRV_INIT;
    char *w[] = {"t", "prod", "--to=7", "--steps", "3", "-ny", "--pending", NULL};

    (void)state;
    assert_int_equal(parse(&ctx, &o, &args, w), 0);
    assert_true(o.dry_run && o.yes);
    assert_string_equal(o.to, "7");
    assert_int_equal(o.steps, 3);
    assert_int_equal(o.state, 2);
    assert_int_equal(args.n, 1);
    assert_string_equal(args.v[0], "prod");
    dd_strv_release(&args);
}

static void test_parse_short_option_value_attached_or_next(void **state)
{
    struct cli_ctx ctx = CLI_CTX_INIT;
    struct t_opts o = {0};
    struct dd_strv args = DD_STRV_INIT;
    char *w1[] = {"t", "-t5", "prod", NULL}, *w2[] = {"t", "-nt", "6", "prod", NULL};

    (void)state;
    assert_int_equal(parse(&ctx, &o, &args, w1), 0);
    assert_string_equal(o.to, "5");
    dd_strv_clear(&args);
    assert_int_equal(parse(&ctx, &o, &args, w2), 0);
    assert_string_equal(o.to, "6");
    assert_true(o.dry_run);
    assert_string_equal(args.v[0], "prod");
    dd_strv_release(&args);
}

static void test_parse_double_dash_ends_options(void **state)
{
    struct cli_ctx ctx = CLI_CTX_INIT;
    struct t_opts o = {0};
    struct dd_strv args = DD_STRV_INIT;
    char *w[] = {"t", "--", "--yes", NULL};

    (void)state;
    assert_int_equal(parse(&ctx, &o, &args, w), 0);
    assert_false(o.yes);
    assert_string_equal(args.v[0], "--yes");
    dd_strv_release(&args);
}

static void expect_usage_error(char **words, const char *message)
{
    struct cli_ctx ctx = CLI_CTX_INIT;
    struct t_opts o = {0};
    struct dd_strv args = DD_STRV_INIT;

    assert_int_equal(parse(&ctx, &o, &args, words), -1);
    assert_int_equal(ctx.err.code, DD_EUSAGE);
    assert_string_equal(dd_error_msg(&ctx.err), message);
    assert_string_equal(ctx.err.hint, "Run 'dbdeploy t --help' for usage.");
    dd_error_release(&ctx.err);
    dd_strv_release(&args);
}

static void test_parse_usage_errors_name_the_word(void **state)
{
    char *unknown[] = {"t", "prod", "--bogus", NULL}, *unknown_short[] = {"t", "prod", "-nz", NULL},
         *novalue[] = {"t", "prod", "--to", NULL}, *bool_value[] = {"t", "prod", "--yes=1", NULL},
         *number[] = {"t", "prod", "--steps=x", NULL}, *missing[] = {"t", NULL}, *extra[] = {"t", "prod", "more", NULL};

    (void)state;
    expect_usage_error(unknown, "unknown option '--bogus'");
    expect_usage_error(unknown_short, "unknown option '-z'");
    expect_usage_error(novalue, "option '--to' needs a value");
    expect_usage_error(bool_value, "option '--yes' takes no value");
    expect_usage_error(number, "option '--steps' expects a non-negative number, not 'x'");
    expect_usage_error(missing, "'t' needs ENV");
    expect_usage_error(extra, "unexpected argument 'more'");
}

static int take(struct cli_globals *g, char **words, struct dd_error *err)
{
    int argc = 0;

    while (words[argc])
        argc++;
    return cli_take_globals(g, &t_spec, argc, words, err);
}

static void test_globals_are_taken_after_the_command(void **state)
{
    struct cli_globals g = {NULL, false, false, false, OUT_NORMAL, OUT_COLOR_AUTO, 0, NULL};
    struct dd_error err = DD_ERROR_INIT;
    char *w[] = {"t", "prod", "--json", "-C", "dir", "-q", "--to", "-v", "--color=never", "-n", NULL};
    int n;

    (void)state;
    n = take(&g, w, &err);
    /* "-v" is the value of --to, not the global option */
    assert_int_equal(n, 5);
    assert_string_equal(w[1], "prod");
    assert_string_equal(w[2], "--to");
    assert_string_equal(w[3], "-v");
    assert_string_equal(w[4], "-n");
    assert_null(w[5]);
    assert_true(g.json);
    assert_string_equal(g.dir, "dir");
    assert_int_equal(g.verbosity, OUT_QUIET);
    assert_int_equal(g.color, OUT_COLOR_NEVER);
}

static void test_globals_stop_at_double_dash_and_leave_help(void **state)
{
    struct cli_globals g = {NULL, false, false, false, OUT_NORMAL, OUT_COLOR_AUTO, 0, NULL};
    struct dd_error err = DD_ERROR_INIT;
    char *w[] = {"t", "--help", "--", "--json", NULL};

    (void)state;
    assert_int_equal(take(&g, w, &err), 4);
    assert_false(g.json);
    assert_false(g.help);
    assert_string_equal(w[1], "--help");
    assert_string_equal(w[3], "--json");
}

static void test_globals_bad_value_is_a_usage_error(void **state)
{
    struct cli_globals g = {NULL, false, false, false, OUT_NORMAL, OUT_COLOR_AUTO, 0, NULL};
    struct dd_error err = DD_ERROR_INIT;
    char *w[] = {"t", "prod", "--color=purple", NULL}, *w2[] = {"t", "prod", "-C", NULL};

    (void)state;
    assert_int_equal(take(&g, w, &err), -1);
    assert_int_equal(err.code, DD_EUSAGE);
    dd_error_release(&err);
    assert_int_equal(take(&g, w2, &err), -1);
    assert_string_equal(dd_error_msg(&err), "option '-C' needs a directory");
    dd_error_release(&err);
}

static void test_globals_wait_takes_a_duration_in_either_spelling(void **state)
{
    struct cli_globals g = {NULL, false, false, false, OUT_NORMAL, OUT_COLOR_AUTO, 0, NULL};
    struct dd_error err = DD_ERROR_INIT;
    char *w[] = {"t", "prod", "--wait", "60s", "-n", NULL}, *w2[] = {"t", "--wait=1m30s", "prod", NULL};
    char *bad[] = {"t", "prod", "--wait", "soon", NULL}, *none[] = {"t", "prod", "--wait", NULL};

    (void)state;
    assert_int_equal(take(&g, w, &err), 3);
    assert_string_equal(w[1], "prod");
    assert_string_equal(w[2], "-n");
    assert_int_equal(g.wait_ms, 60000);
    assert_int_equal(take(&g, w2, &err), 2);
    assert_int_equal(g.wait_ms, 90000);
    assert_int_equal(take(&g, bad, &err), -1);
    assert_int_equal(err.code, DD_EUSAGE);
    assert_string_equal(dd_error_msg(&err), "option '--wait' expects a duration, not 'soon'");
    dd_error_release(&err);
    assert_int_equal(take(&g, none, &err), -1);
    assert_string_equal(dd_error_msg(&err), "option '--wait' needs a duration");
    dd_error_release(&err);
}

static void test_globals_take_a_fleet_target(void **state)
{
    struct cli_globals g = {NULL, false, false, false, OUT_NORMAL, OUT_COLOR_AUTO, 0, NULL};
    struct dd_error err = DD_ERROR_INIT;
    char *w[] = {"t", "prod", "--target", "eu-1", "-n", NULL}, *w2[] = {"t", "prod", "--target=us_2", NULL},
         *w3[] = {"t", "prod", "--target", NULL};

    (void)state;
    assert_int_equal(take(&g, w, &err), 3);
    assert_string_equal(g.target, "eu-1");
    assert_string_equal(w[1], "prod");
    assert_string_equal(w[2], "-n");
    assert_int_equal(take(&g, w2, &err), 2);
    assert_string_equal(g.target, "us_2");
    assert_int_equal(take(&g, w3, &err), -1);
    assert_int_equal(err.code, DD_EUSAGE);
    dd_error_release(&err);
}

static void test_edit_distance_counts_transpositions_once(void **state)
{
    (void)state;
    assert_int_equal(cli_edit_distance("status", "status"), 0);
    assert_int_equal(cli_edit_distance("statsu", "status"), 1);
    assert_int_equal(cli_edit_distance("stats", "status"), 1);
    assert_int_equal(cli_edit_distance("deplyo", "deploy"), 1);
    assert_int_equal(cli_edit_distance("", "gate"), 4);
    assert_int_equal(cli_edit_distance("kitten", "sitting"), 3);
}

static void test_suggest_picks_the_closest_within_a_third(void **state)
{
    struct dd_strv cands = DD_STRV_INIT, out = DD_STRV_INIT;
    const char *names[] = {"backup", "backups", "status", "restore", "prod", "plan", NULL};

    (void)state;
    dd_strv_pushv(&cands, names);
    assert_int_equal(cli_suggest(&out, "statsu", &cands), 1);
    assert_string_equal(out.v[0], "status");
    dd_strv_clear(&out);
    /* equally close: all of them */
    assert_int_equal(cli_suggest(&out, "backupx", &cands), 2);
    dd_strv_clear(&out);
    assert_int_equal(cli_suggest(&out, "prdo", &cands), 1);
    assert_string_equal(out.v[0], "prod");
    dd_strv_clear(&out);
    /* too far, or an exact match (not a typo) */
    assert_int_equal(cli_suggest(&out, "xyzzy", &cands), 0);
    assert_int_equal(cli_suggest(&out, "plna", &cands), 1);
    dd_strv_clear(&out);
    assert_int_equal(cli_suggest(&out, "status", &cands), 0);
    dd_strv_release(&out);
    dd_strv_release(&cands);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_stores_each_type_at_its_offset),
        cmocka_unit_test(test_parse_short_option_value_attached_or_next),
        cmocka_unit_test(test_parse_double_dash_ends_options),
        cmocka_unit_test(test_parse_usage_errors_name_the_word),
        cmocka_unit_test(test_globals_are_taken_after_the_command),
        cmocka_unit_test(test_globals_stop_at_double_dash_and_leave_help),
        cmocka_unit_test(test_globals_bad_value_is_a_usage_error),
        cmocka_unit_test(test_globals_wait_takes_a_duration_in_either_spelling),
        cmocka_unit_test(test_globals_take_a_fleet_target),
        cmocka_unit_test(test_edit_distance_counts_transpositions_once),
        cmocka_unit_test(test_suggest_picks_the_closest_within_a_third),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
