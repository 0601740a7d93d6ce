/* Changes made outside the pipeline, on record: the cli side of pipeline/event.c. */
#include "cli/cli.h"

#include <string.h>

#include "config/config.h"
#include "engine/execute.h"
#include "pipeline/event.h"
#include "util/clock.h"
#include "util/out.h"

void cli_event_init(struct event *ev, struct cli_ctx *ctx, const char *commit, const char *who)
{
    event_init(ev, ctx->cmd ? ctx->cmd->spec->name : "change", ctx->cfg, ctx->db, ctx->repo, commit, who);
}

int cli_event_record(struct event *ev, struct cli_ctx *ctx, const char *result, const char *archive)
{
    if (event_record(ev, result, NULL, archive, &ctx->err) < 0) {
        dd_error_wrap(&ctx->err, "while recording the %s of %s (it was done)", ev->kind, ctx->cfg->env);
        return -1;
    }
    log_detail("recorded as deployment #%lld in the ledger and in %s", (long long)ev->dep.id, ev->changelog_path);
    return 0;
}

void cli_event_failed(struct event *ev, struct cli_ctx *ctx)
{
    struct dd_error ignored = DD_ERROR_INIT;

    /* the session may be gone with the failure: a failed record must not hide the real error */
    if (event_record(ev, "failed", dd_error_msg(&ctx->err), NULL, &ignored) < 0)
        log_warn("the failed %s was not recorded: %s", ev->kind, dd_error_msg(&ignored));
    dd_error_release(&ignored);
}

/* The steps of a plan that ran (res) and the one that failed, as the event's migrations. */
static void add_result(struct event *ev, const struct engine_plan *plan, const struct engine_result *res,
                       const char *status)
{
    for (size_t i = 0; i < res->n; i++)
        for (size_t k = 0; k < plan->n; k++)
            if (plan->v[k].m->version == res->v[i].version) {
                event_add(ev, plan->v[k].m, res->v[i].duration_ms, status);
                break;
            }
    if (res->failed_index < plan->n)
        event_add(ev, plan->v[res->failed_index].m, 0, "failed");
}

int cli_event_after_execute(struct event *ev, struct cli_ctx *ctx, int rc, bool dry_run, const struct engine_plan *plan,
                            const struct engine_result *res, const char *status, const char *result)
{
    if (rc < 0) {
        /* recorded when something ran: a refusal before the first step changed nothing */
        if (res->n || res->failed_index != SIZE_MAX) {
            add_result(ev, plan, res, status);
            cli_event_failed(ev, ctx);
        }
        return -1;
    }
    if (dry_run || (!plan->n && !plan->nrep))
        return 0;
    add_result(ev, plan, res, status);
    return cli_event_record(ev, ctx, result, NULL);
}

int cli_execute_goal(struct cli_ctx *ctx, const char *env, const struct engine_goal *g, bool dry_run,
                     const char *status, const char *result, cli_execute_report_fn *report, uint64_t start_ms)
{
    struct cli_env e = CLI_ENV_INIT;
    struct engine_plan plan = ENGINE_PLAN_INIT;
    struct engine_result res = ENGINE_RESULT_INIT;
    struct event ev;
    int rc = -1;

    memset(&ev, 0, sizeof(ev));
    if (cli_env_load(&e, ctx, env) < 0)
        goto cleanup;
    {
        struct engine_target t = {ctx->db, &e.set, &e.ledger, &e.st, &e.opts, ctx->cfg->lock_wait_ms};
        int x;
        cli_event_init(&ev, ctx, e.set.commit, e.whoami);
        x = engine_execute(&res, &plan, &t, g, dry_run, e.set.commit, &ctx->err);
        if (cli_event_after_execute(&ev, ctx, x, dry_run, &plan, &res, status, result) < 0)
            goto cleanup;
    }
    /* the plan borrows the environment's migrations: report before they are released */
    report(ctx, &plan, &res, dry_run, dd_now_ms() - start_ms);
    rc = 0;
cleanup:
    event_release(&ev);
    engine_result_release(&res);
    engine_plan_release(&plan);
    cli_env_release(&e);
    return rc;
}
