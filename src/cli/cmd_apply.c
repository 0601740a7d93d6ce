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
        dd_json_document_begin(&j, &b, "apply");
        dd_json_str(&j, "env", ctx->cfg->env);
        dd_json_str(&j, "result", dry_run ? "dry-run" : plan->n || plan->nrep ? "applied" : "up-to-date");
        if (dry_run) {
            dd_json_arr_begin(&j, "pending");
            for (size_t i = 0; i < plan->n; i++) {
                dd_json_obj_begin(&j, NULL);
                dd_json_int(&j, "version", plan->v[i].m->version);
                dd_json_str(&j, "file", plan->v[i].script->path);
                dd_json_bool(&j, "transaction", plan->v[i].exec.mode == MIGRATION_EXEC_TX);
                dd_json_obj_end(&j);
            }
            dd_json_arr_end(&j);
            if (plan->nrep) {
                dd_json_arr_begin(&j, "repeatable");
                for (size_t i = 0; i < plan->nrep; i++)
                    dd_json_str(&j, NULL, plan->rep[i].script->path);
                dd_json_arr_end(&j);
            }
        } else {
            engine_result_json(&j, "applied", res);
        }
        dd_json_uint(&j, "duration_ms", ms);
        dd_json_obj_end(&j);
    } else if (dry_run) {
        if (!plan->n && !plan->nrep)
            dd_buf_addf(&b, "%s is up to date; nothing would be applied\n", ctx->cfg->env);
        else
            dd_buf_addf(&b, "would apply %zu migration%s to %s:\n", plan->n, plan->n == 1 ? "" : "s", ctx->cfg->env);
        for (size_t i = 0; i < plan->n; i++)
            dd_buf_addf(&b, "  %s%s\n", plan->v[i].script->path,
                        plan->v[i].exec.mode == MIGRATION_EXEC_TX ? "" : "  (no transaction)");
        for (size_t i = 0; i < plan->nrep; i++)
            dd_buf_addf(&b, "  %s  (repeatable, changed: runs again)\n", plan->rep[i].script->path);
    } else if (!plan->n && !plan->nrep) {
        dd_buf_addf(&b, "%s is up to date; nothing to apply\n", ctx->cfg->env);
    } else {
        if (plan->n)
            dd_buf_addf(&b, "applied %zu migration%s to %s in %.1fs; now at %s\n", res->n, res->n == 1 ? "" : "s",
                        ctx->cfg->env, (double)ms / 1000.0, migration_display(plan->v[plan->n - 1].m));
        for (size_t i = 0; i < res->nrep; i++)
            dd_buf_addf(&b, "reapplied %s (repeatable)\n", res->rep[i].file);
    }
    out_result_buf(&b);
    dd_buf_release(&b);
}

struct apply_opts {
    const char *to;
    bool dry_run, yes;
};

static const struct cli_opt apply_options[] = {
    CLI_OPT_STRING(0, "to", struct apply_opts, to, "VERSION", "apply pending migrations up to and including VERSION"),
    CLI_OPT_BOOL('n', "dry-run", struct apply_opts, dry_run, "show what would be applied; change nothing"),
    CLI_OPT_BOOL('y', "yes", struct apply_opts, yes, "do not ask for confirmation on a protected environment"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_apply = {
    .brief = "apply pending migrations to an environment",
    .name = "apply",
    .usage = "ENV [--to VERSION] [--dry-run] [--yes]",
    .summary = "Apply the pending migrations of ENV in version order, each in its own transaction with its ledger row.",
    .details =
        "Applied migrations are verified first: a changed, renamed or missing file, a dirty migration or an "
        "out-of-order version blocks (exit 3) before anything runs. The deployment lock ([database] lock-wait) keeps "
        "two runs apart. Files that cannot run in a transaction run statement by statement (see "
        "docs/migrations.md). The data-loss guard fails (exit 1, rolled back) a migration that destroyed rows or "
        "values, changed rows of existing tables, or left an invalid index or a NOT VALID constraint without "
        "declaring it with '-- dbdeploy:allow data-loss|row-changes|not-valid reason' (docs/guard.md). Each run that "
        "changes something is recorded like a deployment (kind apply, in 'dbdeploy log' and the changelog).",
    .opts = apply_options,
    .min_args = 1,
    .max_args = 1,
};

int cmd_apply(struct cli_ctx *ctx, int argc, char **argv)
{
    struct apply_opts o = {NULL, false, false};
    struct dd_strv args = DD_STRV_INIT;
    int64_t to = -1;
    uint64_t start = dd_now_ms();
    int rc = -1, p;

    p = cli_parse(ctx, &cli_spec_apply, &o, argc, argv, &args);
    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    if (o.to && engine_parse_version(&to, o.to, &ctx->err) < 0)
        goto cleanup;
    {
        struct engine_goal g = {ENGINE_GOAL_APPLY, to, 0, false};
        rc = cli_execute_goal(ctx, args.v[0], &g, o.dry_run, "applied", "applied", report, start);
    }
cleanup:
    dd_strv_release(&args);
    return rc;
}
