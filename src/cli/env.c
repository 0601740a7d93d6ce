#include "cli/cli.h"

#include "config/config.h"
#include "engine/execute.h"
#include "git/git.h"
#include "util/identity.h"

int cli_load_migrations(struct migration_set *out, struct cli_ctx *ctx)
{
    if (cli_need_env_repo(ctx) < 0)
        return -1;
    return engine_load_migrations(out, ctx->repo, ctx->cfg, &ctx->err);
}

int cli_load_migrations_at(struct migration_set *out, struct cli_ctx *ctx, const char *rev)
{
    if (cli_need_repo(ctx) < 0)
        return -1;
    return engine_load_migrations_at(out, ctx->repo, ctx->cfg->migrations_dir, rev, &ctx->err);
}

int cli_env_load(struct cli_env *e, struct cli_ctx *ctx, const char *env)
{
    if (cli_need_config(ctx, env) < 0 || cli_need_env_repo(ctx) < 0)
        return -1;
    /*
     * The ledger is asked for first, so that the server reads it while the repository is listed;
     * except where a protected environment's confirmation is due: that comes after the
     * repository's checks, as before.
     */
    if (!cli_will_confirm(ctx) &&
        (cli_need_db(ctx) < 0 || db_ledger_prefetch(ctx->db, ctx->cfg->ledger_schema, &ctx->err) < 0))
        return -1;
    /* files are only listed here; cli_env_reload reads those the ledger does not vouch for */
    if (engine_list_migrations(&e->set, ctx->repo, ctx->cfg, &ctx->err) < 0 || cli_need_db(ctx) < 0)
        return -1;
    engine_opts_from_config(&e->opts, ctx->cfg);
    e->whoami = dd_whoami();
    e->opts.applied_by = e->whoami;
    e->opts.explain = engine_explain_from_git;
    e->opts.explain_arg = ctx->repo;
    e->opts.clash = engine_clash_from_git;
    return cli_env_reload(e, ctx);
}

int cli_env_reload(struct cli_env *e, struct cli_ctx *ctx)
{
    struct engine_target t = {ctx->db, &e->set, &e->ledger, &e->st, &e->opts, ctx->cfg->lock_wait_ms};

    return engine_refresh(&t, &ctx->err);
}

void cli_env_release(struct cli_env *e)
{
    engine_status_release(&e->st);
    db_ledger_release(&e->ledger);
    migration_set_release(&e->set);
    free(e->whoami);
    e->whoami = NULL;
}
