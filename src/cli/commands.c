/*
 * The command table, as git's: one row per command says what it is (the spec in its
 * cmd_<name>.c: name, usage, summary, options) and what it needs and does (flags). Parsing,
 * --help, 'dbdeploy help', the man page's COMMANDS section and the completion scripts all read
 * it, so they cannot drift apart. Also the small commands that only talk about the table.
 */
#include "cli/cli.h"

#include "util/json.h"
#include "util/out.h"
#include "version.h"

#define ENV_DB   (CLI_NEEDS_ENV | CLI_NEEDS_DB)
#define ENV_REPO (CLI_NEEDS_ENV | CLI_MAYBE_REPO)

/* alphabetical; hidden plumbing last */
const struct cli_command cli_commands[] = {
    {&cli_spec_adopt, cmd_adopt, ENV_DB | ENV_REPO | CLI_TAKES_LOCK | CLI_CHANGES_DB | CLI_JSON, "ENV"},
    {&cli_spec_apply, cmd_apply, ENV_DB | ENV_REPO | CLI_TAKES_LOCK | CLI_CHANGES_DB | CLI_JSON, "ENV"},
    {&cli_spec_backup, cmd_backup, ENV_DB | CLI_MAYBE_REPO | CLI_JSON, "ENV"},
    {&cli_spec_backups, cmd_backups, CLI_NEEDS_ENV | CLI_JSON, "ENV"},
    {&cli_spec_changelog, cmd_changelog, ENV_DB | CLI_NEEDS_REPO | CLI_JSON, "ENV"},
    {&cli_spec_completion, cmd_completion, 0, "bash|zsh"},
    {&cli_spec_deploy, cmd_deploy, ENV_DB | ENV_REPO | CLI_TAKES_LOCK | CLI_CHANGES_DB | CLI_JSON | CLI_PIPELINE,
     "ENV"},
    {&cli_spec_drift, cmd_drift, ENV_DB | CLI_JSON, "ENV"},
    {&cli_spec_envs, cmd_envs, CLI_JSON, NULL},
    {&cli_spec_gate, cmd_gate, ENV_DB | ENV_REPO | CLI_JSON, "ENV"},
    {&cli_spec_health, cmd_health, CLI_NEEDS_ENV | CLI_JSON, "ENV"},
    {&cli_spec_help, cmd_help, 0, "COMMAND"},
    {&cli_spec_hook, cmd_hook, CLI_NEEDS_REPO, NULL},
    {&cli_spec_init, cmd_init, CLI_JSON, NULL},
    {&cli_spec_lint, cmd_lint, CLI_MAYBE_REPO | CLI_JSON, "ENV"},
    {&cli_spec_log, cmd_log, ENV_DB | CLI_JSON, "ENV"},
    {&cli_spec_mark, cmd_mark, ENV_DB | ENV_REPO | CLI_TAKES_LOCK | CLI_CHANGES_DB | CLI_JSON, "ENV VERSION"},
    {&cli_spec_new, cmd_new, CLI_MAYBE_REPO | CLI_JSON, "NAME"},
    {&cli_spec_plan, cmd_plan, ENV_DB | ENV_REPO | CLI_JSON, "ENV"},
    {&cli_spec_redo, cmd_redo, ENV_DB | ENV_REPO | CLI_TAKES_LOCK | CLI_CHANGES_DB | CLI_JSON, "ENV VERSION"},
    {&cli_spec_rehearse, cmd_rehearse, ENV_DB | ENV_REPO | CLI_JSON, "ENV"},
    {&cli_spec_restore, cmd_restore, ENV_DB | CLI_TAKES_LOCK | CLI_CHANGES_DB | CLI_JSON, "ENV ARCHIVE"},
    {&cli_spec_rollback, cmd_rollback, ENV_DB | ENV_REPO | CLI_TAKES_LOCK | CLI_CHANGES_DB | CLI_JSON, "ENV"},
    {&cli_spec_schema, cmd_schema, CLI_MAYBE_REPO | CLI_JSON, NULL},
    {&cli_spec_setup, cmd_setup, ENV_DB | ENV_REPO | CLI_TAKES_LOCK | CLI_CHANGES_DB | CLI_JSON, "ENV"},
    {&cli_spec_status, cmd_status, ENV_DB | ENV_REPO | CLI_JSON, "ENV"},
    {&cli_spec_targets, cmd_targets, CLI_NEEDS_ENV | CLI_MAYBE_REPO | CLI_JSON, "ENV"},
    {&cli_spec_undo, cmd_undo, ENV_DB | ENV_REPO | CLI_TAKES_LOCK | CLI_CHANGES_DB | CLI_JSON, "ENV"},
    {&cli_spec_verify, cmd_verify, CLI_NEEDS_REPO | CLI_JSON, NULL},
    {&cli_spec_version, cmd_version, CLI_JSON, NULL},
    {&cli_spec_complete, cmd_complete, CLI_HIDDEN, NULL},
    {&cli_spec_man_commands, cmd_man_commands, CLI_HIDDEN, NULL},
    {NULL, NULL, 0, NULL},
};

