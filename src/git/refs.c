/*
 * Branches and identity: whether a commit is on one of the branches an environment may be
 * deployed from ([deploy] branches), and who the git configuration says the user is.
 *
 * Containment is asked of the commit, not of the current branch name: CI checks out a detached
 * HEAD, and a commit merged into main is on main whatever branch it was first made on.
 */
#include "git/internal.h"

#include <fnmatch.h>

#include "util/buf.h"

/* "main" for refs/heads/main, "origin/main" for refs/remotes/origin/main; NULL for anything else. */
static const char *branch_name(const char *ref, const char **pattern_part)
{
    const char *slash;

    if (strncmp(ref, "refs/heads/", 11) == 0) {
        *pattern_part = ref + 11;
        return ref + 11;
    }
    if (strncmp(ref, "refs/remotes/", 13) == 0 && (slash = strchr(ref + 13, '/'))) {
        *pattern_part = slash + 1; /* the patterns name branches, not remotes */
        return strcmp(slash + 1, "HEAD") == 0 ? NULL : ref + 13;
    }
    return NULL;
}

static bool matches(const struct dd_strv *patterns, const char *name)
{
    for (size_t i = 0; i < patterns->n; i++)
        if (fnmatch(patterns->v[i], name, FNM_PATHNAME) == 0)
            return true;
    return false;
}

/* Whether the tip of ref contains id (is id or descends from it). */
static int tip_contains(bool *out, git_repository *g, git_reference *ref, const git_oid *id)
{
    git_object *tip = NULL;
    int e;

    *out = false;
    if (git_reference_peel(&tip, ref, GIT_OBJECT_COMMIT) < 0) {
        git_error_clear(); /* a branch that names no commit contains nothing */
        return 0;
    }
    if (git_oid_equal(git_object_id(tip), id)) {
        *out = true;
    } else {
        e = git_graph_descendant_of(g, git_object_id(tip), id);
        if (e < 0) {
            git_object_free(tip);
            return -1;
        }
        *out = e == 1;
    }
    git_object_free(tip);
    return 0;
}

int repo_commit_in_branches(char **out_branch, struct dd_strv *out_seen, struct repo *r, const char *rev,
                            const struct dd_strv *patterns, struct dd_error *err)
{
    git_commit *c = NULL;
    git_reference_iterator *it = NULL;
    git_reference *ref = NULL;
    int rc = -1, e;

    *out_branch = NULL;
    if (repo_lookup_commit(&c, r, rev, err) < 0)
        return -1;
    if (git_reference_iterator_new(&it, r->git) < 0) {
        repo_git_error(err, "cannot list the branches");
        goto cleanup;
    }
    while (!*out_branch && (e = git_reference_next(&ref, it)) == 0) {
        const char *part = NULL, *name = branch_name(git_reference_name(ref), &part);
        bool in = false;
        if (name && matches(patterns, part)) {
            if (out_seen)
                dd_strv_push(out_seen, name);
            if (tip_contains(&in, r->git, ref, git_commit_id(c)) < 0) {
                repo_git_error(err, "cannot tell whether branch '%s' contains '%s'", name, rev);
                goto cleanup;
            }
            if (in)
                *out_branch = dd_xstrdup(name);
        }
        git_reference_free(ref);
        ref = NULL;
    }
    if (!*out_branch && e != GIT_ITEROVER) {
        repo_git_error(err, "cannot list the branches");
        goto cleanup;
    }
    git_error_clear();
    rc = 0;
cleanup:
    git_reference_free(ref);
    git_reference_iterator_free(it);
    git_commit_free(c);
    return rc;
}

char *repo_identity(struct repo *r)
{
    git_config *cfg = NULL;
    const char *name = NULL, *email = NULL;
    char *out = NULL;

    if (!r || git_repository_config_snapshot(&cfg, r->git) < 0) {
        git_error_clear();
        return NULL;
    }
    if (git_config_get_string(&name, cfg, "user.name") < 0)
        name = NULL;
    if (git_config_get_string(&email, cfg, "user.email") < 0)
        email = NULL;
    git_error_clear();
    if (name && *name && email && *email)
        out = dd_xasprintf("%s <%s>", name, email);
    else if ((name && *name) || (email && *email))
        out = dd_xstrdup(name && *name ? name : email);
    git_config_free(cfg);
    return out;
}
