#include "cli/cli.h"

#include <stdio.h>

#include "config/config.h"
#include "db/db.h"
#include "engine/execute.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/out.h"

static void report(const struct cli_ctx *ctx, const struct engine_plan *plan, const struct engine_result *res,
                   bool dry_run, uint64_t ms)
{
    struct dd_buf b = DD_BUF_INIT;

    if (out_json()) {
        struct dd_json j;
        dd_json_document_begin(&j, &b, "rollback");
        dd_json_str(&j, "env", ctx->cfg->env);
        dd_json_str(&j, "result", dry_run ? "dry-run" : plan->n ? "reverted" : "nothing-to-do");
        if (dry_run) {
            dd_json_arr_begin(&j, "to_revert");
            for (size_t i = 0; i < plan->n; i++)
                dd_json_int(&j, NULL, plan->v[i].m->version);
            dd_json_arr_end(&j);
        } else {
            engine_result_json(&j, "reverted", res);
        }
        dd_json_uint(&j, "duration_ms", ms);
        dd_json_obj_end(&j);
    } else if (!plan->n) {
        dd_buf_addf(&b, "nothing to roll back on %s\n", ctx->cfg->env);
    } else if (dry_run) {
        dd_buf_addf(&b, "would roll back %zu migration%s on %s:\n", plan->n, plan->n == 1 ? "" : "s", ctx->cfg->env);
        for (size_t i = 0; i < plan->n; i++)
            dd_buf_addf(&b, "  %s%s\n", plan->v[i].skip_sql ? plan->v[i].m->up.path : plan->v[i].script->path,
                        plan->v[i].skip_sql ? "  (no down file: unrecord only)" : "");
    } else {
        dd_buf_addf(&b, "rolled back %zu migration%s on %s in %.1fs\n", res->n, res->n == 1 ? "" : "s", ctx->cfg->env,
                    (double)ms / 1000.0);
    }
    out_result_buf(&b);
    dd_buf_release(&b);
}

struct rollback_opts {
    uint32_t steps;
    const char *to;
    bool dry_run, allow_missing_down, yes;
};

static const struct cli_opt rollback_options[] = {
    CLI_OPT_U32(0, "steps", struct rollback_opts, steps, "N", "revert the newest N applied migrations (default 1)"),
    CLI_OPT_STRING(0, "to", struct rollback_opts, to, "VERSION",
                   "revert every applied migration above VERSION (0 = all)"),
    CLI_OPT_BOOL(0, "allow-missing-down", struct rollback_opts, allow_missing_down,
                 "unrecord migrations that have no down file instead of refusing"),
    CLI_OPT_BOOL('n', "dry-run", struct rollback_opts, dry_run, "show what would be reverted; change nothing"),
    CLI_OPT_BOOL('y', "yes", struct rollback_opts, yes, "do not ask for confirmation on a protected environment"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_rollback = {
    .brief = "revert applied migrations with their down files",
    .name = "rollback",
    .usage = "ENV [--steps N | --to VERSION] [--allow-missing-down] [--dry-run] [--yes]",
    .summary = "Revert applied migrations of ENV with their down files, newest first, each in its own transaction.",
    .details =
        "The same checks as apply run first (modified, missing or dirty migrations block). A migration without a "
        "down file blocks unless --allow-missing-down. A failing down migration stops the rollback there; the "
        "ones before it stay reverted and the ledger says exactly which. Each run that changes something is recorded "
        "like a deployment (kind rollback, in 'dbdeploy log' and the changelog).",
    .opts = rollback_options,
    .min_args = 1,
    .max_args = 1,
};

int cmd_rollback(struct cli_ctx *ctx, int argc, char **argv)
{
    struct rollback_opts o = {0, NULL, false, false, false};
    struct dd_strv args = DD_STRV_INIT;
    int64_t to = -1;
    uint64_t start = dd_now_ms();
    int rc = -1, p;

    p = cli_parse(ctx, &cli_spec_rollback, &o, argc, argv, &args);
    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    if (o.to && o.steps) {
        dd_error_set(&ctx->err, DD_EUSAGE, "--steps and --to cannot be used together");
        dd_error_hint(&ctx->err, "Use --steps N for the newest N migrations, or --to VERSION.");
        goto cleanup;
    }
    if (o.to && engine_parse_version(&to, o.to, &ctx->err) < 0)
        goto cleanup;
    if (!o.to && !o.steps)
        o.steps = 1;
    {
        struct engine_goal g = {ENGINE_GOAL_ROLLBACK, to, o.steps, o.allow_missing_down};
        rc = cli_execute_goal(ctx, args.v[0], &g, o.dry_run, "restored", "rolled-back", report, start);
    }
cleanup:
    dd_strv_release(&args);
    return rc;
}
