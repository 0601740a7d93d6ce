#ifndef DBDEPLOY_GIT_GIT_H
#define DBDEPLOY_GIT_GIT_H

/*
 * libgit2 lives only in this folder: nothing outside sees a git_repository or git_oid.
 * Object ids cross the boundary as 40-character lowercase hex strings.
 *
 * Part 1 (git/config_file.c): reading git-config syntax files (pipeline/<env>.conf) through
 * libgit2's config parser.
 *
 * Part 2 (git/repo.c, tree.c, history.c, status.c, commit.c): the repository a project lives in,
 * committed trees, history walks, blob ids and the few writes dbdeploy makes.
 */
#include "util/buf.h"
#include "util/error.h"
#include "util/strv.h"

/* One "key = value" line of a config file. Section and key are lowercased by the parser. */
struct repo_config_entry {
    char *section;    /* "database" */
    char *subsection; /* NULL unless [section "sub"] */
    char *key;        /* "url" */
    char *value;      /* NULL for a bare key ("[x] flag" means true in git-config) */
};

struct repo_config_entries {
    struct repo_config_entry *v;
    size_t n, alloc;
};

#define REPO_CONFIG_ENTRIES_INIT                                                                                       \
    {                                                                                                                  \
        NULL, 0, 0                                                                                                     \
    }

/*
 * Parse one file in git-config syntax (no includes, no repository needed). Entries come in
 * file order. A syntax error names display_path and the line (libgit2's message).
 */
int repo_config_read_file(struct repo_config_entries *out, const char *path, const char *display_path,
                          struct dd_error *err);
/* The same for bytes held in memory (a committed blob); messages name display_path. */
int repo_config_read_buf(struct repo_config_entries *out, const void *data, size_t len, const char *display_path,
                         struct dd_error *err);
void repo_config_entries_release(struct repo_config_entries *e);

/*
 * Part 2: the repository.
 *
 * A struct repo is the git repository around a project directory. The project root (what the
 * user passes with -C) may be a subdirectory of the work tree; every path given to or returned
 * by a repo_ function is relative to the project root ("migrations/0001_init.sql"), uses '/',
 * and must not contain ".." (an error, DD_EINPUT). "" and "." name the project root itself.
 *
 * Revisions ("rev") are anything git rev-parse takes: HEAD, main, origin/main, v1.2, a short
 * or full id, HEAD~2. They are peeled to a commit. Object ids are 40 lowercase hex digits.
 *
 * Errors: libgit2 failures are DD_EGIT, with libgit2's message and the revision or path
 * involved. On failure every out parameter is left empty (lists empty, strings NULL).
 *
 * libgit2 starts on the first repo_ call that needs it (DD_EGIT when it cannot, e.g. out of
 * memory or no TLS): Debian's libgit2 parses the system CA bundle when it starts, which
 * commands that read no repository need not pay.
 */
#define REPO_OID_HEX_LEN 40
#define REPO_ZERO_OID    "0000000000000000000000000000000000000000"
/* History walks look at no more than this many commits; results say when they stopped early. */
#define REPO_WALK_MAX 10000

struct repo;

/* libgit2's process-wide state, at the end of main(): nothing unless a repo_ call started it. */
void repo_global_shutdown(void);

/*
 * Open the repository containing `path` (searching upwards, like git; GIT_CEILING_DIRECTORIES
 * is honoured). `path` becomes the project root. Not a repository, or a bare one: DD_EGIT
 * "not a git repository: '<path>'" with a hint. *out is freed with repo_free.
 * Side effect: turns off libgit2's re-hashing of every object read (process-wide), which git
 * itself does not do either; see repo.c.
 */
int repo_open(struct repo **out, const char *path, struct dd_error *err);
void repo_free(struct repo *r);
/* The top of the work tree: absolute, no trailing slash. Valid until repo_free. */
const char *repo_workdir(const struct repo *r);
/* The project root relative to the work tree: "" when they are the same, else "db/app". */
const char *repo_path_prefix(const struct repo *r);

/* Resolve rev to a commit id. Unknown revision: DD_EGIT naming it, with a hint. */
int repo_resolve(const struct repo *r, const char *rev, char out[REPO_OID_HEX_LEN + 1], struct dd_error *err);
/*
 * The branch a remote's HEAD points to, as "origin/main" (refs/remotes/<remote>/HEAD, which
 * git clone and git remote set-head write). *out is NULL when there is none; caller frees.
 */
