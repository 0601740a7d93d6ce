#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/out.h"

/* "Add users table" -> "add_users_table"; NULL when nothing usable is left. */
static char *normalize_name(const char *in)
{
    struct dd_buf b = DD_BUF_INIT;

    for (const char *p = in; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c))
            dd_buf_addch(&b, (char)tolower(c));
        else if (b.len && b.buf[b.len - 1] != '_')
            dd_buf_addch(&b, '_');
    }
    while (b.len && b.buf[b.len - 1] == '_')
        dd_buf_setlen(&b, b.len - 1);
    if (!b.len) {
        dd_buf_release(&b);
        return NULL;
    }
    return dd_buf_detach(&b, NULL);
}

static int write_new(const char *root, const char *rel, const char *content, struct dd_error *err)
{
    char *abs = dd_path_join(root, rel);
    int fd = open(abs, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), rc = -1;
    size_t len = strlen(content);

    if (fd < 0) {
        dd_error_errno(err, DD_EIO, "cannot create '%s'", rel);
        goto cleanup;
    }
    if (write(fd, content, len) != (ssize_t)len) {
        dd_error_errno(err, DD_EIO, "cannot write '%s'", rel);
        unlink(abs);
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (fd >= 0)
        close(fd);
    free(abs);
    return rc;
}

struct new_opts {
    const char *format;
    bool timestamp;
};

static const struct cli_opt new_options[] = {
    CLI_OPT_STRING_OF(0, "format", struct new_opts, format, "FORMAT", "golang plain dbmate",
                      "golang (.up.sql + .down.sql, the default), plain (.sql) or dbmate (one file, two sections)"),
    CLI_OPT_BOOL(0, "timestamp", struct new_opts, timestamp,
                 "use a UTC timestamp as the version (default when the set does)"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_new = {
    .brief = "create the next migration files",
    .name = "new",
    .usage = "NAME [--format FORMAT] [--timestamp]",
    .summary =
        "Create the next migration: the highest version + 1, zero-padded to the width in use, or a UTC timestamp "
        "when the existing migrations use timestamps.",
    .details = "Without --format the new file follows the format of the newest existing migration.",
    .opts = new_options,
    .min_args = 1,
    .max_args = 1,
};

int cmd_new(struct cli_ctx *ctx, int argc, char **argv)
{
    struct new_opts o = {NULL, false};
    struct dd_strv args = DD_STRV_INIT, created = DD_STRV_INIT;
    struct migration_set set = MIGRATION_SET_INIT;
    struct dd_buf b = DD_BUF_INIT;
    enum migration_format fmt = MIGRATION_GOLANG;
    char version[32], *name = NULL;
    int rc = -1, p;

    p = cli_parse(ctx, &cli_spec_new, &o, argc, argv, &args);
    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    name = normalize_name(args.v[0]);
    if (!name) {
        dd_error_set(&ctx->err, DD_EUSAGE, "'%s' has no letters or digits to name a migration", args.v[0]);
        dd_error_hint(&ctx->err, "Describe the change, for example: dbdeploy new add_orders_table.");
        goto cleanup;
    }
    if (cli_need_config(ctx, NULL) < 0)
        goto cleanup;
    {
        struct migration_source src = MIGRATION_SOURCE_INIT;
        char *dir = dd_path_join(ctx->root, ctx->cfg->migrations_dir);
        int r = dd_mkdir_p(dir, 0755, &ctx->err);
        free(dir);
        if (r == 0)
            r = migration_source_read_fs(&src, ctx->root, ctx->cfg->migrations_dir, &ctx->err);
        if (r == 0)
            r = migration_set_build(&set, &src, &ctx->err);
        migration_source_release(&src);
        if (r < 0)
            goto cleanup;
    }
    if (o.format) {
        if (strcmp(o.format, "golang") == 0 || strcmp(o.format, "golang-migrate") == 0)
            fmt = MIGRATION_GOLANG;
        else if (strcmp(o.format, "plain") == 0)
            fmt = MIGRATION_PLAIN;
        else if (strcmp(o.format, "dbmate") == 0)
            fmt = MIGRATION_DBMATE;
        else {
            dd_error_set(&ctx->err, DD_EUSAGE, "'%s' is not a migration format", o.format);
            dd_error_hint(&ctx->err, "Use golang, plain or dbmate.");
            goto cleanup;
        }
    } else if (set.n) {
        fmt = set.v[set.n - 1].format;
    }
    migration_next_version(version, sizeof(version), &set, time(NULL), o.timestamp);
    if (fmt == MIGRATION_DBMATE) {
        dd_strv_pushf(&created, "%s/%s_%s.sql", ctx->cfg->migrations_dir, version, name);
        rc = write_new(ctx->root, created.v[0], "-- migrate:up\n\n\n-- migrate:down\n\n", &ctx->err);
    } else if (fmt == MIGRATION_PLAIN) {
        dd_strv_pushf(&created, "%s/%s_%s.sql", ctx->cfg->migrations_dir, version, name);
        rc = write_new(ctx->root, created.v[0], "", &ctx->err);
    } else {
        dd_strv_pushf(&created, "%s/%s_%s.up.sql", ctx->cfg->migrations_dir, version, name);
        dd_strv_pushf(&created, "%s/%s_%s.down.sql", ctx->cfg->migrations_dir, version, name);
        rc = write_new(ctx->root, created.v[0], "", &ctx->err);
        if (rc == 0 && (rc = write_new(ctx->root, created.v[1], "", &ctx->err)) < 0) {
            char *abs = dd_path_join(ctx->root, created.v[0]);
            unlink(abs); /* never leave half a pair */
            free(abs);
        }
    }
    if (rc < 0)
        goto cleanup;
    if (out_json()) {
        struct dd_json j;
        dd_json_document_begin(&j, &b, "new");
        dd_json_str(&j, "version", version);
        dd_json_arr_begin(&j, "files");
        for (size_t i = 0; i < created.n; i++)
            dd_json_str(&j, NULL, created.v[i]);
        dd_json_arr_end(&j);
        dd_json_obj_end(&j);
    } else {
        for (size_t i = 0; i < created.n; i++)
            dd_buf_addf(&b, "%s\n", created.v[i]);
    }
    out_result_buf(&b);
cleanup:
    free(name);
    dd_buf_release(&b);
    migration_set_release(&set);
    dd_strv_release(&created);
    dd_strv_release(&args);
    return rc;
}
