#ifndef DBDEPLOY_GIT_INTERNAL_H
#define DBDEPLOY_GIT_INTERNAL_H

/*
 * Shared by the files of git/ only: the repository struct and the conversions between our
 * strings and libgit2's types. Nothing here may leak into git.h.
 */
#include <git2.h>

#include "git/git.h"

struct repo {
    git_repository *git;
    char *workdir; /* absolute, no trailing slash */
    char *prefix;  /* project root relative to workdir: "" or "db/app" */
};

/*
 * Set err (DD_EGIT) to "<what>: <libgit2's message>", reading git_error_last() — call it right
 * after the failing libgit2 call. Returns -1.
 */
int repo_git_error(struct dd_error *err, const char *fmt, ...) DD_PRINTF(2, 3);
/* Start libgit2 if it has not started yet (see git.h); err may be NULL. */
int repo_lazy_init(struct dd_error *err);

/*
 * A project-relative path made canonical ("./a//b/" -> "a/b", "." -> ""). ".." and absolute
 * paths are DD_EINPUT. Caller frees.
 */
char *repo_clean_path(const char *path, struct dd_error *err);
/* The work-tree-relative form of a clean project path ("" stays the prefix). Caller frees. */
char *repo_full_path(const struct repo *r, const char *clean);
/* "dir/name", or "name" when dir is "". Caller frees. */
char *repo_join(const char *dir, const char *name);

/* Resolve rev and peel it to a commit; errors name rev. Free *out with git_commit_free. */
int repo_lookup_commit(git_commit **out, const struct repo *r, const char *rev, struct dd_error *err);
/* The tree of a work-tree-relative directory in commit c: 0 found, 1 absent, -1 error. */
int repo_subtree(git_tree **out, const struct repo *r, const git_commit *c, const char *full_dir, struct dd_error *err);
/* 40 hex digits and a NUL. */
void repo_oid_hex(char out[REPO_OID_HEX_LEN + 1], const git_oid *oid);
/* Parse 40 hex digits; anything else is DD_EGIT naming the string. */
int repo_parse_oid(git_oid *out, const char *hex, struct dd_error *err);

#endif
