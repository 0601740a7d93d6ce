#include "pipeline/rehearsal.h"

#include <stdio.h>

#include "config/config.h"
#include "db/rehearsal.h"
#include "pipeline/deploy.h"
#include "util/parse.h"

char *deploy_plan_key(const struct engine_plan *p)
{
    struct dd_buf b = DD_BUF_INIT;

    for (size_t i = 0; i < p->n; i++)
        dd_buf_addf(&b, "%lld %s\n", (long long)p->v[i].m->version, p->v[i].m->checksum);
    return dd_buf_detach(&b, NULL);
}

/* Why the newest rehearsal of the environment does not count for this plan. */
static void explain_newest(struct deploy *d, const char *key, struct dd_error *err)
{
    struct db_rehearsal r;
    struct dd_error ignored = DD_ERROR_INIT;
    bool found;
    char age[32];

    if (db_rehearsal_find(&r, &found, d->db, d->cfg->ledger_schema, d->cfg->env, false, NULL, NULL, &ignored) < 0 ||
        !found) {
        dd_error_detail(err, "%s has no rehearsal on record", d->cfg->env);
    } else if (strcmp(r.result, "passed") != 0) {
        dd_error_detail(err, "the newest, #%lld at %.7s (%s), failed: %s", (long long)r.id,
                        r.git_commit ? r.git_commit : "working tree", r.finished_at, r.error ? r.error : "?");
    } else if (!d->set.commit != !r.git_commit || (r.git_commit && strcmp(r.git_commit, d->set.commit) != 0)) {
        dd_error_detail(err, "the newest, #%lld (%s), rehearsed commit %.7s, not %.7s", (long long)r.id, r.finished_at,
                        r.git_commit ? r.git_commit : "none", d->set.commit ? d->set.commit : "none");
    } else if (strcmp(r.plan, key) != 0) {
        dd_error_detail(err, "the newest, #%lld (%s), rehearsed other migrations (another backup, or %s changed since)",
                        (long long)r.id, r.finished_at, d->cfg->env);
    } else {
        dd_format_duration(age, sizeof(age), (uint64_t)(r.age_ms > 0 ? r.age_ms : 0));
        dd_error_detail(err, "the newest, #%lld (%s), is %s old: older than [gate] rehearsal-max-age", (long long)r.id,
                        r.finished_at, age);
    }
    db_rehearsal_release(&r);
    dd_error_release(&ignored);
}

int deploy_rehearsal_check(struct deploy *d, char **note, struct dd_error *err)
{
    bool required = d->cfg->gate.rehearsal == CONFIG_REHEARSAL_REQUIRED, found = false;
    uint64_t max_age = d->cfg->gate.rehearsal_max_age_ms;
    struct db_rehearsal r;
    char *key = NULL;
    char total[32];
    int rc = -1;

    *note = NULL;
    memset(&r, 0, sizeof(r));
    /* a deployment that does not require one does not pay for the look-up; plan shows it */
    if (!d->plan.n || (!required && !d->dry_run))
        return 0;
    key = deploy_plan_key(&d->plan);
    if (db_rehearsal_find(&r, &found, d->db, d->cfg->ledger_schema, d->cfg->env, true, d->set.commit, key, err) < 0)
        goto cleanup;
    if (found && (!max_age || r.age_ms <= (int64_t)max_age)) {
        d->rehearsal_id = r.id;
        d->rehearsal_ms = r.total_ms;
        d->rehearsal_at = r.finished_at;
        r.finished_at = NULL;
        dd_format_duration(total, sizeof(total), (uint64_t)r.total_ms);
        *note = dd_xasprintf("rehearsed (#%lld, %s): predicted %s", (long long)d->rehearsal_id, d->rehearsal_at, total);
    } else if (required) {
        dd_error_set(err, DD_EBLOCKED, "gate: no passed rehearsal of this plan (%zu migration%s at %.7s) for %s",
                     d->plan.n, DD_PLURAL(d->plan.n), d->set.commit ? d->set.commit : "the working tree", d->cfg->env);
        explain_newest(d, key, err);
        dd_error_hint(err,
                      "[gate] rehearsal = required: run 'dbdeploy rehearse %s' at this commit first; it applies the "
                      "plan to a copy of %s's newest backup and records the result.",
                      d->cfg->env, d->cfg->env);
        goto cleanup;
    }
    rc = 0;
cleanup:
    db_rehearsal_release(&r);
    free(key);
    return rc;
}
