#include "cli/cli.h"

#include <stdlib.h>

#include "backup/backup.h"
#include "config/config.h"
#include "db/admin.h"
#include "db/db.h"
#include "fleet/fleet.h"
#include "git/git.h"
#include "util/out.h"

int cli_need_config(struct cli_ctx *ctx, const char *env)
{
    if (ctx->cfg)
        return 0;
    if (config_load(&ctx->cfg, ctx->root, env, &ctx->err) < 0)
        return -1;
    if (ctx->target && fleet_select(ctx->cfg, ctx->target, &ctx->err) < 0)
        return -1;
    free(ctx->env);
    ctx->env = env ? dd_xstrdup(env) : NULL;
    return 0;
}

int cli_need_committed_config(struct cli_ctx *ctx, const char *env)
{
    /* a fleet's child deploys the commit its parent planned, not whatever HEAD is by now */
    const char *fleet_commit = ctx->target ? getenv(FLEET_COMMIT_ENV) : NULL;
    const char *rev = fleet_commit && *fleet_commit ? fleet_commit : "HEAD";

    if (ctx->cfg)
        return 0;
    cli_want_repo(ctx);
    /* no repository or no commit yet: only allow-dirty environments can go on (cli_need_env_repo) */
    if (!ctx->repo || !repo_rev_exists(ctx->repo, "HEAD"))
        return cli_need_config(ctx, env);
    if (config_load_committed(&ctx->cfg, ctx->repo, ctx->root, env, rev, CONFIG_FOLLOW_ALLOW_DIRTY, &ctx->err) < 0)
        return -1;
    if (ctx->target && fleet_select(ctx->cfg, ctx->target, &ctx->err) < 0)
        return -1;
    free(ctx->env);
    ctx->env = env ? dd_xstrdup(env) : NULL;
    return 0;
}

int cli_need_repo(struct cli_ctx *ctx)
{
    if (ctx->repo)
        return 0;
    return repo_open(&ctx->repo, ctx->root, &ctx->err);
}

void cli_want_repo(struct cli_ctx *ctx)
{
    struct dd_error ignored = DD_ERROR_INIT;

    if (!ctx->repo && repo_open(&ctx->repo, ctx->root, &ignored) < 0)
        ctx->repo = NULL;
    dd_error_release(&ignored);
}

int cli_need_env_repo(struct cli_ctx *ctx)
{
    if (ctx->cfg->allow_dirty) {
        cli_want_repo(ctx);
        return 0;
    }
    if (cli_need_repo(ctx) < 0) {
        dd_error_hint(&ctx->err,
                      "%s deploys committed migrations, so the project must be a git repository; set "
                      "[git] allow-dirty = true for an environment deployed from a plain directory.",
                      ctx->cfg->env ? ctx->cfg->env : "this environment");
        return -1;
    }
    return 0;
}

/*
 * The one place commands connect: first finish or revert what a killed dbdeploy left on this
 * environment (a half-done restore switch, side databases, passfiles, partial archives), and
 * say what was done.
 */
static int connect_and_clean(struct cli_ctx *ctx)
{
    struct dd_strv notes = DD_STRV_INIT;
    int rc;

    backup_sweep(&notes, ctx->cfg->backup.dir, ctx->cfg->env);
    rc = db_connect_healing(&ctx->db, ctx->cfg, &notes, &ctx->err);

    for (size_t i = 0; i < notes.n; i++)
        log_warn("%s", notes.v[i]);
    dd_strv_release(&notes);
    return rc;
}

int cli_need_db(struct cli_ctx *ctx)
{
    if (ctx->db)
        return 0;
    if (!ctx->cfg)
        DD_BUG("cli_need_db before cli_need_config");
    if (!ctx->cfg->db_url) {
        dd_error_set(&ctx->err, DD_ECONFIG, "%s: [database] url is not set and DATABASE_URL is empty",
                     ctx->cfg->env_file ? ctx->cfg->env_file : CONFIG_SHARED_FILE);
        dd_error_hint(&ctx->err, "Set url = postgresql://user@host/db in [database], or export DATABASE_URL.");
        return -1;
    }
    if (cli_fleet_wide(ctx)) {
        /* [database] url of a fleet is its catalog, never a deploy target */
        dd_error_set(&ctx->err, DD_EUSAGE, "environment '%s' is a fleet: name one of its databases with --target NAME",
                     ctx->cfg->env);
        dd_error_hint(&ctx->err, "'dbdeploy targets %s' lists them; deploy, status and log also run over all of them.",
                      ctx->cfg->env);
        return -1;
    }
    if (cli_guard_protected(ctx) < 0) /* before connecting: a refusal touches nothing */
        return -1;
    if (ctx->wait_ms && db_wait_ready(ctx->cfg, ctx->wait_ms, &ctx->err) < 0)
        return -1;
    return connect_and_clean(ctx);
}

void cli_ctx_release(struct cli_ctx *ctx)
{
    /* commands that took the deployment lock leave it to be released here, whatever happened */
    if (ctx->db && db_lock_held(ctx->db)) {
        struct dd_error ignored = DD_ERROR_INIT;
        db_lock_release(ctx->db, &ignored);
        dd_error_release(&ignored);
    }
    db_free(ctx->db);
    ctx->db = NULL;
    repo_free(ctx->repo);
    ctx->repo = NULL;
    config_free(ctx->cfg);
    ctx->cfg = NULL;
    free(ctx->env);
    ctx->env = NULL;
    free(ctx->root);
    ctx->root = NULL;
}
