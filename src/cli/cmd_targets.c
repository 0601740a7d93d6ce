#include "cli/cli.h"

#include "config/config.h"
#include "fleet/fleet.h"
#include "util/json.h"
#include "util/out.h"

/*
 * For CI systems that run the fleet as a matrix: the names, and the same names grouped by wave
 * ("waves"[0] is the canary job's, the rest fan out after it).
 */
static void render_json(struct dd_buf *b, const char *env, const struct fleet_targets *t, const size_t *ends,
                        size_t nwaves)
{
    struct dd_json j;
    size_t start = 0;

    dd_json_document_begin(&j, b, "targets");
    dd_json_str(&j, "env", env);
    dd_json_arr_begin(&j, "targets");
    for (size_t i = 0; i < t->n; i++) {
        dd_json_obj_begin(&j, NULL);
        dd_json_str(&j, "name", t->v[i].name);
        dd_json_str(&j, "database", t->v[i].url_masked);
        dd_json_obj_end(&j);
    }
    dd_json_arr_end(&j);
    dd_json_arr_begin(&j, "names");
    for (size_t i = 0; i < t->n; i++)
        dd_json_str(&j, NULL, t->v[i].name);
    dd_json_arr_end(&j);
    dd_json_arr_begin(&j, "waves");
    for (size_t w = 0; w < nwaves; w++) {
        dd_json_arr_begin(&j, NULL);
        for (size_t i = start; i < ends[w]; i++)
            dd_json_str(&j, NULL, t->v[i].name);
        dd_json_arr_end(&j);
        start = ends[w];
    }
    dd_json_arr_end(&j);
    dd_json_obj_end(&j);
}

const struct cli_spec cli_spec_targets = {
    .brief = "list the databases of a fleet environment",
    .name = "targets",
    .usage = "ENV",
    .summary = "List the target databases of ENV ([targets] url, file or query), one 'NAME  URL' a line with "
               "passwords masked, and the wave each belongs to ([rollout] waves).",
    .details = "With --json the document has \"targets\" (name, database), \"names\" and \"waves\" (the names "
               "of each wave, the canary first), ready for a GitHub Actions strategy.matrix or a GitLab "
               "parallel:matrix of 'dbdeploy deploy ENV --target NAME' jobs (pipeline/ci/, docs/fleets.md).",
    .min_args = 1,
    .max_args = 1,
};

int cmd_targets(struct cli_ctx *ctx, int argc, char **argv)
{
    struct dd_strv args = DD_STRV_INIT;
    struct fleet_targets t = FLEET_TARGETS_INIT;
    struct dd_buf b = DD_BUF_INIT;
    size_t ends[FLEET_WAVES_MAX], nwaves, start = 0;
    int rc = -1, p = cli_parse(ctx, &cli_spec_targets, NULL, argc, argv, &args);

    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    if (ctx->target) {
        dd_error_set(&ctx->err, DD_EUSAGE, "'targets' lists the whole fleet: --target does not apply");
        dd_error_hint(&ctx->err, "Run 'dbdeploy targets %s' without --target.", args.v[0]);
        goto cleanup;
    }
    /* the committed configuration, as deploy reads it: the list a CI matrix gets is the one deploy uses */
    if (cli_need_committed_config(ctx, args.v[0]) < 0)
        goto cleanup;
    if (!config_is_fleet(ctx->cfg)) {
        dd_error_set(&ctx->err, DD_ECONFIG, "environment '%s' has no [targets]", args.v[0]);
        dd_error_hint(&ctx->err, "Add [targets] url, file or query to %s to make it a fleet (docs/fleets.md).",
                      ctx->cfg->env_file);
        goto cleanup;
    }
    if (fleet_targets_resolve(&t, ctx->cfg, &ctx->err) < 0)
        goto cleanup;
    nwaves = fleet_plan_waves(ends, &ctx->cfg->rollout.waves, t.n);
    if (out_json()) {
        render_json(&b, ctx->cfg->env, &t, ends, nwaves);
    } else {
        for (size_t w = 0; w < nwaves; w++) {
            for (size_t i = start; i < ends[w]; i++)
                dd_buf_addf(&b, "%-20s wave %zu  %s\n", t.v[i].name, w + 1, t.v[i].url_masked);
            start = ends[w];
        }
    }
    out_result_buf(&b);
    rc = 0;
cleanup:
    dd_buf_release(&b);
    fleet_targets_release(&t);
    dd_strv_release(&args);
    return rc;
}
