#include "cli/cli.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

#include "changelog/changelog.h"
#include "config/config.h"
#include "git/git.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/out.h"

struct verify {
    struct cli_ctx *ctx;
    const char *base_name;
    char base[REPO_OID_HEX_LEN + 1];
    char head[REPO_OID_HEX_LEN + 1];
    bool allow_out_of_order;
    struct dd_strv problems; /* one line each */
    struct dd_strv kinds;    /* parallel: modified, deleted, renamed, out-of-order, duplicate... */
    size_t checked;
};

static void problem(struct verify *v, const char *kind, const char *fmt, ...) DD_PRINTF(3, 4);

static void problem(struct verify *v, const char *kind, const char *fmt, ...)
{
    struct dd_buf b = DD_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    dd_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    dd_strv_push_owned(&v->problems, dd_buf_detach(&b, NULL));
    dd_strv_push(&v->kinds, kind);
}

/* Bytes without the characters `drop` contains. */
static void strip(struct dd_buf *out, const struct dd_buf *in, const char *drop)
{
    for (size_t i = 0; i < in->len; i++)
        if (!strchr(drop, in->buf[i]) || in->buf[i] == '\0')
            dd_buf_addch(out, in->buf[i]);
}

/* Describe an edit whose effect is invisible: checksums cover exact bytes, so it still counts. */
static const char *edit_nature(struct verify *v, const char *old_blob, const char *new_blob)
{
    struct dd_buf a = DD_BUF_INIT, b = DD_BUF_INIT, x = DD_BUF_INIT, y = DD_BUF_INIT;
    struct dd_error ignored = DD_ERROR_INIT;
    const char *nature = "";

    if (repo_read_blob(&a, v->ctx->repo, old_blob, &ignored) < 0 ||
        repo_read_blob(&b, v->ctx->repo, new_blob, &ignored) < 0)
        goto cleanup;
    strip(&x, &a, "\r");
    strip(&y, &b, "\r");
    if (x.len == y.len && memcmp(x.buf, y.buf, x.len) == 0) {
        nature = " (only line endings differ: still an edit, checksums cover every byte)";
        goto cleanup;
    }
    dd_buf_reset(&x);
    dd_buf_reset(&y);
    strip(&x, &a, " \t\r\n\f\v");
    strip(&y, &b, " \t\r\n\f\v");
    if (x.len == y.len && memcmp(x.buf, y.buf, x.len) == 0)
        nature = " (only whitespace differs: still an edit, checksums cover every byte)";
cleanup:
    dd_buf_release(&a);
    dd_buf_release(&b);
    dd_buf_release(&x);
    dd_buf_release(&y);
    dd_error_release(&ignored);
    return nature;
}

/* ", in a1b2c3d "subject" (Author, 2026-11-20)" for the newest commit since base that changed it. */
static void blame(struct dd_buf *out, struct verify *v, const char *path, const char *old_blob)
{
    struct repo_commit_infos c = REPO_COMMIT_INFOS_INIT;
    struct dd_error ignored = DD_ERROR_INIT;

    if (repo_path_changes_since(&c, v->ctx->repo, v->head, path, old_blob, v->base, &ignored) == 0 && c.n) {
        char date[11];
        repo_commit_date(date, &c.v[0]);
        dd_buf_addf(out, " in %s \"%s\" (%s, %s)", c.v[0].short_id, c.v[0].subject, c.v[0].author_name, date);
        if (c.n > 1)
            dd_buf_addf(out, " and %zu more commit%s", c.n - 1, c.n == 2 ? "" : "s");
    }
    repo_commit_infos_release(&c);
    dd_error_release(&ignored);
}

static bool is_migration(const char *path, struct migration_name *n)
{
    char why[128];
    const char *slash = strrchr(path, '/');

    return migration_name_parse(n, slash ? slash + 1 : path, why, sizeof(why)) == 0;
}