const struct cli_command *cli_command_find(const char *name)
{
    for (const struct cli_command *c = cli_commands; c->spec; c++)
        if (strcmp(c->spec->name, name) == 0)
            return c;
    return NULL;
}

const struct cli_spec *cli_command_spec(const struct cli_command *cmd, int argc, char **argv)
{
    for (int i = 1; i < argc && cmd->spec->subs; i++) {
        if (argv[i][0] == '-')
            continue;
        for (const struct cli_spec *const *s = cmd->spec->subs; *s; s++)
            if (strcmp(strchr((*s)->name, ' ') + 1, argv[i]) == 0)
                return *s;
        break;
    }
    return cmd->spec;
}

/*
 * The small commands below only print what they build from their arguments: parse, let fill
 * write into the buffer (0, or -1 with err set), print it.
 */
static int run_printer(struct cli_ctx *ctx, const struct cli_spec *spec, int argc, char **argv,
                       int (*fill)(struct dd_buf *b, const struct cli_ctx *ctx, const struct dd_strv *args,
                                   struct dd_error *err))
{
    struct dd_strv args = DD_STRV_INIT;
    struct dd_buf b = DD_BUF_INIT;
    int rc = cli_parse(ctx, spec, NULL, argc, argv, &args);

    if (rc != 0)
        rc = rc > 0 ? 0 : -1; /* 1: --help was printed */
    else if ((rc = fill(&b, ctx, &args, &ctx->err)) == 0)
        out_result_buf(&b);
    dd_buf_release(&b);
    dd_strv_release(&args);
    return rc;
}

/* ---- help ------------------------------------------------------------------------------- */

const struct cli_spec cli_spec_help = {
    .brief = "show the help of dbdeploy or of a command",
    .name = "help",
    .usage = "[COMMAND [SUBCOMMAND]]",
    .summary = "Show the list of commands, or the help of COMMAND (the same as 'dbdeploy COMMAND --help').",
    .min_args = 0,
    .max_args = 2,
};

static int help_fill(struct dd_buf *b, const struct cli_ctx *ctx, const struct dd_strv *args, struct dd_error *err)
{
    const struct cli_command *cmd;

    (void)ctx;
    if (!args->n) {
        cli_help_main(b);
    } else if (!(cmd = cli_command_find(args->v[0]))) {
        dd_error_set(err, DD_EUSAGE, "'%s' is not a dbdeploy command", args->v[0]);
        dd_error_hint(err, "Run 'dbdeploy help' for the list of commands.");
        return -1;
    } else {
        /* argv-like: the command, then the subcommand if one was named */
        char *sub[] = {args->v[0], args->n > 1 ? args->v[1] : NULL, NULL};
        cli_help_command(b, cli_command_spec(cmd, args->n > 1 ? 2 : 1, sub), cmd);
    }
    return 0;
}

