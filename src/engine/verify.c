#include "engine/immutable.h"

#include <stdarg.h>
#include <stdio.h>

#include "util/buf.h"

/*
 * `dbdeploy verify`: what HEAD did to the migrations published at the base. The checks are the
 * rules; cli/cmd_verify.c only resolves the base and reports.
 */

static void problem(struct engine_verify *v, const char *kind, const char *fmt, ...) DD_PRINTF(3, 4);

static void problem(struct engine_verify *v, const char *kind, const char *fmt, ...)
{
    struct dd_buf b = DD_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    dd_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    dd_strv_push_owned(&v->problems, dd_buf_detach(&b, NULL));
    dd_strv_push(&v->kinds, kind);
}

/* Describe an edit whose effect is invisible: checksums cover exact bytes, so it still counts. */
static const char *edit_nature(struct engine_verify *v, const char *old_blob, const char *new_blob)
{
    switch (engine_edit_kind(v->repo, old_blob, new_blob)) {
    case ENGINE_EDIT_LINE_ENDING:
        return " (only line endings differ: still an edit, checksums cover every byte)";
    case ENGINE_EDIT_WHITESPACE:
        return " (only whitespace differs: still an edit, checksums cover every byte)";
    case ENGINE_EDIT_CONTENT:
        break;
    }
    return "";
}

/* ", in a1b2c3d "subject" (Author, 2026-11-20)": the commit engine_change_origin blames. */
static void blame(struct dd_buf *out, struct engine_verify *v, const char *path, const char *old_blob)
{
    struct engine_change_origin c = ENGINE_CHANGE_ORIGIN_INIT;
    struct dd_error ignored = DD_ERROR_INIT;

    if (engine_change_origin(&c, v->repo, v->head, path, old_blob, v->base, &ignored) == 0 && c.first.id[0]) {
        char date[11];
        repo_commit_date(date, &c.first);
        dd_buf_addf(out, " in %s \"%s\" (%s, %s)", c.first.short_id, c.first.subject, c.first.author_name, date);
        if (c.later)
            dd_buf_addf(out, " and %zu later commit%s", c.later, c.later == 1 ? "" : "s");
    }
    engine_change_origin_release(&c);
    dd_error_release(&ignored);
}

static bool is_migration(const char *path, struct migration_name *n)
{
    char why[128];
    const char *slash = strrchr(path, '/');

    return migration_name_parse(n, slash ? slash + 1 : path, why, sizeof(why)) == 0;
}

static int check_changes(struct engine_verify *v, struct dd_error *err)
{
    struct repo_changes ch = REPO_CHANGES_INIT;
    struct repo_files base_files = REPO_FILES_INIT;
    int64_t base_max = -1;
    int rc = -1;

    if (repo_diff_dir(&ch, v->repo, v->base, v->head, v->dir, err) < 0 ||
        repo_read_dir(&base_files, v->repo, v->base, v->dir, false, err) < 0)
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
static int check_changelogs(struct engine_verify *v, const struct migration_set *set, struct dd_error *err)
{
    struct changelog_records recs = CHANGELOG_RECORDS_INIT;

    if (engine_changelog_records(&recs, v->repo, v->root, v->head, err) < 0)
        return -1;
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
    return 0;
}

int engine_verify_published(struct engine_verify *v, const struct migration_set *head_set, struct dd_error *err)
{
    return check_changes(v, err) < 0 || check_changelogs(v, head_set, err) < 0 ? -1 : 0;
}

void engine_verify_release(struct engine_verify *v)
{
    if (!v)
        return;
    dd_strv_release(&v->problems);
    dd_strv_release(&v->kinds);
}