int repo_remote_head(char **out, const struct repo *r, const char *remote);
/* Whether rev resolves to a commit (no error either way). */
bool repo_rev_exists(const struct repo *r, const char *rev);

/* One regular file (mode 100644 or 100755; not symlinks or submodules) in a committed tree. */
struct repo_file {
    char *path;       /* "migrations/0001_init.sql", relative to the project root */
    const char *name; /* borrowed: the final component, inside path */
    char blob_id[REPO_OID_HEX_LEN + 1];
    char *data; /* contents, NUL-terminated (may also hold NULs); NULL unless asked for */
    size_t len; /* size of data in bytes; 0 without data */
};

struct repo_files {
    struct repo_file *v;
    size_t n, alloc;
};

#define REPO_FILES_INIT                                                                                                \
    {                                                                                                                  \
        NULL, 0, 0                                                                                                     \
    }

/*
 * The regular files directly inside `dir` (not recursive) in the tree of commit `rev`, sorted
 * by name in byte order, with contents when with_data. A dir missing from that commit gives an
 * empty list; a dir that is a file there is DD_EGIT.
 */
/* The names of the directories directly inside `dir` at `rev` (none when dir is missing there). */
int repo_read_subdirs(struct dd_strv *out, struct repo *r, const char *rev, const char *dir, struct dd_error *err);
int repo_read_dir(struct repo_files *out, struct repo *r, const char *rev, const char *dir, bool with_data,
                  struct dd_error *err);
void repo_files_release(struct repo_files *f);

/* The contents of a blob, appended to out. Unknown id: DD_EGIT. */
int repo_read_blob(struct dd_buf *out, struct repo *r, const char *blob_id, struct dd_error *err);

/*
 * Uncommitted changes under `dir` (recursive): staged, unstaged and untracked files, ignored
 * files left out. Each entry reads "<state>: <path>" with state one of added, modified,
 * deleted, typechange, conflicted, untracked (no rename detection: a moved file is "deleted"
 * plus "untracked"); sorted by path. Empty when clean.
 */
int repo_dirty_paths(struct dd_strv *out, struct repo *r, const char *dir, struct dd_error *err);

/* What `git hash-object` prints for these bytes (no filters: exact bytes). */
void repo_blob_id(char out[REPO_OID_HEX_LEN + 1], const void *data, size_t len);

struct repo_commit_info {
    char id[REPO_OID_HEX_LEN + 1];
    char short_id[12]; /* unique abbreviation, usually 7 digits */
    char *author_name;
    char *author_email;
    int64_t time;      /* author time, unix seconds */
    int tz_offset_min; /* the author's UTC offset in minutes, for showing their local date */
    char *subject;     /* first paragraph of the message, on one line */
};

#define REPO_COMMIT_INFO_INIT                                                                                          \
    {                                                                                                                  \
        "", "", NULL, NULL, 0, 0, NULL                                                                                 \
    }

struct repo_commit_infos {
    struct repo_commit_info *v;
    size_t n, alloc;
    bool truncated; /* the walk stopped at REPO_WALK_MAX commits; older changes may exist */
};

#define REPO_COMMIT_INFOS_INIT                                                                                         \
    {                                                                                                                  \
        NULL, 0, 0, false                                                                                              \
    }

void repo_commit_info_release(struct repo_commit_info *c);
void repo_commit_infos_release(struct repo_commit_infos *l);
/* Author, subject and ids of one commit. */
int repo_commit_info(struct repo_commit_info *out, struct repo *r, const char *rev, struct dd_error *err);
/* "2026-11-20": the author date in the author's own time zone. */
void repo_commit_date(char out[11], const struct repo_commit_info *c);

/*
 * The commits, newest first, that changed `path` after it had the content `blob_id`: the
 * answer to "this applied migration differs from the file; who changed it?".
 *
 * The walk starts at `rev` and follows history the way `git log -- path` does: a merge whose
 * file equals one parent's is followed into that parent only, so a change made on a merged
 * branch is blamed on the commit that made it, not on the merge. A line of history stops at a
 * commit where the file has `blob_id` (that is where the applied content came from) or, with
 * blob_id NULL, where the file does not exist (the list then ends with the commit that added
 * it). With `until` set, commits reachable from `until` are not looked at (the hook passes the
 * remote's commit, so only pushed commits are blamed). A deletion counts as a change. The walk
 * looks at most REPO_WALK_MAX commits (out->truncated). A path missing at rev is not an error:
 * the deleting commit is found like any other change.
 */
