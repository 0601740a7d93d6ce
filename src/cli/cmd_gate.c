#include "cli/cli.h"

#include <stdio.h>

#include "config/config.h"
#include "engine/gate.h"
#include "health/health.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/out.h"

static void report(struct dd_buf *b, const struct cli_ctx *ctx, const struct cli_env *e,
                   const struct engine_gate_result *g, const char *unhealthy, bool health_checked,
                   const struct dd_strv *drift)
{
    size_t np = g->n + (unhealthy != NULL) + drift->n;

    if (out_json()) {
        struct dd_json j;
        dd_json_document_begin(&j, b, "gate");
        dd_json_str(&j, "env", ctx->cfg->env);
        dd_json_str(&j, "commit", e->set.commit);
        dd_json_bool(&j, "ok", np == 0);
        dd_json_uint(&j, "migrations", e->set.n);
        if (health_checked)
            dd_json_bool(&j, "healthy", !unhealthy);
        else
            dd_json_null(&j, "healthy");
        dd_json_arr_begin(&j, "problems");
        for (size_t i = 0; i < g->n; i++) {
            dd_json_obj_begin(&j, NULL);
            dd_json_str(&j, "kind", engine_gate_kind_name(g->v[i].kind));
            if (g->v[i].version >= 0)
                dd_json_int(&j, "version", g->v[i].version);
            else
                dd_json_null(&j, "version"); /* a repeatable migration */
            dd_json_str(&j, "file", g->v[i].file);
            dd_json_str(&j, "message", g->v[i].message);
            dd_json_obj_end(&j);
        }
        if (unhealthy) {
            dd_json_obj_begin(&j, NULL);
            dd_json_str(&j, "kind", "unhealthy");
            dd_json_str(&j, "message", unhealthy);
            dd_json_obj_end(&j);
        }
        for (size_t i = 0; i < drift->n; i++) {
            dd_json_obj_begin(&j, NULL);
            dd_json_str(&j, "kind", "drift");
            dd_json_str(&j, "message", drift->v[i]);
            dd_json_obj_end(&j);
        }
        dd_json_arr_end(&j);
        dd_json_obj_end(&j);
    } else if (!np) {
        dd_buf_addf(b, "gate passed: %s has %s %zu migration%s of %s%.7s%s\n", ctx->cfg->env,
                    e->set.n == 1 ? "the" : "all", e->set.n, DD_PLURAL(e->set.n),
                    e->set.commit ? "commit " : "the working tree", e->set.commit ? e->set.commit : "",
                    health_checked ? " and is healthy" : "");
    }
}

/*
 * The readiness check for CI (engine/gate.h): exit 0 only when ENV holds exactly the migrations
 * of HEAD, nothing there is dirty, and ENV's health check (if configured) passes. Read-only.
 */
const struct cli_spec cli_spec_gate = {
    .brief = "pass only when an environment has every migration of HEAD (for CI)",
    .name = "gate",
    .usage = "ENV",
    .summary = "Pass (exit 0) only when every migration in HEAD is applied on ENV with a matching checksum, nothing is "
               "dirty, and ENV's health check passes when one is configured; otherwise exit 3 listing what is missing.",
    .details = "Read-only. Use it in CI as the gate before a production deploy, e.g. 'dbdeploy gate staging'; --json "
               "gives one document for annotations.",
    .min_args = 1,
    .max_args = 1,
};

int cmd_gate(struct cli_ctx *ctx, int argc, char **argv)
{
    struct dd_strv args = DD_STRV_INIT;
    struct cli_env e = CLI_ENV_INIT;
    struct engine_gate_result g = ENGINE_GATE_RESULT_INIT;
    struct health_result hr = HEALTH_RESULT_INIT;
    struct dd_error herr = DD_ERROR_INIT;
    struct dd_buf b = DD_BUF_INIT;
    struct engine_drift drift = {false, false, NULL, NULL, DD_STRV_INIT};
    const char *unhealthy = NULL;
    bool health_checked = false;
    int rc = -1, p;

    p = cli_parse(ctx, &cli_spec_gate, NULL, argc, argv, &args);
    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    if (cli_need_committed_config(ctx, args.v[0]) < 0 || cli_env_load(&e, ctx, args.v[0]) < 0)
        goto cleanup;
    engine_gate_compare(&g, &e.st, ctx->cfg->env, ENGINE_GATE_READINESS, NULL);
    if (ctx->cfg->health.url) {
        struct health_opts ho;
        health_opts_from_config(&ho, ctx->cfg);
        health_checked = true;
        if (health_probe(&hr, &ho, NULL, &herr) < 0)
            unhealthy = dd_error_msg(&herr);
    }
    /* a schema changed by hand is not the schema this commit describes */
    if (ctx->cfg->schema.drift != CONFIG_DRIFT_OFF &&
        engine_drift_check(&drift, ctx->db, ctx->cfg->ledger_schema, &ctx->err) < 0)
        goto cleanup;
    report(&b, ctx, &e, &g, unhealthy, health_checked, &drift.changes);
    out_result_buf(&b);
    if (g.n || unhealthy || drift.changes.n) {
        size_t np = g.n + (unhealthy != NULL) + drift.changes.n;
        dd_error_set(&ctx->err, DD_EBLOCKED, "gate failed for %s: %zu problem%s", ctx->cfg->env, np,
                     np == 1 ? "" : "s");
        for (size_t i = 0; i < g.n; i++)
            dd_error_detail(&ctx->err, "%s: %s", engine_gate_kind_name(g.v[i].kind), g.v[i].message);
        if (unhealthy)
            dd_error_detail(&ctx->err, "unhealthy: %s", unhealthy);
        for (size_t i = 0; i < drift.changes.n; i++)
            dd_error_detail(&ctx->err, "drift: %s", drift.changes.v[i]);
        dd_error_hint(&ctx->err,
                      "Deploy this commit to %s first ('dbdeploy deploy %s'); a modified or renamed "
                      "migration must be restored, not redeployed.",
                      ctx->cfg->env, ctx->cfg->env);
        goto cleanup;
    }
    rc = 0;
cleanup:
    engine_gate_result_release(&g);
    engine_drift_release(&drift);
    health_result_release(&hr);
    dd_error_release(&herr);
    dd_buf_release(&b);
    cli_env_release(&e);
    dd_strv_release(&args);
    return rc;
}
