#include "unit.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "config/config.h"
#include "util/out.h"

/* The rule is read from the table: every command that may change the database outside the
 * pipeline must offer --yes, or it could never run on a protected environment without a terminal. */
static void test_every_changing_command_offers_yes(void **state)
{
    size_t n = 0;

    (void)state;
    for (const struct cli_command *c = cli_commands; c->spec; c++) {
        bool yes = false;
        if (!(c->flags & CLI_CHANGES_DB) || (c->flags & CLI_PIPELINE))
            continue;
        for (const struct cli_opt *o = c->spec->opts; o && o->long_name; o++)
            yes |= o->type == CLI_OPT_T_BOOL && strcmp(o->long_name, "yes") == 0;
        if (!yes)
            fail_msg("'%s' changes the database but has no --yes", c->spec->name);
        n++;
    }
    assert_true(n >= 6); /* adopt apply mark restore rollback undo */
    assert_true(cli_command_find("deploy")->flags & CLI_PIPELINE);
    assert_false(cli_command_find("apply")->flags & CLI_PIPELINE);
}

static struct dd_config *protected_cfg(bool protected_env)
{
    struct dd_config *cfg = calloc(1, sizeof(*cfg));
    cfg->env = strdup("prod");
    cfg->env_file = strdup("pipeline/prod.conf");
    cfg->environment.protected_env = protected_env;
    return cfg;
}

static void drop_cfg(struct cli_ctx *ctx)
{
    free(ctx->cfg->env);
    free(ctx->cfg->env_file);
    free(ctx->cfg);
    ctx->cfg = NULL;
    dd_error_release(&ctx->err);
}

/* run `name argv...` through cli_parse (as the command would), then the guard */
static int guard(struct cli_ctx *ctx, const char *name, char **words, bool protected_env)
{
    const struct cli_command *c = cli_command_find(name);
    struct dd_strv args = DD_STRV_INIT;
    _Alignas(max_align_t) unsigned char opts[128]; /* holds any command's option struct */
    int argc = 0, rc;

    memset(opts, 0, sizeof(opts));
    while (words[argc])
        argc++;
    assert_int_equal(cli_parse(ctx, c->spec, opts, argc, words, &args), 0);
    dd_strv_release(&args);
    ctx->cfg = protected_cfg(protected_env);
    rc = cli_guard_protected(ctx);
    return rc;
}

static void test_guard_refuses_without_terminal_or_yes(void **state)
{
    struct cli_ctx ctx = CLI_CTX_INIT;
    char *apply[] = {"apply", "prod", NULL}, *apply_yes[] = {"apply", "prod", "--yes", NULL};
    char *apply_dry[] = {"apply", "prod", "-n", NULL}, *mark_y[] = {"mark", "prod", "3", "--applied", "-y", NULL};

    (void)state;
    assert_non_null(freopen("/dev/null", "r", stdin)); /* never a terminal here */
    assert_int_equal(guard(&ctx, "apply", apply, true), -1);
    assert_int_equal(ctx.err.code, DD_EUSAGE);
    assert_non_null(strstr(dd_error_msg(&ctx.err), "refusing to apply without confirmation"));
    assert_non_null(strstr(ctx.err.hint, "prod is protected: nothing was changed"));
    drop_cfg(&ctx);
    ctx = (struct cli_ctx)CLI_CTX_INIT;
    assert_int_equal(guard(&ctx, "apply", apply_yes, true), 0);
    drop_cfg(&ctx);
    ctx = (struct cli_ctx)CLI_CTX_INIT;
    assert_int_equal(guard(&ctx, "apply", apply_dry, true), 0); /* a dry run changes nothing */
    drop_cfg(&ctx);
    ctx = (struct cli_ctx)CLI_CTX_INIT;
    assert_int_equal(guard(&ctx, "apply", apply, false), 0); /* not protected */
    drop_cfg(&ctx);
    ctx = (struct cli_ctx)CLI_CTX_INIT;
    assert_int_equal(guard(&ctx, "mark", mark_y, true), 0);
    drop_cfg(&ctx);
}

static void test_guard_leaves_the_pipeline_and_readers_alone(void **state)
{
    struct cli_ctx ctx = CLI_CTX_INIT;
    char *deploy[] = {"deploy", "prod", NULL}, *log[] = {"log", "prod", NULL};

    (void)state;
    assert_non_null(freopen("/dev/null", "r", stdin));
    assert_int_equal(guard(&ctx, "deploy", deploy, true), 0);
    drop_cfg(&ctx);
    ctx = (struct cli_ctx)CLI_CTX_INIT;
    assert_int_equal(guard(&ctx, "log", log, true), 0);
    drop_cfg(&ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_changing_command_offers_yes),
        cmocka_unit_test(test_guard_refuses_without_terminal_or_yes),
        cmocka_unit_test(test_guard_leaves_the_pipeline_and_readers_alone),
    };
    out_setup(OUT_QUIET, false, OUT_COLOR_NEVER);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
