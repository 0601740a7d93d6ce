#include "cli/cli.h"

#include <stdio.h>

#include "config/config.h"
#include "git/git.h"
#include "util/identity.h"
#include "util/out.h"

/* The working tree, for allow-dirty environments (blob ids still computed when in a repository). */
static int read_working_tree(struct migration_source *src, struct cli_ctx *ctx)
{
    if (migration_source_read_fs(src, ctx->root, ctx->cfg->migrations_dir, &ctx->err) < 0)
        return -1;
    if (ctx->repo)
        for (size_t i = 0; i < src->n; i++)
            repo_blob_id(src->v[i].blob_id, src->v[i].data.buf, src->v[i].data.len);
    return 0;
}

/* The committed tree of rev; with check_dirty, uncommitted changes under the migrations dir block. */
static int read_committed(struct migration_source *src, struct cli_ctx *ctx, const char *rev, bool check_dirty)
{
    struct dd_strv dirty = DD_STRV_INIT;
    struct repo_files files = REPO_FILES_INIT;
    char head[REPO_OID_HEX_LEN + 1];
    int rc = -1;

    if (check_dirty && repo_dirty_paths(&dirty, ctx->repo, ctx->cfg->migrations_dir, &ctx->err) < 0)
        goto cleanup;
    if (dirty.n) {
        dd_error_set(&ctx->err, DD_EBLOCKED, "%zu uncommitted change%s under %s/: %s deploys committed migrations only",
                     dirty.n, dirty.n == 1 ? "" : "s", ctx->cfg->migrations_dir, ctx->cfg->env);
        for (size_t i = 0; i < dirty.n; i++)
            dd_error_detail(&ctx->err, "%s", dirty.v[i]);
        dd_error_hint(&ctx->err, "Commit (or stash) them first. Only environments with [git] allow-dirty = true "
                                 "deploy the working tree.");
        goto cleanup;
    }
    if (repo_resolve(ctx->repo, rev, head, &ctx->err) < 0 ||
        repo_read_dir(&files, ctx->repo, head, ctx->cfg->migrations_dir, true, &ctx->err) < 0)
        goto cleanup;
    migration_source_init(src, ctx->cfg->migrations_dir, head);
    for (size_t i = 0; i < files.n; i++)
        migration_source_add(src, files.v[i].name, files.v[i].data, files.v[i].len, files.v[i].blob_id);
    rc = 0;
cleanup:
    repo_files_release(&files);
    dd_strv_release(&dirty);
    return rc;
}

int cli_load_migrations(struct migration_set *out, struct cli_ctx *ctx)
{
    struct migration_source src = MIGRATION_SOURCE_INIT;
    int rc;

    if (!ctx->cfg->allow_dirty) {
        if (cli_need_repo(ctx) < 0) {
            dd_error_hint(&ctx->err,
                          "%s deploys committed migrations, so the project must be a git repository; set "
                          "[git] allow-dirty = true for an environment deployed from a plain directory.",
                          ctx->cfg->env ? ctx->cfg->env : "this environment");
            return -1;
        }
        rc = read_committed(&src, ctx, "HEAD", true);
    } else {
        struct dd_error ignored = DD_ERROR_INIT;
        /* a repository is optional here; it only adds blob ids */
        if (!ctx->repo && repo_open(&ctx->repo, ctx->root, &ignored) < 0)
            ctx->repo = NULL;
        dd_error_release(&ignored);
        rc = read_working_tree(&src, ctx);
    }
    if (rc == 0)
        rc = migration_set_build(out, &src, &ctx->err);
    migration_source_release(&src);
    return rc;
}

int cli_load_migrations_at(struct migration_set *out, struct cli_ctx *ctx, const char *rev)
{
    struct migration_source src = MIGRATION_SOURCE_INIT;
    int rc;

    if (cli_need_repo(ctx) < 0)
        return -1;
    rc = read_committed(&src, ctx, rev, false);
    if (rc == 0)
        rc = migration_set_build(out, &src, &ctx->err);
    migration_source_release(&src);
    return rc;
}

/*
 * engine_explain_fn: say which commits changed an applied file since it was applied (from its
 * recorded blob id), so the first question a release engineer asks is already answered.
 */
static void explain_change(void *arg, const struct engine_item *it, struct dd_error *err)
{
    struct cli_ctx *ctx = arg;
    struct repo_commit_infos commits = REPO_COMMIT_INFOS_INIT;
    struct dd_error gerr = DD_ERROR_INIT;
    const char *path = it->m ? it->m->up.path : it->row->file;
    const char *blob = it->row && it->row->git_blob ? it->row->git_blob : NULL;

    if (!ctx->repo || !path)
        return;
    if (repo_path_changes_since(&commits, ctx->repo, "HEAD", path, blob, NULL, &gerr) < 0) {
        dd_error_detail(err, "  (history not available: %s)", dd_error_msg(&gerr));
        goto cleanup;
    }
    if (!blob && commits.n)
        dd_error_detail(err, "  the ledger has no blob id for it; commits that touched the file:");
    for (size_t i = 0; i < commits.n && i < 5; i++) {
        char date[11];
        repo_commit_date(date, &commits.v[i]);
        dd_error_detail(err, "  %s by %s %s \"%s\" (%s <%s>, %s)", it->m ? "changed" : "deleted", i ? "also" : "commit",
                        commits.v[i].short_id, commits.v[i].subject, commits.v[i].author_name,
                        commits.v[i].author_email, date);
    }
    if (commits.n > 5)
        dd_error_detail(err, "  ... and %zu more commits", commits.n - 5);
    if (blob && !commits.n && it->m)
        dd_error_detail(err, "  no commit changed it: the difference is not committed, or comes from another branch");
cleanup:
    repo_commit_infos_release(&commits);
    dd_error_release(&gerr);
}

int cli_env_load(struct cli_env *e, struct cli_ctx *ctx, const char *env)
{
    if (cli_need_config(ctx, env) < 0 || cli_load_migrations(&e->set, ctx) < 0 || cli_need_db(ctx) < 0)
        return -1;
    engine_opts_from_config(&e->opts, ctx->cfg);
    e->whoami = dd_whoami();
    e->opts.applied_by = e->whoami;
    e->opts.explain = explain_change;
    e->opts.explain_arg = ctx;
    return cli_env_reload(e, ctx);
}

int cli_env_reload(struct cli_env *e, struct cli_ctx *ctx)
{
    engine_status_release(&e->st);
    db_ledger_release(&e->ledger);
    if (db_ledger_load(&e->ledger, ctx->db, ctx->cfg->ledger_schema, &ctx->err) < 0)
        return -1;
    engine_status_build(&e->st, &e->set, &e->ledger, ctx->cfg->out_of_order);
    return 0;
}

void cli_env_release(struct cli_env *e)
{
    engine_status_release(&e->st);
    db_ledger_release(&e->ledger);
    migration_set_release(&e->set);
    free(e->whoami);
    e->whoami = NULL;
}
