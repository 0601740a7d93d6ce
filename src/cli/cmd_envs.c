/*
 * dbdeploy envs: the environments defined under pipeline/, each with its database (masked) and
 * what protects it: where its migrations come from (committed tree or working tree), the
 * promotion requirement, backups and automatic restore, and its health check. Connects to
 * nothing. An environment whose file cannot be loaded is listed with the error, and the command
 * then fails with that error, so a broken file never hides.
 */
#include "cli/cli.h"

#include "config/config.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/out.h"

struct env_row {
    const char *name;
    struct dd_config *cfg; /* NULL when loading failed */
    struct dd_error err;
};

static const char *source_of(const struct dd_config *c)
{
    return c->allow_dirty ? "working tree" : "committed";
}

/* "yes", "yes, from main release/x" or "-": confirmation and the branches it deploys from */
static char *protection_of(const struct dd_config *c)
{
    if (c->deploy.branches)
        return dd_xasprintf("%s%s", c->environment.protected_env ? "yes, from " : "from ", c->deploy.branches);
    return dd_xstrdup(c->environment.protected_env ? "yes" : "-");
}

static void render_text(struct dd_buf *b, const struct env_row *rows, size_t n)
{
    dd_buf_addf(b, "%-14s %-13s %-10s %-8s %-7s %-10s %s\n", "ENV", "MIGRATIONS", "REQUIRES", "BACKUP", "HEALTH",
                "PROTECTED", "DATABASE");
    for (size_t i = 0; i < n; i++) {
        const struct dd_config *c = rows[i].cfg;
        char *prot;
        if (!c) {
            dd_buf_addf(b, "%-14s error: %s\n", rows[i].name, dd_error_msg(&rows[i].err));
            continue;
        }
        prot = protection_of(c);
        dd_buf_addf(b, "%-14s %-13s %-10s %-8s %-7s %-10s %s\n", rows[i].name, source_of(c),
                    c->gate.requires ? c->gate.requires : "-",
                    !c->backup.enabled      ? "off"
                    : c->restore.on_failure ? "restore"
                                            : "on",
                    c->health.url ? "yes" : "no", prot, c->db_url_masked ? c->db_url_masked : "(none)");
        free(prot);
    }
    if (!n)
        dd_buf_adds(b, "(no environments: add pipeline/<env>.conf, or run 'dbdeploy init')\n");
}

static void render_json(struct dd_buf *b, const struct env_row *rows, size_t n)
{
    struct dd_json j;

    dd_json_document_begin(&j, b, "envs");
    dd_json_arr_begin(&j, "environments");
    for (size_t i = 0; i < n; i++) {
        const struct dd_config *c = rows[i].cfg;
        dd_json_obj_begin(&j, NULL);
        dd_json_str(&j, "name", rows[i].name);
        if (c) {
            dd_json_str(&j, "file", c->env_file);
            dd_json_str(&j, "database", c->db_url_masked);
            dd_json_str(&j, "migrations_from", source_of(c));
            dd_json_str(&j, "requires", c->gate.requires);
            dd_json_bool(&j, "backup", c->backup.enabled);
            dd_json_bool(&j, "restore_on_failure", c->restore.on_failure);
            dd_json_bool(&j, "health_check", c->health.url != NULL);
            dd_json_bool(&j, "protected", c->environment.protected_env);
            dd_json_str(&j, "deploy_branches", c->deploy.branches);
            dd_json_null(&j, "error");
        } else {
            dd_json_str(&j, "error", dd_error_msg(&rows[i].err));
        }
        dd_json_obj_end(&j);
    }
    dd_json_arr_end(&j);
    dd_json_obj_end(&j);
}

const struct cli_spec cli_spec_envs = {
    .brief = "list the environments with their database (masked) and protection",
    .name = "envs",
    .usage = "",
    .summary = "List the environments defined under pipeline/, with their database (password masked) and what "
               "protects them.",
    .details =
        "MIGRATIONS says whether deploys read the committed tree or the working tree ([git] allow-dirty); "
        "REQUIRES is the environment every migration must reach first ([gate] requires); BACKUP is off, "
        "on, or restore (a failed deploy restores automatically); PROTECTED is yes when commands that change the "
        "database outside deploy ask for confirmation ([environment] protected), followed by the branches "
        "deploys must come from ([deploy] branches). Connects to no database.",
    .min_args = 0,
    .max_args = 0,
};

int cmd_envs(struct cli_ctx *ctx, int argc, char **argv)
{
    struct dd_strv args = DD_STRV_INIT, names = DD_STRV_INIT;
    struct env_row *rows = NULL;
    struct dd_buf b = DD_BUF_INIT;
    const struct env_row *broken = NULL;
    int rc = -1, p;

    p = cli_parse(ctx, &cli_spec_envs, NULL, argc, argv, &args);
    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    if (config_list_envs(&names, ctx->root, &ctx->err) < 0)
        goto cleanup;
    rows = dd_xcalloc(names.n ? names.n : 1, sizeof(*rows));
    for (size_t i = 0; i < names.n; i++) {
        rows[i].name = names.v[i];
        rows[i].err = (struct dd_error)DD_ERROR_INIT;
        if (config_load(&rows[i].cfg, ctx->root, names.v[i], &rows[i].err) < 0 && !broken)
            broken = &rows[i];
    }
    if (out_json())
        render_json(&b, rows, names.n);
    else
        render_text(&b, rows, names.n);
    out_result_buf(&b);
    if (broken) {
        dd_error_set(&ctx->err, broken->err.code, "%s", dd_error_msg(&broken->err));
        if (broken->err.hint)
            dd_error_hint(&ctx->err, "%s", broken->err.hint);
        goto cleanup;
    }
    rc = 0;
cleanup:
    for (size_t i = 0; rows && i < names.n; i++) {
        config_free(rows[i].cfg);
        dd_error_release(&rows[i].err);
    }
    free(rows);
    dd_buf_release(&b);
    dd_strv_release(&names);
    dd_strv_release(&args);
    return rc;
}
