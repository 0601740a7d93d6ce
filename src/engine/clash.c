#include "engine/engine.h"

#include <stdio.h>

#include "git/git.h"
#include "util/buf.h"

/*
 * Two branches that each added a migration with the next free version: the environment was
 * deployed from the other branch, so its ledger row for that version names another migration
 * and a commit this branch does not contain. That is not an edit of an applied file (nobody on
 * this branch changed anything), and the fix is the opposite one: renumber this branch's file.
 * A different name from a commit that IS on this branch is a rename plus an edit made here, so
 * it stays "modified" and gets the history explanation.
 */
bool engine_clash_from_git(void *arg, const struct engine_item *it, const char *env, struct dd_buf *msg)
{
    struct repo *repo = arg;
    struct dd_error ignored = DD_ERROR_INIT;
    char mb[REPO_OID_HEX_LEN + 1];
    bool clash;

    if (!repo || it->state != ENGINE_MODIFIED || !it->m || !it->row || !it->row->git_commit || !it->row->name ||
        strcmp(it->row->name, it->m->name) == 0)
        return false;
    /* a commit this clone does not have is not on this branch either */
    clash =
        repo_merge_base(mb, repo, it->row->git_commit, "HEAD", &ignored) < 0 || strcmp(mb, it->row->git_commit) != 0;
    dd_error_release(&ignored);
    if (clash && msg)
        dd_buf_addf(msg, "%s has a different %s (%s, applied from %.7s, not on this branch): renumber yours, %s",
                    env ? env : "the database", it->m->version_text, it->row->name, it->row->git_commit,
                    it->m->up.path);
    return clash;
}
