/*
 * The one write dbdeploy makes to history: committing files it generated (CHANGELOG.md).
 *
 * The commit's tree is HEAD's tree plus the given files, built in a private in-memory index,
 * so whatever else the user has staged stays staged and out of our commit. The repository's
 * index is then updated for those files only, so `git status` stays clean for them.
 */
#include "git/internal.h"

#include <errno.h>
#include <sys/stat.h>

/* Like git: the environment, then user.name/user.email, then a fixed fallback. */
static int make_signature(git_signature **out, git_config *cfg, const char *name_env, const char *email_env,
                          struct dd_error *err)
{
    const char *name = getenv(name_env), *email = getenv(email_env);

    if ((!name || !*name) && (git_config_get_string(&name, cfg, "user.name") < 0 || !*name))
        name = "dbdeploy";
    if ((!email || !*email) && (git_config_get_string(&email, cfg, "user.email") < 0 || !*email))
        email = "dbdeploy@localhost";
    git_error_clear();
    if (git_signature_now(out, name, email) < 0)
        return repo_git_error(err, "cannot use '%s <%s>' as the commit author", name, email);
    return 0;
}

/* Put the work-tree state of one path into both indexes (or remove it from both). */
static int stage_path(git_index *tmp, git_index *index, struct repo *r, const char *path, struct dd_error *err)
{
    char *clean = NULL, *full = NULL, *abs = NULL;
    git_index_entry entry;
    struct stat st;
    int rc = -1;

    clean = repo_clean_path(path, err);
    if (!clean)
        goto cleanup;
    full = repo_full_path(r, clean);
    abs = dd_xasprintf("%s/%s", r->workdir, full);
    if (lstat(abs, &st) < 0) {
        if (errno != ENOENT) {
            dd_error_errno(err, DD_EIO, "cannot read '%s'", path);
            goto cleanup;
        }
        if (git_index_remove_bypath(tmp, full) < 0 || git_index_remove_bypath(index, full) < 0) {
            repo_git_error(err, "cannot remove '%s' from the index", path);
            goto cleanup;
        }
        rc = 0;
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
        dd_error_set(err, DD_EINPUT, "cannot commit '%s': not a regular file", path);
        goto cleanup;
    }
    memset(&entry, 0, sizeof(entry));
    entry.path = full;
    entry.mode = S_ISLNK(st.st_mode)   ? GIT_FILEMODE_LINK
                 : (st.st_mode & 0111) ? GIT_FILEMODE_BLOB_EXECUTABLE
                                       : GIT_FILEMODE_BLOB;
    /* from_workdir applies the repository's filters (autocrlf, .gitattributes) like git add */
    if (git_blob_create_from_workdir(&entry.id, r->git, full) < 0 || git_index_add(tmp, &entry) < 0 ||
        git_index_add_bypath(index, full) < 0) {
        repo_git_error(err, "cannot stage '%s'", path);
        goto cleanup;
    }
    rc = 0;
cleanup:
    free(abs);
    free(full);
    free(clean);
    return rc;
}

int repo_commit_files(struct repo *r, const struct dd_strv *paths, const char *message, char out[REPO_OID_HEX_LEN + 1],
                      struct dd_error *err)
{
    git_index *index = NULL, *tmp = NULL;
    git_commit *head = NULL;
    git_tree *head_tree = NULL, *tree = NULL;
    git_config *cfg = NULL;
    git_signature *author = NULL, *committer = NULL;
    git_oid tree_id, commit_id;
    const git_commit *parents[1];
    int rc = -1, unborn;

    out[0] = '\0';
    unborn = git_repository_head_unborn(r->git);
    if (unborn < 0) {
        repo_git_error(err, "cannot read HEAD");
        goto cleanup;
    }
    if (!unborn && (repo_lookup_commit(&head, r, "HEAD", err) < 0))
        goto cleanup;
    if (git_index_new(&tmp) < 0 || (head && git_commit_tree(&head_tree, head) < 0) ||
        (head_tree && git_index_read_tree(tmp, head_tree) < 0) || git_repository_index(&index, r->git) < 0) {
        repo_git_error(err, "cannot prepare the index for a commit");
        goto cleanup;
    }
    for (size_t i = 0; i < paths->n; i++)
        if (stage_path(tmp, index, r, paths->v[i], err) < 0)
            goto cleanup;
    if (git_index_write_tree_to(&tree_id, tmp, r->git) < 0) {
        repo_git_error(err, "cannot write the commit's tree");
        goto cleanup;
    }
    /* staging first: if the commit then fails, the files are merely staged, as after git add */
    if (git_index_write(index) < 0) {
        repo_git_error(err, "cannot write the index");
        goto cleanup;
    }
    if (head_tree && git_oid_equal(&tree_id, git_tree_id(head_tree))) {
        rc = 0; /* nothing to commit */
        goto cleanup;
    }
    if (git_repository_config_snapshot(&cfg, r->git) < 0) {
        repo_git_error(err, "cannot read the repository configuration");
        goto cleanup;
    }
    if (make_signature(&author, cfg, "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", err) < 0 ||
        make_signature(&committer, cfg, "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", err) < 0)
        goto cleanup;
    if (git_tree_lookup(&tree, r->git, &tree_id) < 0) {
        repo_git_error(err, "cannot read the commit's tree");
        goto cleanup;
    }
    parents[0] = head;
    if (git_commit_create(&commit_id, r->git, "HEAD", author, committer, NULL, message, tree, head ? 1 : 0, parents) <
        0) {
        repo_git_error(err, "cannot create a commit on HEAD");
        goto cleanup;
    }
    repo_oid_hex(out, &commit_id);
    rc = 0;
cleanup:
    git_signature_free(author);
    git_signature_free(committer);
    git_config_free(cfg);
    git_tree_free(tree);
    git_tree_free(head_tree);
    git_commit_free(head);
    git_index_free(tmp);
    git_index_free(index);
    return rc;
}

char *repo_author(struct repo *r)
{
    git_config *cfg = NULL;
    git_signature *sig = NULL;
    struct dd_error ignored = DD_ERROR_INIT;
    char *out = NULL;

    if (r && git_repository_config_snapshot(&cfg, r->git) == 0 &&
        make_signature(&sig, cfg, "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", &ignored) == 0)
        out = dd_xasprintf("%s <%s>", sig->name, sig->email);
    git_error_clear();
    git_signature_free(sig);
    git_config_free(cfg);
    dd_error_release(&ignored);
    return out;
}
