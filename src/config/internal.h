#ifndef DBDEPLOY_CONFIG_INTERNAL_H
#define DBDEPLOY_CONFIG_INTERNAL_H

#include "config/config.h"
#include "git/git.h"

/*
 * config_load reading the files from `committed` (a commit's pipeline/ files, with data) when
 * not NULL, else from the working tree; `commit` is recorded in cfg->commit.
 */
int config_load_from(struct dd_config **out, const char *root, const char *env, const struct repo_files *committed,
                     const char *commit, struct dd_error *err);

#endif
