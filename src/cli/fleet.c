/* Commands over a whole fleet: the pieces cmd_deploy, cmd_status and cmd_log share. */
#include "cli/cli.h"

#include "config/config.h"
#include "fleet/fleet.h"
#include "util/out.h"

bool cli_fleet_wide(const struct cli_ctx *ctx)
{
    return ctx->cfg && !ctx->target && config_is_fleet(ctx->cfg);
}

int cli_fleet_aggregate(struct cli_ctx *ctx, const char *command, const struct dd_strv *extra)
{
    struct fleet_targets t = FLEET_TARGETS_INIT;
    struct fleet_outcome *o = NULL;
    struct fleet_run_opts r = {0};
    struct dd_buf b = DD_BUF_INIT;
    char *exe = NULL;
    int rc = -1, worst;

    if (fleet_targets_resolve(&t, ctx->cfg, &ctx->err) < 0 || !(exe = fleet_self_exe(&ctx->err)))
        goto cleanup;
    o = dd_xcalloc(t.n ? t.n : 1, sizeof(*o));
    r.exe = exe;
    r.root = ctx->root;
    r.env = ctx->cfg->env;
    r.command = command;
    r.extra = extra;
    r.json = out_json();
    r.parallel = ctx->cfg->rollout.parallel;
    r.commit = ctx->cfg->commit;
    if (fleet_run(o, &t, &r, &ctx->err) < 0)
        goto cleanup;
    worst = fleet_aggregate_render(&b, command, ctx->cfg->env, &t, o, out_json());
    out_result_buf(&b);
    rc = worst ? fleet_status_error(&ctx->err, worst, command, ctx->cfg->env) : 0;
cleanup:
    for (size_t i = 0; o && i < t.n; i++)
        fleet_outcome_release(&o[i]);
    free(o);
    free(exe);
    dd_buf_release(&b);
    fleet_targets_release(&t);
    return rc;
}
