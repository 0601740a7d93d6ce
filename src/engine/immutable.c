#include "engine/immutable.h"

#include <stdio.h>

#include "config/config.h"
#include "util/buf.h"

char *engine_protected_branch(const struct repo *r, const char *configured)
{
    static const char *const fallbacks[] = {"origin/main", "origin/master", "main", "master"};
    char *remote_head = NULL;

    if (configured)
        return dd_xstrdup(configured);
    if (repo_remote_head(&remote_head, r, "origin") == 0 && remote_head && repo_rev_exists(r, remote_head))
        return remote_head;
    free(remote_head);
    for (size_t i = 0; i < DD_ARRAY_SIZE(fallbacks); i++)
        if (repo_rev_exists(r, fallbacks[i]))
            return dd_xstrdup(fallbacks[i]);
    return NULL;
}

/*
 * The rule: blame the OLDEST commit after the base that changed the published content.
 *
 * - It is where the published file stopped being what may already have run somewhere; later
 *   commits only edit a file that was already wrong, so undoing (or amending, in a rebase) the
 *   first one is the fix the author needs to find.
 * - It is stable: more commits on the branch never change the answer, so the pre-push hook on
 *   a laptop and `verify` in CI on the same branch name the same commit, today and after the
 *   next push. The newest commit would move every time someone touched the file again.
 * - The walk stops where the file still had the published blob, so an edit that was reverted
 *   and made again is blamed on the edit that is still there, not on the reverted one.
 */
int engine_change_origin(struct engine_change_origin *out, struct repo *r, const char *head, const char *path,
                         const char *published_blob, const char *base, struct dd_error *err)
{
    struct repo_commit_infos changes = REPO_COMMIT_INFOS_INIT;

    *out = (struct engine_change_origin)ENGINE_CHANGE_ORIGIN_INIT;
    if (repo_path_changes_since(&changes, r, head, path, published_blob, base, err) < 0)
        return -1;
    out->truncated = changes.truncated;
    if (changes.n) {
        /* the list is newest first: the first change is its last entry */
        out->first = changes.v[changes.n - 1];
        memset(&changes.v[changes.n - 1], 0, sizeof(changes.v[0]));
        out->later = changes.n - 1;
    }
    repo_commit_infos_release(&changes);
    return 0;
}

void engine_change_origin_release(struct engine_change_origin *o)
{
    if (!o)
        return;
    repo_commit_info_release(&o->first);
    *o = (struct engine_change_origin)ENGINE_CHANGE_ORIGIN_INIT;
}

/* Whether a and b are equal once every byte in `drop` is skipped (NUL is never skipped). */
static bool equal_without(const char *a, size_t alen, const char *b, size_t blen, const char *drop)
{
    size_t i = 0, j = 0;

    for (;;) {
        while (i < alen && a[i] && strchr(drop, a[i]))
            i++;
        while (j < blen && b[j] && strchr(drop, b[j]))
            j++;
        if (i == alen || j == blen)
            return i == alen && j == blen;
        if (a[i++] != b[j++])
            return false;
    }
}

enum engine_edit_kind engine_edit_kind_of(const char *a, size_t alen, const char *b, size_t blen)
{
    if (equal_without(a, alen, b, blen, "\r"))
        return ENGINE_EDIT_LINE_ENDING;
    if (equal_without(a, alen, b, blen, " \t\r\n\f\v"))
        return ENGINE_EDIT_WHITESPACE;
    return ENGINE_EDIT_CONTENT;
}

enum engine_edit_kind engine_edit_kind(struct repo *r, const char *old_blob, const char *new_blob)
{
    struct dd_buf a = DD_BUF_INIT, b = DD_BUF_INIT;
    struct dd_error ignored = DD_ERROR_INIT;
    enum engine_edit_kind kind = ENGINE_EDIT_CONTENT;

    /* unreadable blobs are reported as plain edits: the classification only adds a remark */
    if (repo_read_blob(&a, r, old_blob, &ignored) == 0 && repo_read_blob(&b, r, new_blob, &ignored) == 0)
        kind = engine_edit_kind_of(a.buf, a.len, b.buf, b.len);
    dd_buf_release(&a);
    dd_buf_release(&b);
    dd_error_release(&ignored);
    return kind;
}

/*
 * The CHANGELOG.md directly in dir at rev, if any, into out. A fleet target's records are named
 * "<env>/<target>" (target != NULL), so messages point at the file that holds them.
 */
static int read_changelog_dir(struct changelog_records *out, struct repo *r, const char *rev, const char *dir,
                              const char *target, struct dd_error *err)
{
    struct repo_files files = REPO_FILES_INIT;
    size_t first = out->n;
    int rc = repo_read_dir(&files, r, rev, dir, true, err);

    for (size_t i = 0; rc == 0 && i < files.n; i++)
        if (strcmp(files.v[i].name, CHANGELOG_FILE) == 0)
            changelog_parse(out, files.v[i].data, files.v[i].len);
    for (size_t i = first; target && i < out->n; i++) {
        char *name = dd_xasprintf("%s/%s", out->v[i].env ? out->v[i].env : "", target);
        free(out->v[i].env);
        out->v[i].env = name;
    }
    repo_files_release(&files);
    return rc;
}

int engine_changelog_records(struct changelog_records *out, struct repo *r, const char *root, const char *rev,
                             struct dd_error *err)
{
    struct dd_strv envs = DD_STRV_INIT;
    /* an unreadable pipeline/ must fail the check, never pass it with no changelogs read */
    int rc = config_list_envs(&envs, root, err);

    for (size_t e = 0; e < envs.n && rc == 0; e++) {
        struct dd_strv targets = DD_STRV_INIT;
        char *dir = dd_xasprintf("%s/%s", CHANGELOG_DIR, envs.v[e]);
        rc = read_changelog_dir(out, r, rev, dir, NULL, err);
        /* a fleet's targets keep changelog/<env>/<target>/CHANGELOG.md (docs/fleets.md) */
        if (rc == 0)
            rc = repo_read_subdirs(&targets, r, rev, dir, err);
        for (size_t t = 0; rc == 0 && t < targets.n; t++) {
            char *sub = dd_xasprintf("%s/%s", dir, targets.v[t]);
            rc = read_changelog_dir(out, r, rev, sub, targets.v[t], err);
            free(sub);
        }
        dd_strv_release(&targets);
        free(dir);
    }
    dd_strv_release(&envs);
    if (rc < 0)
        changelog_records_release(out);
    return rc;
}
