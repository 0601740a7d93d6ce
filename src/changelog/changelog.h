#ifndef DBDEPLOY_CHANGELOG_CHANGELOG_H
#define DBDEPLOY_CHANGELOG_CHANGELOG_H

/*
 * changelog/<env>/CHANGELOG.md: one entry per deployment, newest first, in Markdown that renders
 * on GitHub and GitLab. Each entry also carries machine-readable lines, invisible when
 * rendered, that the pre-push hook and `dbdeploy verify` read to know what is applied where:
 *
 *   <!-- dbdeploy:applied env=prod version=3 checksum=sha256:<64 hex> file=migrations/0003_x.up.sql -->
 *
 * Rendering is a pure function of its input, so an entry appended after a deployment and the
 * same entry regenerated later from the ledger are byte-identical. No database, no git here:
 * callers gather authors and subjects.
 */
#include "util/buf.h"
#include "util/error.h"

#define CHANGELOG_DIR  "changelog"
#define CHANGELOG_FILE "CHANGELOG.md"

struct changelog_migration {
    int64_t version;
    const char *name;
    const char *file;
    const char *checksum;
    int64_t duration_ms;
    const char *status;  /* applied, restored, failed */
    const char *author;  /* of the commit that introduced the file; NULL when unknown */
    const char *subject; /* that commit's subject; NULL when unknown */
    const char *changes; /* schema changes it made ("+column orders.note"); NULL when none or unknown */
};

/* A lint suppression the deployment used ("-- dbdeploy:allow RULE-ID reason"). */
struct changelog_allow {
    const char *rule;
    const char *file;
    int64_t line;
    const char *reason;
};

struct changelog_entry {
    int64_t id; /* deployment id in the ledger, 0 for migrations applied outside a deployment */
    const char *env;
    const char *started_at;  /* ISO 8601 UTC */
    const char *finished_at; /* ISO 8601 UTC */
    const char *commit;      /* full id, NULL when not from a commit */
    const char *who;
    const char *result;   /* applied, failed, restored, restore-failed; "applied outside a deployment" */
    const char *archive;  /* "prod/20261121T101500Z-1a2b3c4.tar.zst", NULL when none */
    const char *error;    /* first error line (masked), NULL on success */
    const char *recovery; /* how a failure was undone (transaction, down, backup, refused...), NULL when none */
    const char *drift;    /* schema drift accepted by the deployment ("reason: changes"), NULL when none */
    const struct changelog_migration *m;
    size_t n;
    const struct changelog_allow *allow; /* "- Lint allowed:" line, only when nallow > 0 */
    size_t nallow;
    const char *kind;     /* the command that made the change (apply, rollback, mark...); NULL or "deploy" */
    const char *git_user; /* "Name <email>" from git config of who ran it; NULL when unknown */
};

void changelog_render_entry(struct dd_buf *out, const struct changelog_entry *e);
/* The whole file: header, then the entries in the order given (newest first). */
void changelog_render_file(struct dd_buf *out, const char *env, const struct changelog_entry *entries, size_t n);
/* "changelog/<env>/CHANGELOG.md" (caller frees). */
char *changelog_path(const char *env);

/*
 * Put an entry at the top of root/changelog/<env>/CHANGELOG.md (creating it with its header),
 * atomically. *out_path (may be NULL) receives the relative path.
 */
int changelog_prepend(char **out_path, const char *root, const char *env, const struct changelog_entry *e,
                      struct dd_error *err);
/* Replace the file with content; *changed says whether the bytes differ from before. */
int changelog_replace(char **out_path, const char *root, const char *env, const struct dd_buf *content, bool *changed,
                      struct dd_error *err);

/* What a changelog records as applied. */
struct changelog_record {
    char *env;
    int64_t version;
    char *checksum;
    char *file;
};

struct changelog_records {
    struct changelog_record *v;
    size_t n, alloc;
};

#define CHANGELOG_RECORDS_INIT                                                                                         \
    {                                                                                                                  \
        NULL, 0, 0                                                                                                     \
    }

/* Collect the dbdeploy:applied lines of a changelog's text (other text is ignored). */
void changelog_parse(struct changelog_records *out, const char *text, size_t len);
void changelog_records_release(struct changelog_records *r);

#endif
