/* dbdeploy backup ENV | dbdeploy backup --verify ARCHIVE */
#include "cli/cli.h"

#include <stdio.h>

#include "backup/backup.h"
#include "config/config.h"
#include "db/db.h"
#include "db/ledger.h"
#include "git/git.h"
#include "util/json.h"
#include "util/out.h"
#include "util/parse.h"

static const char details[] =
    "Dumps ENV's database with pg_dump into <[backup] dir>/ENV/<UTC time>-<commit>.tar.zst (tar +\n"
    "zstd, mode 0600), reads the archive back to check its SHA-256, then keeps the newest\n"
    "[backup] keep archives. The archive's path is printed on stdout.\n"
    "\n"
    "With --verify, checks an existing archive instead: its structure, and the dump's size and\n"
    "SHA-256 against its manifest. No configuration or database is needed for that.\n"
    "\n"
    "See docs/backup.md for the archive format and restoring by hand.";

static void print_manifest_json(struct dd_json *j, const struct backup_manifest *m)
{
    dd_json_str(j, "env", m->env);
    dd_json_str(j, "database", m->database);
    dd_json_str(j, "server_version", m->server_version);
    dd_json_str(j, "pg_dump_version", m->pg_dump_version);
    dd_json_str(j, "git_commit", m->git_commit);
    dd_json_arr_begin(j, "applied_versions");
    for (size_t i = 0; i < m->n_applied; i++)
        dd_json_int(j, NULL, m->applied[i]);
    dd_json_arr_end(j);
    dd_json_str(j, "started_at", m->started_at);
    dd_json_str(j, "finished_at", m->finished_at);
    dd_json_uint(j, "dump_size", m->dump_size);
    dd_json_str(j, "dump_sha256", m->dump_sha256);
}

static int verify(struct cli_ctx *ctx, const char *path)
{
    struct backup_manifest m = BACKUP_MANIFEST_INIT;
    struct dd_buf b = DD_BUF_INIT;
    char size[32];

    if (backup_verify(&m, path, &ctx->err) < 0) {
        if (ctx->err.code == DD_EINPUT && !ctx->err.hint)
            dd_error_hint(&ctx->err,
                          "This archive cannot be restored; use another ('dbdeploy backups ENV' lists them).");
        return -1;
    }
    if (out_json()) {
        struct dd_json j;
        dd_json_document_begin(&j, &b, "backup");
        dd_json_str(&j, "archive", path);
        dd_json_bool(&j, "ok", true);
        print_manifest_json(&j, &m);
        dd_json_obj_end(&j);
    } else {
        dd_format_bytes(size, sizeof(size), m.dump_size);
        dd_buf_addf(&b, "ok %s: backup of %s (database '%s') taken %s at %.7s, %s dump, sha256 %s\n", path, m.env,
                    m.database, m.started_at, m.git_commit ? m.git_commit : BACKUP_NO_COMMIT, size, m.dump_sha256);
    }
    out_result_buf(&b);
    dd_buf_release(&b);
    backup_manifest_release(&m);
    return 0;
}

/* The commit the project is at, for the archive's name; none outside a repository. */
static char *head_commit(struct cli_ctx *ctx)
{
    struct dd_error gerr = DD_ERROR_INIT;
    struct repo *r = NULL;
    char id[REPO_OID_HEX_LEN + 1];
    char *out = NULL;

    if (repo_open(&r, ctx->root, &gerr) == 0 && repo_resolve(r, "HEAD", id, &gerr) == 0)
        out = dd_xstrdup(id);
    else
        log_detail("no commit for the archive name: %s", dd_error_msg(&gerr));
    repo_free(r);
    dd_error_release(&gerr);
    return out;
}

static int applied_versions(struct cli_ctx *ctx, int64_t **out, size_t *n)
{
    struct db_ledger l = DB_LEDGER_INIT;

    *out = NULL;
    *n = 0;
    if (db_ledger_load(&l, ctx->db, ctx->cfg->ledger_schema, &ctx->err) < 0)
        return -1;
    *out = dd_xcalloc(l.n + 1, sizeof(**out));
    for (size_t i = 0; i < l.n; i++)
        if (l.rows[i].state == DB_LEDGER_APPLIED)
            (*out)[(*n)++] = l.rows[i].version;
    db_ledger_release(&l);
    return 0;
}

