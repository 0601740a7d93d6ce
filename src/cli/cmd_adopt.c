#include "cli/cli.h"

#include <stdio.h>

#include "config/config.h"
#include "db/db.h"
#include "engine/adopt.h"
#include "pipeline/event.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/out.h"

static void report(struct dd_buf *b, const struct cli_ctx *ctx, const struct engine_adoption *a, const char *from,
                   const char *table, bool dry_run)
{
    size_t fresh = a->n - a->already;

    if (out_json()) {
        struct dd_json j;
        dd_json_document_begin(&j, b, "adopt");
        dd_json_str(&j, "env", ctx->cfg->env);
        dd_json_str(&j, "from", from);
        dd_json_bool(&j, "dry_run", dry_run);
        dd_json_arr_begin(&j, "adopted");
        for (size_t i = 0; i < a->n; i++)
            dd_json_int(&j, NULL, a->versions[i]);
        dd_json_arr_end(&j);
        dd_json_uint(&j, "already_recorded", a->already);
        dd_json_obj_end(&j);
        return;
    }
    dd_buf_addf(b, "%s %zu migration%s from %s's %s into %s's ledger", dry_run ? "would adopt" : "adopted", fresh,
                fresh == 1 ? "" : "s", from, table, ctx->cfg->env);
    if (a->already)
        dd_buf_addf(b, " (%zu already recorded)", a->already);
    dd_buf_addch(b, '\n');
}

/*
 * Switch a database from golang-migrate, dbmate or Flyway to dbdeploy without re-running anything: the
 * versions the other tool recorded become ledger rows with the current files' checksums.
 */
struct adopt_opts {
    const char *from, *table;
    bool dry_run, yes;
};

static const struct cli_opt adopt_options[] = {
    CLI_OPT_STRING_OF(0, "from", struct adopt_opts, from, "TOOL", "golang-migrate dbmate flyway",
                      "golang-migrate, dbmate or flyway"),
    CLI_OPT_STRING(0, "table", struct adopt_opts, table, "TABLE",
                   "the tool's migrations table (default schema_migrations; flyway_schema_history for flyway)"),
    CLI_OPT_BOOL('n', "dry-run", struct adopt_opts, dry_run, "show what would be recorded; change nothing"),
    CLI_OPT_BOOL('y', "yes", struct adopt_opts, yes, "do not ask for confirmation on a protected environment"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_adopt = {
    .brief = "record what golang-migrate, dbmate or Flyway already applied, without running it",
    .name = "adopt",
    .usage = "ENV --from golang-migrate|dbmate|flyway [--table TABLE] [--dry-run] [--yes]",
    .summary =
        "Record in dbdeploy's ledger the migrations another tool already applied to ENV, with the current files' "
        "checksums, so a team can switch tools without re-running anything. No migration SQL runs.",
    .details =
        "golang-migrate keeps one row (version, dirty): every file up to that version counts as applied, and a "
        "dirty flag refuses (fix it with 'migrate force' first). dbmate keeps one row per applied version. "
        "Flyway's flyway_schema_history is replayed in order: undo rows take a version back out, a baseline stands "
        "for every file up to it, and a failed row refuses (run 'flyway repair' first). The other tool's table is "
        "only read. deploy, apply and status refuse (exit 3) a database that has another tool's table and no "
        "dbdeploy ledger yet, and name this command. Each run that changes something is recorded like a deployment "
        "(kind adopt, in 'dbdeploy log' and the changelog).",
    .opts = adopt_options,
    .min_args = 1,
    .max_args = 1,
};

/* The versions the adoption recorded: those the ledger did not have before (in e's status, read under the lock). */
static void add_adopted(struct event *ev, const struct cli_env *e, const struct engine_adoption *a)
{
    for (size_t k = 0; k < a->n; k++)
        for (size_t i = 0; i < e->st.n; i++)
            if (e->st.v[i].version == a->versions[k] && e->st.v[i].m && !e->st.v[i].row)
                event_add(ev, e->st.v[i].m, 0, "applied");
}

int cmd_adopt(struct cli_ctx *ctx, int argc, char **argv)
{
    struct adopt_opts o = {NULL, NULL, false, false};
    struct dd_strv args = DD_STRV_INIT;
    struct cli_env e = CLI_ENV_INIT;
    struct engine_adoption a = ENGINE_ADOPTION_INIT;
    struct dd_buf b = DD_BUF_INIT;
    enum db_foreign_tool tool;
    char *who = NULL;
    struct event ev;
    int rc = -1, p;

    memset(&ev, 0, sizeof(ev));
    p = cli_parse(ctx, &cli_spec_adopt, &o, argc, argv, &args);
    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    if (engine_adopt_tool(&tool, o.from, &ctx->err) < 0 || cli_env_load(&e, ctx, args.v[0]) < 0)
        goto cleanup;
    if (!o.table)
        o.table = engine_adopt_default_table(tool);
    who = dd_xasprintf("%s (adopted from %s)", e.whoami, o.from);
    e.opts.applied_by = who;
    {
        struct engine_target t = {ctx->db, &e.set, &e.ledger, &e.st, &e.opts, ctx->cfg->lock_wait_ms};
        if (engine_adopt(&a, &t, tool, o.table, o.dry_run, e.set.commit, &ctx->err) < 0)
            goto cleanup;
    }
    if (!o.dry_run && a.n > a.already) {
        cli_event_init(&ev, ctx, e.set.commit, e.whoami);
        add_adopted(&ev, &e, &a);
        if (cli_event_record(&ev, ctx, "adopted", NULL) < 0)
            goto cleanup;
    }
    report(&b, ctx, &a, o.from, o.table, o.dry_run);
    out_result_buf(&b);
    rc = 0;
cleanup:
    event_release(&ev);
    engine_adoption_release(&a);
    free(who);
    dd_buf_release(&b);
    cli_env_release(&e);
    dd_strv_release(&args);
    return rc;
}
