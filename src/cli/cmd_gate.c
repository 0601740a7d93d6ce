#include "cli/cli.h"

#include <stdio.h>

#include "config/config.h"
#include "health/health.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/out.h"

struct gate_problem {
    const char *kind; /* missing, modified, renamed, dirty, extra, unhealthy */
    int64_t version;
    const char *file;
    char *message;
};

/*
 * A CI gate: exit 0 only when every migration of HEAD is applied on ENV with the same checksum,
 * nothing there is dirty, and ENV's health check (if configured) passes. Read-only.
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
    struct gate_problem *probs = NULL;
    size_t np = 0;
    struct health_result hr = HEALTH_RESULT_INIT;
    struct dd_error herr = DD_ERROR_INIT;
    struct dd_buf b = DD_BUF_INIT;
    bool health_checked = false;
    int rc = -1, p;

    p = cli_parse(ctx, &cli_spec_gate, NULL, argc, argv, &args);
    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    if (cli_env_load(&e, ctx, args.v[0]) < 0)
        goto cleanup;
    probs = dd_xcalloc(e.st.n + 1, sizeof(*probs));
    for (size_t i = 0; i < e.st.n; i++) {
        const struct engine_item *it = &e.st.v[i];
        struct gate_problem *g = &probs[np];
        g->version = it->version;
        g->file = it->m ? it->m->up.path : it->row->file;
        switch (it->state) {
        case ENGINE_APPLIED:
            continue;
        case ENGINE_PENDING:
        case ENGINE_OUT_OF_ORDER:
            g->kind = "missing";
            g->message = dd_xasprintf("%s is not applied on %s", g->file, ctx->cfg->env);
            break;
        case ENGINE_MODIFIED:
            g->kind = "modified";
            g->message = dd_xasprintf("%s differs from what %s applied (%.15s there, %.15s here)", g->file,
                                      ctx->cfg->env, it->row->checksum, it->m->checksum);
            break;
        case ENGINE_RENAMED:
            g->kind = "renamed";
            g->message = dd_xasprintf("%s was applied on %s as %s", g->file, ctx->cfg->env, it->row->file);
            break;
        case ENGINE_DIRTY:
            g->kind = "dirty";
            g->message = dd_xasprintf("%s is dirty on %s (stopped after statement %d of %d)", g->file, ctx->cfg->env,
                                      it->row->statements_done, it->row->statements_total);
            break;
        case ENGINE_MISSING:
            g->kind = "extra";
            g->message = dd_xasprintf("%s is applied on %s but no longer in this commit", g->file, ctx->cfg->env);
            break;
        }
        np++;
    }
    if (ctx->cfg->health.url) {
        struct health_opts ho;
        health_opts_from_config(&ho, ctx->cfg);
        health_checked = true;
        if (health_probe(&hr, &ho, NULL, &herr) < 0) {
            probs[np].kind = "unhealthy";
            probs[np].message = dd_xstrdup(dd_error_msg(&herr));
            np++;
        }
    }
    if (out_json()) {
        struct dd_json j;
        dd_json_document_begin(&j, &b, "gate");
        dd_json_str(&j, "env", ctx->cfg->env);
        dd_json_str(&j, "commit", e.set.commit);
        dd_json_bool(&j, "ok", np == 0);
        dd_json_uint(&j, "migrations", e.set.n);
        if (health_checked)
            dd_json_bool(&j, "healthy", hr.healthy);
        else
            dd_json_null(&j, "healthy");
        dd_json_arr_begin(&j, "problems");
        for (size_t i = 0; i < np; i++) {
            dd_json_obj_begin(&j, NULL);
            dd_json_str(&j, "kind", probs[i].kind);
            if (probs[i].file) {
                dd_json_int(&j, "version", probs[i].version);
                dd_json_str(&j, "file", probs[i].file);
            }
            dd_json_str(&j, "message", probs[i].message);
            dd_json_obj_end(&j);
        }
        dd_json_arr_end(&j);
        dd_json_obj_end(&j);
    } else if (!np) {
        dd_buf_addf(&b, "gate passed: %s has all %zu migrations of %s%.7s%s\n", ctx->cfg->env, e.set.n,
                    e.set.commit ? "commit " : "the working tree", e.set.commit ? e.set.commit : "",
                    health_checked ? " and is healthy" : "");
    }
    out_result_buf(&b);
    if (np) {
        dd_error_set(&ctx->err, DD_EBLOCKED, "gate failed for %s: %zu problem%s", ctx->cfg->env, np,
                     np == 1 ? "" : "s");
        for (size_t i = 0; i < np; i++)
            dd_error_detail(&ctx->err, "%s: %s", probs[i].kind, probs[i].message);
        dd_error_hint(&ctx->err,
                      "Deploy this commit to %s first ('dbdeploy deploy %s'); a modified or renamed "
                      "migration must be restored, not redeployed.",
                      ctx->cfg->env, ctx->cfg->env);
        goto cleanup;
    }
    rc = 0;
cleanup:
    for (size_t i = 0; i < np; i++)
        free(probs[i].message);
    free(probs);
    health_result_release(&hr);
    dd_error_release(&herr);
    dd_buf_release(&b);
    cli_env_release(&e);
    dd_strv_release(&args);
    return rc;
}
