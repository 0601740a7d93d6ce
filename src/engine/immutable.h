#ifndef DBDEPLOY_ENGINE_IMMUTABLE_H
#define DBDEPLOY_ENGINE_IMMUTABLE_H

/*
 * The offline immutability rules that `dbdeploy verify` (CI) and the pre-push hook share: which
 * branch counts as published, which commit is blamed for changing a published migration, what
 * kind of edit it was, and what the changelogs record as applied. Both commands only format
 * the answers; the rules live here so the two can never disagree.
 *
 * Everything here reads the repository only. Nothing prints.
 */
#include "changelog/changelog.h"
#include "git/git.h"
#include "migrations/migrations.h"

/*
 * The branch published migrations live on: `configured` ([git] protected-branch) when set,
 * else the remote's main branch (what origin/HEAD points to, as a clone sets it), else the
 * first of origin/main, origin/master, main, master that exists, else NULL. A configured name
 * is returned even when missing, so the caller can say so in its own terms. Caller frees.
 */
char *engine_protected_branch(const struct repo *r, const char *configured);

/* Who changed a published file: the first commit after the base, and how many followed. */
struct engine_change_origin {
    struct repo_commit_info first; /* first.id is "" when no commit after the base changed it */
    size_t later;                  /* commits after `first` that changed it again */
    bool truncated;                /* the history walk stopped early (REPO_WALK_MAX) */
};

#define ENGINE_CHANGE_ORIGIN_INIT                                                                                      \
    {                                                                                                                  \
        REPO_COMMIT_INFO_INIT, 0, false                                                                                \
    }

/*
 * The commit that first changed `path` away from its published content `published_blob`, among
 * the commits reachable from `head` but not from `base` (NULL: all). "First" is the oldest such
 * commit, see immutable.c for why. A path that no commit changed leaves out->first.id "".
 */
int engine_change_origin(struct engine_change_origin *out, struct repo *r, const char *head, const char *path,
                         const char *published_blob, const char *base, struct dd_error *err);
void engine_change_origin_release(struct engine_change_origin *o);

enum engine_edit_kind {
    ENGINE_EDIT_CONTENT,     /* the text changed */
    ENGINE_EDIT_LINE_ENDING, /* only carriage returns were added or removed */
    ENGINE_EDIT_WHITESPACE,  /* only whitespace (line endings included) differs */
};

/* What an edit from old_blob to new_blob changed: worth saying, since the small ones look harmless. */
enum engine_edit_kind engine_edit_kind(struct repo *r, const char *old_blob, const char *new_blob);
/* The same judgement over two byte strings (may hold NULs). */
enum engine_edit_kind engine_edit_kind_of(const char *a, size_t alen, const char *b, size_t blen);

/*
 * Every changelog/<env>/CHANGELOG.md in commit `rev`, for each environment defined under
 * <root>/pipeline/, parsed into out (environments in name order, records in file order). These
 * are the offline record of what is applied where.
 */
int engine_changelog_records(struct changelog_records *out, struct repo *r, const char *root, const char *rev,
                             struct dd_error *err);

/* `dbdeploy verify`: what HEAD did to the migrations published at the base (engine/verify.c). */
struct engine_verify {
    /* inputs, borrowed */
    struct repo *repo;
    const char *root;      /* project root: its pipeline/ names the environments whose changelogs count */
    const char *dir;       /* the migrations directory */
    const char *base_name; /* the base as the user named it, for messages */
    char base[REPO_OID_HEX_LEN + 1];
    char head[REPO_OID_HEX_LEN + 1];
    bool allow_out_of_order;
    /* results */
    struct dd_strv problems; /* one line each, naming the file and the commit to blame */
    struct dd_strv kinds;    /* parallel: modified, deleted, renamed, out-of-order, applied-missing, applied-modified */
};

/*
 * Add a problem for every published migration (one in the base) that HEAD modified, deleted or
 * renamed, every new version not above the base's newest (unless allow_out_of_order), and every
 * migration a changelog at HEAD records as applied that head_set lacks or has with other bytes.
 * Returns -1 only when the repository cannot be read.
 */
int engine_verify_published(struct engine_verify *v, const struct migration_set *head_set, struct dd_error *err);
void engine_verify_release(struct engine_verify *v);

#endif
