/*
 * dbdeploy entry point: global flags, the command table, the `dbdeploy ENV` shorthand, signals,
 * the final error print and the exit status. Nothing below main() prints errors or exits.
 */
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <curl/curl.h>
#include <git2.h>

#include "cli/cli.h"
#include "config/config.h"
#include "util/common.h"
#include "util/fs.h"
#include "util/interrupt.h"
#include "util/json.h"
#include "util/mask.h"
#include "util/out.h"
#include "version.h"

const struct cli_command cli_commands[] = {
    {"adopt", cmd_adopt, "record what golang-migrate or dbmate already applied, without running it"},
    {"apply", cmd_apply, "apply pending migrations to an environment"},
    {"backup", cmd_backup, "back up an environment's database, or verify an archive"},
    {"backups", cmd_backups, "list an environment's backups"},
    {"changelog", cmd_changelog, "regenerate changelog/ENV/CHANGELOG.md from the ledger and git history"},
    {"deploy", cmd_deploy, "run the deployment pipeline for an environment ('dbdeploy ENV' for short)"},
    {"gate", cmd_gate, "pass only when an environment has every migration of HEAD (for CI)"},
    {"health", cmd_health, "check that an environment's application answers its health check"},
    {"hook", cmd_hook, "install or run the git pre-push hook that protects published migrations"},
    {"init", cmd_init, "create pipeline/, migrations/ and changelog/ in a project"},
    {"lint", cmd_lint, "check migrations for locks on big tables, data loss and breaking changes"},
    {"mark", cmd_mark, "record a migration as applied or pending (the way out of a dirty state)"},
    {"new", cmd_new, "create the next migration files"},
    {"plan", cmd_plan, "show what a deploy would do, changing nothing"},
    {"restore", cmd_restore, "replace an environment's database with a backup"},
    {"rollback", cmd_rollback, "revert applied migrations with their down files"},
    {"status", cmd_status, "show applied, pending and problem migrations"},
    {"verify", cmd_verify, "check that no published migration was changed (for CI; no database)"},
    {NULL, NULL, NULL},
};

static void print_main_help(void)
{
    struct dd_buf b = DD_BUF_INIT;

    dd_buf_adds(&b, "usage: dbdeploy [-C DIR] [--json] [-q|-v] [--color=WHEN] COMMAND [ARGS]\n\n"
                    "Git-aware PostgreSQL schema deployments.\n\ncommands:\n");
    for (const struct cli_command *c = cli_commands; c->name; c++)
        dd_buf_addf(&b, "  %-10s %s\n", c->name, c->summary);
    dd_buf_adds(&b, "\nglobal options:\n"
                    "  -C DIR         run as if started in DIR (the project root)\n"
                    "  --json         print one JSON document on stdout\n"
                    "  -q, --quiet    print errors only\n"
                    "  -v, --verbose  print details (files, timings, child commands)\n"
                    "  --color=WHEN   auto (default), always or never; NO_COLOR disables colour\n"
                    "  --version      print the version\n"
                    "  -h, --help     show this help ('dbdeploy COMMAND --help' for a command)\n"
                    "\nexit status: 0 success or nothing to do, 1 operation failed, 2 usage/config/input error,\n"
                    "3 blocked before any change, 4 failed and database restored, 5 failed and restore failed\n");
    out_result_buf(&b);
    dd_buf_release(&b);
}

/* With --json, a failure still gives the consumer one document on stdout. */
static void print_json_error(const struct dd_error *err, const char *command, int status)
{
    struct dd_buf b = DD_BUF_INIT;
    struct dd_json j;

    dd_json_document_begin(&j, &b, command);
    dd_json_int(&j, "exit_status", status);
    dd_json_obj_begin(&j, "error");
    dd_json_str(&j, "message", dd_error_msg(err));
    dd_json_arr_begin(&j, "details");
    for (size_t i = 0; i < err->details.n; i++)
        dd_json_str(&j, NULL, err->details.v[i]);
    dd_json_arr_end(&j);
    dd_json_arr_begin(&j, "context");
    for (size_t i = 1; i < err->chain.n; i++)
        dd_json_str(&j, NULL, err->chain.v[i]);
    dd_json_arr_end(&j);
    dd_json_str(&j, "hint", err->hint);
    dd_json_obj_end(&j);
    dd_json_obj_end(&j);
    out_result_buf(&b);
    dd_buf_release(&b);
}

