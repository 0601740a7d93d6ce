#include "pipeline/deploy.h"

#include <stdio.h>

#include "config/config.h"
#include "db/db.h"

/*
 * The promotion gate: every migration about to be applied here must already be applied on the
 * [gate] requires environment, successfully, with the same checksum. Its ledger is only read.
 */
int stage_gate_run(void *ctx, char **note, struct dd_error *err)
{
    struct deploy *d = ctx;
    struct dd_config *gcfg = NULL;
    struct db_conn *gdb = NULL;
    struct db_ledger gl = DB_LEDGER_INIT;
    struct health_result hr = HEALTH_RESULT_INIT;
    struct dd_strv problems = DD_STRV_INIT;
    int rc = -1;

    if (!d->cfg->gate.requires) {
        *note = dd_xstrdup("no [gate] requires");
        return STAGE_SKIPPED;
    }
    d->gate_env = dd_xstrdup(d->cfg->gate.requires);
    if (config_load(&gcfg, d->cfg->root, d->gate_env, err) < 0) {
        dd_error_wrap(err, "loading the gate environment '%s' ([gate] requires in %s)", d->gate_env, d->cfg->env_file);
        goto cleanup;
    }
    if (!gcfg->db_url) {
        dd_error_set(err, DD_ECONFIG, "%s: [database] url is not set, so the gate cannot read %s's ledger",
                     gcfg->env_file, d->gate_env);
        goto cleanup;
    }
    if (db_connect(&gdb, gcfg, err) < 0 || db_ledger_load(&gl, gdb, gcfg->ledger_schema, err) < 0) {
        dd_error_wrap(err, "reading the ledger of %s for the gate", d->gate_env);
        goto cleanup;
    }
    for (size_t i = 0; i < d->plan.n; i++) {
        const struct migration *m = d->plan.v[i].m;
        const struct db_ledger_row *r = db_ledger_find(&gl, m->version);
        if (!r)
            dd_strv_pushf(&problems, "%s: not applied on %s", m->up.path, d->gate_env);
        else if (r->state == DB_LEDGER_DIRTY)
            dd_strv_pushf(&problems, "%s: dirty on %s (stopped after statement %d of %d)", m->up.path, d->gate_env,
                          r->statements_done, r->statements_total);
        else if (strcmp(r->checksum, m->checksum) != 0)
            dd_strv_pushf(&problems, "%s: %s applied different content (%s has %.15s, this commit %.15s)", m->up.path,
                          d->gate_env, d->gate_env, r->checksum, m->checksum);
    }
    if (problems.n) {
        dd_error_set(err, DD_EBLOCKED, "gate: %zu of %zu migration%s about to reach %s %s not on %s as they are here",
                     problems.n, d->plan.n, d->plan.n == 1 ? "" : "s", d->cfg->env, problems.n == 1 ? "is" : "are",
                     d->gate_env);
        for (size_t i = 0; i < problems.n; i++)
            dd_error_detail(err, "%s", problems.v[i]);
        dd_error_hint(err,
                      "Deploy this commit to %s first ('dbdeploy deploy %s'), then promote it; never edit a "
                      "migration between environments.",
                      d->gate_env, d->gate_env);
        goto cleanup;
    }
    if (d->cfg->gate.health) {
        int h = deploy_probe_health(&hr, gcfg, "gate", err);
        if (h < 0) {
            dd_error_recode(err, DD_EBLOCKED);
            dd_error_wrap(err, "checking the health of %s ([gate] health = true)", d->gate_env);
            goto cleanup;
        }
    }
    *note = dd_xasprintf("%s has all %zu (same checksums)%s", d->gate_env, d->plan.n,
                         d->cfg->gate.health ? " and is healthy" : "");
    rc = 0;
cleanup:
    health_result_release(&hr);
    dd_strv_release(&problems);
    db_ledger_release(&gl);
    db_free(gdb);
    config_free(gcfg);
    return rc;
}
