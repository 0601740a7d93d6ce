#include "cli/cli.h"

#include <stdio.h>

#include "config/config.h"
#include "db/db.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/out.h"

/*
 * Switch a database from golang-migrate or dbmate to dbdeploy without re-running anything: the
 * versions the other tool recorded become ledger rows with the current files' checksums.
 */
struct adopt_opts {
    const char *from, *table;
    bool dry_run;
};

static const struct cli_opt adopt_options[] = {
    CLI_OPT_STRING_OF(0, "from", struct adopt_opts, from, "TOOL", "golang-migrate dbmate", "golang-migrate or dbmate"),
    CLI_OPT_STRING(0, "table", struct adopt_opts, table, "TABLE",
                   "the tool's migrations table (default schema_migrations)"),
    CLI_OPT_BOOL('n', "dry-run", struct adopt_opts, dry_run, "show what would be recorded; change nothing"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_adopt = {
    .brief = "record what golang-migrate or dbmate already applied, without running it",
    .name = "adopt",
    .usage = "ENV --from golang-migrate|dbmate [--table TABLE] [--dry-run]",
    .summary =
        "Record in dbdeploy's ledger the migrations another tool already applied to ENV, with the current files' "
        "checksums, so a team can switch tools without re-running anything. No migration SQL runs.",
    .details = "golang-migrate keeps one row (version, dirty): every file up to that version counts as applied, and a "
               "dirty flag refuses (fix it with 'migrate force' first). dbmate keeps one row per applied version. The "
               "other tool's table is only read.",
    .opts = adopt_options,
    .min_args = 1,
    .max_args = 1,
};

int cmd_adopt(struct cli_ctx *ctx, int argc, char **argv)
{
    struct adopt_opts o = {NULL, "schema_migrations", false};
    struct dd_strv args = DD_STRV_INIT;
    struct cli_env e = CLI_ENV_INIT;
    struct db_foreign_versions fv = {NULL, 0, false};
    struct dd_buf b = DD_BUF_INIT;
    enum db_foreign_tool tool;
    int64_t *adopt = NULL;
    size_t na = 0, skipped = 0;
    char *who = NULL;
    int rc = -1, p;

    p = cli_parse(ctx, &cli_spec_adopt, &o, argc, argv, &args);
    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    if (dd_streq(o.from, "golang-migrate") || dd_streq(o.from, "migrate"))
        tool = DB_FOREIGN_GOLANG_MIGRATE;
    else if (dd_streq(o.from, "dbmate"))
        tool = DB_FOREIGN_DBMATE;
    else {
        dd_error_set(&ctx->err, DD_EUSAGE, o.from ? "'%s' is not a tool dbdeploy can adopt from" : "%s",
                     o.from ? o.from : "say which tool applied the migrations: --from golang-migrate or --from dbmate");
        dd_error_hint(&ctx->err, "Use --from golang-migrate or --from dbmate.");
        goto cleanup;
    }
    if (cli_env_load(&e, ctx, args.v[0]) < 0 || db_foreign_versions_read(&fv, ctx->db, tool, o.table, &ctx->err) < 0)
        goto cleanup;
    if (fv.dirty) {
        dd_error_set(&ctx->err, DD_EBLOCKED, "golang-migrate left %s dirty at version %lld", ctx->cfg->env,
                     (long long)(fv.n ? fv.v[0] : -1));
        dd_error_hint(&ctx->err, "A migration failed part-way under golang-migrate: repair the database, run 'migrate "
                                 "force VERSION', then adopt.");
        goto cleanup;
    }
    adopt = dd_xcalloc(e.set.n + fv.n + 1, sizeof(*adopt));
    if (tool == DB_FOREIGN_GOLANG_MIGRATE) {
        if (fv.n && !migration_set_find(&e.set, fv.v[0])) {
            dd_error_set(&ctx->err, DD_EINPUT, "golang-migrate is at version %lld, but no migration file has it",
                         (long long)fv.v[0]);
            dd_error_hint(&ctx->err, "Check out the commit the database was migrated from.");
            goto cleanup;
        }
        for (size_t i = 0; fv.n && i < e.set.n; i++)
            if (e.set.v[i].version <= fv.v[0])
                adopt[na++] = e.set.v[i].version;
    } else {
        for (size_t i = 0; i < fv.n; i++) {
            if (!migration_set_find(&e.set, fv.v[i]))
                dd_error_detail(&ctx->err, "version %lld is applied according to dbmate but has no file",
                                (long long)fv.v[i]);
            adopt[na++] = fv.v[i];
        }
        if (ctx->err.details.n) {
            struct dd_strv details = ctx->err.details;
            dd_strv_init(&ctx->err.details);
            dd_error_set(&ctx->err, DD_EINPUT, "%zu version%s recorded by dbmate %s no migration file", details.n,
                         details.n == 1 ? "" : "s", details.n == 1 ? "has" : "have");
            ctx->err.details = details;
            dd_error_hint(&ctx->err, "Check out the commit the database was migrated from.");
            goto cleanup;
        }
    }
    if (!o.dry_run) {
        who = dd_xasprintf("%s (adopted from %s)", e.whoami, o.from);
        e.opts.applied_by = who;
        if (db_lock_acquire(ctx->db, ctx->cfg->lock_wait_ms, &ctx->err) < 0 ||
            db_ledger_ensure(ctx->db, ctx->cfg->ledger_schema, &ctx->err) < 0 || cli_env_reload(&e, ctx) < 0)
            goto cleanup;
    }
    for (size_t i = 0; i < na; i++) {
        const struct engine_item *it = NULL;
        for (size_t k = 0; k < e.st.n && !it; k++)
            if (e.st.v[k].version == adopt[i])
                it = &e.st.v[k];
        if (it && it->row && it->state == ENGINE_APPLIED) {
            skipped++;
            continue;
        }
        if (it && it->row) {
            dd_error_set(&ctx->err, DD_EBLOCKED, "%s is already in the ledger as %s", it->m->up.path,
                         engine_state_name(it->state));
            dd_error_hint(&ctx->err, "Resolve it with 'dbdeploy mark' before adopting.");
            goto cleanup;
        }
        if (!o.dry_run && engine_mark(ctx->db, &e.st, &e.opts, adopt[i], true, e.set.commit, &ctx->err) < 0)
            goto cleanup;
    }
    if (out_json()) {
        struct dd_json j;
        dd_json_document_begin(&j, &b, "adopt");
        dd_json_str(&j, "env", ctx->cfg->env);
        dd_json_str(&j, "from", o.from);
        dd_json_bool(&j, "dry_run", o.dry_run);
        dd_json_arr_begin(&j, "adopted");
        for (size_t i = 0; i < na; i++)
            dd_json_int(&j, NULL, adopt[i]);
        dd_json_arr_end(&j);
        dd_json_uint(&j, "already_recorded", skipped);
        dd_json_obj_end(&j);
    } else {
        dd_buf_addf(&b, "%s %zu migration%s from %s's %s into %s's ledger%s", o.dry_run ? "would adopt" : "adopted",
                    na - skipped, na - skipped == 1 ? "" : "s", o.from, o.table, ctx->cfg->env, skipped ? "" : "");
        if (skipped)
            dd_buf_addf(&b, " (%zu already recorded)", skipped);
        dd_buf_addch(&b, '\n');
    }
    out_result_buf(&b);
    rc = 0;
cleanup:
    db_foreign_versions_release(&fv);
    free(adopt);
    free(who);
    dd_buf_release(&b);
    cli_env_release(&e);
    dd_strv_release(&args);
    return rc;
}
