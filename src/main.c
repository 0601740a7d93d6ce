/*
 * dbdeploy entry point: global flags, the command table, the `dbdeploy ENV` shorthand, signals,
 * the final error print and the exit status. Nothing below main() prints errors or exits.
 */
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config/config.h"
#include "git/git.h"
#include "health/health.h"
#include "util/common.h"
#include "util/fs.h"
#include "util/interrupt.h"
#include "util/json.h"
#include "util/mask.h"
#include "util/out.h"
#include "version.h"

/* With --json, a run always ends with one document on stdout; this one is for a failure before
 * or without a document of the command's own, or a command that writes none (init's is its own,
 * hook install's is this one): the text it printed and the lines it logged, so nothing is lost. */
static void print_json_generic(const struct dd_error *err, const char *command)
{
    struct dd_buf b = DD_BUF_INIT, text = DD_BUF_INIT;
    const struct dd_strv *messages = out_json_messages();
    struct dd_json j;

    out_json_take_text(&text);
    dd_json_document_begin(&j, &b, command);
    dd_json_error(&j, "error", err);
    dd_json_arr_begin(&j, "messages");
    for (size_t i = 0; i < messages->n; i++)
        dd_json_str(&j, NULL, messages->v[i]);
    dd_json_arr_end(&j);
    if (text.len)
        dd_json_str(&j, "output", text.buf);
    dd_json_obj_end(&j);
    out_result_buf(&b);
    dd_buf_release(&text);
    dd_buf_release(&b);
}

/* "did you mean" among the commands and the project's environments */
static void unknown_command(struct cli_ctx *ctx, const char *word)
{
    struct dd_strv candidates = DD_STRV_INIT, near = DD_STRV_INIT;
    struct dd_error ignored = DD_ERROR_INIT;

    for (const struct cli_command *c = cli_commands; c->spec; c++)
        if (!(c->flags & CLI_HIDDEN))
            dd_strv_push(&candidates, c->spec->name);
    cli_complete_list(&candidates, ctx->root, "envs", NULL, &ignored);
    dd_error_set(&ctx->err, DD_EUSAGE, "'%s' is not a dbdeploy command, nor an environment (no %s/%s.conf)", word,
                 CONFIG_DIR, word);
    if (cli_suggest(&near, word, &candidates)) {
        char *list = dd_strv_join(&near, "' or '");
        dd_error_hint(&ctx->err, "Did you mean '%s'? 'dbdeploy help' lists the commands.", list);
        free(list);
    } else {
        dd_error_hint(&ctx->err, "Run 'dbdeploy help' for the list of commands.");
    }
    dd_error_release(&ignored);
    dd_strv_release(&near);
    dd_strv_release(&candidates);
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

/* The global options before the command; then --help and --version become their commands. */
static int leading_globals(struct cli_globals *g, int argc, char **argv, int *i, struct dd_error *err)
{
    while (*i < argc && argv[*i][0] == '-' && strcmp(argv[*i], "--") != 0) {
        int used = cli_global_opt(g, argc, argv, *i, true, err);
        if (used < 0)
            return -1;
        if (used == 0) {
            dd_error_set(err, DD_EUSAGE, "unknown global option '%s'", argv[*i]);
            dd_error_hint(err, "Run 'dbdeploy --help' for the global options; a command's own options "
                               "come after the command.");
            return -1;
        }
        *i += used;
    }
    *i += *i < argc && strcmp(argv[*i], "--") == 0;
    return 0;
}

int main(int argc, char **argv)
{
    struct cli_ctx ctx = CLI_CTX_INIT;
    struct cli_globals g = {NULL, false, false, false, OUT_NORMAL, OUT_COLOR_AUTO, 0, NULL};
    char *alias[] = {NULL, NULL};
    char **cargv = NULL;
    const char *name = NULL;
    int i = 1, cargc = 0, status = DD_EXIT_OK, rc = 0;
    const struct cli_command *cmd = NULL;
    bool set_up = false;

    setlocale(LC_CTYPE, "");
    signal(SIGPIPE, SIG_IGN);
    dd_interrupt_install();

    if (leading_globals(&g, argc, argv, &i, &ctx.err) < 0)
        goto done;
    if (g.help && !g.version && i < argc) {
        /* `dbdeploy --help status` is `dbdeploy help status` (argv[i - 1] held --help) */
        cmd = cli_command_find("help");
        cargv = argv + i - 1;
        cargc = argc - i + 1;
        cargv[0] = "help";
    } else if (g.version || g.help || i >= argc) {
        alias[0] = g.version ? "version" : "help";
        cmd = cli_command_find(alias[0]);
        cargc = 1;
        cargv = alias;
    } else {
        /* an unknown word may be an environment ('dbdeploy prod' deploys): take deploy's options */
        cmd = cli_command_find(argv[i]);
        cargc = cli_take_globals(&g, cli_command_spec(cmd ? cmd : cli_command_find("deploy"), argc - i, argv + i),
                                 argc - i, argv + i, &ctx.err);
        cargv = argv + i;
        if (cargc < 0)
            goto done;
    }
    out_setup(g.verbosity, g.json, g.color);
    set_up = true;
    if (set_root(&ctx, g.dir) < 0)
        goto done;
    ctx.wait_ms = g.wait_ms;
    if (!cmd && env_defined(ctx.root, cargv[0])) {
        /* `dbdeploy prod` is `dbdeploy deploy prod` when pipeline/prod.conf exists */
        cmd = cli_command_find("deploy");
        cargv--;
        cargc++;
        cargv[0] = "deploy";
    }
    if (!cmd) {
        unknown_command(&ctx, cargv[0]);
        goto done;
    }
    name = cli_command_spec(cmd, cargc, cargv)->name;
    ctx.target = g.target;

    rc = cmd->run(&ctx, cargc, cargv);
    if (rc < 0 && !dd_error_isset(&ctx.err))
        DD_BUG("command '%s' failed without an error", cmd->spec->name);
    cli_ctx_release(&ctx);
    health_global_cleanup();
    repo_global_shutdown();
    if (!g.version && !g.help && i >= argc)
        dd_error_set(&ctx.err, DD_EUSAGE, "no command given");

done:
    if (!set_up)
        out_setup(g.verbosity, g.json, g.color);
    if (dd_error_isset(&ctx.err)) {
        out_error(&ctx.err);
        status = dd_error_exit_status(&ctx.err);
    }
    if (g.json) {
        if (!out_json_document_held())
            print_json_generic(&ctx.err, name);
        out_json_end(status);
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
