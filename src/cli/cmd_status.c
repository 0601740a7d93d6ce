#include "cli/cli.h"

#include <stdio.h>

#include "config/config.h"
#include "engine/adopt.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/out.h"

static const char *state_color(enum engine_state s)
{
    switch (s) {
    case ENGINE_APPLIED:
        return out_color(OUT_STDOUT, OUT_GREEN);
    case ENGINE_PENDING:
        return out_color(OUT_STDOUT, OUT_YELLOW);
    default:
        return out_color(OUT_STDOUT, OUT_RED);
    }
}

static const char *item_file(const struct engine_item *it)
{
    return it->m ? it->m->up.path : it->row->file;
}

/* "dirty 2/3": how far a no-transaction migration got before it stopped; else the state's name */
static const char *state_text(char *buf, size_t size, const struct engine_item *it)
{
    if (it->state == ENGINE_DIRTY && it->row && it->row->statements_total > 0) {
        snprintf(buf, size, "dirty %d/%d", it->row->statements_done, it->row->statements_total);
        return buf;
    }
    return engine_state_name(it->state);
}

static void dirty_lines(struct dd_buf *b, const struct engine_status *st)
{
    for (size_t i = 0; i < st->n; i++) {
        const struct db_ledger_row *r = st->v[i].row;
        if (st->v[i].state != ENGINE_DIRTY || !r)
            continue;
        dd_buf_addf(b, "%s is dirty: %d of %d statement%s done%s%s\n", r->file, r->statements_done, r->statements_total,
                    r->statements_total == 1 ? "" : "s", r->error ? "; it failed with: " : "",
                    r->error ? r->error : "");
    }
}

/* The repeatable migrations: whether the next apply or deploy runs them again. */
static void repeatable_text(struct dd_buf *b, const struct cli_env *e)
{
    if (!e->st.nrep)
        return;
    dd_buf_addf(b, "\n%-20s %-13s %-21s %s\n", "REPEATABLE", "STATE", "APPLIED", "FILE");
    for (size_t i = 0; i < e->st.nrep; i++) {
        const struct engine_rep_item *it = &e->st.rep[i];
        dd_buf_addf(b, "%-20s %s%-13s%s %-21s %s\n", "", out_color(OUT_STDOUT, it->changed ? OUT_YELLOW : OUT_GREEN),
                    engine_rep_state(it), out_color(OUT_STDOUT, OUT_RESET),
                    it->row && it->row->applied_at ? it->row->applied_at : "", it->m->up.path);
    }
    dd_buf_addf(b, "\n%zu repeatable: %zu unchanged, %zu to run again after the migrations\n", e->st.nrep,
                e->st.nrep - e->st.nrep_changed, e->st.nrep_changed);
}

static void repeatable_json(struct dd_json *j, const struct cli_env *e)
{
    dd_json_arr_begin(j, "repeatable");
    for (size_t i = 0; i < e->st.nrep; i++) {
        const struct engine_rep_item *it = &e->st.rep[i];
        dd_json_obj_begin(j, NULL);
        dd_json_str(j, "name", it->m->name);
        dd_json_str(j, "state", engine_rep_state(it));
        dd_json_str(j, "file", it->m->up.path);
        dd_json_str(j, "checksum", it->m->checksum);
        dd_json_str(j, "applied_checksum", it->row ? it->row->checksum : NULL);
        dd_json_str(j, "applied_at", it->row ? it->row->applied_at : NULL);
        dd_json_str(j, "applied_by", it->row ? it->row->applied_by : NULL);
        dd_json_str(j, "git_commit", it->row ? it->row->git_commit : NULL);
        dd_json_obj_end(j);
    }
    dd_json_arr_end(j);
}

