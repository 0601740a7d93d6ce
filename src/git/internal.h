#ifndef DBDEPLOY_GIT_INTERNAL_H
#define DBDEPLOY_GIT_INTERNAL_H

/*
 * Shared by the files of git/ only: the repository struct and the conversions between our
 * strings and libgit2's types. Nothing here may leak into git.h.
 */
#include <git2.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

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

/* One entry of the index file, as git wrote it (host byte order; see git/index.c). */
#define REPO_OID_RAW 20
struct repo_index_entry {
    uint32_t ctime_s, ctime_ns, mtime_s, mtime_ns, dev, ino, mode, size;
    unsigned char oid[REPO_OID_RAW];
    uint16_t flags;     /* assume-valid 0x8000, extended 0x4000, stage (flags >> 12) & 3 */
    uint16_t flags_ext; /* skip-worktree 0x4000, intent-to-add 0x2000 */
    const char *path;   /* the whole path; valid during the callback only */
};
/* Called for each entry whose path starts with the walk's prefix (name: the rest); false stops the walk. */
typedef bool (*repo_index_fn)(const struct repo_index_entry *e, const char *name, void *arg);
enum { REPO_INDEX_DONE = 0, REPO_INDEX_UNKNOWN = 1, REPO_INDEX_STOPPED = 2 };
/*
 * Walk the index file at index_path in order, calling fn for the entries under prefix, and set
 * *index_mtime. REPO_INDEX_DONE: the whole file was read and fn accepted every entry;
 * REPO_INDEX_STOPPED: fn returned false; REPO_INDEX_UNKNOWN: no index, or one this walk does
 * not read (split or sparse index, unknown required extension, malformed): ask libgit2.
 */
int repo_index_walk(const char *index_path, const char *prefix, repo_index_fn fn, void *arg,
                    struct timespec *index_mtime);
/* The same over an index file's bytes in memory (what repo_index_walk maps; the fuzzer feeds it). */
int repo_index_parse(const void *data, size_t size, const char *prefix, repo_index_fn fn, void *arg);

#endif
