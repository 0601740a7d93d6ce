#ifndef DBDEPLOY_GIT_GIT_H
#define DBDEPLOY_GIT_GIT_H

/*
 * libgit2 lives only in this folder: nothing outside sees a git_repository or git_oid.
 * Object ids cross the boundary as 40-character lowercase hex strings.
 *
 * Part 1 (git/config_file.c): reading git-config syntax files (pipeline/<env>.conf) through
 * libgit2's config parser.
 */
#include "util/error.h"

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
void repo_config_entries_release(struct repo_config_entries *e);

#endif
