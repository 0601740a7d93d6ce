#include "cli/cli.h"

#include <stdio.h>

#include "changelog/changelog.h"
#include "config/config.h"
#include "engine/immutable.h"
#include "git/git.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/out.h"

struct verify_opts {
    const char *base;
    bool allow_out_of_order;
};

/* How the base was chosen, said on every run: a wrong base silently passes everything. */
static char *base_origin(const struct verify_opts *o, const struct dd_config *cfg)
{
    if (o->base)
        return dd_xstrdup("--base");
    if (cfg->protected_branch)
        return dd_xasprintf("[git] protected-branch in %s", CONFIG_SHARED_FILE);
    return dd_xstrdup("the default: the remote's main branch; set [git] protected-branch or pass --base to choose");
}

static void report(struct engine_verify *v, size_t nmig, const char *origin)
{
    struct dd_buf b = DD_BUF_INIT;
    char base_short[8];

    snprintf(base_short, sizeof(base_short), "%.7s", v->base);
    if (out_json()) {
        struct dd_json j;
        dd_json_document_begin(&j, &b, "verify");
        dd_json_str(&j, "base", v->base_name);
        dd_json_str(&j, "base_from", origin);
        dd_json_bool(&j, "base_is_head", strcmp(v->base, v->head) == 0);
        dd_json_str(&j, "base_commit", v->base);
        dd_json_str(&j, "head_commit", v->head);
        dd_json_uint(&j, "migrations", nmig);
        dd_json_bool(&j, "ok", v->problems.n == 0);
        dd_json_arr_begin(&j, "problems");
        for (size_t i = 0; i < v->problems.n; i++) {
            dd_json_obj_begin(&j, NULL);
            dd_json_str(&j, "kind", v->kinds.v[i]);
            dd_json_str(&j, "message", v->problems.v[i]);
            dd_json_obj_end(&j);
        }
        dd_json_arr_end(&j);
        dd_json_obj_end(&j);
    } else if (!v->problems.n && strcmp(v->base, v->head) == 0) {
        dd_buf_addf(&b,
                    "ok: %zu migration%s; HEAD is %s (%s) itself or behind it, so nothing unpublished was compared "
                    "(only the changelogs were checked)\n",
                    nmig, DD_PLURAL(nmig), v->base_name, base_short);
    } else if (!v->problems.n) {
        dd_buf_addf(&b,
                    "ok: %zu migration%s; nothing published in %s (%s) was changed, and new versions are in order\n",
                    nmig, DD_PLURAL(nmig), v->base_name, base_short);
    }
    out_result_buf(&b);
    dd_buf_release(&b);
}

