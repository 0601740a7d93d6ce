#include "pipeline/deploy.h"

#include <stdio.h>

#include "config/config.h"

/*
 * Config, repository and migrations: read the committed migrations, join them with the
 * ledger, refuse changed/missing/dirty/out-of-order states, and plan. Nothing pending ends the
 * deployment here, touching nothing.
 */
int stage_preflight_run(void *ctx, char **note, struct dd_error *err)
{
    struct deploy *d = ctx;
    char *rp;

    if (engine_list_migrations(&d->set, d->repo, d->cfg, err) < 0 || deploy_plan(d, err) < 0)
        return -1;
    if (d->plan.n && deploy_check_way_back(d, err) < 0)
        return -1;
    if (!d->plan.n) {
        *note = dd_xasprintf("up to date: %zu migration%s applied, nothing pending", d->st.count[ENGINE_APPLIED],
                             DD_PLURAL(d->st.count[ENGINE_APPLIED]));
        return STAGE_FINISH;
    }
    rp = deploy_recovery_plan(d);
    *note = dd_xasprintf("%zu pending (%s .. %s)%s%.7s%s; %s", d->plan.n, d->plan.v[0].m->version_text,
                         d->plan.v[d->plan.n - 1].m->version_text, d->set.commit ? " at " : " from the working tree",
                         d->set.commit ? d->set.commit : "", d->one_tx ? ", in one transaction" : "", rp);
    free(rp);
    return 0;
}
