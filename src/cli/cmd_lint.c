#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "config/config.h"
#include "db/db.h"
#include "lint/lint.h"
#include "pipeline/deploy.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/out.h"

enum lint_format { FMT_TEXT, FMT_GITHUB, FMT_JSON };

/*
 * A lint parses script after script, each needing a few MB that it then frees. Keep that memory
 * in the heap (glibc would give it back above 128 kB and map big blocks afresh each time): every
 * fresh page is a page fault, and on the benchmark VM one costs ~15 us, more than the parse of
 * the page's worth of SQL.
 */
static void keep_heap(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_TOP_PAD, 4 << 20);
#endif
}

/*
 * Scripts are queued into a batch (parsed on several threads, checked in order) and linted once
 * the queue is complete. DBDEPLOY_LINT_THREADS=N sets the number of parsing threads (1: none
 * besides the main one), for tests and measurements; the default follows the CPUs.
 */
static void lint_flush(struct lint_run *r, struct lint_batch *b)
{
    const char *env = getenv("DBDEPLOY_LINT_THREADS");
    char *end;
    unsigned long n = env && *env ? strtoul(env, &end, 10) : 0;

    lint_batch_run(r, b, env && *env && !*end ? (unsigned)n : 0);
}

/* A migration's up script, linted the way dbdeploy would run it (one transaction or not). */
static void lint_migration(struct lint_batch *b, const struct migration *m, bool strict)
{
    struct migration_exec x = MIGRATION_EXEC_INIT;
    struct dd_error ignored = DD_ERROR_INIT;
    bool single_tx = true;

    if (!m->up.present)
        return;
    /* a file the splitter refuses still gets linted: the parser reports the same problem */
    if (migration_exec_prepare(&x, &m->up, strict, &ignored) == 0)
        single_tx = x.mode == MIGRATION_EXEC_TX;
    lint_batch_add(b, m->up.path, m->up.sql.buf, m->up.sql.len, single_tx);
    migration_exec_release(&x);
    dd_error_release(&ignored);
}

/* A FILE argument, relative to the project root (-C) like every path dbdeploy takes. */
static int read_arg(struct dd_buf *out, struct cli_ctx *ctx, const char *file)
{
    char *path = file[0] == '/' ? dd_xstrdup(file) : dd_path_join(ctx->root, file);
    int rc = dd_read_file(out, path, &ctx->err);

    free(path);
    if (rc < 0) {
        dd_error_recode(&ctx->err, DD_EINPUT);
        dd_error_hint(&ctx->err, "Name migration files relative to the project directory (-C), or by absolute path.");
    }
    return rc;
}

/*
 * FILEs named on the command line: migrations among them are ordered by version (dbmate
 * sections split as for a deploy), then the down files among them, newest first; other .sql
 * files are linted as they are, after them.
 */
static int lint_files(struct lint_run *r, struct cli_ctx *ctx, const struct dd_strv *files, bool strict)
{
    struct migration_source src = MIGRATION_SOURCE_INIT;
    struct migration_set set = MIGRATION_SET_INIT;
    struct dd_strv plain = DD_STRV_INIT;
    struct lint_batch b = LINT_BATCH_INIT;
    struct dd_buf *texts = dd_xcalloc(files->n ? files->n : 1, sizeof(*texts)); /* of plain, kept for the batch */
    char *dir = NULL;
    int rc = -1;

    for (size_t i = 0; i < files->n; i++) {
        struct dd_buf data = DD_BUF_INIT;
        struct migration_name n;
        char why[128], *d = dd_dirname(files->v[i]);
        int kind = migration_name_parse(&n, dd_basename(files->v[i]), why, sizeof(why));

        if (read_arg(&data, ctx, files->v[i]) < 0) {
            free(d);
            goto cleanup;
        }
        if (kind == 0 && (!dir || strcmp(dir, d) == 0)) {
            if (!dir) {
                migration_source_init(&src, (dir = dd_xstrdup(d)), NULL);
                src.no_checksums = true; /* linted, never compared with a ledger */
            }
            migration_source_add(&src, dd_basename(files->v[i]), data.buf, data.len, NULL);
        } else {
            texts[plain.n] = data;
            dd_buf_init(&data);
            dd_strv_push(&plain, files->v[i]);
        }
        if (kind == 0)
            migration_name_release(&n);
        dd_buf_release(&data);
        free(d);
    }
    if (src.n && migration_set_build(&set, &src, &ctx->err) < 0)
        goto cleanup;
    for (size_t i = 0; i < set.n; i++)
        lint_migration(&b, &set.v[i], strict);
    /* down files named on the command line, in the order a rollback runs them */
    for (size_t i = set.n; i-- > 0;)
        if (set.v[i].down.present)
            lint_batch_add(&b, set.v[i].down.path, set.v[i].down.sql.buf, set.v[i].down.sql.len, true);
    for (size_t i = 0; i < plain.n; i++)
        lint_batch_add(&b, plain.v[i], texts[i].buf, texts[i].len, true);
    lint_flush(r, &b);
    rc = 0;
cleanup:
    for (size_t i = 0; i < plain.n; i++)
        dd_buf_release(&texts[i]);
    free(texts);
    lint_batch_release(&b);
    migration_set_release(&set);
    migration_source_release(&src);
    dd_strv_release(&plain);
    free(dir);
    return rc;
}