static int check_changes(struct verify *v)
{
    struct cli_ctx *ctx = v->ctx;
    struct repo_changes ch = REPO_CHANGES_INIT;
    struct repo_files base_files = REPO_FILES_INIT;
    int64_t base_max = -1;
    int rc = -1;

    if (repo_diff_dir(&ch, ctx->repo, v->base, v->head, ctx->cfg->migrations_dir, &ctx->err) < 0 ||
        repo_read_dir(&base_files, ctx->repo, v->base, ctx->cfg->migrations_dir, false, &ctx->err) < 0)
        goto cleanup;
    for (size_t i = 0; i < base_files.n; i++) {
        struct migration_name n;
        if (is_migration(base_files.v[i].path, &n)) {
            if (n.version > base_max)
                base_max = n.version;
            migration_name_release(&n);
        }
    }
    for (size_t i = 0; i < ch.n; i++) {
        const struct repo_change *c = &ch.v[i];
        struct migration_name n;
        struct dd_buf who = DD_BUF_INIT;
        const char *path = c->old_path ? c->old_path : c->new_path;

        if (!is_migration(path, &n) && !(c->new_path && is_migration(c->new_path, &n)))
            continue; /* README.md and friends */
        if (c->status == 'M') {
            blame(&who, v, c->old_path, c->old_blob);
            problem(v, "modified", "modified: %s%s%s", c->old_path, who.buf, edit_nature(v, c->old_blob, c->new_blob));
        } else if (c->status == 'D') {
            blame(&who, v, c->old_path, c->old_blob);
            problem(v, "deleted", "deleted: %s%s", c->old_path, who.buf);
        } else if (c->status == 'R') {
            blame(&who, v, c->old_path, c->old_blob);
            problem(v, "renamed", "renamed: %s -> %s%s", c->old_path, c->new_path, who.buf);
        } else if (c->status == 'A' && n.version <= base_max && !v->allow_out_of_order) {
            bool existing = false;
            for (size_t k = 0; k < base_files.n && !existing; k++) {
                struct migration_name b;
                if (is_migration(base_files.v[k].path, &b)) {
                    existing = b.version == n.version;
                    migration_name_release(&b);
                }
            }
            /* a down file added for a published up is fine; a new version below the newest is not */
            if (!existing)
                problem(v, "out-of-order", "out of order: %s (version %lld is not above %lld, the newest in %s)",
                        c->new_path, (long long)n.version, (long long)base_max, v->base_name);
        }
        migration_name_release(&n);
        dd_buf_release(&who);
    }
    rc = 0;
cleanup:
    repo_changes_release(&ch);
    repo_files_release(&base_files);
    return rc;
}

/*
 * The changelogs are the offline record of what is applied where: every migration one of them
 * records as applied must still be in HEAD with the same bytes.
 */
static int check_changelogs(struct verify *v, const struct migration_set *set)
{
    struct cli_ctx *ctx = v->ctx;
    struct dd_strv envs = DD_STRV_INIT;
    int rc = -1;

    config_list_envs(&envs, ctx->root);
    for (size_t e = 0; e < envs.n; e++) {
        struct repo_files files = REPO_FILES_INIT;
        struct changelog_records recs = CHANGELOG_RECORDS_INIT;
        char *dir = dd_xasprintf("%s/%s", CHANGELOG_DIR, envs.v[e]);
        int r = repo_read_dir(&files, ctx->repo, v->head, dir, true, &ctx->err);
        for (size_t i = 0; r == 0 && i < files.n; i++)
            if (strcmp(files.v[i].name, CHANGELOG_FILE) == 0)
                changelog_parse(&recs, files.v[i].data, files.v[i].len);
        for (size_t i = 0; i < recs.n; i++) {
            const struct changelog_record *c = &recs.v[i];
            const struct migration *m = migration_set_find(set, c->version);
            if (!m)
                problem(v, "applied-missing",
                        "applied-missing: %s is recorded as applied in %s/%s/%s but is not in "
                        "HEAD",
                        c->file, CHANGELOG_DIR, c->env, CHANGELOG_FILE);
            else if (strcmp(m->checksum, c->checksum) != 0)
                problem(v, "applied-modified",
                        "applied-modified: %s differs from what %s/%s/%s records as applied "
                        "to %s (%.15s, file now %.15s)",
                        m->up.path, CHANGELOG_DIR, c->env, CHANGELOG_FILE, c->env, c->checksum, m->checksum);
        }
        changelog_records_release(&recs);
        repo_files_release(&files);
        free(dir);
        if (r < 0)
            goto cleanup;
    }
    rc = 0;
cleanup:
    dd_strv_release(&envs);
    return rc;
}

static void report(struct verify *v, size_t nmig)
{
    struct dd_buf b = DD_BUF_INIT;
    char base_short[8];

    snprintf(base_short, sizeof(base_short), "%.7s", v->base);
    if (out_json()) {
        struct dd_json j;
        dd_json_document_begin(&j, &b, "verify");
        dd_json_str(&j, "base", v->base_name);
        dd_json_str(&j, "base_commit", v->base);
        dd_json_str(&j, "head_commit", v->head);
        dd_json_uint(&j, "migrations", nmig);
        dd_json_bool(&j, "ok", v->problems.n == 0);
        dd_json_arr_begin(&j, "problems");
        for (size_t i = 0; i < v->problems.n; i++) {
            dd_json_obj_begin(&j, NULL);
            dd_json_str(&j, "kind", v->kinds.v[i]);
            dd_json_str(&j, "message", v->problems.v[i]);
            dd_json_obj_end(&j);
        }
        dd_json_arr_end(&j);
        dd_json_obj_end(&j);
    } else if (!v->problems.n) {
        dd_buf_addf(&b, "ok: %zu migrations; nothing published in %s (%s) was changed, and new versions are in order\n",
                    nmig, v->base_name, base_short);
    }
    out_result_buf(&b);
    dd_buf_release(&b);
}

