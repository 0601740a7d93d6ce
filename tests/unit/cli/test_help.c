#include "unit.h"

#include "cli/cli.h"

/* every line of s at most 79 columns, none ending in a space */
static void assert_lines_fit(const char *s)
{
    while (*s) {
        size_t len = strcspn(s, "\n");
        if (len > 79 || (len && s[len - 1] == ' '))
            fail_msg("line does not fit or ends in a space: '%.*s'", (int)len, s);
        s += len + (s[len] == '\n');
    }
}

static void test_wrap_breaks_at_79_and_indents_continuations(void **state)
{
    struct dd_buf b = DD_BUF_INIT;
    const char *text = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
                       "fifteen sixteen seventeen";

    (void)state;
    dd_buf_adds(&b, "  left    ");
    cli_wrap(&b, text, 10, 10);
    assert_string_equal(b.buf, "  left    one two three four five six seven eight nine ten eleven twelve\n"
                               "          thirteen fourteen fifteen sixteen seventeen");
    assert_lines_fit(b.buf);
    dd_buf_release(&b);
}

static void test_wrap_joins_lines_and_keeps_paragraphs(void **state)
{
    struct dd_buf b = DD_BUF_INIT;

    (void)state;
    cli_wrap(&b, "first line\nsame paragraph\n\nsecond   paragraph\n", 0, 0);
    assert_string_equal(b.buf, "first line same paragraph\n\nsecond paragraph");
    dd_buf_release(&b);
}

static void test_usage_without_arguments_has_no_trailing_space(void **state)
{
    struct dd_buf b = DD_BUF_INIT;
    const struct cli_command *init = cli_command_find("init");

    (void)state;
    assert_non_null(init);
    cli_help_command(&b, init->spec, init);
    assert_true(strncmp(b.buf, "usage: dbdeploy init\n\n", 22) == 0);
    dd_buf_release(&b);
}

static void test_every_help_text_fits_the_same_layout(void **state)
{
    struct dd_buf b = DD_BUF_INIT;

    (void)state;
    cli_help_main(&b);
    assert_lines_fit(b.buf);
    for (const struct cli_command *c = cli_commands; c->spec; c++) {
        dd_buf_reset(&b);
        cli_help_command(&b, c->spec, c);
        assert_lines_fit(b.buf);
        for (const struct cli_spec *const *s = c->spec->subs; s && *s; s++) {
            dd_buf_reset(&b);
            cli_help_command(&b, *s, NULL);
            assert_lines_fit(b.buf);
        }
    }
    dd_buf_release(&b);
}

static void test_table_is_alphabetical_and_complete(void **state)
{
    const struct cli_command *prev = NULL;

    (void)state;
    for (const struct cli_command *c = cli_commands; c->spec; c++) {
        assert_non_null(c->run);
        assert_non_null(c->spec->brief);
        assert_non_null(c->spec->summary);
        assert_non_null(c->spec->usage);
        if (prev && !(c->flags & CLI_HIDDEN) && !(prev->flags & CLI_HIDDEN))
            assert_true(strcmp(prev->spec->name, c->spec->name) < 0);
        for (const struct cli_opt *o = c->spec->opts; o && o->long_name; o++)
            assert_non_null(o->help);
        assert_ptr_equal(cli_command_find(c->spec->name), c);
        prev = c;
    }
}

static void test_subcommand_spec_is_found_by_name(void **state)
{
    const struct cli_command *hook = cli_command_find("hook");
    char *install[] = {"hook", "install", NULL}, *bogus[] = {"hook", "bogus", NULL};

    (void)state;
    assert_string_equal(cli_command_spec(hook, 2, install)->name, "hook install");
    assert_string_equal(cli_command_spec(hook, 2, bogus)->name, "hook");
}

static void test_man_section_names_every_visible_command(void **state)
{
    struct dd_buf b = DD_BUF_INIT;

    (void)state;
    cli_man_commands(&b);
    assert_true(strncmp(b.buf, ".SH COMMANDS\n", 13) == 0);
    for (const struct cli_command *c = cli_commands; c->spec; c++) {
        char tag[64];
        snprintf(tag, sizeof(tag), ".TP\n\\fB%s\\fR", c->spec->name);
        if (c->flags & CLI_HIDDEN)
            assert_null(strstr(b.buf, tag));
        else
            assert_non_null(strstr(b.buf, tag));
    }
    dd_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrap_breaks_at_79_and_indents_continuations),
        cmocka_unit_test(test_wrap_joins_lines_and_keeps_paragraphs),
        cmocka_unit_test(test_usage_without_arguments_has_no_trailing_space),
        cmocka_unit_test(test_every_help_text_fits_the_same_layout),
        cmocka_unit_test(test_table_is_alphabetical_and_complete),
        cmocka_unit_test(test_subcommand_spec_is_found_by_name),
        cmocka_unit_test(test_man_section_names_every_visible_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
