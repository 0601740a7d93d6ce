/* dbdeploy undo ENV [--deployment N] [--yes] [--discard-writes] */
#include "cli/cli.h"

#include <stdio.h>

#include "config/config.h"
#include "db/db.h"
#include "pipeline/undo.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/out.h"

static const char details[] =
    "Takes back one past deployment of ENV: the newest one whose migrations are still applied, or\n"
    "deployment N of 'dbdeploy log ENV'. The down files of the migrations it applied run newest\n"
    "first, each in its own transaction with its ledger row, so other sessions' writes to data the\n"
    "downs do not touch are kept. The undo holds the deployment lock and is recorded as a deployment\n"
    "of its own (result undone, recovery down) with a changelog entry.\n"
    "\n"
    "When one of its migrations has no down file, the deployment's pre-deploy backup is restored\n"
    "instead (recovery backup), under the foreign-write guard: if any other session committed a\n"
    "write since that backup (or while it is being restored), nothing is changed (exit 3) and the\n"
    "tables are named; --discard-writes restores anyway. Only the newest deployment of ENV can be\n"
    "undone through its backup. The deployment history in the ledger is kept across the restore.\n"
    "\n"
    "Nothing is changed (exit 3) when a later deployment applied migrations on top of it (undo those\n"
    "first), when its migrations are no longer applied as it recorded them, or when one of them has\n"
    "no down file and the backup cannot be used. On a terminal the undo asks for confirmation;\n"
    "elsewhere it needs --yes (exit 2 without).";

static void report(const struct cli_ctx *ctx, const struct undo *u, uint64_t ms)
{
    struct dd_buf b = DD_BUF_INIT;

    if (out_json()) {
        struct dd_json j;
        dd_json_document_begin(&j, &b, "undo");
        dd_json_str(&j, "env", ctx->cfg->env);
        dd_json_str(&j, "result", "undone");
        dd_json_int(&j, "deployment", u->id);
        dd_json_int(&j, "recorded_as", u->record_id);
        dd_json_str(&j, "recovery", u->archive ? "backup" : "down");
        if (u->archive)
            dd_json_str(&j, "archive", u->archive);
        engine_result_json(&j, "reverted", &u->reverted);
        dd_json_str(&j, "changelog", u->changelog_path);
        dd_json_uint(&j, "duration_ms", ms);
        dd_json_obj_end(&j);
    } else if (u->archive) {
        dd_buf_addf(&b, "undid deployment #%lld on %s: restored its backup %s in %.1fs; recorded as deployment #%lld\n",
                    (long long)u->id, ctx->cfg->env, u->archive, (double)ms / 1000.0, (long long)u->record_id);
    } else {
        dd_buf_addf(&b,
                    "undid deployment #%lld on %s: ran the down files of %zu migration%s in %.1fs; recorded as "
                    "deployment #%lld\n",
                    (long long)u->id, ctx->cfg->env, u->reverted.n, u->reverted.n == 1 ? "" : "s", (double)ms / 1000.0,
                    (long long)u->record_id);
    }
    out_result_buf(&b);
    dd_buf_release(&b);
}

struct undo_opts {
    uint32_t deployment;
    bool yes, discard_writes;
};

static const struct cli_opt undo_options[] = {
    CLI_OPT_U32(0, "deployment", struct undo_opts, deployment, "N",
                "undo deployment N of 'dbdeploy log ENV' (default: the newest still applied)"),
    CLI_OPT_BOOL('y', "yes", struct undo_opts, yes, "do not ask for confirmation"),
    CLI_OPT_BOOL(0, "discard-writes", struct undo_opts, discard_writes,
                 "undo through the backup even if other sessions wrote since it (their writes are lost)"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_undo = {
    .brief = "undo a past deployment (down files, else its backup)",
    .name = "undo",
    .usage = "ENV [--deployment N] [--yes] [--discard-writes]",
    .summary = "Undo a past deployment of ENV with the down files of the migrations it applied, or its backup.",
    .details = details,
    .opts = undo_options,
    .min_args = 1,
    .max_args = 1,
};

int cmd_undo(struct cli_ctx *ctx, int argc, char **argv)
{
    struct undo_opts o = {0, false, false};
    struct dd_strv args = DD_STRV_INIT;
    struct cli_env e = CLI_ENV_INIT;
    struct undo u;
    uint64_t start = dd_now_ms();
    int rc = -1, p;

    memset(&u, 0, sizeof(u));
    u.plan = (struct engine_plan)ENGINE_PLAN_INIT;
    u.reverted = (struct engine_result)ENGINE_RESULT_INIT;
    u.foreign = (struct db_foreign_writes)DB_FOREIGN_WRITES_INIT;
    u.restore = (struct backup_restore_result)BACKUP_RESTORE_RESULT_INIT;
    p = cli_parse(ctx, &cli_spec_undo, &o, argc, argv, &args);
    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    if (cli_env_load(&e, ctx, args.v[0]) < 0)
        goto cleanup;
    cli_want_repo(ctx); /* without git the changelog's authors are simply unknown */
    u.cfg = ctx->cfg;
    u.repo = ctx->repo;
    u.t = (struct engine_target){ctx->db, &e.set, &e.ledger, &e.st, &e.opts, ctx->cfg->lock_wait_ms};
    u.who = e.whoami;
    u.discard_writes = o.discard_writes;
    if (undo_prepare(&u, o.deployment, &ctx->err) < 0)
        goto cleanup;
    if (u.archive)
        log_warn("deployment #%lld of %s will be undone by restoring its backup %s%s", (long long)u.id, ctx->cfg->env,
                 u.archive, o.discard_writes ? ", discarding other sessions' writes since" : "");
    else
        log_warn("deployment #%lld of %s will be undone: the down files of %lld..%lld run, newest first",
                 (long long)u.id, ctx->cfg->env, (long long)u.versions[0], (long long)u.versions[u.n - 1]);
    if (!o.yes && cli_confirm(ctx, "undo", ctx->cfg->env, DD_EUSAGE) < 0)
        goto cleanup;
    if (undo_run(&u, &ctx->err) < 0)
        goto cleanup;
    report(ctx, &u, dd_now_ms() - start);
    rc = 0;
cleanup:
    undo_release(&u);
    cli_env_release(&e);
    dd_strv_release(&args);
    return rc;
}
