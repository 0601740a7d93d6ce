/* dbdeploy rehearse ENV: the pending migrations on a copy of ENV, measured (rehearse/rehearse.h). */
#include "cli/cli.h"

#include "config/config.h"
#include "rehearse/rehearse.h"
#include "util/identity.h"
#include "util/out.h"

struct rehearse_opts {
    bool fresh;
    bool keep;
};

static const struct cli_opt rehearse_options[] = {
    CLI_OPT_BOOL(0, "fresh", struct rehearse_opts, fresh,
                 "take a new backup of ENV to copy (read-only) instead of using the newest verified one"),
    CLI_OPT_BOOL(0, "keep", struct rehearse_opts, keep, "keep the scratch database afterwards, for a look inside"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_rehearse = {
    .brief = "apply the pending migrations to a copy of an environment and measure them",
    .name = "rehearse",
    .usage = "ENV [--fresh] [--keep]",
    .summary = "Restore ENV's newest verified backup (--fresh: a new one) into a scratch database on the server "
               "[rehearsal] url names, apply the pending migrations there exactly as 'dbdeploy deploy ENV' would "
               "(lint, data-loss guard and validator included), timing each migration and statement and the "
               "ACCESS EXCLUSIVE locks they hold, then drop the copy and record the outcome in ENV's ledger.",
    .details = "ENV itself is only read (its session is read-only until the record is written). The report shows "
               "each migration's time on production-sized data, the predicted total, and each ACCESS EXCLUSIVE lock "
               "on an existing table with how long it was held. [gate] rehearsal = required makes deploy demand a "
               "passed rehearsal of the same plan (commit and checksums); 'dbdeploy plan ENV' shows its predicted "
               "duration. Exit status: 0 passed or nothing pending, 1 the rehearsal failed (the failure is shown as "
               "deploy would have shown it), 2 bad configuration, 3 no verified backup. See docs/rehearsal.md.",
    .opts = rehearse_options,
    .min_args = 1,
    .max_args = 1,
};

int cmd_rehearse(struct cli_ctx *ctx, int argc, char **argv)
{
    struct rehearse_opts o = {false, false};
    struct dd_strv args = DD_STRV_INIT;
    struct rehearse_result res;
    struct rehearse_request req;
    struct dd_buf b = DD_BUF_INIT;
    char *who = NULL;
    int rc = -1, p = cli_parse(ctx, &cli_spec_rehearse, &o, argc, argv, &args);

    rehearse_result_init(&res);
    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    if (cli_need_committed_config(ctx, args.v[0]) < 0 || cli_need_env_repo(ctx) < 0 || cli_need_db(ctx) < 0)
        goto cleanup;
    who = dd_whoami();
    req = (struct rehearse_request){ctx->cfg, ctx->repo, ctx->db, who, o.fresh, o.keep};
    rc = rehearse_run(&res, &req, &ctx->err);
    rehearse_report(&b, &res, &ctx->err, out_json());
    out_result_buf(&b);
cleanup:
    rehearse_result_release(&res);
    dd_buf_release(&b);
    dd_strv_release(&args);
    free(who);
    return rc;
}
