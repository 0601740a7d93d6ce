#include "cli/cli.h"

#include "config/config.h"
#include "pipeline/deploy.h"
#include "util/buf.h"
#include "util/identity.h"
#include "util/out.h"

struct deploy_args {
    bool dry_run;
    bool sql;       /* plan --sql */
    const char *to; /* --to VERSION */
};

static int run_deploy(struct cli_ctx *ctx, const char *env, const struct deploy_args *a)
{
    struct deploy d;
    struct dd_buf b = DD_BUF_INIT;
    char *who = NULL;
    int rc = -1;

    deploy_init(&d);
    if (a->to && engine_parse_version(&d.to_version, a->to, &ctx->err) < 0)
        goto cleanup;
    if (cli_need_config(ctx, env) < 0)
        goto cleanup;
    if (cli_need_env_repo(ctx) < 0)
        goto cleanup;
    if (cli_need_db(ctx) < 0)
        goto cleanup;
    who = dd_whoami();
    d.cfg = ctx->cfg;
    d.repo = ctx->repo;
    d.db = ctx->db;
    d.dry_run = a->dry_run || a->sql;
    d.show_sql = a->sql;
    d.who = who;
    rc = deploy_run(&d, &ctx->err);
    deploy_report(&b, &d, out_json());
    out_result_buf(&b);
cleanup:
    deploy_release(&d);
    dd_buf_release(&b);
    free(who);
    return rc;
}

int cmd_deploy(struct cli_ctx *ctx, int argc, char **argv)
{
    struct deploy_args o = {false, false, NULL};
    const struct cli_opt opts[] = {
        CLI_OPT_BOOL('n', "dry-run", &o.dry_run, "run the read-only checks and show what would happen"),
        CLI_OPT_STRING(0, "to", &o.to, "VERSION", "deploy the pending migrations up to VERSION only"),
        CLI_OPT_END,
    };
    const struct cli_spec spec = {
        "deploy",
        "ENV [--dry-run] [--to VERSION]",
        "Deploy the pending migrations of ENV through the whole pipeline: preflight, gate, health-before, lock, "
        "backup, apply, health-after, and the record (ledger row and changelog entry). 'dbdeploy ENV' is the same.",
        "A failure in apply or health-after restores the backup automatically ([restore] on-failure). Exit status: "
        "0 deployed or up to date, 1 failed without changes, 2 bad input or configuration, 3 blocked before any "
        "change (gate, unhealthy application, lock busy, changed migrations), 4 failed and the database was "
        "restored, 5 failed and the restore failed too. See docs/pipeline.md.",
        opts,
        1,
        1};
    struct dd_strv args = DD_STRV_INIT;
    int rc = -1, p;

    p = cli_parse(ctx, &spec, argc, argv, &args);
    if (p == 0)
        rc = run_deploy(ctx, args.v[0], &o);
    else
        rc = p > 0 ? 0 : -1;
    dd_strv_release(&args);
    return rc;
}

int cmd_plan(struct cli_ctx *ctx, int argc, char **argv)
{
    struct deploy_args o = {true, false, NULL};
    const struct cli_opt opts[] = {
        CLI_OPT_BOOL(0, "sql", &o.sql, "print the exact SQL each pending migration would send"),
        CLI_OPT_STRING(0, "to", &o.to, "VERSION", "plan the pending migrations up to VERSION only"),
        CLI_OPT_END,
    };
    const struct cli_spec spec = {
        "plan",
        "ENV [--sql] [--to VERSION]",
        "Show what 'dbdeploy deploy ENV' would do, changing nothing: runs preflight, the gate and the health check "
        "before, and lists the migrations that would be applied (same as deploy --dry-run).",
        NULL,
        opts,
        1,
        1};
    struct dd_strv args = DD_STRV_INIT;
    int rc = -1, p;

    p = cli_parse(ctx, &spec, argc, argv, &args);
    if (p == 0)
        rc = run_deploy(ctx, args.v[0], &o);
    else
        rc = p > 0 ? 0 : -1;
    dd_strv_release(&args);
    return rc;
}
