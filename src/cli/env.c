#include "cli/cli.h"

#include "config/config.h"
#include "util/identity.h"

int cli_load_migrations(struct migration_set *out, struct cli_ctx *ctx)
{
    struct migration_source src = MIGRATION_SOURCE_INIT;
    int rc;

    rc = migration_source_read_fs(&src, ctx->root, ctx->cfg->migrations_dir, &ctx->err);
    if (rc == 0)
        rc = migration_set_build(out, &src, &ctx->err);
    migration_source_release(&src);
    return rc;
}

int cli_env_load(struct cli_env *e, struct cli_ctx *ctx, const char *env)
{
    if (cli_need_config(ctx, env) < 0 || cli_load_migrations(&e->set, ctx) < 0 || cli_need_db(ctx) < 0)
        return -1;
    engine_opts_from_config(&e->opts, ctx->cfg);
    e->whoami = dd_whoami();
    e->opts.applied_by = e->whoami;
    return cli_env_reload(e, ctx);
}

int cli_env_reload(struct cli_env *e, struct cli_ctx *ctx)
{
    engine_status_release(&e->st);
    db_ledger_release(&e->ledger);
    if (db_ledger_load(&e->ledger, ctx->db, ctx->cfg->ledger_schema, &ctx->err) < 0)
        return -1;
    engine_status_build(&e->st, &e->set, &e->ledger, ctx->cfg->out_of_order);
    return 0;
}

void cli_env_release(struct cli_env *e)
{
    engine_status_release(&e->st);
    db_ledger_release(&e->ledger);
    migration_set_release(&e->set);
    free(e->whoami);
    e->whoami = NULL;
}
