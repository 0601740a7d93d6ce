#include "pipeline/deploy.h"

#include <stdio.h>

#include "config/config.h"

int deploy_probe_health(struct health_result *res, const struct dd_config *cfg, const char *when, struct dd_error *err)
{
    struct health_opts o;

    (void)when;
    if (!cfg->health.url)
        return 1;
    health_opts_from_config(&o, cfg);
    return health_probe(res, &o, NULL, err);
}

static char *health_note(const struct health_result *r)
{
    if (!r->status)
        return dd_xasprintf("no answer after %u attempt%s", r->attempts, r->attempts == 1 ? "" : "s");
    return dd_xasprintf("%ld after %u attempt%s", r->status, r->attempts, r->attempts == 1 ? "" : "s");
}

/* Never deploy into an outage: the application must be healthy before anything changes. */
int stage_health_before_run(void *ctx, char **note, struct dd_error *err)
{
    struct deploy *d = ctx;
    int rc = deploy_probe_health(&d->health_before, d->cfg, "before", err);

    if (rc == 1) {
        *note = dd_xstrdup("no [health] url");
        return STAGE_SKIPPED;
    }
    d->health_configured = true;
    *note = health_note(&d->health_before);
    if (rc < 0) {
        dd_error_recode(err, DD_EBLOCKED);
        dd_error_hint(err, "The application is unhealthy before the deploy; dbdeploy never deploys into an outage. "
                           "Nothing was changed.");
        return -1;
    }
    return 0;
}

/* After apply: a failure here makes the runner undo apply (auto-restore). */
int stage_health_after_run(void *ctx, char **note, struct dd_error *err)
{
    struct deploy *d = ctx;
    int rc = deploy_probe_health(&d->health_after, d->cfg, "after", err);

    if (rc == 1) {
        *note = dd_xstrdup("no [health] url");
        return STAGE_SKIPPED;
    }
    *note = health_note(&d->health_after);
    return rc < 0 ? -1 : 0;
}