struct verify_opts {
    const char *base;
    bool allow_out_of_order;
};

static const struct cli_opt verify_options[] = {
    CLI_OPT_STRING(0, "base", struct verify_opts, base, "REF",
                   "compare with the merge base of REF and HEAD (default: [git] protected-branch)"),
    CLI_OPT_BOOL(0, "allow-out-of-order", struct verify_opts, allow_out_of_order,
                 "accept new migrations whose version is not above the newest in REF"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_verify = {
    .brief = "check that no published migration was changed (for CI; no database)",
    .name = "verify",
    .usage = "[--base REF] [--allow-out-of-order]",
    .summary = "Check, without a database, that HEAD changes no published migration: fails (exit 3) when a migration "
               "that exists at the merge base of REF and HEAD was modified, deleted or renamed, when a new migration's "
               "version is not above the newest in REF, when two files share a version, or when a migration that an "
               "environment's changelog records as applied differs from its file.",
    .details =
        "REF defaults to [git] protected-branch, else origin/main when it exists, else main. Edits that only change "
        "line endings or whitespace are edits too: checksums cover exact bytes. Meant for CI on every push and merge "
        "request.",
    .opts = verify_options,
    .min_args = 0,
    .max_args = 0,
};

int cmd_verify(struct cli_ctx *ctx, int argc, char **argv)
{
    struct verify_opts o = {NULL, false};
    struct dd_strv args = DD_STRV_INIT;
    struct verify v;
    struct migration_set set = MIGRATION_SET_INIT;
    char mb[REPO_OID_HEX_LEN + 1];
    int rc = -1, p;

    memset(&v, 0, sizeof(v));
    v.ctx = ctx;
    dd_strv_init(&v.problems);
    dd_strv_init(&v.kinds);
    p = cli_parse(ctx, &cli_spec_verify, &o, argc, argv, &args);
    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    if (cli_need_config(ctx, NULL) < 0 || cli_need_repo(ctx) < 0)
        goto cleanup;
    v.allow_out_of_order = o.allow_out_of_order || ctx->cfg->out_of_order;
    v.base_name = o.base                                      ? o.base
                  : ctx->cfg->protected_branch                ? ctx->cfg->protected_branch
                  : repo_rev_exists(ctx->repo, "origin/main") ? "origin/main"
                                                              : "main";
    if (repo_resolve(ctx->repo, "HEAD", v.head, &ctx->err) < 0)
        goto cleanup;
    if (!repo_rev_exists(ctx->repo, v.base_name)) {
        dd_error_set(&ctx->err, DD_EUSAGE, "the base '%s' does not exist in this repository", v.base_name);
        dd_error_hint(&ctx->err, "Fetch it (git fetch origin), pass --base REF, or set [git] protected-branch in "
                                 "pipeline/dbdeploy.conf.");
        goto cleanup;
    }
    if (repo_merge_base(mb, ctx->repo, v.base_name, "HEAD", &ctx->err) < 0)
        goto cleanup;
    if (!mb[0]) {
        dd_error_set(&ctx->err, DD_EUSAGE, "HEAD and '%s' share no history", v.base_name);
        dd_error_hint(&ctx->err, "Pass --base with a branch HEAD was created from.");
        goto cleanup;
    }
    memcpy(v.base, mb, sizeof(v.base));
    /* duplicates and malformed names in HEAD are failures of the check, not usage errors */
    if (cli_load_migrations_at(&set, ctx, v.head) < 0) {
        if (ctx->err.code == DD_EINPUT)
            dd_error_recode(&ctx->err, DD_EBLOCKED);
        goto cleanup;
    }
    if (check_changes(&v) < 0 || check_changelogs(&v, &set) < 0)
        goto cleanup;
    report(&v, set.n);
    if (v.problems.n) {
        char base_short[8];
        snprintf(base_short, sizeof(base_short), "%.7s", v.base);
        dd_error_set(&ctx->err, DD_EBLOCKED, "%zu published migration problem%s between %s (%s) and HEAD", v.problems.n,
                     v.problems.n == 1 ? "" : "s", v.base_name, base_short);
        for (size_t i = 0; i < v.problems.n; i++)
            dd_error_detail(&ctx->err, "%s", v.problems.v[i]);
        dd_error_hint(&ctx->err,
                      "Published migrations are immutable: restore them (git checkout %s -- <file>) and "
                      "make the change in a new migration (dbdeploy new NAME).",
                      v.base_name);
        goto cleanup;
    }
    rc = 0;
cleanup:
    migration_set_release(&set);
    dd_strv_release(&v.problems);
    dd_strv_release(&v.kinds);
    dd_strv_release(&args);
    return rc;
}
