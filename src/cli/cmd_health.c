/*
 * dbdeploy health ENV: probe the environment's configured health check once, the way the
 * pipeline's health-before and health-after stages do, without touching the database.
 *
 * Exit status: 0 healthy; 3 unhealthy; 2 when the check is not configured or its settings cannot
 * work. Unhealthy exits 3 as it does in 'gate' and in the pipeline's health-before stage, so a
 * script reads "the application is not healthy" the same way from every command.
 */
#include "cli/cli.h"

#include "config/config.h"
#include "health/health.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/out.h"

static void print_json(const struct dd_config *cfg, const struct health_opts *o, const struct health_result *r,
                       const struct dd_error *err)
{
    struct dd_buf b = DD_BUF_INIT;
    struct dd_json j;

    dd_json_document_begin(&j, &b, "health");
    dd_json_str(&j, "env", cfg->env);
    dd_json_str(&j, "method", o->method);
    dd_json_str(&j, "url", o->url); /* masked with everything else on the way out */
    dd_json_str(&j, "expect_status", o->expect_status_text);
    dd_json_bool(&j, "healthy", r->healthy);
    dd_json_str(&j, "stopped", health_stop_name(r->stop));
    dd_json_uint(&j, "attempts", r->attempts);
    if (r->status)
        dd_json_int(&j, "status", r->status);
    else
        dd_json_null(&j, "status");
    dd_json_uint(&j, "elapsed_ms", r->elapsed_ms);
    dd_json_uint(&j, "deadline_ms", o->deadline_ms);
    dd_json_arr_begin(&j, "attempt_log");
    for (size_t i = 0; i < r->n; i++) {
        const struct health_attempt *a = &r->v[i];
        dd_json_obj_begin(&j, NULL);
        dd_json_uint(&j, "n", a->n);
        dd_json_uint(&j, "start_ms", a->start_ms);
        dd_json_uint(&j, "duration_ms", a->duration_ms);
        dd_json_uint(&j, "timeout_ms", a->timeout_ms);
        dd_json_str(&j, "transfer", health_net_name(a->net));
        if (a->status)
            dd_json_int(&j, "status", a->status);
        else
            dd_json_null(&j, "status");
        dd_json_bool(&j, "passed", a->passed);
        dd_json_bool(&j, "retryable", a->retryable);
        dd_json_uint(&j, "wait_ms", a->wait_ms);
        dd_json_str(&j, "reason", a->reason);
        dd_json_obj_end(&j);
    }
    dd_json_arr_end(&j);
    dd_json_str(&j, "error", err && dd_error_isset(err) ? dd_error_msg(err) : NULL);
    dd_json_obj_end(&j); /* the writer ends the document with a newline */
    out_result_buf(&b);
    dd_buf_release(&b);
}

const struct cli_spec cli_spec_health = {
    .brief = "check that an environment's application answers its health check",
    .name = "health",
    .usage = "ENV",
    .summary = "check that the environment's application answers its health check",
    .details = "Sends [health] method (GET) to [health] url from pipeline/ENV.conf until it answers an expected\n"
               "status (expect-status, default 2xx) with the expected body text (expect-body), retrying timeouts,\n"
               "refused connections and 408/429/5xx answers with backoff until [health] retries or deadline run\n"
               "out. -v prints each attempt; --json prints the attempts as JSON.\n"
               "Exit status: 0 healthy, 3 unhealthy, 2 no usable [health] settings. See docs/health.md.",
    .min_args = 1,
    .max_args = 1,
};

int cmd_health(struct cli_ctx *ctx, int argc, char **argv)
{
    struct dd_strv args = DD_STRV_INIT;
    struct health_result res = HEALTH_RESULT_INIT;
    struct health_opts o;
    char secs[32];
    int rc = -1, parsed;

    parsed = cli_parse(ctx, &cli_spec_health, NULL, argc, argv, &args);
    if (parsed != 0) {
        rc = parsed > 0 ? 0 : -1;
        goto cleanup;
    }
    if (cli_need_config(ctx, args.v[0]) < 0)
        goto cleanup;
    if (!ctx->cfg->health.url || !*ctx->cfg->health.url) {
        dd_error_set(&ctx->err, DD_ECONFIG, "%s: [health] url is not set, so '%s' has no health check",
                     ctx->cfg->env_file, ctx->cfg->env);
        dd_error_hint(&ctx->err,
                      "Add a [health] section with url = https://app.example.com/healthz to %s (or to "
                      "pipeline/dbdeploy.conf for every environment).",
                      ctx->cfg->env_file);
        goto cleanup;
    }
    health_opts_from_config(&o, ctx->cfg);
    rc = health_probe(&res, &o, NULL, &ctx->err);
    if (rc < 0 && ctx->err.code == DD_EHTTP)
        dd_error_recode(&ctx->err, DD_EBLOCKED);
    if (out_json()) {
        if (res.attempts || rc == 0)
            print_json(ctx->cfg, &o, &res, &ctx->err);
    } else if (res.attempts) {
        snprintf(secs, sizeof(secs), "%.1fs", (double)res.elapsed_ms / 1000.0);
        if (res.healthy)
            out_result("%s: healthy (%s %s answered %ld in %s, %u attempt%s)\n", ctx->cfg->env, o.method, o.url,
                       res.status, secs, res.attempts, res.attempts == 1 ? "" : "s");
        else
            out_result("%s: unhealthy (%s %s: %s; %u attempt%s in %s)\n", ctx->cfg->env, o.method, o.url,
                       res.n ? res.v[res.n - 1].reason : "no answer", res.attempts, res.attempts == 1 ? "" : "s", secs);
    }
cleanup:
    health_result_release(&res);
    dd_strv_release(&args);
    return rc;
}
