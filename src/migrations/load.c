#include "migrations/migrations.h"

#include "config/config.h"
#include "git/git.h"

/* The working tree, for allow-dirty environments (blob ids still computed inside a repository). */
static int read_working_tree(struct migration_source *src, struct repo *repo, const struct dd_config *cfg,
                             struct dd_error *err)
{
    if (migration_source_read_fs(src, cfg->root, cfg->migrations_dir, err) < 0)
        return -1;
    if (repo)
        for (size_t i = 0; i < src->n; i++)
            repo_blob_id(src->v[i].blob_id, src->v[i].data.buf, src->v[i].data.len);
    return 0;
}

/* The committed tree of rev; with check_dirty, uncommitted changes under the directory block. */
static int read_committed(struct migration_source *src, struct repo *repo, const char *dir, const char *rev,
                          bool check_dirty, const char *env, struct dd_error *err)
{
    struct dd_strv dirty = DD_STRV_INIT;
    struct repo_files files = REPO_FILES_INIT;
    char commit[REPO_OID_HEX_LEN + 1];
    int rc = -1;

    if (check_dirty && repo_dirty_paths(&dirty, repo, dir, err) < 0)
        goto cleanup;
    if (dirty.n) {
        dd_error_set(err, DD_EBLOCKED, "%zu uncommitted change%s under %s/: %s deploys committed migrations only",
                     dirty.n, dirty.n == 1 ? "" : "s", dir, env ? env : "this environment");
        for (size_t i = 0; i < dirty.n; i++)
            dd_error_detail(err, "%s", dirty.v[i]);
        dd_error_hint(err, "Commit (or stash) them first. Only environments with [git] allow-dirty = true deploy the "
                           "working tree.");
        goto cleanup;
    }
    if (repo_resolve(repo, rev, commit, err) < 0 || repo_read_dir(&files, repo, commit, dir, true, err) < 0)
        goto cleanup;
    migration_source_init(src, dir, commit);
    for (size_t i = 0; i < files.n; i++)
        migration_source_add(src, files.v[i].name, files.v[i].data, files.v[i].len, files.v[i].blob_id);
    rc = 0;
cleanup:
    repo_files_release(&files);
    dd_strv_release(&dirty);
    return rc;
}

int migration_set_load(struct migration_set *out, struct repo *repo, const struct dd_config *cfg, struct dd_error *err)
{
    struct migration_source src = MIGRATION_SOURCE_INIT;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!cfg->allow_dirty && !repo)
        DD_BUG("migration_set_load needs the repository for committed migrations");
    if (cfg->allow_dirty)
        rc = read_working_tree(&src, repo, cfg, err);
    else
        rc = read_committed(&src, repo, cfg->migrations_dir, "HEAD", true, cfg->env, err);
    if (rc == 0)
        rc = migration_set_build(out, &src, err);
    migration_source_release(&src);
    return rc;
}

int migration_set_load_at(struct migration_set *out, struct repo *repo, const char *dir, const char *rev,
                          struct dd_error *err)
{
    struct migration_source src = MIGRATION_SOURCE_INIT;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = read_committed(&src, repo, dir, rev, false, NULL, err);
    if (rc == 0)
        rc = migration_set_build(out, &src, err);
    migration_source_release(&src);
    return rc;
}
