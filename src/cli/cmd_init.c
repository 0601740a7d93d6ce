#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migrations/migrations.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/out.h"

/* The skeleton: every file is commented so that it documents itself. */
static const char shared_conf[] =
    "# dbdeploy shared settings: every pipeline/<env>.conf starts from these and may override any of them.\n"
    "# Syntax: git-config. Values may use ${VAR} or ${VAR:-default} from the environment.\n"
    "# Reference: docs/configuration.md\n"
    "\n"
    "[migrations]\n"
    "\t# where migration files live, relative to the project root\n"
    "\tdir = migrations\n"
    "\t# refuse files that cannot run inside a transaction instead of running them statement by statement\n"
    "\tstrict-transactions = false\n"
    "\n"
    "[database]\n"
    "\t# schema that holds dbdeploy's ledger (applied migrations, deployments)\n"
    "\tledger-schema = dbdeploy\n"
    "\t# how long to wait for another deployment to finish\n"
    "\tlock-wait = 60s\n"
    "\t# how long one migration may wait for a table lock before it is retried (lock-retries times)\n"
    "\tlock-timeout = 5s\n"
    "\tlock-retries = 3\n"
    "\t# 0 = no limit; a file can override with -- dbdeploy:statement-timeout=30m\n"
    "\tstatement-timeout = 0\n"
    "\n"
    "[git]\n"
    "\t# branch whose published migrations must never change (pre-push hook, dbdeploy verify);\n"
    "\t# default: the remote's main branch (origin/HEAD), else main or master\n"
    "\t# protected-branch = origin/main\n";

static const char dev_conf[] =
    "# A local development database. Deployed from the working tree, uncommitted files included.\n"
    "[database]\n"
    "\turl = ${DEV_DATABASE_URL:-postgresql:///myapp_dev}\n"
    "\n"
    "[git]\n"
    "\tallow-dirty = true\n"
    "\n"
    "[backup]\n"
    "\tenabled = false\n";

static const char staging_conf[] =
    "# Staging: deployed from committed migrations only.\n"
    "[database]\n"
    "\t# keep the password out of the file: it comes from the environment and is masked in all output\n"
    "\turl = postgresql://deploy:${STAGING_DB_PASSWORD}@staging-db.internal/myapp\n"
    "\n"
    "[backup]\n"
    "\tdir = .dbdeploy/backups\n"
    "\tkeep = 5\n"
    "\n"
    "[health]\n"
    "\t# the application must answer 2xx here before and after a deploy\n"
    "\turl = https://staging.example.com/healthz\n"
    "\ttimeout = 5s\n"
    "\tdeadline = 60s\n";

static const char prod_conf[] =
    "# Production: only what staging already runs may be deployed here.\n"
    "[database]\n"
    "\turl = postgresql://deploy:${PROD_DB_PASSWORD}@prod-db.internal/myapp\n"
    "\n"
    "[gate]\n"
    "\t# every migration about to be applied must already be applied on staging, with the same checksum\n"
    "\trequires = staging\n"
    "\n"
    "[backup]\n"
    "\t# a verified backup is taken before every deploy and restored automatically if it fails\n"
    "\tdir = .dbdeploy/backups\n"
    "\tkeep = 10\n"
    "\n"
    "[restore]\n"
    "\ton-failure = true\n"
    "\n"
    "[health]\n"
    "\turl = https://app.example.com/healthz\n"
    "\t# header = Authorization: Bearer ${HEALTH_TOKEN}\n"
    "\texpect-status = 2xx\n"
    "\ttimeout = 5s\n"
    "\tdeadline = 120s\n"
    "\n"
    "[environment]\n"
    "\t# apply, rollback, mark, restore, adopt and undo ask for 'prod' to be typed (or need --yes)\n"
    "\tprotected = true\n";

static const char migrations_readme[] =
    "# Migrations\n"
    "\n"
    "Create the next one with `dbdeploy new NAME`. Files are `<version>_<name>.up.sql` with an optional\n"
    "`.down.sql`; plain `<version>_<name>.sql` and dbmate files work too. Once a migration has been\n"
    "pushed or applied it is immutable: fix mistakes with a new migration. See docs/migrations.md.\n";

struct skeleton_file {
    const char *path;
    const char *content;
};

/* What init did to each file: the text lines, and the same as "action\tpath" for --json. */
struct init_report {
    struct dd_buf text;
    struct dd_strv done;
};

