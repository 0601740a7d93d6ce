/* A unified diff of two texts, through libgit2's diff engine (for `dbdeploy schema check`). */
#include "git/internal.h"

int repo_text_diff(struct dd_buf *out, const char *old_text, size_t old_len, const char *old_name, const char *new_text,
                   size_t new_len, const char *new_name, struct dd_error *err)
{
    git_diff_options opts;
    git_patch *patch = NULL;
    git_buf text = {0};
    int rc = -1;

    if (repo_lazy_init(err) < 0)
        return -1;
    git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
    opts.context_lines = 3;
    /* a schema is text even when a default holds a control character */
    opts.flags |= GIT_DIFF_FORCE_TEXT;
    if (git_patch_from_buffers(&patch, old_text, old_len, old_name, new_text, new_len, new_name, &opts) < 0) {
        repo_git_error(err, "cannot compare '%s' with '%s'", old_name, new_name);
        goto cleanup;
    }
    if (git_patch_to_buf(&text, patch) < 0) {
        repo_git_error(err, "cannot format the differences of '%s'", old_name);
        goto cleanup;
    }
    dd_buf_add(out, text.ptr, text.size);
    rc = 0;
cleanup:
    git_buf_dispose(&text);
    git_patch_free(patch);
    return rc;
}
