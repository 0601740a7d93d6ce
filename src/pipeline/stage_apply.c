#include "pipeline/deploy.h"

#include <stdio.h>

#include "config/config.h"
#include "db/db.h"
#include "util/out.h"

int stage_apply_run(void *ctx, char **note, struct dd_error *err)
{
    struct deploy *d = ctx;
    int rc = engine_run(&d->applied, d->db, &d->plan, &d->opts, d->set.commit, err);

    /* committed migrations, or a no-transaction file that may have run part-way, changed the database */
    d->db_changed = d->applied.n > 0 || d->applied.nrep > 0 ||
                    (rc < 0 && d->applied.failed_index < d->plan.n &&
                     d->plan.v[d->applied.failed_index].exec.mode == MIGRATION_EXEC_NO_TX);
    if (rc < 0)
        return -1;
    if (d->applied.nrep)
        *note = dd_xasprintf("%zu migration%s, %zu repeatable", d->applied.n, d->applied.n == 1 ? "" : "s",
                             d->applied.nrep);
    else
        *note = dd_xasprintf("%zu migration%s", d->applied.n, d->applied.n == 1 ? "" : "s");
    return 0;
}

/* The recovery ladder (pipeline/recover.c). */
int stage_apply_undo(void *ctx, char **note, struct dd_error *err)
{
    return deploy_recover(ctx, note, err);
}
