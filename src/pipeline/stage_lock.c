#include "pipeline/deploy.h"

#include "notify/notify.h"

/*
 * Take the deployment lock for the rest of the run, create the ledger if needed, and decide
 * again under the lock: another deployment may have finished while we were checking.
 */
int stage_lock_run(void *ctx, char **note, struct dd_error *err)
{
    struct deploy *d = ctx;

    if (deploy_plan_locked(d, err) < 0)
        return -1;
    if (!d->plan.n && !d->plan.nrep) {
        *note = dd_xstrdup("another deployment applied everything meanwhile; up to date");
        return STAGE_FINISH;
    }
    *note = dd_xasprintf("held; %zu to apply", d->plan.n + d->plan.nrep);
    deploy_notify(d, NOTIFY_START);
    return 0;
}