/* The migrations directory of the working tree, all of it pending. */
static int lint_dir(struct lint_run *r, struct cli_ctx *ctx)
{
    struct migration_source src = MIGRATION_SOURCE_INIT;
    struct migration_set set = MIGRATION_SET_INIT;
    struct lint_batch b = LINT_BATCH_INIT;
    int rc = -1;

    if (migration_source_read_fs(&src, ctx->root, ctx->cfg->migrations_dir, &ctx->err) < 0)
        goto cleanup;
    src.no_checksums = true; /* linted, never compared with a ledger */
    if (migration_set_build(&set, &src, &ctx->err) < 0)
        goto cleanup;
    for (size_t i = 0; i < set.n; i++)
        lint_migration(&b, &set.v[i], ctx->cfg->strict_transactions);
    for (size_t i = 0; i < set.nrep; i++)
        lint_batch_add(&b, set.rep[i].up.path, set.rep[i].up.sql.buf, set.rep[i].up.sql.len, true);
    lint_flush(r, &b);
    rc = 0;
cleanup:
    lint_batch_release(&b);
    migration_set_release(&set);
    migration_source_release(&src);
    return rc;
}

/*
 * With an environment: the target's catalog gives table sizes, and only its pending migrations
 * are linted (their tables are new; applied ones' tables exist and have a size).
 */
static int lint_env(struct lint_run *r, struct cli_ctx *ctx, const char *env)
{
    struct cli_env e = CLI_ENV_INIT;
    struct lint_batch b = LINT_BATCH_INIT;
    int rc = -1;

    if (cli_need_env_repo(ctx) < 0 || cli_env_load(&e, ctx, env) < 0 || deploy_lint_catalog(r, ctx->db, &ctx->err) < 0)
        goto cleanup;
    for (size_t i = 0; i < e.st.n; i++)
        if ((e.st.v[i].state == ENGINE_PENDING || e.st.v[i].state == ENGINE_OUT_OF_ORDER) && e.st.v[i].m)
            lint_migration(&b, e.st.v[i].m, ctx->cfg->strict_transactions);
    /* the repeatable migrations that would run again */
    for (size_t i = 0; i < e.st.nrep; i++)
        if (e.st.rep[i].changed)
            lint_batch_add(&b, e.st.rep[i].m->up.path, e.st.rep[i].m->up.sql.buf, e.st.rep[i].m->up.sql.len, true);
    lint_flush(r, &b);
    rc = 0;
cleanup:
    lint_batch_release(&b);
    cli_env_release(&e);
    return rc;
}

/* An environment and FILEs: those files, judged by the target's table sizes (a review before merging). */
static int lint_env_files(struct lint_run *r, struct cli_ctx *ctx, const struct dd_strv *files)
{
    if (cli_need_db(ctx) < 0 || deploy_lint_catalog(r, ctx->db, &ctx->err) < 0)
        return -1;
    return lint_files(r, ctx, files, ctx->cfg->strict_transactions);
}

static int parse_format(struct cli_ctx *ctx, const char *text, bool json, enum lint_format *out)
{
    *out = json || out_json() ? FMT_JSON : FMT_TEXT;
    if (!text || json)
        return 0;
    if (strcmp(text, "text") == 0)
        *out = FMT_TEXT;
    else if (strcmp(text, "github") == 0)
        *out = FMT_GITHUB;
    else if (strcmp(text, "json") == 0)
        *out = FMT_JSON;
    else {
        dd_error_set(&ctx->err, DD_EUSAGE, "'%s' is not an output format", text);
        dd_error_hint(&ctx->err, "Use --format=text, github or json.");
        return -1;
    }
    return 0;
}

