/* dbdeploy backups ENV: the archives of an environment, oldest first. */
#include "cli/cli.h"

#include <stdio.h>

#include "backup/backup.h"
#include "config/config.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/out.h"
#include "util/parse.h"

static const char details[] =
    "Lists the archives in <[backup] dir>/ENV/, oldest first: when each was taken, at which commit,\n"
    "its size, and the migrations applied at the time (how many, and the newest). Only each\n"
    "archive's header is read; 'dbdeploy backup --verify ARCHIVE' checks one completely.";

static void versions_text(char *out, size_t outsz, const struct backup_entry *e)
{
    const struct backup_manifest *h = &e->header;

    if (!e->have_header)
        snprintf(out, outsz, "unreadable: %s", e->header_error ? e->header_error : "no header");
    else if (!h->n_applied)
        snprintf(out, outsz, "none");
    else
        snprintf(out, outsz, "%zu, newest %lld", h->n_applied, (long long)h->applied[h->n_applied - 1]);
}

static void render_text(struct dd_buf *b, const struct backup_list *l, const char *env, const char *dir)
{
    if (!l->n) {
        dd_buf_addf(b, "no backups of %s in %s\n", env, dir);
        return;
    }
    dd_buf_addf(b, "%-20s  %-7s  %10s  %-28s  %s\n", "TIME (UTC)", "COMMIT", "SIZE", "MIGRATIONS", "ARCHIVE");
    for (size_t i = 0; i < l->n; i++) {
        const struct backup_entry *e = &l->v[i];
        char when[32], size[32], versions[512];

        dd_time_iso8601(when, e->time);
        dd_format_bytes(size, sizeof(size), e->size);
        versions_text(versions, sizeof(versions), e);
        dd_buf_addf(b, "%-20s  %-7.7s  %10s  %-28s  %s\n", when, e->commit, size, versions, e->path);
    }
}

static void render_json(struct dd_buf *b, const struct backup_list *l, const char *env, const char *dir)
{
    struct dd_json j;

    dd_json_document_begin(&j, b, "backups");
    dd_json_str(&j, "env", env);
    dd_json_str(&j, "dir", dir);
    dd_json_arr_begin(&j, "backups");
    for (size_t i = 0; i < l->n; i++) {
        const struct backup_entry *e = &l->v[i];
        char when[32];

        dd_time_iso8601(when, e->time);
        dd_json_obj_begin(&j, NULL);
        dd_json_str(&j, "archive", e->path);
        dd_json_str(&j, "time", when);
        dd_json_uint(&j, "size", e->size);
        if (e->have_header) {
            dd_json_str(&j, "commit", e->header.git_commit);
            dd_json_str(&j, "database", e->header.database);
            dd_json_str(&j, "server_version", e->header.server_version);
            dd_json_str(&j, "pg_dump_version", e->header.pg_dump_version);
            dd_json_arr_begin(&j, "applied_versions");
            for (size_t k = 0; k < e->header.n_applied; k++)
                dd_json_int(&j, NULL, e->header.applied[k]);
            dd_json_arr_end(&j);
            dd_json_null(&j, "error");
        } else {
            dd_json_str(&j, "commit", strcmp(e->commit, BACKUP_NO_COMMIT) ? e->commit : NULL);
            dd_json_str(&j, "error", e->header_error);
        }
        dd_json_obj_end(&j);
    }
    dd_json_arr_end(&j);
    dd_json_obj_end(&j);
}

const struct cli_spec cli_spec_backups = {
    .brief = "list an environment's backups",
    .name = "backups",
    .usage = "ENV",
    .summary = "list an environment's backups",
    .details = details,
    .min_args = 1,
    .max_args = 1,
};

int cmd_backups(struct cli_ctx *ctx, int argc, char **argv)
{
    struct dd_strv args = DD_STRV_INIT;
    struct backup_list l = BACKUP_LIST_INIT;
    struct dd_buf b = DD_BUF_INIT;
    int rc = -1, parsed = cli_parse(ctx, &cli_spec_backups, NULL, argc, argv, &args);

    if (parsed != 0) {
        rc = parsed > 0 ? 0 : -1;
        goto cleanup;
    }
    if (cli_need_config(ctx, args.v[0]) < 0 ||
        backup_list(&l, ctx->cfg->backup.dir, ctx->cfg->env, BACKUP_LIST_HEADERS, &ctx->err) < 0)
        goto cleanup;
    if (out_json())
        render_json(&b, &l, ctx->cfg->env, ctx->cfg->backup.dir);
    else
        render_text(&b, &l, ctx->cfg->env, ctx->cfg->backup.dir);
    out_result_buf(&b);
    rc = 0;
cleanup:
    dd_buf_release(&b);
    backup_list_release(&l);
    dd_strv_release(&args);
    return rc;
}
