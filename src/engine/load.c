/*
 * Where an environment's migration files come from: the committed tree (through git/) or the
 * working tree, joined here so that migrations/ needs neither a repository nor a config.
 *
 * Commands that compare applied migrations with the ledger (status, gate, a no-op apply or
 * deploy) must not pay for reading and hashing every committed file: a file whose blob id is
 * the one the ledger recorded for its version has, by the definition of a blob id, the bytes
 * that were applied, so the ledger's checksum is its checksum. Those files are only listed;
 * their bytes are read when a plan needs them (engine_item_read).
 */
#include "engine/engine.h"

#include <stdio.h>

#include "config/config.h"
#include "git/git.h"

static int read_blob(void *arg, const char *blob_id, struct dd_buf *out, struct dd_error *err)
{
    return repo_read_blob(out, arg, blob_id, err);
}

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

static int refuse_dirty(const struct dd_strv *dirty, const char *dir, const char *env, struct dd_error *err)
{
    dd_error_set(err, DD_EBLOCKED, "%zu uncommitted change%s under %s/: %s deploys committed migrations only", dirty->n,
                 dirty->n == 1 ? "" : "s", dir, env ? env : "this environment");
    for (size_t i = 0; i < dirty->n; i++)
        dd_error_detail(err, "%s", dirty->v[i]);
    dd_error_hint(err, "Commit (or stash) them first. Only environments with [git] allow-dirty = true deploy the "
                       "working tree.");
    return -1;
}

static void add_files(struct migration_source *src, const struct repo_files *files, const char *prefix, bool with_data)
{
    for (size_t i = 0; i < files->n; i++) {
        char *name = *prefix ? dd_xasprintf("%s%s", prefix, files->v[i].name) : NULL;
        const char *n = name ? name : files->v[i].name;

        if (with_data)
            migration_source_add(src, n, files->v[i].data, files->v[i].len, files->v[i].blob_id);
        else
            migration_source_add_unread(src, n, files->v[i].blob_id);
        free(name);
    }
}

/*
 * The committed tree of rev, with the files' bytes or (with_data false) listed only; with
 * check_dirty, uncommitted changes under the directory block.
 */
static int read_committed(struct migration_source *src, struct repo *repo, const char *dir, const char *rev,
                          bool check_dirty, bool with_data, const char *env, struct dd_error *err)
{
    struct dd_strv dirty = DD_STRV_INIT;
    struct repo_files files = REPO_FILES_INIT, rep_files = REPO_FILES_INIT;
    char commit[REPO_OID_HEX_LEN + 1];
    char *subdir = NULL;
    int rc = -1;

    if (check_dirty && repo_dirty_paths(&dirty, repo, dir, err) < 0)
        goto cleanup;
    if (dirty.n) {
        refuse_dirty(&dirty, dir, env, err);
        goto cleanup;
    }
    if (repo_resolve(repo, rev, commit, err) < 0 || repo_read_dir(&files, repo, commit, dir, with_data, err) < 0)
        goto cleanup;
    migration_source_init(src, dir, commit);
    DD_ALLOC_GROW(src->v, files.n, src->alloc);
    add_files(src, &files, "", with_data);
    /* the repeatable migrations: few, and always compared with the ledger, so always read */
    subdir = dd_xasprintf("%s/%s", dir, MIGRATION_REPEATABLE_DIR);
    if (repo_read_dir(&rep_files, repo, commit, subdir, true, err) < 0) {
        migration_source_release(src);
        goto cleanup;
    }
    add_files(src, &rep_files, MIGRATION_REPEATABLE_DIR "/", true);
    rc = 0;
cleanup:
    free(subdir);
    repo_files_release(&rep_files);
    repo_files_release(&files);
    dd_strv_release(&dirty);
    return rc;
}

static int load(struct migration_set *out, struct repo *repo, const struct dd_config *cfg, bool with_data,
                struct dd_error *err)
{
    struct migration_source src = MIGRATION_SOURCE_INIT;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!cfg->allow_dirty && !repo)
        DD_BUG("engine_load_migrations needs the repository for committed migrations");
    if (cfg->allow_dirty)
        rc = read_working_tree(&src, repo, cfg, err);
    else
        rc = read_committed(&src, repo, cfg->migrations_dir, cfg->commit ? cfg->commit : "HEAD", true, with_data,
                            cfg->env, err);
    if (rc == 0)
        rc = migration_set_build(out, &src, err);
    if (rc == 0 && repo) {
        out->reader.read = read_blob;
        out->reader.arg = repo;
    }
    migration_source_release(&src);
    return rc;
}

int engine_load_migrations(struct migration_set *out, struct repo *repo, const struct dd_config *cfg,
                           struct dd_error *err)
{
    return load(out, repo, cfg, true, err);
}

int engine_list_migrations(struct migration_set *out, struct repo *repo, const struct dd_config *cfg,
                           struct dd_error *err)
{
    return load(out, repo, cfg, false, err);
}

int engine_load_migrations_at(struct migration_set *out, struct repo *repo, const char *dir, const char *rev,
                              struct dd_error *err)
{
    struct migration_source src = MIGRATION_SOURCE_INIT;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = read_committed(&src, repo, dir, rev, false, true, NULL, err);
    if (rc == 0)
        rc = migration_set_build(out, &src, err);
    migration_source_release(&src);
    return rc;
}

/* The ledger row of m's version when it recorded m's up file by blob id with a usable checksum. */
static const struct db_ledger_row *vouching_row(const struct migration *m, const struct db_ledger *ledger)
{
    const struct db_ledger_row *r = ledger ? db_ledger_find(ledger, m->version) : NULL;

    if (!r || !r->git_blob || !m->up.blob_id[0] || strcmp(r->git_blob, m->up.blob_id) != 0 || !r->checksum ||
        strlen(r->checksum) != DD_CHECKSUM_LEN)
        return NULL;
    return r;
}

int engine_read_migrations(struct migration_set *set, const struct db_ledger *ledger, struct dd_error *err)
{
    for (size_t i = 0; i < set->n; i++) {
        struct migration *m = &set->v[i];
        const struct db_ledger_row *r;

        if (!m->unread)
            continue;
        r = vouching_row(m, ledger);
        if (r) {
            memcpy(m->checksum, r->checksum, sizeof(m->checksum)); /* DD_CHECKSUM_LEN + NUL, checked above */
            continue;
        }
        if (migration_set_read(set, i, err) < 0)
            return -1;
    }
    return migration_set_read_repeatables(set, err);
}

int engine_item_read(const struct engine_status *st, const struct engine_item *it, struct dd_error *err)
{
    size_t i;

    if (!it->m || !it->m->unread)
        return 0;
    if (!st->set || it->m < st->set->v || it->m >= st->set->v + st->set->n)
        DD_BUG("engine_item_read: the item's migration is not in the status's set");
    i = (size_t)(it->m - st->set->v);
    return migration_set_read(st->set, i, err);
}
