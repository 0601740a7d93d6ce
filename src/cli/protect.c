/*
 * Protected environments and the branches an environment is deployed from.
 *
 * The rule is read from the command table rather than written into each command: any command
 * flagged CLI_CHANGES_DB that is not the pipeline asks for confirmation on a protected
 * environment, so a new command that changes the database gets it without remembering to.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <unistd.h>

#include "config/config.h"
#include "git/git.h"
#include "util/out.h"
#include "util/strv.h"

/* The bool option named long_name of the command's option struct; false when it has none. */
static bool bool_option(const struct cli_spec *spec, const void *opts, const char *long_name)
{
    for (const struct cli_opt *o = spec->opts; o && o->long_name; o++)
        if (o->type == CLI_OPT_T_BOOL && strcmp(o->long_name, long_name) == 0 && opts)
            return *(const bool *)((const char *)opts + o->offset);
    return false;
}

void cli_note_command(struct cli_ctx *ctx, const struct cli_spec *spec, const void *opts)
{
    for (const struct cli_command *c = cli_commands; c->spec; c++)
        if (c->spec == spec)
            ctx->cmd = c;
    ctx->yes = bool_option(spec, opts, "yes");
    ctx->dry_run = bool_option(spec, opts, "dry-run");
}

/* Ask on a terminal; refuse anywhere else (no_tty_code), since nobody could have answered. */
int cli_confirm(struct cli_ctx *ctx, const char *verb, const char *env, enum dd_errcode no_tty_code)
{
    char answer[128];
    size_t n;

    if (ctx->yes || ctx->confirmed)
        return 0;
    if (!isatty(STDIN_FILENO)) {
        dd_error_set(&ctx->err, no_tty_code, "refusing to %s without confirmation: standard input is not a terminal",
                     verb);
        dd_error_hint(&ctx->err, "Pass --yes to %s without asking.", verb);
        return -1;
    }
    log_warn("type '%s' to go ahead, anything else to stop:", env);
    if (!fgets(answer, sizeof(answer), stdin))
        answer[0] = '\0';
    n = strcspn(answer, "\r\n");
    answer[n] = '\0';
    if (strcmp(answer, env) == 0) {
        ctx->confirmed = true;
        return 0;
    }
    dd_error_set(&ctx->err, DD_EBLOCKED, "%s of %s not confirmed; nothing was changed", verb, env);
    return -1;
}

bool cli_will_confirm(const struct cli_ctx *ctx)
{
    return ctx->cfg && ctx->cfg->environment.protected_env && ctx->cmd && !ctx->dry_run && !ctx->yes &&
           !ctx->confirmed && (ctx->cmd->flags & CLI_CHANGES_DB) && !(ctx->cmd->flags & CLI_PIPELINE);
}

int cli_guard_protected(struct cli_ctx *ctx)
{
    const char *verb;

    if (!cli_will_confirm(ctx))
        return 0;
    verb = ctx->cmd->spec->name;
    log_warn("%s is a protected environment ([environment] protected in %s): '%s' changes its database outside "
             "the deployment pipeline",
             ctx->cfg->env, ctx->cfg->env_file ? ctx->cfg->env_file : CONFIG_DIR, verb);
    if (cli_confirm(ctx, verb, ctx->cfg->env, DD_EUSAGE) < 0) {
        if (ctx->err.code == DD_EUSAGE)
            dd_error_hint(&ctx->err,
                          "%s is protected: nothing was changed. Pass --yes to %s it without asking, or deploy "
                          "with 'dbdeploy %s'.",
                          ctx->cfg->env, verb, ctx->cfg->env);
        return -1;
    }
    return 0;
}

/* "main release/x" -> {"main", "release/x"}: space- or comma-separated words */
static void split_words(struct dd_strv *out, const char *s)
{
    while (*s) {
        size_t n;
        s += strspn(s, " \t,");
        n = strcspn(s, " \t,");
        if (n)
            dd_strv_push_owned(out, dd_xstrndup(s, n));
        s += n;
    }
}

int cli_check_branches(struct cli_ctx *ctx)
{
    struct dd_strv patterns = DD_STRV_INIT, seen = DD_STRV_INIT;
    char *branch = NULL, *list = NULL;
    int rc = -1;

    if (!ctx->cfg->deploy.branches)
        return 0;
    split_words(&patterns, ctx->cfg->deploy.branches);
    if (!patterns.n)
        return 0;
    list = dd_strv_join(&patterns, " ");
    if (!ctx->repo) {
        dd_error_set(&ctx->err, DD_EBLOCKED, "%s: [deploy] branches = %s, but the project is not a git repository",
                     ctx->cfg->env_file, list);
        dd_error_hint(&ctx->err, "Deploy %s from a clone of the repository, on one of those branches.", ctx->cfg->env);
        goto cleanup;
    }
    if (repo_commit_in_branches(&branch, &seen, ctx->repo, "HEAD", &patterns, &ctx->err) < 0)
        goto cleanup;
    if (!branch) {
        dd_error_set(&ctx->err, DD_EBLOCKED,
                     "%s may only be deployed from a commit on %s ([deploy] branches in %s); HEAD is on none of them",
                     ctx->cfg->env, list, ctx->cfg->env_file);
        if (seen.n)
            dd_error_hint(&ctx->err,
                          "Nothing was changed. Merge the change into %s first (or check it out there), "
                          "then deploy from that commit.",
                          list);
        else
            dd_error_hint(&ctx->err,
                          "Nothing was changed. No branch named %s exists here: fetch it first ('git "
                          "fetch origin'), then deploy from a commit on it.",
                          list);
        goto cleanup;
    }
    log_info("HEAD is on branch %s ([deploy] branches = %s)", branch, list);
    rc = 0;
cleanup:
    free(branch);
    free(list);
    dd_strv_release(&seen);
    dd_strv_release(&patterns);
    return rc;
}
