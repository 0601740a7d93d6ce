#include "cli/cli.h"

#include <stdio.h>

#include "changelog/changelog.h"
#include "config/config.h"
#include "db/db.h"
#include "git/git.h"
#include "pipeline/deploy.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/out.h"

/*
 * Migrations in the ledger that no recorded deployment applied (dbdeploy apply, mark, adopt):
 * one synthetic entry at the bottom, so the file lists everything the environment has.
 */
static void outside_deployments(struct db_deployment *out, const struct db_ledger *ledger,
                                const struct db_deployments *deps, const char *env)
{
    struct dd_strv who = DD_STRV_INIT;

    memset(out, 0, sizeof(*out));
    out->env = dd_xstrdup(env);
    out->result = dd_xstrdup("applied");
    for (size_t i = 0; i < ledger->n; i++) {
        const struct db_ledger_row *r = &ledger->rows[i];
        bool covered = false;
        struct db_deployment_migration *m;
        if (r->state != DB_LEDGER_APPLIED)
            continue;
        for (size_t k = 0; k < deps->n && !covered; k++)
            for (size_t j = 0; j < deps->v[k].n && !covered; j++)
                covered = deps->v[k].m[j].version == r->version && strcmp(deps->v[k].m[j].status, "applied") == 0;
        if (covered)
            continue;
        out->m = dd_xrealloc(out->m, (out->n + 1) * sizeof(*out->m));
        m = &out->m[out->n++];
        m->version = r->version;
        m->name = dd_xstrdup(r->name);
        m->file = dd_xstrdup(r->file);
        m->checksum = dd_xstrdup(r->checksum);
        m->duration_ms = r->duration_ms;
        m->status = dd_xstrdup("applied");
        m->changes = NULL;
        /* authors are looked up at the commit each was deployed from */
        if (!out->git_commit && r->git_commit)
            out->git_commit = dd_xstrdup(r->git_commit);
        /* the ledger knows who applied each row: the entry says so rather than "—" */
        if (r->applied_by && !dd_strv_contains(&who, r->applied_by))
            dd_strv_push(&who, r->applied_by);
    }
    if (who.n)
        out->deployed_by = dd_strv_join(&who, ", ");
    dd_strv_release(&who);
}

struct changelog_opts {
    bool commit;
};

static const struct cli_opt changelog_options[] = {
    CLI_OPT_BOOL(0, "commit", struct changelog_opts, commit, "commit the regenerated file (never pushes)"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_changelog = {
    .brief = "regenerate changelog/ENV/CHANGELOG.md from the ledger and git history",
    .name = "changelog",
    .usage = "ENV [--commit]",
    .summary = "Regenerate changelog/ENV/CHANGELOG.md from the environment's ledger (every recorded deployment, newest "
               "first, plus migrations applied outside a deployment) and git history (who introduced each file).",
    .details = "Idempotent: a second run changes nothing. With --commit the file is committed on the current branch "
               "with a clear message; nothing is pushed.",
    .opts = changelog_options,
    .min_args = 1,
    .max_args = 1,
};

int cmd_changelog(struct cli_ctx *ctx, int argc, char **argv)
{
    struct changelog_opts o = {false};
    struct dd_strv args = DD_STRV_INIT, hold = DD_STRV_INIT, paths = DD_STRV_INIT;
    struct db_deployments deps = {NULL, 0};
    struct db_ledger ledger = DB_LEDGER_INIT;
    struct db_deployment outside;
    struct changelog_entry *entries = NULL;
    struct changelog_migration **ms = NULL;
    struct dd_buf content = DD_BUF_INIT, b = DD_BUF_INIT;
    char *path = NULL, *log_env = NULL, commit[REPO_OID_HEX_LEN + 1] = "";
    size_t n = 0;
    bool changed = false;
    int rc = -1, p;

    memset(&outside, 0, sizeof(outside));
    p = cli_parse(ctx, &cli_spec_changelog, &o, argc, argv, &args);
    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    if (cli_need_config(ctx, args.v[0]) < 0 || cli_need_db(ctx) < 0)
        goto cleanup;
    if (!o.commit)
        cli_want_repo(ctx); /* without git the authors are simply unknown */
    else if (cli_need_repo(ctx) < 0)
        goto cleanup;
    if (db_deployments_load(&deps, ctx->db, ctx->cfg->ledger_schema, ctx->cfg->env, &ctx->err) < 0 ||
        db_ledger_load(&ledger, ctx->db, ctx->cfg->ledger_schema, &ctx->err) < 0)
        goto cleanup;
    outside_deployments(&outside, &ledger, &deps, ctx->cfg->env);
    entries = dd_xcalloc(deps.n + 1, sizeof(*entries));
    ms = dd_xcalloc(deps.n + 1, sizeof(*ms));
    for (size_t i = deps.n; i-- > 0;) { /* newest first */
        ms[n] = dd_xcalloc(deps.v[i].n ? deps.v[i].n : 1, sizeof(**ms));
        deploy_changelog_entry(&entries[n], ms[n], &hold, ctx->repo, &deps.v[i]);
        n++;
    }
    if (outside.n) {
        ms[n] = dd_xcalloc(outside.n, sizeof(**ms));
        deploy_changelog_entry(&entries[n], ms[n], &hold, ctx->repo, &outside);
        n++;
    }
    log_env = config_changelog_name(ctx->cfg);
    changelog_render_file(&content, log_env, entries, n);
    if (changelog_replace(&path, ctx->root, log_env, &content, &changed, &ctx->err) < 0)
        goto cleanup;
    if (o.commit) {
        char *msg = dd_xasprintf("changelog: %s deployment history (%zu deployment%s)\n\nRegenerated by 'dbdeploy "
                                 "changelog %s --commit' from the %s ledger.\n",
                                 ctx->cfg->env, deps.n, deps.n == 1 ? "" : "s", ctx->cfg->env, ctx->cfg->env);
        dd_strv_push(&paths, path);
        rc = repo_commit_files(ctx->repo, &paths, msg, commit, &ctx->err);
        free(msg);
        if (rc < 0)
            goto cleanup;
    }
    if (out_json()) {
        struct dd_json j;
        dd_json_document_begin(&j, &b, "changelog");
        dd_json_str(&j, "env", ctx->cfg->env);
        dd_json_str(&j, "file", path);
        dd_json_bool(&j, "changed", changed);
        dd_json_uint(&j, "deployments", deps.n);
        dd_json_str(&j, "commit", commit[0] ? commit : NULL);
        dd_json_obj_end(&j);
    } else {
        dd_buf_addf(&b, "%s: %s (%zu deployment%s)\n", path, changed ? "regenerated" : "unchanged", deps.n,
                    deps.n == 1 ? "" : "s");
        if (commit[0])
            dd_buf_addf(&b, "committed as %.7s\n", commit);
        else if (o.commit)
            dd_buf_adds(&b, "nothing to commit\n");
    }
    out_result_buf(&b);
    rc = 0;
cleanup:
    for (size_t i = 0; i < n; i++)
        free(ms[i]);
    free(ms);
    free(entries);
    free(path);
    free(log_env);
    db_deployment_release(&outside);
    db_deployments_release(&deps);
    db_ledger_release(&ledger);
    dd_buf_release(&content);
    dd_buf_release(&b);
    dd_strv_release(&hold);
    dd_strv_release(&paths);
    dd_strv_release(&args);
    return rc;
}