int repo_path_changes_since(struct repo_commit_infos *out, struct repo *r, const char *rev, const char *path,
                            const char *blob_id, const char *until, struct dd_error *err);

/*
 * The commit that added `path` as it exists at rev (for changelogs): the oldest commit of the
 * walk above with blob_id NULL. Missing at rev: DD_EGIT. Truncated walks give the oldest
 * commit found.
 */
int repo_path_origin(struct repo_commit_info *out, struct repo *r, const char *rev, const char *path,
                     struct dd_error *err);

/* The best common ancestor of a and b; out is "" when the histories are unrelated. */
int repo_merge_base(char out[REPO_OID_HEX_LEN + 1], struct repo *r, const char *a, const char *b, struct dd_error *err);

/* One changed file between two commits. */
struct repo_change {
    char status;    /* 'A' added, 'M' modified (content), 'D' deleted, 'R' renamed (same content) */
    char *old_path; /* NULL for 'A' */
    char *new_path; /* NULL for 'D' */
    char old_blob[REPO_OID_HEX_LEN + 1]; /* "" for 'A' */
    char new_blob[REPO_OID_HEX_LEN + 1]; /* "" for 'D' */
};

struct repo_changes {
    struct repo_change *v;
    size_t n, alloc;
};

#define REPO_CHANGES_INIT                                                                                              \
    {                                                                                                                  \
        NULL, 0, 0                                                                                                     \
    }

/*
 * How the regular files directly inside `dir` differ between old_rev (NULL: nothing) and
 * new_rev, sorted by path (new path for 'R'). A deleted file and an added file with the same
 * blob id are one rename; mode-only changes are not changes.
 */
int repo_diff_dir(struct repo_changes *out, struct repo *r, const char *old_rev, const char *new_rev, const char *dir,
                  struct dd_error *err);
void repo_changes_release(struct repo_changes *c);

/*
 * Commit the work-tree state of `paths` (relative to the project root; a path deleted from the
 * work tree is removed) on top of HEAD, and stage them in the index. Other staged changes stay
 * staged and are not committed. Author and committer are taken like git does: GIT_AUTHOR_* /
 * GIT_COMMITTER_* from the environment, else user.name/user.email from the configuration, else
 * "dbdeploy". Never pushes. When the paths match HEAD already, nothing is committed and out is "".
 */
int repo_commit_files(struct repo *r, const struct dd_strv *paths, const char *message, char out[REPO_OID_HEX_LEN + 1],
                      struct dd_error *err);

/*
 * "Name <email>" of the author git would record for a commit now (environment, then
 * configuration); NULL without a repository or when git cannot say. The caller frees it.
 */
char *repo_author(struct repo *r);

/*
 * The directory git runs hooks from: core.hooksPath (relative to the top of the work tree when
 * relative) or the repository's hooks directory. Absolute; the caller frees *out. It may not
 * exist yet.
 */
int repo_hooks_dir(char **out, struct repo *r, struct dd_error *err);

/*
 * Whether commit rev is contained in a branch whose name matches one of the glob patterns
 * (fnmatch, '*' stays within one path component): local branches ("main", "release/1.2") and
 * remote-tracking ones (refs/remotes/<remote>/<name>, matched on <name>). *out_branch (caller
 * frees) names the first containing branch ("main", "origin/release/1.2"), or is NULL when none
 * does; out_seen (may be NULL) receives the matching branches looked at.
 */
int repo_commit_in_branches(char **out_branch, struct dd_strv *out_seen, struct repo *r, const char *rev,
                            const struct dd_strv *patterns, struct dd_error *err);
/* "Name <email>" from the repository's git configuration (user.name, user.email); NULL when unset. */
char *repo_identity(struct repo *r);
/*
 * Append to out the unified diff (3 lines of context, "--- a/old_name", "+++ b/new_name") that
 * turns old_text into new_text; nothing when they are equal.
 */
int repo_text_diff(struct dd_buf *out, const char *old_text, size_t old_len, const char *old_name, const char *new_text,
                   size_t new_len, const char *new_name, struct dd_error *err);

#endif