int cmd_help(struct cli_ctx *ctx, int argc, char **argv)
{
    return run_printer(ctx, &cli_spec_help, argc, argv, help_fill);
}

/* ---- version ---------------------------------------------------------------------------- */

const struct cli_spec cli_spec_version = {
    .brief = "print the version",
    .name = "version",
    .usage = "",
    .summary = "Print dbdeploy's version (the same as 'dbdeploy --version').",
    .min_args = 0,
    .max_args = 0,
};

static int version_fill(struct dd_buf *b, const struct cli_ctx *ctx, const struct dd_strv *args, struct dd_error *err)
{
    (void)ctx, (void)args, (void)err;
    if (out_json()) {
        struct dd_json j;
        dd_json_document_begin(&j, b, "version");
        dd_json_str(&j, "version", DBDEPLOY_VERSION);
        dd_json_obj_end(&j);
    } else {
        dd_buf_addf(b, "dbdeploy %s\n", DBDEPLOY_VERSION);
    }
    return 0;
}

int cmd_version(struct cli_ctx *ctx, int argc, char **argv)
{
    return run_printer(ctx, &cli_spec_version, argc, argv, version_fill);
}

/* ---- completion ------------------------------------------------------------------------- */

const struct cli_spec cli_spec_completion = {
    .brief = "print the bash or zsh completion script",
    .name = "completion",
    .usage = "bash|zsh",
    .summary = "Print a completion script generated from the command table: commands, options, and for "
               "arguments the environment names, migration versions and backup archives of the project.",
    .details = "Load it with 'source <(dbdeploy completion bash)', or install the copies in completions/ "
               "('cmake --install' does). The scripts ask the binary for project names through 'dbdeploy "
               "__complete', which reads pipeline/*.conf and the migrations directory and needs no database.",
    .min_args = 1,
    .max_args = 1,
};

static int completion_fill(struct dd_buf *b, const struct cli_ctx *ctx, const struct dd_strv *args,
                           struct dd_error *err)
{
    (void)ctx;
    return cli_completion_script(b, args->v[0], err);
}

int cmd_completion(struct cli_ctx *ctx, int argc, char **argv)
{
    return run_printer(ctx, &cli_spec_completion, argc, argv, completion_fill);
}

const struct cli_spec cli_spec_complete = {
    .brief = "list completion candidates (for the completion scripts)",
    .name = "__complete",
    .usage = "envs | versions ENV | archives ENV",
    .summary = "Print one candidate a line: environment names, the migration versions in ENV's migrations "
               "directory, or ENV's backup archives. No database is used.",
    .min_args = 1,
    .max_args = 2,
};

static int complete_fill(struct dd_buf *b, const struct cli_ctx *ctx, const struct dd_strv *args, struct dd_error *err)
{
    struct dd_strv list = DD_STRV_INIT;
    int rc = cli_complete_list(&list, ctx->root, args->v[0], args->n > 1 ? args->v[1] : NULL, err);

    for (size_t i = 0; i < list.n; i++)
        dd_buf_addf(b, "%s\n", list.v[i]);
    dd_strv_release(&list);
    return rc;
}

int cmd_complete(struct cli_ctx *ctx, int argc, char **argv)
{
    return run_printer(ctx, &cli_spec_complete, argc, argv, complete_fill);
}

const struct cli_spec cli_spec_man_commands = {
    .brief = "print the man page's COMMANDS section (for the build)",
    .name = "__man-commands",
    .usage = "",
    .summary = "Print the COMMANDS section of docs/dbdeploy.1 in roff, generated from the command table.",
    .min_args = 0,
    .max_args = 0,
};

static int man_commands_fill(struct dd_buf *b, const struct cli_ctx *ctx, const struct dd_strv *args,
                             struct dd_error *err)
{
    (void)ctx, (void)args, (void)err;
    cli_man_commands(b);
    return 0;
}

int cmd_man_commands(struct cli_ctx *ctx, int argc, char **argv)
{
    return run_printer(ctx, &cli_spec_man_commands, argc, argv, man_commands_fill);
}
