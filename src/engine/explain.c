#include "engine/engine.h"

#include "git/git.h"

/*
 * Which commits changed an applied file since it was applied (from the blob id the ledger
 * recorded), so the error already answers the release engineer's first question.
 */
void engine_explain_from_git(void *arg, const struct engine_item *it, struct dd_error *err)
{
    struct repo *repo = arg;
    struct repo_commit_infos commits = REPO_COMMIT_INFOS_INIT;
    struct dd_error gerr = DD_ERROR_INIT;
    const char *path = it->m ? it->m->up.path : it->row->file;
    const char *blob = it->row && it->row->git_blob ? it->row->git_blob : NULL;

    if (!repo || !path)
        return;
    if (repo_path_changes_since(&commits, repo, "HEAD", path, blob, NULL, &gerr) < 0) {
        dd_error_detail(err, "  (history not available: %s)", dd_error_msg(&gerr));
        goto cleanup;
    }
    if (!blob && commits.n)
        dd_error_detail(err, "  the ledger has no blob id for it; commits that touched the file:");
    for (size_t i = 0; i < commits.n && i < 5; i++) {
        char date[11];
        repo_commit_date(date, &commits.v[i]);
        dd_error_detail(err, "  %s by %s %s \"%s\" (%s <%s>, %s)", it->m ? "changed" : "deleted", i ? "also" : "commit",
                        commits.v[i].short_id, commits.v[i].subject, commits.v[i].author_name,
                        commits.v[i].author_email, date);
    }
    if (commits.n > 5)
        dd_error_detail(err, "  ... and %zu more commits", commits.n - 5);
    if (blob && !commits.n && it->m)
        dd_error_detail(err, "  no commit changed it: the difference is not committed, or comes from another branch");
cleanup:
    repo_commit_infos_release(&commits);
    dd_error_release(&gerr);
}
