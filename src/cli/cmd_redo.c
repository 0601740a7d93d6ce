#include "cli/cli.h"

#include <stdio.h>

#include "config/config.h"
#include "engine/redo.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/out.h"

static void report(const struct cli_ctx *ctx, const struct engine_result *down, const struct engine_result *up,
                   uint64_t ms)
{
    struct dd_buf b = DD_BUF_INIT;

    if (out_json()) {
        struct dd_json j;
        dd_json_document_begin(&j, &b, "redo");
        dd_json_str(&j, "env", ctx->cfg->env);
        engine_result_json(&j, "reverted", down);
        engine_result_json(&j, "applied", up);
        dd_json_uint(&j, "duration_ms", ms);
        dd_json_obj_end(&j);
    } else {
        /* reverted newest first: the last one is the version asked for */
        dd_buf_addf(&b, "redid version %lld on %s in %.1fs: reverted %zu, applied %zu\n",
                    (long long)(down->n ? down->v[down->n - 1].version : -1), ctx->cfg->env, (double)ms / 1000.0,
                    down->n, up->n);
        for (size_t i = 0; i < up->n; i++)
            dd_buf_addf(&b, "  %s\n", up->v[i].file);
    }
    out_result_buf(&b);
    dd_buf_release(&b);
}

struct redo_opts {
    bool yes;
};

static const struct cli_opt redo_options[] = {
    CLI_OPT_BOOL('y', "yes", struct redo_opts, yes, "do not ask for confirmation on a protected environment"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_redo = {
    .brief = "revert and re-apply an edited migration (development environments)",
    .name = "redo",
    .usage = "ENV [VERSION] [--yes]",
    .summary = "Revert VERSION (default: the newest applied) with its down file and apply it again, as it is now in "
               "the working tree, so the development loop never needs 'mark'.",
    .details = "Only on environments with [git] allow-dirty (development databases); elsewhere it refuses (exit 3): "
               "fix a published migration with a new one. Migrations applied after VERSION are reverted first and "
               "re-applied after it. An applied file that changed is what redo is for; a dirty, renamed or missing "
               "one, or one without a down file, refuses before anything runs.",
    .opts = redo_options,
    .min_args = 1,
    .max_args = 2,
};

int cmd_redo(struct cli_ctx *ctx, int argc, char **argv)
{
    struct dd_strv args = DD_STRV_INIT;
    struct cli_env e = CLI_ENV_INIT;
    struct engine_result down = ENGINE_RESULT_INIT, up = ENGINE_RESULT_INIT;
    int64_t version = -1;
    uint64_t start = dd_now_ms();
    struct redo_opts o = {false};
    int rc = -1, p;

    p = cli_parse(ctx, &cli_spec_redo, &o, argc, argv, &args);
    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    if (args.n > 1 && engine_parse_version(&version, args.v[1], &ctx->err) < 0)
        goto cleanup;
    if (cli_need_config(ctx, args.v[0]) < 0)
        goto cleanup;
    if (!ctx->cfg->allow_dirty) {
        dd_error_set(&ctx->err, DD_EBLOCKED, "redo is for development environments, and %s has no [git] allow-dirty",
                     ctx->cfg->env);
        dd_error_hint(&ctx->err,
                      "A migration that reached a shared environment is fixed with a new migration "
                      "('dbdeploy new'); 'dbdeploy rollback %s' reverts with the committed down files.",
                      ctx->cfg->env);
        goto cleanup;
    }
    if (cli_env_load(&e, ctx, args.v[0]) < 0)
        goto cleanup;
    {
        struct engine_target t = {ctx->db, &e.set, &e.ledger, &e.st, &e.opts, ctx->cfg->lock_wait_ms};
        if (engine_redo(&down, &up, &t, version, e.set.commit, &ctx->err) < 0)
            goto cleanup;
    }
    report(ctx, &down, &up, dd_now_ms() - start);
    rc = 0;
cleanup:
    engine_result_release(&down);
    engine_result_release(&up);
    cli_env_release(&e);
    dd_strv_release(&args);
    return rc;
}