static const struct cli_opt verify_options[] = {
    CLI_OPT_STRING(0, "base", struct verify_opts, base, "REF",
                   "compare with the merge base of REF and HEAD (default: [git] protected-branch)"),
    CLI_OPT_BOOL(0, "allow-out-of-order", struct verify_opts, allow_out_of_order,
                 "accept new migrations whose version is not above the newest in REF"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_verify = {
    .brief = "check that no published migration was changed (for CI; no database)",
    .name = "verify",
    .usage = "[--base REF] [--allow-out-of-order]",
    .summary = "Check, without a database, that HEAD changes no published migration: fails (exit 3) when a migration "
               "that exists at the merge base of REF and HEAD was modified, deleted or renamed, when a new migration's "
               "version is not above the newest in REF, when two files share a version, or when a migration that an "
               "environment's changelog records as applied differs from its file.",
    .details =
        "REF defaults to [git] protected-branch, else the remote's main branch (origin/HEAD, as git clone sets it, "
        "else origin/main or origin/master), else main or master; the ref used is always named. Edits that only change "
        "line endings or whitespace are edits too: checksums cover exact bytes. Meant for CI on every push and merge "
        "request.",
    .opts = verify_options,
    .min_args = 0,
    .max_args = 0,
};

int cmd_verify(struct cli_ctx *ctx, int argc, char **argv)
{
    struct verify_opts o = {NULL, false};
    struct dd_strv args = DD_STRV_INIT;
    struct engine_verify v;
    struct migration_set set = MIGRATION_SET_INIT;
    char mb[REPO_OID_HEX_LEN + 1];
    char *default_base = NULL, *origin = NULL;
    int rc = -1, p;

    memset(&v, 0, sizeof(v));
    dd_strv_init(&v.problems);
    dd_strv_init(&v.kinds);
    p = cli_parse(ctx, &cli_spec_verify, &o, argc, argv, &args);
    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    if (cli_need_config(ctx, NULL) < 0 || cli_need_repo(ctx) < 0)
        goto cleanup;
    v.allow_out_of_order = o.allow_out_of_order || ctx->cfg->out_of_order;
    default_base = o.base ? NULL : engine_protected_branch(ctx->repo, ctx->cfg->protected_branch);
    v.base_name = o.base ? o.base : default_base;
    if (!v.base_name)
        v.base_name = "main"; /* named in the error below */
    origin = base_origin(&o, ctx->cfg);
    if (repo_resolve(ctx->repo, "HEAD", v.head, &ctx->err) < 0)
        goto cleanup;
    if (!repo_rev_exists(ctx->repo, v.base_name)) {
        dd_error_set(&ctx->err, DD_EUSAGE, "the base '%s' does not exist in this repository", v.base_name);
        dd_error_hint(&ctx->err, "Fetch it (git fetch origin), pass --base REF, or set [git] protected-branch in "
                                 "pipeline/dbdeploy.conf.");
        goto cleanup;
    }
    if (repo_merge_base(mb, ctx->repo, v.base_name, "HEAD", &ctx->err) < 0)
        goto cleanup;
    if (!mb[0]) {
        dd_error_set(&ctx->err, DD_EUSAGE, "HEAD and '%s' share no history", v.base_name);
        dd_error_hint(&ctx->err, "Pass --base with a branch HEAD was created from.");
        goto cleanup;
    }
    memcpy(v.base, mb, sizeof(v.base));
    log_info("verify: comparing HEAD with %s (merge base %.7s; base from %s)", v.base_name, v.base, origin);
    if (strcmp(v.base, v.head) == 0)
        log_warn("HEAD is %s itself (or behind it): its migrations are all published, so no edit can be found "
                 "by comparing; pass --base with the commit before this change (in CI: the previous push)",
                 v.base_name);
    /* duplicates and malformed names in HEAD are failures of the check, not usage errors */
    if (cli_load_migrations_at(&set, ctx, v.head) < 0) {
        if (ctx->err.code == DD_EINPUT)
            dd_error_recode(&ctx->err, DD_EBLOCKED);
        goto cleanup;
    }
    v.repo = ctx->repo;
    v.root = ctx->root;
    v.dir = ctx->cfg->migrations_dir;
    if (engine_verify_published(&v, &set, &ctx->err) < 0)
        goto cleanup;
    report(&v, set.n, origin);
    if (v.problems.n) {
        char base_short[8];
        snprintf(base_short, sizeof(base_short), "%.7s", v.base);
        dd_error_set(&ctx->err, DD_EBLOCKED, "%zu published migration problem%s between %s (%s) and HEAD", v.problems.n,
                     v.problems.n == 1 ? "" : "s", v.base_name, base_short);
        for (size_t i = 0; i < v.problems.n; i++)
            dd_error_detail(&ctx->err, "%s", v.problems.v[i]);
        /* the merge base, not the branch name: that is the published version, and it works from any branch */
        dd_error_hint(&ctx->err,
                      "Published migrations are immutable: restore them (git checkout %s -- <file>) and "
                      "make the change in a new migration (dbdeploy new NAME).",
                      base_short);
        goto cleanup;
    }
    rc = 0;
cleanup:
    free(default_base);
    free(origin);
    migration_set_release(&set);
    engine_verify_release(&v);
    dd_strv_release(&args);
    return rc;
}