static void render_text(struct dd_buf *b, const struct cli_ctx *ctx, const struct cli_env *e)
{
    const struct dd_config *cfg = ctx->cfg;
    size_t clashes = 0;

    dd_buf_addf(b, "environment  %s\ndatabase     %s\nledger       schema %s%s\n\n", cfg->env, cfg->db_url_masked,
                cfg->ledger_schema, e->ledger.exists ? "" : " (not created yet)");
    if (!e->st.n) {
        dd_buf_addf(b, "no migrations in %s/\n", cfg->migrations_dir);
        repeatable_text(b, e);
        return;
    }
    dd_buf_addf(b, "%-20s %-13s %-21s %s\n", "VERSION", "STATE", "APPLIED", "FILE");
    for (size_t i = 0; i < e->st.n; i++) {
        const struct engine_item *it = &e->st.v[i];
        const char *vt = it->m ? it->m->version_text : NULL;
        char vbuf[32], sbuf[32];
        const char *state = state_text(sbuf, sizeof(sbuf), it);
        if (!vt) {
            snprintf(vbuf, sizeof(vbuf), "%lld", (long long)it->version);
            vt = vbuf;
        }
        if (engine_clash_from_git(e->opts.explain_arg, it, cfg->env, NULL))
            state = "clash";
        /* "%-20s %s%-13s%s %-21s %s\n", spelled out: printf was a third of status with 10,000 rows */
        dd_buf_add_padded(b, vt, 20);
        dd_buf_addch(b, ' ');
        dd_buf_adds(b, state_color(it->state));
        dd_buf_add_padded(b, state, 13);
        dd_buf_adds(b, out_color(OUT_STDOUT, OUT_RESET));
        dd_buf_addch(b, ' ');
        dd_buf_add_padded(b, it->row && it->row->applied_at ? it->row->applied_at : "", 21);
        dd_buf_addch(b, ' ');
        dd_buf_adds(b, item_file(it));
        dd_buf_addch(b, '\n');
        /* -v: what each applied migration changed in the schema, as the ledger recorded it */
        if (out_verbosity() == OUT_VERBOSE && it->row && it->row->changes)
            dd_buf_addf(b, "%-20s changes: %s\n", "", it->row->changes);
    }
    /* a dirty migration stopped part-way: it is neither applied nor pending, so it is only counted below */
    dd_buf_addf(b, "\n%zu applied, %zu pending",
                e->st.count[ENGINE_APPLIED] + e->st.count[ENGINE_MODIFIED] + e->st.count[ENGINE_RENAMED] +
                    e->st.count[ENGINE_MISSING],
                e->st.count[ENGINE_PENDING] + e->st.count[ENGINE_OUT_OF_ORDER]);
    /* the problems, each counted once more on their own (clashes apart from the edits) */
    for (size_t i = 0; i < e->st.n; i++)
        clashes += engine_clash_from_git(e->opts.explain_arg, &e->st.v[i], cfg->env, NULL);
    for (int s = ENGINE_DIRTY, first = 1; s <= ENGINE_OUT_OF_ORDER; s++) {
        size_t n = e->st.count[s] - (s == ENGINE_MODIFIED ? clashes : 0);
        if (n) {
            dd_buf_addf(b, "%s%zu %s", first ? "; " : ", ", n, engine_state_name((enum engine_state)s));
            first = 0;
        }
        if (s == ENGINE_MODIFIED && clashes) {
            dd_buf_addf(b, "%s%zu clash%s", first ? "; " : ", ", clashes, clashes == 1 ? "" : "es");
            first = 0;
        }
    }
    dd_buf_addch(b, '\n');
    dirty_lines(b, &e->st);
    /* a version another branch took is not an edit: say so, with the fix */
    for (size_t i = 0; i < e->st.n; i++)
        if (engine_clash_from_git(e->opts.explain_arg, &e->st.v[i], cfg->env, b))
            dd_buf_addch(b, '\n');
    repeatable_text(b, e);
}

