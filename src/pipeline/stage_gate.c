#include "pipeline/deploy.h"

#include <stdio.h>

#include "config/config.h"
#include "db/db.h"
#include "engine/gate.h"
#include "pipeline/rehearsal.h"

/*
 * The promotion requirement ([gate] requires, engine/gate.h): every migration about to be
 * applied here must already be applied on the required environment, successfully, with the
 * same checksum. Its ledger is only read.
 */
int stage_gate_run(void *ctx, char **note, struct dd_error *err)
{
    struct deploy *d = ctx;
    struct dd_config *gcfg = NULL;
    struct db_conn *gdb = NULL;
    struct db_ledger gl = DB_LEDGER_INIT;
    struct health_result hr = HEALTH_RESULT_INIT;
    struct engine_status gst = ENGINE_STATUS_INIT;
    struct engine_gate_result g = ENGINE_GATE_RESULT_INIT;
    char *rnote = NULL; /* [gate] rehearsal (pipeline/rehearsal.c) */
    int rc = -1;

    if (deploy_rehearsal_check(d, &rnote, err) < 0)
        return -1;
    if (!d->cfg->gate.requires) {
        *note = rnote ? rnote : dd_xstrdup("no [gate] requires");
        return rnote ? 0 : STAGE_SKIPPED;
    }
    d->gate_env = dd_xstrdup(d->cfg->gate.requires);
    /* from the commit being deployed, uncommitted changes blocking, like the deployed env's own file */
    if ((d->cfg->commit && d->repo
             ? config_load_committed(&gcfg, d->repo, d->cfg->root, d->gate_env, d->cfg->commit, 0, err)
             : config_load(&gcfg, d->cfg->root, d->gate_env, err)) < 0) {
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
    engine_status_build(&gst, &d->set, &gl);
    engine_gate_compare(&g, &gst, d->gate_env, ENGINE_GATE_PROMOTION, &d->plan);
    if (g.n) {
        size_t total = d->plan.n + d->plan.nrep;
        dd_error_set(err, DD_EBLOCKED, "gate: %zu of %zu migration%s about to reach %s %s not on %s as they are here",
                     g.n, total, total == 1 ? "" : "s", d->cfg->env, g.n == 1 ? "is" : "are", d->gate_env);
        for (size_t i = 0; i < g.n; i++)
            dd_error_detail(err, "%s: %s", engine_gate_kind_name(g.v[i].kind), g.v[i].message);
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
    *note = dd_xasprintf("%s has all %zu (same checksums)%s%s%s", d->gate_env, d->plan.n + d->plan.nrep,
                         d->cfg->gate.health ? " and is healthy" : "", rnote ? "; " : "", rnote ? rnote : "");
    rc = 0;
cleanup:
    free(rnote);
    health_result_release(&hr);
    engine_gate_result_release(&g);
    engine_status_release(&gst);
    db_ledger_release(&gl);
    db_free(gdb);
    config_free(gcfg);
    return rc;
}
