/* dbdeploy setup ENV: a fresh install from the schema file, then the newer migrations. */
#include "cli/cli.h"

#include <stdio.h>

#include "config/config.h"
#include "engine/execute.h"
#include "schema/schema.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/out.h"

static const char details[] =
    "For a new database: instead of replaying every migration since the beginning, load [schema] file "
    "(default schema.sql, written by 'dbdeploy schema dump' or 'schema check --write'), record the migrations "
    "it lists as applied (their ledger rows say 'from schema.sql'), then apply the migrations newer than the "
    "file. The database must be empty: anything in it besides an empty public schema exits 3 and nothing is "
    "done. The file is loaded in one transaction.";

struct setup_opts {
    bool yes;
};

static const struct cli_opt setup_options[] = {
    CLI_OPT_BOOL('y', "yes", struct setup_opts, yes, "do not ask for confirmation on a protected environment"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_setup = {
    .brief = "install an empty database from the schema file, then apply newer migrations",
    .name = "setup",
    .usage = "ENV [--yes]",
    .summary = "load the schema file into ENV's empty database, record its migrations as applied, and apply "
               "the newer ones",
    .details = details,
    .opts = setup_options,
    .min_args = 1,
    .max_args = 1,
};

static void report(const struct cli_ctx *ctx, const struct schema_setup_result *r)
{
    struct dd_buf b = DD_BUF_INIT;

    if (out_json()) {
        struct dd_json j;
        dd_json_document_begin(&j, &b, "setup");
        dd_json_str(&j, "env", ctx->cfg->env);
        dd_json_str(&j, "file", ctx->cfg->schema.file);
        dd_json_uint(&j, "installed", r->installed);
        engine_result_json(&j, "applied", &r->applied);
        dd_json_obj_end(&j);
    } else {
        dd_buf_addf(&b, "installed %s from %s (%zu migration%s recorded as applied)", ctx->cfg->env,
                    ctx->cfg->schema.file, r->installed, DD_PLURAL(r->installed));
        if (r->applied.n)
            dd_buf_addf(&b, ", then applied %zu newer migration%s", r->applied.n, DD_PLURAL(r->applied.n));
        dd_buf_addch(&b, '\n');
    }
    out_result_buf(&b);
    dd_buf_release(&b);
}

int cmd_setup(struct cli_ctx *ctx, int argc, char **argv)
{
    struct dd_strv args = DD_STRV_INIT;
    struct cli_env e = CLI_ENV_INIT;
    struct schema_setup_result r = {0, ENGINE_RESULT_INIT};
    struct dd_buf text = DD_BUF_INIT;
    char *path = NULL;
    struct setup_opts o = {false};
    int rc = -1, parsed = cli_parse(ctx, &cli_spec_setup, &o, argc, argv, &args);

    if (parsed != 0) {
        rc = parsed > 0 ? 0 : -1;
        goto cleanup;
    }
    if (cli_env_load(&e, ctx, args.v[0]) < 0)
        goto cleanup;
    path = dd_path_join(ctx->root, ctx->cfg->schema.file);
    if (!dd_path_exists(path)) {
        dd_error_set(&ctx->err, DD_EINPUT, "'%s' does not exist", ctx->cfg->schema.file);
        dd_error_hint(&ctx->err, "Write it with 'dbdeploy schema check --write' (or 'dbdeploy schema dump ENV') and "
                                 "commit it; or set [schema] file.");
        goto cleanup;
    }
    if (dd_read_file(&text, path, &ctx->err) < 0)
        goto cleanup;
    {
        struct engine_target t = {ctx->db, &e.set, &e.ledger, &e.st, &e.opts, ctx->cfg->lock_wait_ms};
        if (schema_setup(&r, &t, ctx->cfg, text.buf, text.len, ctx->cfg->schema.file, e.set.commit, &ctx->err) < 0)
            goto cleanup;
    }
    report(ctx, &r);
    rc = 0;
cleanup:
    engine_result_release(&r.applied);
    free(path);
    dd_buf_release(&text);
    cli_env_release(&e);
    dd_strv_release(&args);
    return rc;
}
