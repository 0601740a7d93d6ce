/* dbdeploy drift ENV [--json]: the schema changes made outside dbdeploy since its last run. */
#include "cli/cli.h"

#include "config/config.h"
#include "engine/engine.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/out.h"

static const char details[] =
    "Every dbdeploy run that changes the schema records the schema it leaves in ENV's ledger: one line per "
    "table, column, index, constraint, function, view, trigger, policy, type and extension, and their "
    "fingerprint. This compares the live schema with that record and names each object that differs. Exit "
    "0 without drift (or when nothing was recorded yet), 3 with drift. Read only; no lock.\n\n"
    "'dbdeploy deploy ENV' refuses to run over drift ([schema] drift = block, the default) unless given "
    "--accept-drift REASON, which the ledger and the changelog keep.";

const struct cli_spec cli_spec_drift = {
    .brief = "show schema changes made outside dbdeploy",
    .name = "drift",
    .usage = "ENV",
    .summary = "compare ENV's live schema with the one dbdeploy recorded after its last run and list what differs",
    .details = details,
    .min_args = 1,
    .max_args = 1,
};

static void report(struct dd_buf *b, const char *env, const struct engine_drift *d)
{
    if (out_json()) {
        struct dd_json j;
        dd_json_document_begin(&j, b, "drift");
        dd_json_str(&j, "env", env);
        dd_json_bool(&j, "recorded", d->recorded);
        dd_json_bool(&j, "drifted", d->drifted);
        dd_json_str(&j, "recorded_fingerprint", d->recorded_fingerprint);
        dd_json_str(&j, "live_fingerprint", d->live_fingerprint);
        dd_json_arr_begin(&j, "changes");
        for (size_t i = 0; i < d->changes.n; i++)
            dd_json_str(&j, NULL, d->changes.v[i]);
        dd_json_arr_end(&j);
        dd_json_obj_end(&j);
    } else if (!d->recorded) {
        dd_buf_addf(b, "no schema recorded for %s yet: the next dbdeploy run that changes it records one\n", env);
    } else if (!d->drifted) {
        dd_buf_addf(b, "no drift: the schema of %s is the one dbdeploy recorded\n", env);
    } else {
        for (size_t i = 0; i < d->changes.n; i++)
            dd_buf_addf(b, "%s\n", d->changes.v[i]);
    }
}

int cmd_drift(struct cli_ctx *ctx, int argc, char **argv)
{
    struct dd_strv args = DD_STRV_INIT;
    struct engine_drift d = {false, false, NULL, NULL, DD_STRV_INIT};
    struct dd_buf b = DD_BUF_INIT;
    int rc = -1, parsed = cli_parse(ctx, &cli_spec_drift, NULL, argc, argv, &args);

    if (parsed != 0) {
        rc = parsed > 0 ? 0 : -1;
        goto cleanup;
    }
    if (cli_need_config(ctx, args.v[0]) < 0 || cli_need_db(ctx) < 0 ||
        engine_drift_check(&d, ctx->db, ctx->cfg->ledger_schema, &ctx->err) < 0)
        goto cleanup;
    report(&b, ctx->cfg->env, &d);
    out_result_buf(&b);
    if (d.drifted) {
        dd_error_set(&ctx->err, DD_EBLOCKED, "the schema of %s changed outside dbdeploy (%zu change%s)", ctx->cfg->env,
                     d.changes.n, DD_PLURAL(d.changes.n));
        dd_error_hint(&ctx->err,
                      "Put the change in a migration, or undo it, or deploy with --accept-drift \"REASON\".");
        goto cleanup;
    }
    rc = 0;
cleanup:
    engine_drift_release(&d);
    dd_buf_release(&b);
    dd_strv_release(&args);
    return rc;
}
