/*
 * The configuration as committed: deploy, plan and gate take the pipeline/<env>.conf files from the same
 * commit as the migrations, so that what was reviewed and merged is what runs, and so that the
 * changelog's commit contains the configuration used. An uncommitted edit (say, [gate]
 * requires commented out) blocks instead of being silently used or silently ignored.
 */
#include "config/config.h"

#include <stdio.h>

#include "config/internal.h"
#include "util/buf.h"

static bool has_file(const struct repo_files *files, const char *rel)
{
    for (size_t i = 0; i < files->n; i++)
        if (strcmp(files->v[i].path, rel) == 0)
            return true;
    return false;
}

/* Uncommitted changes to the shared file and env's file, as "<state>: <path>" lines. */
static int dirty_files(struct dd_strv *out, struct repo *repo, const char *env_file, struct dd_error *err)
{
    const char *paths[] = {CONFIG_SHARED_FILE, env_file};

    for (size_t i = 0; i < DD_ARRAY_SIZE(paths); i++)
        if (paths[i] && repo_dirty_paths(out, repo, paths[i], err) < 0)
            return -1;
    return 0;
}

static int refuse(const struct dd_strv *dirty, const char *env, const char *env_file, bool env_committed,
                  const char *commit, struct dd_error *err)
{
    if (!env_committed)
        dd_error_set(err, DD_EBLOCKED, "%s is not in commit %.7s: %s deploys its committed configuration only",
                     env_file, commit, env);
    else
        dd_error_set(err, DD_EBLOCKED,
                     "%zu uncommitted change%s to the configuration of %s: %s deploys its committed "
                     "configuration only",
                     dirty->n, DD_PLURAL(dirty->n), env ? env : "the pipeline", env ? env : "it");
    for (size_t i = 0; i < dirty->n; i++)
        dd_error_detail(err, "%s", dirty->v[i]);
    dd_error_hint(err, "Commit (or stash) them first: deploy, plan and gate read pipeline/*.conf from the same commit "
                       "as the migrations. Only environments with [git] allow-dirty = true read the working tree.");
    return -1;
}

int config_load_committed(struct dd_config **out, struct repo *repo, const char *root, const char *env, const char *rev,
                          unsigned flags, struct dd_error *err)
{
    struct repo_files files = REPO_FILES_INIT;
    struct dd_strv dirty = DD_STRV_INIT;
    struct dd_config *cfg = NULL;
    char commit[REPO_OID_HEX_LEN + 1];
    char *env_file = env ? dd_xasprintf("%s/%s.conf", CONFIG_DIR, env) : NULL;
    bool follow = flags & CONFIG_FOLLOW_ALLOW_DIRTY, committed;
    int rc = -1;

    *out = NULL;
    if (repo_resolve(repo, rev, commit, err) < 0 || repo_read_dir(&files, repo, commit, CONFIG_DIR, true, err) < 0)
        goto cleanup;
    committed = !env_file || has_file(&files, env_file);
    /* a name or file that does not exist at all gets config_load's own error */
    if (committed ? config_load_from(&cfg, root, env, &files, commit, err) < 0 : config_load(&cfg, root, env, err) < 0)
        goto cleanup;
    if (follow && cfg->allow_dirty) {
        /* development environments deploy the working tree, configuration included */
        config_free(cfg);
        cfg = NULL;
        rc = config_load(out, root, env, err);
        goto cleanup;
    }
    if (dirty_files(&dirty, repo, env_file, err) < 0)
        goto cleanup;
    if (dirty.n || !committed) {
        refuse(&dirty, env, env_file, committed, commit, err);
        goto cleanup;
    }
    *out = cfg;
    cfg = NULL;
    rc = 0;
cleanup:
    config_free(cfg);
    dd_strv_release(&dirty);
    repo_files_release(&files);
    free(env_file);
    return rc;
}