static void print_result(const struct backup_result *r)
{
    struct dd_buf b = DD_BUF_INIT;

    if (out_json()) {
        struct dd_json j;
        dd_json_document_begin(&j, &b, "backup");
        dd_json_str(&j, "archive", r->path);
        dd_json_uint(&j, "archive_size", r->archive_size);
        dd_json_uint(&j, "duration_ms", r->ms);
        print_manifest_json(&j, &r->manifest);
        dd_json_arr_begin(&j, "pruned");
        for (size_t i = 0; i < r->pruned.n; i++)
            dd_json_str(&j, NULL, r->pruned.v[i]);
        dd_json_arr_end(&j);
        dd_json_obj_end(&j);
    } else {
        dd_buf_addf(&b, "%s\n", r->path);
    }
    out_result_buf(&b);
    dd_buf_release(&b);
}

struct backup_opts {
    const char *verify;
};

static const struct cli_opt backup_options[] = {
    CLI_OPT_STRING(0, "verify", struct backup_opts, verify, "ARCHIVE",
                   "check an existing archive instead of making one"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_backup = {
    .brief = "back up an environment's database, or verify an archive",
    .name = "backup",
    .usage = "ENV | --verify ARCHIVE",
    .summary = "back up an environment's database",
    .details = details,
    .opts = backup_options,
    .min_args = 0,
    .max_args = 1,
};

int cmd_backup(struct cli_ctx *ctx, int argc, char **argv)
{
    struct backup_opts o = {NULL};
    struct dd_strv args = DD_STRV_INIT;
    struct backup_request req;
    struct backup_result res = BACKUP_RESULT_INIT;
    char *conninfo = NULL, *password = NULL, *commit = NULL;
    int64_t *applied = NULL;
    size_t n_applied = 0;
    char size[32];
    int rc = -1, parsed = cli_parse(ctx, &cli_spec_backup, &o, argc, argv, &args);

    if (parsed != 0) {
        rc = parsed > 0 ? 0 : -1;
        goto cleanup;
    }
    if (o.verify) {
        if (args.n) {
            dd_error_set(&ctx->err, DD_EUSAGE, "--verify takes an archive, not an environment");
            dd_error_hint(&ctx->err, "Run 'dbdeploy backup --verify ARCHIVE'.");
            goto cleanup;
        }
        rc = verify(ctx, o.verify);
        goto cleanup;
    }
    if (!args.n) {
        dd_error_set(&ctx->err, DD_EUSAGE, "'backup' needs an environment");
        dd_error_hint(&ctx->err, "Run 'dbdeploy backup ENV', or 'dbdeploy backup --verify ARCHIVE'.");
        goto cleanup;
    }
    if (cli_need_config(ctx, args.v[0]) < 0 || cli_need_db(ctx) < 0 ||
        applied_versions(ctx, &applied, &n_applied) < 0 ||
        db_child_conninfo(ctx->db, &conninfo, &password, &ctx->err) < 0)
        goto cleanup;
    commit = head_commit(ctx);
    req = (struct backup_request){
        .env = ctx->cfg->env,
        .dir = ctx->cfg->backup.dir,
        .pg_dump = ctx->cfg->backup.pg_dump,
        .level = ctx->cfg->backup.level,
        .keep = ctx->cfg->backup.keep,
        .conninfo = conninfo,
        .password = password,
        .database = db_name(ctx->db),
        .server_version = db_server_version(ctx->db),
        .git_commit = commit,
        .applied = applied,
        .n_applied = n_applied,
    };
    if (backup_create(&res, &req, &ctx->err) < 0)
        goto cleanup;
    dd_format_bytes(size, sizeof(size), res.archive_size);
    log_stage("backup", "ok", res.ms, "%s (%s)", res.path, size);
    for (size_t i = 0; i < res.pruned.n; i++)
        log_info("pruned %s", res.pruned.v[i]);
    print_result(&res);
    rc = 0;
cleanup:
    backup_result_release(&res);
    dd_free_secret(password);
    free(conninfo);
    free(commit);
    free(applied);
    dd_strv_release(&args);
    return rc;
}