static const struct cli_command *find_command(const char *name)
{
    for (const struct cli_command *c = cli_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static bool env_defined(const char *root, const char *name)
{
    char *path;
    bool yes;

    if (!config_env_name_valid(name) || strcmp(name, "dbdeploy") == 0)
        return false;
    path = dd_xasprintf("%s/%s/%s.conf", root, CONFIG_DIR, name);
    yes = dd_path_exists(path);
    free(path);
    return yes;
}

static int set_root(struct cli_ctx *ctx, const char *dir)
{
    char *real = realpath(dir ? dir : ".", NULL);

    if (!real)
        return dd_error_errno(&ctx->err, DD_EUSAGE, "cannot use directory '%s'", dir ? dir : ".");
    if (!dd_is_dir(real)) {
        free(real);
        return dd_error_set(&ctx->err, DD_EUSAGE, "'%s' is not a directory", dir);
    }
    ctx->root = real;
    return 0;
}

int main(int argc, char **argv)
{
    struct cli_ctx ctx = CLI_CTX_INIT;
    enum out_verbosity verbosity = OUT_NORMAL;
    enum out_color_mode color = OUT_COLOR_AUTO;
    const char *dir = NULL;
    bool json = false;
    int i, status = DD_EXIT_OK, rc = 0;
    const struct cli_command *cmd = NULL;

    setlocale(LC_CTYPE, "");
    signal(SIGPIPE, SIG_IGN);
    dd_interrupt_install();

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-C") == 0) {
            if (i + 1 >= argc) {
                dd_error_set(&ctx.err, DD_EUSAGE, "option '-C' needs a directory");
                goto done;
            }
            dir = argv[++i];
        } else if (strncmp(a, "-C", 2) == 0) {
            dir = a + 2;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            verbosity = OUT_QUIET;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            verbosity = OUT_VERBOSE;
        } else if (strncmp(a, "--color", 7) == 0) {
            const char *w = a[7] == '=' ? a + 8 : (a[7] == '\0' ? "always" : NULL);
            if (dd_streq(w, "auto"))
                color = OUT_COLOR_AUTO;
            else if (dd_streq(w, "always"))
                color = OUT_COLOR_ALWAYS;
            else if (dd_streq(w, "never"))
                color = OUT_COLOR_NEVER;
            else {
                dd_error_set(&ctx.err, DD_EUSAGE, "'%s': --color takes auto, always or never", a);
                goto done;
            }
        } else if (strcmp(a, "--version") == 0) {
            out_setup(verbosity, json, color);
            out_result("dbdeploy %s\n", DBDEPLOY_VERSION);
            goto done;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            out_setup(verbosity, json, color);
            print_main_help();
            goto done;
        } else {
            dd_error_set(&ctx.err, DD_EUSAGE, "unknown global option '%s'", a);
            dd_error_hint(&ctx.err, "Global options come before the command; run 'dbdeploy --help'.");
            goto done;
        }
    }
    out_setup(verbosity, json, color);
    if (i >= argc) {
        print_main_help();
        dd_error_set(&ctx.err, DD_EUSAGE, "no command given");
        goto done;
    }
    if (set_root(&ctx, dir) < 0)
        goto done;

    cmd = find_command(argv[i]);
    if (!cmd && env_defined(ctx.root, argv[i])) {
        /* `dbdeploy prod` is `dbdeploy deploy prod` when pipeline/prod.conf exists */
        cmd = find_command("deploy");
        i--;
        argv[i] = "deploy";
    }
    if (!cmd) {
        dd_error_set(&ctx.err, DD_EUSAGE, "'%s' is not a dbdeploy command, nor an environment (no %s/%s.conf)", argv[i],
                     CONFIG_DIR, argv[i]);
        dd_error_hint(&ctx.err, "Run 'dbdeploy --help' for the list of commands.");
        goto done;
    }

    git_libgit2_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmd->run(&ctx, argc - i, argv + i);
    if (rc < 0 && !dd_error_isset(&ctx.err))
        DD_BUG("command '%s' failed without an error", cmd->name);
    cli_ctx_release(&ctx);
    curl_global_cleanup();
    git_libgit2_shutdown();

done:
    if (dd_error_isset(&ctx.err)) {
        out_error(&ctx.err);
        status = dd_error_exit_status(&ctx.err);
        if (json && !out_result_written())
            print_json_error(&ctx.err, cmd ? cmd->name : NULL, status);
    }
    if (out_finish() < 0 && errno != EPIPE) {
        fprintf(stderr, "error: cannot write the output: %s\n", strerror(errno));
        if (status == DD_EXIT_OK)
            status = DD_EXIT_FAILED;
    }
    cli_ctx_release(&ctx);
    dd_error_release(&ctx.err);
    dd_mask_clear();
    return status;
}
