#include "cli/cli.h"

#include "config/config.h"
#include "db/db.h"
#include "git/git.h"

int cli_need_config(struct cli_ctx *ctx, const char *env)
{
    if (ctx->cfg)
        return 0;
    if (config_load(&ctx->cfg, ctx->root, env, &ctx->err) < 0)
        return -1;
    free(ctx->env);
    ctx->env = env ? dd_xstrdup(env) : NULL;
    return 0;
}

int cli_need_db(struct cli_ctx *ctx)
{
    if (ctx->db)
        return 0;
    if (!ctx->cfg)
        DD_BUG("cli_need_db before cli_need_config");
    return db_connect(&ctx->db, ctx->cfg, &ctx->err);
}

void cli_ctx_release(struct cli_ctx *ctx)
{
    db_free(ctx->db);
    ctx->db = NULL;
    config_free(ctx->cfg);
    ctx->cfg = NULL;
    free(ctx->env);
    ctx->env = NULL;
    free(ctx->root);
    ctx->root = NULL;
}
