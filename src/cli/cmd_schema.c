/*
 * dbdeploy schema: the schema as code.
 *
 *   dbdeploy schema dump ENV [-o FILE]          ENV's schema into the schema file
 *   dbdeploy schema check [--fresh-install] [--write]
 *                                               the migrations' schema against the schema file
 */
#include "cli/cli.h"

#include <string.h>

#include "config/config.h"
#include "engine/engine.h"
#include "git/git.h"
#include "migrations/migrations.h"
#include "schema/schema.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/out.h"

/* Where the schema file is: [schema] file under the project root. Caller frees. */
static char *schema_path(const struct cli_ctx *ctx)
{
    return dd_path_join(ctx->root, ctx->cfg->schema.file);
}

static size_t count_lines(const char *s, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        n += s[i] == '\n';
    return n;
}

/* ---- schema dump ------------------------------------------------------------------------- */

struct dump_opts {
    const char *output;
};

static const struct cli_opt dump_options[] = {
    CLI_OPT_STRING('o', "output", struct dump_opts, output, "FILE",
                   "write here instead of [schema] file ('-' for standard output)"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_schema_dump = {
    .brief = "write an environment's schema to the schema file",
    .name = "schema dump",
    .usage = "ENV [-o FILE]",
    .summary = "write ENV's schema, in canonical form, to [schema] file (default schema.sql), followed by "
               "the migrations its ledger lists as applied",
    .details = "The schema comes from pg_dump --schema-only without owners, privileges, version comments "
               "or the \\restrict key ([schema] owner and privileges keep the first two), so that the same "
               "schema always gives the same bytes. Read only; no lock.",
    .opts = dump_options,
    .min_args = 1,
    .max_args = 1,
};

static int schema_dump_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
    struct dump_opts o = {NULL};
    struct dd_strv args = DD_STRV_INIT;
    struct dd_buf text = DD_BUF_INIT;
    char *path = NULL;
    int rc = -1, parsed = cli_parse(ctx, &cli_spec_schema_dump, &o, argc, argv, &args);

    if (parsed != 0) {
        rc = parsed > 0 ? 0 : -1;
        goto cleanup;
    }
    if (cli_need_config(ctx, args.v[0]) < 0 || cli_need_db(ctx) < 0 ||
        schema_dump(&text, ctx->db, ctx->cfg, &ctx->err) < 0)
        goto cleanup;
    if (dd_streq(o.output, "-")) {
        out_result_buf(&text);
        rc = 0;
        goto cleanup;
    }
    path = o.output ? dd_xstrdup(o.output) : schema_path(ctx);
    if (dd_write_file_atomic(path, text.buf, text.len, 0644, &ctx->err) < 0)
        goto cleanup;
    if (out_json()) {
        struct dd_buf b = DD_BUF_INIT;
        struct dd_json j;
        dd_json_document_begin(&j, &b, "schema dump");
        dd_json_str(&j, "env", ctx->cfg->env);
        dd_json_str(&j, "file", o.output ? o.output : ctx->cfg->schema.file);
        dd_json_int(&j, "lines", (int64_t)count_lines(text.buf, text.len));
        dd_json_obj_end(&j);
        out_result_buf(&b);
        dd_buf_release(&b);
    } else {
        out_result("wrote the schema of %s to %s (%zu lines)\n", ctx->cfg->env,
                   o.output ? o.output : ctx->cfg->schema.file, count_lines(text.buf, text.len));
    }
    rc = 0;
cleanup:
    free(path);
    dd_buf_release(&text);
    dd_strv_release(&args);
    return rc;
}

/* ---- schema check ------------------------------------------------------------------------ */

struct check_opts {
    bool fresh_install;
    bool write;
};

static const struct cli_opt check_options[] = {
    CLI_OPT_BOOL(0, "fresh-install", struct check_opts, fresh_install,
                 "also load the schema file into an empty database and compare"),
    CLI_OPT_BOOL(0, "write", struct check_opts, write, "rewrite the schema file when it is stale"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_schema_check = {
    .brief = "check that the schema file is what the migrations build",
    .name = "schema check",
    .usage = "[--fresh-install] [--write]",
    .summary = "apply every migration of the working tree to a scratch database, dump it and compare it "
               "with [schema] file; exit 1 with a unified diff when the file is stale",
    .details = "No environment is needed. The scratch database is made on [schema] scratch-url's server "
               "(the role needs CREATEDB) or, without it, on a temporary PostgreSQL cluster that dbdeploy "
               "starts with the server programs (initdb, postgres) and always removes; it cannot run as "
               "root.\n\n--fresh-install also loads the schema file into a second scratch database, as "
               "'dbdeploy setup' would, and fails unless that yields the migrations' schema.",
    .opts = check_options,
    .min_args = 0,
    .max_args = 0,
};

struct check_result {
    bool existed, stale, written, fresh_checked, fresh_differs;
    size_t migrations;
    struct dd_buf diff;
};

static void check_report(const struct cli_ctx *ctx, const struct check_result *r, const char *server)
{
    struct dd_buf b = DD_BUF_INIT;

    if (out_json()) {
        struct dd_json j;
        dd_json_document_begin(&j, &b, "schema check");
        dd_json_str(&j, "file", ctx->cfg->schema.file);
        dd_json_int(&j, "migrations", (int64_t)r->migrations);
        dd_json_str(&j, "server", server);
        dd_json_bool(&j, "up_to_date", !r->stale || r->written);
        dd_json_bool(&j, "written", r->written);
        if (r->fresh_checked)
            dd_json_bool(&j, "fresh_install_matches", !r->fresh_differs);
        dd_json_str(&j, "diff", r->diff.len ? r->diff.buf : NULL);
        dd_json_obj_end(&j);
    } else if (r->diff.len) {
        dd_buf_add(&b, r->diff.buf, r->diff.len);
    } else if (r->written) {
        dd_buf_addf(&b, "%s %s from %zu migration%s\n", r->existed ? "updated" : "wrote", ctx->cfg->schema.file,
                    r->migrations, r->migrations == 1 ? "" : "s");
    } else {
        dd_buf_addf(&b, "%s is up to date with %zu migration%s%s (built on %s)\n", ctx->cfg->schema.file, r->migrations,
                    r->migrations == 1 ? "" : "s",
                    r->fresh_checked ? "; a fresh install from it gives the same schema" : "", server);
    }
    out_result_buf(&b);
    dd_buf_release(&b);
}

static int check_fresh_install(struct check_result *r, struct cli_ctx *ctx, struct schema_server *srv,
                               const struct dd_buf *file, const struct dd_buf *built)
{
    struct dd_buf loaded = DD_BUF_INIT;
    int rc = -1;

    r->fresh_checked = true;
    if (schema_load(&loaded, srv, file->buf, file->len, ctx->cfg->schema.file, ctx->cfg, &ctx->err) < 0)
        goto cleanup;
    if (loaded.len != built->len || memcmp(loaded.buf, built->buf, built->len) != 0) {
        r->fresh_differs = true;
        if (repo_text_diff(&r->diff, built->buf, built->len, "migrations", loaded.buf, loaded.len, "fresh-install",
                           &ctx->err) < 0)
            goto cleanup;
    }
    rc = 0;
cleanup:
    dd_buf_release(&loaded);
    return rc;
}

static int schema_check_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
    struct check_opts o = {false, false};
    struct dd_strv args = DD_STRV_INIT;
    struct migration_set set = MIGRATION_SET_INIT;
    struct schema_server *srv = NULL;
    struct dd_buf built = DD_BUF_INIT, file = DD_BUF_INIT;
    struct check_result r = {false, false, false, false, false, 0, DD_BUF_INIT};
    char *path = NULL;
    int rc = -1, parsed = cli_parse(ctx, &cli_spec_schema_check, &o, argc, argv, &args);

    if (parsed != 0) {
        rc = parsed > 0 ? 0 : -1;
        goto cleanup;
    }
    if (cli_need_config(ctx, NULL) < 0)
        goto cleanup;
    /* the working tree, uncommitted files included: in CI it is the commit, locally it is what you edit */
    ctx->cfg->allow_dirty = true;
    cli_want_repo(ctx);
    if (engine_load_migrations(&set, ctx->repo, ctx->cfg, &ctx->err) < 0)
        goto cleanup;
    r.migrations = set.n;
    path = schema_path(ctx);
    r.existed = dd_path_exists(path);
    if (r.existed && dd_read_file(&file, path, &ctx->err) < 0)
        goto cleanup;
    if (!r.existed && !o.write) {
        dd_error_set(&ctx->err, DD_ECHECK, "'%s' does not exist", ctx->cfg->schema.file);
        dd_error_hint(&ctx->err, "Create it with 'dbdeploy schema check --write' (or 'dbdeploy schema dump ENV') "
                                 "and commit it.");
        goto cleanup;
    }
    if (schema_server_open(&srv, ctx->cfg, &ctx->err) < 0 || schema_build(&built, srv, &set, ctx->cfg, &ctx->err) < 0)
        goto cleanup;
    r.stale = !r.existed || file.len != built.len || memcmp(file.buf, built.buf, built.len) != 0;
    if (r.stale && o.write) {
        if (dd_write_file_atomic(path, built.buf, built.len, 0644, &ctx->err) < 0)
            goto cleanup;
        r.written = true;
        dd_buf_setlen(&file, 0);
        dd_buf_add(&file, built.buf, built.len);
    } else if (r.stale && repo_text_diff(&r.diff, file.buf, file.len, ctx->cfg->schema.file, built.buf, built.len,
                                         ctx->cfg->schema.file, &ctx->err) < 0) {
        goto cleanup;
    }
    if (o.fresh_install && !(r.stale && !r.written) && check_fresh_install(&r, ctx, srv, &file, &built) < 0)
        goto cleanup;
    check_report(ctx, &r, schema_server_name(srv));
    if (r.stale && !r.written) {
        dd_error_set(&ctx->err, DD_ECHECK, "'%s' is stale: it is not the schema the %zu migrations build",
                     ctx->cfg->schema.file, set.n);
        dd_error_hint(&ctx->err, "Run 'dbdeploy schema check --write' (or 'dbdeploy schema dump ENV' on a database "
                                 "migrated to this commit) and commit the file.");
        goto cleanup;
    }
    if (r.fresh_differs) {
        dd_error_set(&ctx->err, DD_ECHECK, "a fresh install from '%s' does not give the schema the migrations build",
                     ctx->cfg->schema.file);
        dd_error_hint(&ctx->err, "The file loads differently than it was dumped (see the diff above); regenerate it "
                                 "with 'dbdeploy schema check --write' and report the difference.");
        goto cleanup;
    }
    rc = 0;
cleanup:
    schema_server_close(srv);
    dd_buf_release(&r.diff);
    dd_buf_release(&built);
    dd_buf_release(&file);
    migration_set_release(&set);
    free(path);
    dd_strv_release(&args);
    return rc;
}

/* ---- dispatch --------------------------------------------------------------------------- */

static const struct cli_spec *const schema_subs[] = {&cli_spec_schema_dump, &cli_spec_schema_check, NULL};

const struct cli_spec cli_spec_schema = {
    .brief = "keep a schema file beside the migrations and check it",
    .name = "schema",
    .usage = "dump ENV [-o FILE] | check [--fresh-install] [--write]",
    .summary = "write an environment's schema to the schema file, or check that the file is what the "
               "migrations build",
    .min_args = 1,
    .max_args = -1,
    .subs = schema_subs,
};

int cmd_schema(struct cli_ctx *ctx, int argc, char **argv)
{
    struct dd_strv args = DD_STRV_INIT;
    int p;

    if (argc >= 2 && strcmp(argv[1], "dump") == 0)
        return schema_dump_cmd(ctx, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "check") == 0)
        return schema_check_cmd(ctx, argc - 1, argv + 1);
    p = cli_parse(ctx, &cli_spec_schema, NULL, argc, argv, &args);
    if (p == 0) {
        dd_error_set(&ctx->err, DD_EUSAGE, "'%s' is not a schema subcommand", args.v[0]);
        dd_error_hint(&ctx->err, "Use 'dbdeploy schema dump ENV' or 'dbdeploy schema check'.");
        p = -1;
    }
    dd_strv_release(&args);
    return p < 0 ? -1 : 0;
}
