#include "cli/cli.h"

#include "config/config.h"
#include "db/db.h"
#include "engine/execute.h"
#include "pipeline/event.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/out.h"

struct mark_opts {
    int state; /* 1 applied, 2 pending */
    bool yes;
};

static const struct cli_opt mark_options[] = {
    CLI_OPT_SET_INT(0, "applied", struct mark_opts, state, 1, "record VERSION as applied with its current checksum"),
    CLI_OPT_SET_INT(0, "pending", struct mark_opts, state, 2, "remove VERSION from the ledger"),
    CLI_OPT_BOOL('y', "yes", struct mark_opts, yes, "do not ask for confirmation on a protected environment"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_mark = {
    .brief = "record a migration as applied or pending (the way out of a dirty state)",
    .name = "mark",
    .usage = "ENV VERSION --applied|--pending [--yes]",
    .summary = "Change the ledger only: no SQL from the migration runs. The documented way out of a dirty state.",
    .details =
        "After a no-transaction migration stopped part-way, finish (or undo) its remaining statements by hand, then "
        "record the outcome: --applied if the database now has everything the file does, --pending if you undid it. "
        "--applied on a modified file records its current checksum (you are vouching for it). Each run that changes "
        "something is recorded like a deployment (kind mark, in 'dbdeploy log' and the changelog).",
    .opts = mark_options,
    .min_args = 2,
    .max_args = 2,
};

/* What the mark records: the file (--applied) or the ledger row it removes (--pending), as it was before. */
static void add_marked(struct event *ev, const struct cli_env *e, int64_t version, bool applied)
{
    for (size_t i = 0; i < e->st.n; i++) {
        const struct engine_item *it = &e->st.v[i];
        if (it->version != version)
            continue;
        if (applied && it->m)
            event_add(ev, it->m, 0, "applied");
        else if (!applied && it->row)
            event_add_row(ev, version, it->row->name, it->row->file, it->row->checksum, "restored");
    }
}

int cmd_mark(struct cli_ctx *ctx, int argc, char **argv)
{
    struct mark_opts o = {0, false};
    struct dd_strv args = DD_STRV_INIT;
    struct cli_env e = CLI_ENV_INIT;
    struct dd_buf b = DD_BUF_INIT;
    struct event ev;
    int64_t version;
    int rc = -1, p;

    memset(&ev, 0, sizeof(ev));
    p = cli_parse(ctx, &cli_spec_mark, &o, argc, argv, &args);
    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    if (!o.state) {
        dd_error_set(&ctx->err, DD_EUSAGE, "say what to record: --applied or --pending");
        dd_error_hint(&ctx->err, "Run 'dbdeploy mark --help' for when to use which.");
        goto cleanup;
    }
    if (engine_parse_version(&version, args.v[1], &ctx->err) < 0 || cli_env_load(&e, ctx, args.v[0]) < 0)
        goto cleanup;
    {
        struct engine_target t = {ctx->db, &e.set, &e.ledger, &e.st, &e.opts, ctx->cfg->lock_wait_ms};
        if (engine_lock(&t, true, &ctx->err) < 0)
            goto cleanup;
        if (engine_mark(ctx->db, &e.st, &e.opts, version, o.state == 1, e.set.commit, &ctx->err) < 0)
            goto cleanup;
        /* after the mark: it read the file whose checksum it records; the old row is still in memory */
        cli_event_init(&ev, ctx, e.set.commit, e.whoami);
        add_marked(&ev, &e, version, o.state == 1);
        if (cli_event_record(&ev, ctx, "marked", NULL) < 0)
            goto cleanup;
    }
    if (out_json()) {
        struct dd_json j;
        dd_json_document_begin(&j, &b, "mark");
        dd_json_str(&j, "env", ctx->cfg->env);
        dd_json_int(&j, "version", version);
        dd_json_str(&j, "state", o.state == 1 ? "applied" : "pending");
        dd_json_obj_end(&j);
    } else {
        dd_buf_addf(&b, "%s: version %s is now recorded as %s\n", ctx->cfg->env, args.v[1],
                    o.state == 1 ? "applied" : "pending");
    }
    out_result_buf(&b);
    rc = 0;
cleanup:
    event_release(&ev);
    dd_buf_release(&b);
    cli_env_release(&e);
    dd_strv_release(&args);
    return rc;
}
