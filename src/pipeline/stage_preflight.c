#include "pipeline/deploy.h"

#include <stdio.h>

#include "config/config.h"
#include "util/out.h"

/*
 * Drift: the schema changed outside dbdeploy since its last run (engine/drift.c). Blocks unless
 * the deployment accepts it with a reason, which the record keeps; [schema] drift = warn only
 * says so, off does not look.
 */
static int check_drift(struct deploy *d, struct dd_error *err)
{
    struct engine_drift drift;
    int rc = -1;

    if (d->cfg->schema.drift == CONFIG_DRIFT_OFF)
        return 0;
    if (engine_drift_check(&drift, d->db, d->cfg->ledger_schema, err) < 0)
        goto cleanup;
    rc = 0;
    if (!drift.drifted) {
        if (d->accept_drift)
            log_info("no drift to accept: the schema is the one dbdeploy recorded");
        goto cleanup;
    }
    if (d->accept_drift) {
        char *changes = dd_strv_join(&drift.changes, "; ");
        d->drift_accepted = dd_xasprintf("%s: %s", d->accept_drift, changes);
        d->opts.drift_accepted = true;
        log_warn("deploying over schema drift (accepted: %s): %s", d->accept_drift, changes);
        free(changes);
    } else if (d->cfg->schema.drift == CONFIG_DRIFT_WARN) {
        for (size_t i = 0; i < drift.changes.n; i++)
            log_warn("schema drift on %s: %s", d->cfg->env, drift.changes.v[i]);
    } else {
        dd_error_set(err, DD_EBLOCKED, "the schema of %s changed outside dbdeploy since its last run (%zu change%s)",
                     d->cfg->env, drift.changes.n, DD_PLURAL(drift.changes.n));
        for (size_t i = 0; i < drift.changes.n; i++)
            dd_error_detail(err, "%s", drift.changes.v[i]);
        dd_error_hint(err,
                      "Find out who changed it and why. Then put the change in a migration, or undo it by hand, or "
                      "deploy anyway with --accept-drift \"REASON\" (recorded in the ledger and the changelog).");
        rc = -1;
    }
cleanup:
    engine_drift_release(&drift);
    return rc;
}

/*
 * Config, repository and migrations: read the committed migrations, join them with the
 * ledger, refuse changed/missing/dirty/out-of-order states, drift, and plan. Nothing pending
 * ends the deployment here, touching nothing.
 */
int stage_preflight_run(void *ctx, char **note, struct dd_error *err)
{
    struct deploy *d = ctx;
    char *rp;

    if (engine_list_migrations(&d->set, d->repo, d->cfg, err) < 0 || deploy_plan(d, err) < 0)
        return -1;
    if (check_drift(d, err) < 0)
        return -1;
    if ((d->plan.n || d->plan.nrep) && deploy_check_way_back(d, err) < 0)
        return -1;
    if (!d->plan.n && !d->plan.nrep) {
        *note = dd_xasprintf("up to date: %zu migration%s applied, nothing pending", d->st.count[ENGINE_APPLIED],
                             DD_PLURAL(d->st.count[ENGINE_APPLIED]));
        return STAGE_FINISH;
    }
    rp = deploy_recovery_plan(d);
    if (!d->plan.n)
        *note = dd_xasprintf("%zu repeatable migration%s changed%s%.7s%s; %s", d->plan.nrep, DD_PLURAL(d->plan.nrep),
                             d->set.commit ? " at " : " in the working tree", d->set.commit ? d->set.commit : "",
                             d->one_tx ? ", in one transaction" : "", rp);
    else
        *note =
            dd_xasprintf("%zu pending (%s .. %s)%s%.7s%s; %s", d->plan.n, d->plan.v[0].m->version_text,
                         d->plan.v[d->plan.n - 1].m->version_text, d->set.commit ? " at " : " from the working tree",
                         d->set.commit ? d->set.commit : "", d->one_tx ? ", in one transaction" : "", rp);
    if (d->plan.n && d->plan.nrep) {
        char *more =
            dd_xasprintf("%s; then %zu changed repeatable migration%s", *note, d->plan.nrep, DD_PLURAL(d->plan.nrep));
        free(*note);
        *note = more;
    }
    free(rp);
    return 0;
}
