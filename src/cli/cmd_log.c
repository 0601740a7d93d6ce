/* dbdeploy log ENV [-n N] [--json] */
#include "cli/cli.h"

#include <stdio.h>

#include "config/config.h"
#include "db/db.h"
#include "db/ledger.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/out.h"

static const char details[] =
    "The deployments recorded in ENV's ledger, newest first: id, start time, who deployed, the\n"
    "commit, the kind (deploy, or the command that changed the database outside the pipeline:\n"
    "apply, rollback, mark, restore, adopt, undo), the result (applied, failed, restored,\n"
    "restore-failed, rolled-back, marked, adopted, undone), the migration versions it ran and,\n"
    "when the ledger records it, how a failure was recovered. Read only; no lock. On a fleet it\n"
    "shows every target's history in turn (--target NAME: one).";

static void versions_text(struct dd_buf *b, const struct db_deployment *d)
{
    if (!d->n)
        dd_buf_adds(b, "-");
    for (size_t k = 0; k < d->n; k++)
        dd_buf_addf(b, "%s%lld", k ? "," : "", (long long)d->m[k].version);
}

/* Rows from before the kind column were all deployments. */
static const char *kind_of(const struct db_deployment *d)
{
    return d->kind ? d->kind : "deploy";
}

static void render_text(struct dd_buf *b, const struct db_deployments *l, size_t first)
{
    if (first == l->n) {
        dd_buf_adds(b, "no deployments recorded\n");
        return;
    }
    for (size_t i = l->n; i-- > first;) {
        const struct db_deployment *d = &l->v[i];
        dd_buf_addf(b, "#%-4lld %s  %-14s %-7.7s  %-8s %-14s ", (long long)d->id, d->started_at ? d->started_at : "?",
                    d->deployed_by ? d->deployed_by : "?", d->git_commit ? d->git_commit : "-", kind_of(d),
                    d->result ? d->result : "?");
        versions_text(b, d);
        if (l->v[i].recovery)
            dd_buf_addf(b, "  recovery: %s", l->v[i].recovery);
        dd_buf_addch(b, '\n');
    }
}

static void render_json(struct dd_buf *b, const struct db_deployments *l, size_t first, const char *env)
{
    struct dd_json j;

    dd_json_document_begin(&j, b, "log");
    dd_json_str(&j, "env", env);
    dd_json_arr_begin(&j, "deployments");
    for (size_t i = l->n; i-- > first;) {
        const struct db_deployment *d = &l->v[i];
        dd_json_obj_begin(&j, NULL);
        dd_json_int(&j, "id", d->id);
        dd_json_str(&j, "started_at", d->started_at);
        dd_json_str(&j, "finished_at", d->finished_at);
        dd_json_str(&j, "kind", kind_of(d));
        dd_json_str(&j, "deployed_by", d->deployed_by);
        dd_json_str(&j, "git_user", d->git_user);
        dd_json_str(&j, "commit", d->git_commit);
        dd_json_str(&j, "result", d->result);
        dd_json_arr_begin(&j, "versions");
        for (size_t k = 0; k < d->n; k++)
            dd_json_int(&j, NULL, d->m[k].version);
        dd_json_arr_end(&j);
        dd_json_str(&j, "recovery", l->v[i].recovery);
        dd_json_str(&j, "archive", d->archive);
        dd_json_str(&j, "error", d->error);
        dd_json_obj_end(&j);
    }
    dd_json_arr_end(&j);
    dd_json_obj_end(&j);
}

struct log_opts {
    uint32_t limit;
};

static const struct cli_opt log_options[] = {
    CLI_OPT_U32('n', "max-count", struct log_opts, limit, "N", "show the newest N deployments only"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_log = {
    .brief = "show an environment's deployment history",
    .name = "log",
    .usage = "ENV [-n N]",
    .summary = "show an environment's deployment history, newest first",
    .details = details,
    .opts = log_options,
    .min_args = 1,
    .max_args = 1,
};

int cmd_log(struct cli_ctx *ctx, int argc, char **argv)
{
    struct log_opts o = {0};
    struct dd_strv args = DD_STRV_INIT;
    struct db_deployments l = {NULL, 0};
    struct dd_buf b = DD_BUF_INIT;
    size_t first;
    int rc = -1, parsed = cli_parse(ctx, &cli_spec_log, &o, argc, argv, &args);

    if (parsed != 0) {
        rc = parsed > 0 ? 0 : -1;
        goto cleanup;
    }
    if (cli_need_config(ctx, args.v[0]) < 0)
        goto cleanup;
    if (cli_fleet_wide(ctx)) {
        struct dd_strv extra = DD_STRV_INIT;
        if (o.limit)
            dd_strv_push(&extra, "-n"), dd_strv_pushf(&extra, "%u", (unsigned)o.limit);
        rc = cli_fleet_aggregate(ctx, "log", &extra);
        dd_strv_release(&extra);
        goto cleanup;
    }
    if (cli_need_db(ctx) < 0 || db_deployments_load(&l, ctx->db, ctx->cfg->ledger_schema, ctx->cfg->env, &ctx->err) < 0)
        goto cleanup;
    first = o.limit && o.limit < l.n ? l.n - o.limit : 0;
    if (out_json())
        render_json(&b, &l, first, ctx->cfg->env);
    else
        render_text(&b, &l, first);
    out_result_buf(&b);
    rc = 0;
cleanup:
    dd_buf_release(&b);
    db_deployments_release(&l);
    dd_strv_release(&args);
    return rc;
}
