#include "cli/cli.h"

#include "config/config.h"
#include "fleet/fleet.h"
#include "pipeline/deploy.h"
#include "util/buf.h"
#include "util/identity.h"
#include "util/out.h"

struct deploy_opts {
    bool dry_run;
    bool sql;                 /* plan --sql */
    const char *to;           /* --to VERSION */
    const char *accept_drift; /* --accept-drift REASON */
};

/* A fleet: each target is a child dbdeploy given --target NAME and the options that apply to it. */
static int run_fleet(struct cli_ctx *ctx, const char *env, const struct deploy_opts *a)
{
    struct fleet_deploy_opts f = {NULL, ctx->root, env, a->dry_run || a->sql, out_json(), NULL};
    struct dd_strv extra = DD_STRV_INIT;
    struct dd_buf b = DD_BUF_INIT;
    char *exe = fleet_self_exe(&ctx->err);
    int rc = -1, status = 0;

    if (!exe)
        goto cleanup;
    if (a->to) {
        dd_strv_push(&extra, "--to");
        dd_strv_push(&extra, a->to);
    }
    if (a->accept_drift) {
        dd_strv_push(&extra, "--accept-drift");
        dd_strv_push(&extra, a->accept_drift);
    }
    if (a->sql) {
        /* the SQL is per target (each has its own pending list): each target's plan under its heading */
        dd_strv_push(&extra, "--sql");
        rc = cli_fleet_aggregate(ctx, "plan", &extra);
        goto cleanup;
    }
    f.exe = exe;
    f.extra = &extra;
    if (fleet_deploy(&b, &status, ctx->cfg, &f, &ctx->err) < 0)
        goto cleanup;
    out_result_buf(&b);
    rc = status ? fleet_status_error(&ctx->err, status, f.dry_run ? "plan" : "deploy", env) : 0;
cleanup:
    free(exe);
    dd_buf_release(&b);
    dd_strv_release(&extra);
    return rc;
}

static int run_deploy(struct cli_ctx *ctx, const char *env, const struct deploy_opts *a)
{
    struct deploy d;
    struct dd_buf b = DD_BUF_INIT;
    char *who = NULL;
    int rc = -1;

    deploy_init(&d);
    if (a->to && engine_parse_version(&d.to_version, a->to, &ctx->err) < 0)
        goto cleanup;
    if (cli_need_committed_config(ctx, env) < 0)
        goto cleanup;
    if (cli_need_env_repo(ctx) < 0)
        goto cleanup;
    if (!a->dry_run && !a->sql && cli_check_branches(ctx) < 0)
        goto cleanup;
    if (cli_fleet_wide(ctx)) {
        rc = run_fleet(ctx, env, a);
        goto cleanup;
    }
    if (cli_need_db(ctx) < 0)
        goto cleanup;
    who = dd_whoami();
    d.cfg = ctx->cfg;
    d.repo = ctx->repo;
    d.db = ctx->db;
    d.dry_run = a->dry_run || a->sql;
    d.show_sql = a->sql;
    if (a->accept_drift && !*a->accept_drift) {
        dd_error_set(&ctx->err, DD_EUSAGE, "--accept-drift needs a reason");
        dd_error_hint(&ctx->err,
                      "Say why the drift is acceptable, e.g. --accept-drift \"hotfix index from incident 42\"; "
                      "the ledger and the changelog keep it.");
        goto cleanup;
    }
    d.accept_drift = a->accept_drift;
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

static const struct cli_opt deploy_options[] = {
    CLI_OPT_BOOL('n', "dry-run", struct deploy_opts, dry_run, "run the read-only checks and show what would happen"),
    CLI_OPT_STRING(0, "to", struct deploy_opts, to, "VERSION", "deploy the pending migrations up to VERSION only"),
    CLI_OPT_STRING(0, "accept-drift", struct deploy_opts, accept_drift, "REASON",
                   "deploy although the schema changed outside dbdeploy, recording REASON"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_deploy = {
    .brief = "run the deployment pipeline for an environment ('dbdeploy ENV' for short)",
    .name = "deploy",
    .usage = "ENV [--dry-run] [--to VERSION] [--accept-drift REASON]",
    .summary =
        "Deploy the pending migrations of ENV through the whole pipeline: preflight, lint, gate, health-before, "
        "lock, backup, apply, health-after, and the record (ledger row and changelog entry). 'dbdeploy ENV' is the "
        "same.",
    .details =
        "A failure in apply or health-after restores the backup automatically ([restore] on-failure). Exit status: "
        "0 deployed or up to date, 1 failed without changes, 2 bad input or configuration, 3 blocked before any "
        "change (lint error, gate, unhealthy application, lock busy, changed migrations), 4 failed and the database "
        "was "
        "restored, 5 failed and the restore failed too. See docs/pipeline.md.\n\n"
        "An environment with [targets] is a fleet: every target is planned, then deployed in waves ([rollout] "
        "waves, parallel, halt), each with its own lock, backup, recovery and ledger record; the summary has a "
        "line per target and the exit status is the worst target's. --target NAME deploys one (docs/fleets.md).",
    .opts = deploy_options,
    .min_args = 1,
    .max_args = 1,
};

static int parse_and_run(struct cli_ctx *ctx, const struct cli_spec *spec, struct deploy_opts *o, int argc, char **argv)
{
    struct dd_strv args = DD_STRV_INIT;
    int rc = -1, p;

    p = cli_parse(ctx, spec, o, argc, argv, &args);
    if (p == 0)
        rc = run_deploy(ctx, args.v[0], o);
    else
        rc = p > 0 ? 0 : -1;
    dd_strv_release(&args);
    return rc;
}

int cmd_deploy(struct cli_ctx *ctx, int argc, char **argv)
{
    struct deploy_opts o = {false, false, NULL, NULL};

    return parse_and_run(ctx, &cli_spec_deploy, &o, argc, argv);
}

static const struct cli_opt plan_options[] = {
    CLI_OPT_BOOL(0, "sql", struct deploy_opts, sql, "print the exact SQL each pending migration would send"),
    CLI_OPT_STRING(0, "to", struct deploy_opts, to, "VERSION", "plan the pending migrations up to VERSION only"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_plan = {
    .brief = "show what a deploy would do, changing nothing",
    .name = "plan",
    .usage = "ENV [--sql] [--to VERSION]",
    .summary =
        "Show what 'dbdeploy deploy ENV' would do, changing nothing: runs preflight, lint (its findings are shown; "
        "an error-level one exits 3), the gate and the health check before, and lists the migrations that would be "
        "applied (same as deploy --dry-run). On a fleet, --sql shows each target's own plan and SQL under a "
        "'== NAME' heading.",
    .opts = plan_options,
    .min_args = 1,
    .max_args = 1,
};

int cmd_plan(struct cli_ctx *ctx, int argc, char **argv)
{
    struct deploy_opts o = {true, false, NULL, NULL};

    return parse_and_run(ctx, &cli_spec_plan, &o, argc, argv);
}