static void report_add(struct init_report *r, const char *action, const char *path, const char *note)
{
    dd_buf_addf(&r->text, "%-8s %s%s\n", action, path, note);
    dd_strv_pushf(&r->done, "%s\t%s", action, path);
}

static void report_json(struct dd_buf *b, const struct init_report *r)
{
    struct dd_json j;

    dd_json_document_begin(&j, b, "init");
    dd_json_arr_begin(&j, "files");
    for (size_t i = 0; i < r->done.n; i++) {
        const char *tab = strchr(r->done.v[i], '\t');
        char action[16];
        snprintf(action, sizeof(action), "%.*s", (int)(tab - r->done.v[i]), r->done.v[i]);
        dd_json_obj_begin(&j, NULL);
        dd_json_str(&j, "path", tab + 1);
        dd_json_str(&j, "action", action);
        dd_json_obj_end(&j);
    }
    dd_json_arr_end(&j);
    dd_json_obj_end(&j);
}

/* Create path with content unless it exists; report what happened. */
static int create_file(const char *root, const struct skeleton_file *f, struct init_report *report,
                       struct dd_error *err)
{
    char *abs = dd_path_join(root, f->path);
    char *dir = dd_dirname(abs);
    int fd = -1, rc = -1;
    size_t len = strlen(f->content);

    if (dd_mkdir_p(dir, 0755, err) < 0)
        goto cleanup;
    fd = open(abs, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST) {
        report_add(report, "exists", f->path, " (left alone)");
        rc = 0;
        goto cleanup;
    }
    if (fd < 0 || write(fd, f->content, len) != (ssize_t)len || fsync(fd) < 0) {
        dd_error_errno(err, DD_EIO, "cannot write '%s'", f->path);
        if (fd >= 0)
            unlink(abs);
        goto cleanup;
    }
    report_add(report, "created", f->path, "");
    rc = 0;
cleanup:
    if (fd >= 0)
        close(fd);
    free(dir);
    free(abs);
    return rc;
}

/* Backups must never be committed by accident: ignore .dbdeploy/ in the project's .gitignore. */
static int ignore_state_dir(const char *root, struct init_report *report, struct dd_error *err)
{
    char *path = dd_path_join(root, ".gitignore");
    struct dd_buf cur = DD_BUF_INIT;
    int rc = 0;

    if (dd_path_exists(path) && dd_read_file(&cur, path, err) < 0) {
        rc = -1;
    } else if (!strstr(cur.buf, ".dbdeploy/")) {
        if (cur.len && cur.buf[cur.len - 1] != '\n')
            dd_buf_addch(&cur, '\n');
        dd_buf_adds(&cur, "# dbdeploy state: local backups and temporary files\n.dbdeploy/\n");
        rc = dd_write_file_atomic(path, cur.buf, cur.len, 0644, err);
        if (rc == 0)
            report_add(report, "updated", ".gitignore", " (ignores .dbdeploy/)");
    }
    dd_buf_release(&cur);
    free(path);
    return rc;
}

/*
 * Onboarding: where other tools keep their migrations (dbmate and Rails: db/migrations; golang-migrate
 * and many others: migrations; Flyway under Maven/Gradle: src/main/resources/db/migration). The
 * first that holds migration files is configured as [migrations] dir instead of a new one.
 */
static const char *const existing_dirs[] = {
    "db/migrations", "migrations", "db/migration", "src/main/resources/db/migration", "sql", "database/migrations",
};

struct init_found {
    const char *dir; /* NULL: none found */
    enum migration_format format;
    size_t n;
};

static void find_existing(struct init_found *out, const char *root)
{
    out->dir = NULL;
    for (size_t i = 0; i < DD_ARRAY_SIZE(existing_dirs) && !out->dir; i++) {
        struct migration_source src = MIGRATION_SOURCE_INIT;
        struct dd_error ignored = DD_ERROR_INIT;
        char *abs = dd_path_join(root, existing_dirs[i]);
        if (dd_is_dir(abs) && migration_source_read_fs(&src, root, existing_dirs[i], &ignored) == 0 &&
            (out->n = migration_detect_format(&out->format, &src)) > 0)
            out->dir = existing_dirs[i];
        migration_source_release(&src);
        dd_error_release(&ignored);
        free(abs);
    }
}

