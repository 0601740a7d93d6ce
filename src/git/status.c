/* Uncommitted changes: what `git status` would list under a directory. */
#include "git/internal.h"

static const char *state_word(unsigned int s)
{
    if (s & GIT_STATUS_CONFLICTED)
        return "conflicted";
    if (s & GIT_STATUS_INDEX_NEW)
        return "added";
    if (s & (GIT_STATUS_INDEX_DELETED | GIT_STATUS_WT_DELETED))
        return "deleted";
    if (s & (GIT_STATUS_INDEX_TYPECHANGE | GIT_STATUS_WT_TYPECHANGE))
        return "typechange";
    if (s & (GIT_STATUS_INDEX_MODIFIED | GIT_STATUS_WT_MODIFIED | GIT_STATUS_INDEX_RENAMED | GIT_STATUS_WT_RENAMED))
        return "modified";
    if (s & GIT_STATUS_WT_NEW)
        return "untracked";
    return NULL;
}

static const char *entry_path(const git_status_entry *e)
{
    const git_diff_delta *d = e->index_to_workdir ? e->index_to_workdir : e->head_to_index;

    if (!d)
        return NULL;
    return d->new_file.path ? d->new_file.path : d->old_file.path;
}

static int cmp_after_colon(const void *a, const void *b)
{
    const char *x = strchr(*(char *const *)a, ':'), *y = strchr(*(char *const *)b, ':');
    return strcmp(x, y);
}

int repo_dirty_paths(struct dd_strv *out, struct repo *r, const char *dir, struct dd_error *err)
{
    git_status_options opts;
    git_status_list *list = NULL;
    char *clean = NULL, *full = NULL;
    size_t full_len, plen = strlen(r->prefix);
    int rc = -1;

    clean = repo_clean_path(dir, err);
    if (!clean)
        goto cleanup;
    full = repo_full_path(r, clean);
    full_len = strlen(full);
    git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
    opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    /* untracked files one by one (not "dir/"), ignored ones never; literal paths, no globbing */
    opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
                 GIT_STATUS_OPT_EXCLUDE_SUBMODULES | GIT_STATUS_OPT_DISABLE_PATHSPEC_MATCH;
    if (full_len) {
        opts.pathspec.strings = &full;
        opts.pathspec.count = 1;
    }
    if (git_status_list_new(&list, r->git, &opts) < 0) {
        repo_git_error(err, "cannot read the status of '%s'", *clean ? clean : ".");
        goto cleanup;
    }
    for (size_t i = 0, n = git_status_list_entrycount(list); i < n; i++) {
        const git_status_entry *e = git_status_byindex(list, i);
        const char *word = state_word(e->status), *path = entry_path(e);

        if (!word || !path)
            continue;
        /* the pathspec also matches "migrations2/..." for "migrations"; keep the directory only */
        if (full_len && !(strncmp(path, full, full_len) == 0 && (path[full_len] == '/' || !path[full_len])))
            continue;
        dd_strv_pushf(out, "%s: %s", word, path + (plen ? plen + 1 : 0));
    }
    qsort(out->v, out->n, sizeof(*out->v), cmp_after_colon);
    rc = 0;
cleanup:
    git_status_list_free(list);
    free(full);
    free(clean);
    if (rc < 0)
        dd_strv_clear(out);
    return rc;
}