static void render_json(struct dd_buf *b, const struct cli_ctx *ctx, const struct cli_env *e)
{
    struct dd_json j;

    dd_json_document_begin(&j, b, "status");
    dd_json_str(&j, "env", ctx->cfg->env);
    dd_json_str(&j, "database", ctx->cfg->db_url_masked);
    dd_json_str(&j, "ledger_schema", ctx->cfg->ledger_schema);
    dd_json_bool(&j, "ledger_exists", e->ledger.exists);
    dd_json_obj_begin(&j, "counts");
    for (int s = ENGINE_APPLIED; s <= ENGINE_OUT_OF_ORDER; s++)
        dd_json_uint(&j, engine_state_name((enum engine_state)s), e->st.count[s]);
    dd_json_obj_end(&j);
    dd_json_arr_begin(&j, "migrations");
    for (size_t i = 0; i < e->st.n; i++) {
        const struct engine_item *it = &e->st.v[i];
        dd_json_obj_begin(&j, NULL);
        dd_json_int(&j, "version", it->version);
        dd_json_str(&j, "name", it->m ? it->m->name : it->row->name);
        /* a different migration with this version, applied from another branch: not an edit */
        dd_json_str(&j, "state",
                    engine_clash_from_git(e->opts.explain_arg, it, ctx->cfg->env, NULL) ? "clash"
                                                                                        : engine_state_name(it->state));
        dd_json_str(&j, "file", item_file(it));
        dd_json_str(&j, "checksum", it->m ? it->m->checksum : NULL);
        dd_json_str(&j, "applied_checksum", it->row ? it->row->checksum : NULL);
        dd_json_str(&j, "applied_at", it->row ? it->row->applied_at : NULL);
        dd_json_str(&j, "applied_by", it->row ? it->row->applied_by : NULL);
        dd_json_str(&j, "git_commit", it->row ? it->row->git_commit : NULL);
        dd_json_str(&j, "changes", it->row ? it->row->changes : NULL);
        if (it->row && it->row->state == DB_LEDGER_DIRTY) {
            dd_json_int(&j, "statements_done", it->row->statements_done);
            dd_json_int(&j, "statements_total", it->row->statements_total);
            dd_json_str(&j, "error", it->row->error);
        }
        dd_json_obj_end(&j);
    }
    dd_json_arr_end(&j);
    if (e->st.nrep)
        repeatable_json(&j, e); /* documents of projects without repeatable migrations keep their shape */
    dd_json_obj_end(&j);
}

const struct cli_spec cli_spec_status = {
    .brief = "show applied, pending and problem migrations",
    .name = "status",
    .usage = "ENV",
    .summary = "Show every migration of ENV: applied, pending, or a problem "
               "(dirty, modified, renamed, missing, out-of-order); then the repeatable migrations: "
               "new, changed (they run again after the migrations) or unchanged.",
    .details = "Read-only: it never creates the ledger or takes the deployment lock. Exit status "
               "0 whatever the states; 'dbdeploy gate ENV' is the check that fails. On a fleet it shows every "
               "target in turn (--target NAME: one).",
    .min_args = 1,
    .max_args = 1,
};

int cmd_status(struct cli_ctx *ctx, int argc, char **argv)
{
    struct dd_strv args = DD_STRV_INIT;
    struct cli_env e = CLI_ENV_INIT;
    struct dd_buf b = DD_BUF_INIT;
    int rc = -1, p;

    p = cli_parse(ctx, &cli_spec_status, NULL, argc, argv, &args);
    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    if (cli_need_config(ctx, args.v[0]) < 0)
        goto cleanup;
    if (cli_fleet_wide(ctx)) {
        rc = cli_fleet_aggregate(ctx, "status", NULL);
        goto cleanup;
    }
    if (cli_env_load(&e, ctx, args.v[0]) < 0 || engine_foreign_check(ctx->db, &e.ledger, &e.opts, &ctx->err) < 0)
        goto cleanup;
    if (out_json())
        render_json(&b, ctx, &e);
    else
        render_text(&b, ctx, &e);
    out_result_buf(&b);
    rc = 0;
cleanup:
    dd_buf_release(&b);
    cli_env_release(&e);
    dd_strv_release(&args);
    return rc;
}