/* The shared configuration, pointing at the directory found (the skeleton's own line replaced). */
static char *shared_conf_for(const struct init_found *f)
{
    static const char line[] = "\tdir = migrations\n";
    const char *at = strstr(shared_conf, line);
    struct dd_buf b = DD_BUF_INIT;

    if (!f->dir || !at)
        return dd_xstrdup(shared_conf);
    dd_buf_add(&b, shared_conf, (size_t)(at - shared_conf));
    dd_buf_addf(&b, "\t# found by dbdeploy init: %zu %s migration file%s (new ones follow that format)\n", f->n,
                migration_format_name(f->format), f->n == 1 ? "" : "s");
    dd_buf_addf(&b, "\tdir = %s\n", f->dir);
    dd_buf_adds(&b, at + strlen(line));
    return dd_buf_detach(&b, NULL);
}

static void next_steps(struct dd_buf *b, const struct init_found *f)
{
    if (!f->dir) {
        dd_buf_adds(b, "\nnext: edit pipeline/dev.conf, then 'dbdeploy new create_first_table' and "
                       "'dbdeploy apply dev'\n");
        return;
    }
    dd_buf_addf(b, "\nfound %s: %zu %s migration file%s; [migrations] dir points there\n", f->dir, f->n,
                migration_format_name(f->format), f->n == 1 ? "" : "s");
    if (f->format == MIGRATION_PLAIN)
        dd_buf_adds(b, "next: edit pipeline/*.conf; for a database those files were already applied to, record them "
                       "with 'dbdeploy mark ENV VERSION --applied' before the first deploy\n");
    else
        dd_buf_addf(b,
                    "next: edit pipeline/*.conf; for each database %s migrated, run 'dbdeploy adopt ENV --from %s' "
                    "before the first deploy (deploy refuses until then)\n",
                    migration_format_name(f->format), migration_format_name(f->format));
}

const struct cli_spec cli_spec_init = {
    .brief = "create pipeline/, migrations/ and changelog/ in a project",
    .name = "init",
    .usage = "",
    .summary =
        "Create the dbdeploy layout in the project directory (-C DIR or the current one): pipeline/ with commented "
        "example environments (dev, staging, prod), migrations/ and changelog/.",
    .details =
        "Existing files are never overwritten. An existing migrations directory (db/migrations, migrations, "
        "db/migration, src/main/resources/db/migration, sql, database/migrations) is detected with its format "
        "(dbmate, golang-migrate, Flyway or plain) and configured as [migrations] dir instead. Edit pipeline/*.conf, "
        "then create a first migration with 'dbdeploy new NAME'.",
    .min_args = 0,
    .max_args = 0,
};

int cmd_init(struct cli_ctx *ctx, int argc, char **argv)
{
    struct init_found found = {NULL, MIGRATION_PLAIN, 0};
    char *shared = NULL;
    struct skeleton_file files[] = {
        {"pipeline/dbdeploy.conf", shared_conf},     {"pipeline/dev.conf", dev_conf},
        {"pipeline/staging.conf", staging_conf},     {"pipeline/prod.conf", prod_conf},
        {"migrations/README.md", migrations_readme}, {"changelog/.gitkeep", ""},
    };
    size_t nfiles = DD_ARRAY_SIZE(files);
    struct dd_strv args = DD_STRV_INIT;
    struct init_report report = {DD_BUF_INIT, DD_STRV_INIT};
    struct dd_buf json = DD_BUF_INIT;
    int rc = -1, p;

    p = cli_parse(ctx, &cli_spec_init, NULL, argc, argv, &args);
    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    find_existing(&found, ctx->root);
    shared = shared_conf_for(&found);
    files[0].content = shared;
    if (found.dir) /* the other tool's directory is left as it is: no README in it */
        files[4] = files[--nfiles];
    for (size_t i = 0; i < nfiles; i++)
        if (create_file(ctx->root, &files[i], &report, &ctx->err) < 0)
            goto cleanup;
    if (ignore_state_dir(ctx->root, &report, &ctx->err) < 0)
        goto cleanup;
    next_steps(&report.text, &found);
    if (out_json())
        report_json(&json, &report);
    out_result_buf(out_json() ? &json : &report.text);
    rc = 0;
cleanup:
    free(shared);
    dd_buf_release(&json);
    dd_buf_release(&report.text);
    dd_strv_release(&report.done);
    dd_strv_release(&args);
    return rc;
}