/* An environment, unless a file of that name exists where FILEs are looked up (the project root). */
static bool is_env(struct cli_ctx *ctx, const char *arg)
{
    char *conf, *file;
    bool yes;

    if (!config_env_name_valid(arg) || strcmp(arg, "dbdeploy") == 0)
        return false;
    file = dd_path_join(ctx->root, arg);
    conf = dd_xasprintf("%s/%s/%s.conf", ctx->root, CONFIG_DIR, arg);
    yes = !dd_path_exists(file) && dd_path_exists(conf);
    free(file);
    free(conf);
    return yes;
}

struct lint_opts {
    const char *format;
    bool json;
};

static const struct cli_opt lint_options[] = {
    CLI_OPT_STRING(0, "format", struct lint_opts, format, "FORMAT",
                   "text (default), github (workflow annotations) or json"),
    CLI_OPT_BOOL(0, "json", struct lint_opts, json, "same as --format=json"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_lint = {
    .brief = "check migrations for locks on big tables, data loss and breaking changes",
    .name = "lint",
    .usage = "[ENV] [FILE...] [--format=text|github|json]",
    .summary = "Check migrations, with PostgreSQL's own parser, for statements that lock big tables, lose data or "
               "break the running application; exits 3 when a finding has severity error.",
    .details =
        "Without ENV: every migration of the migrations directory (or the FILEs), in version order, as if all were "
        "pending: a table created by an earlier file, or earlier in the same file, is new and no lock rule fires on "
        "it. With ENV: only the environment's pending migrations, and the target's catalog decides which tables are "
        "big ([lint] small-table rows, default 10000). With ENV and FILEs: those files, judged by ENV's table "
        "sizes. Suppress a finding with '-- dbdeploy:allow RULE-ID reason' on "
        "the line before the statement or in the file header; set [lint] RULE-ID = error|warning|off. Rules: "
        "docs/lint.md.",
    .opts = lint_options,
    .min_args = 0,
    .max_args = -1,
};

int cmd_lint(struct cli_ctx *ctx, int argc, char **argv)
{
    struct lint_opts o = {NULL, false};
    struct dd_strv args = DD_STRV_INIT, files = DD_STRV_INIT;
    struct lint_run r;
    struct dd_buf out = DD_BUF_INIT;
    enum lint_format fmt;
    const char *env = NULL;
    int rc = -1, p;

    keep_heap();
    lint_run_init(&r);
    p = cli_parse(ctx, &cli_spec_lint, &o, argc, argv, &args);
    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    if (parse_format(ctx, o.format, o.json, &fmt) < 0)
        goto cleanup;
    for (size_t i = 0; i < args.n; i++) {
        if (i == 0 && is_env(ctx, args.v[0]))
            env = args.v[0];
        else
            dd_strv_push(&files, args.v[i]);
    }
    if (cli_need_config(ctx, env) < 0)
        goto cleanup;
    lint_run_configure(&r, &ctx->cfg->lint.rules, ctx->cfg->lint.small_table);
    if (env && files.n ? lint_env_files(&r, ctx, &files) < 0
        : env          ? lint_env(&r, ctx, env) < 0
        : files.n      ? lint_files(&r, ctx, &files, ctx->cfg->strict_transactions) < 0
                       : lint_dir(&r, ctx) < 0)
        goto cleanup;
    if (fmt == FMT_JSON)
        lint_render_json(&out, &r);
    else if (fmt == FMT_GITHUB)
        lint_render_github(&out, &r);
    else
        lint_render_text(&out, &r);
    out_result_buf(&out);
    log_info("lint: %zu file%s, %zu statement%s: %zu error%s, %zu warning%s", r.files, r.files == 1 ? "" : "s",
             r.statements, r.statements == 1 ? "" : "s", r.errors, r.errors == 1 ? "" : "s", r.warnings,
             r.warnings == 1 ? "" : "s");
    if (r.errors) {
        dd_error_set(&ctx->err, DD_EBLOCKED, "lint: %zu error-level finding%s", r.errors, r.errors == 1 ? "" : "s");
        dd_error_hint(&ctx->err, "Rewrite the statements as each hint says, or suppress a finding that is safe with "
                                 "'-- dbdeploy:allow RULE-ID reason' (docs/lint.md).");
        goto cleanup;
    }
    rc = 0;
cleanup:
    dd_buf_release(&out);
    lint_run_release(&r);
    dd_strv_release(&files);
    dd_strv_release(&args);
    return rc;
}
