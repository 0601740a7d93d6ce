#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "git/git.h"
#include "util/identity.h"
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

/*
 * The templates: a header that says what the file is and who created it, and no statement, so
 * that an unedited template is refused when a plan would apply it (exit 2) instead of being
 * recorded as a migration that did nothing.
 */
static void header(struct dd_buf *b, const char *file, const char *what, const char *author)
{
    char day[16];
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    dd_buf_addf(b, "-- %s: %s\n-- Created %s by %s.\n", file, what, day, author);
}

static const char refuse_note[] = "-- Write the SQL below. Until this file holds a statement dbdeploy refuses to apply "
                                  "it;\n-- add a line '-- dbdeploy:allow empty' if a no-op is really meant.\n";

static char *template_for(enum migration_format fmt, const char *file, bool down, const char *author)
{
    struct dd_buf b = DD_BUF_INIT;
    const char *slash = strrchr(file, '/');

    file = slash ? slash + 1 : file;
    if (fmt == MIGRATION_DBMATE) {
        header(&b, file, "one dbmate file, up and down sections", author);
        dd_buf_addf(&b, "-- migrate:up\n%s\n\n-- migrate:down\n\n", refuse_note);
    } else if (down) {
        header(&b, file, "reverts the up migration of the same version", author);
        dd_buf_adds(&b, "\n");
    } else {
        header(&b, file, "the change", author);
        dd_buf_addf(&b, "%s\n", refuse_note);
    }
    return dd_buf_detach(&b, NULL);
}

/* Create the files of one migration (both or neither). */
static int write_files(struct cli_ctx *ctx, const struct dd_strv *created, enum migration_format fmt)
{
    char *author = NULL;
    int rc = 0;

    cli_want_repo(ctx);
    author = repo_author(ctx->repo);
    if (!author)
        author = dd_whoami();
    for (size_t i = 0; i < created->n && rc == 0; i++) {
        char *text = template_for(fmt, created->v[i], i == 1, author);
        rc = write_new(ctx->root, created->v[i], text, &ctx->err);
        free(text);
        if (rc < 0 && i == 1) {
            char *abs = dd_path_join(ctx->root, created->v[0]);
            unlink(abs); /* never leave half a pair */
            free(abs);
        }
    }
    free(author);
    return rc;
}

struct new_opts {
    const char *format;
    bool timestamp;
};

static const struct cli_opt new_options[] = {
    CLI_OPT_STRING_OF(0, "format", struct new_opts, format, "FORMAT", "golang plain dbmate flyway",
                      "golang (.up.sql + .down.sql, the default), plain (.sql), dbmate (one file, two sections) or "
                      "flyway (V<version>__name.sql + U<version>__name.sql)"),
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
    .details = "Without --format the new file follows the format of the newest existing migration. Each file starts "
               "with a header comment (file, date, git author) and holds no statement yet: dbdeploy refuses to apply "
               "a migration without a statement (exit 2) until you write it, or add '-- dbdeploy:allow empty'.",
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
        else if (strcmp(o.format, "flyway") == 0)
            fmt = MIGRATION_FLYWAY;
        else {
            dd_error_set(&ctx->err, DD_EUSAGE, "'%s' is not a migration format", o.format);
            dd_error_hint(&ctx->err, "Use golang, plain, dbmate or flyway.");
            goto cleanup;
        }
    } else if (set.n) {
        fmt = set.v[set.n - 1].format;
    }
    migration_next_version(version, sizeof(version), &set, time(NULL), o.timestamp);
    if (fmt == MIGRATION_DBMATE || fmt == MIGRATION_PLAIN) {
        dd_strv_pushf(&created, "%s/%s_%s.sql", ctx->cfg->migrations_dir, version, name);
    } else if (fmt == MIGRATION_FLYWAY) {
        dd_strv_pushf(&created, "%s/V%s__%s.sql", ctx->cfg->migrations_dir, version, name);
        dd_strv_pushf(&created, "%s/U%s__%s.sql", ctx->cfg->migrations_dir, version, name);
    } else {
        dd_strv_pushf(&created, "%s/%s_%s.up.sql", ctx->cfg->migrations_dir, version, name);
        dd_strv_pushf(&created, "%s/%s_%s.down.sql", ctx->cfg->migrations_dir, version, name);
    }
    rc = write_files(ctx, &created, fmt);
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
