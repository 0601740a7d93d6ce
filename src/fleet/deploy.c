/* `deploy ENV` over a fleet: every target planned first, then the rollout in waves. */
#include "fleet/fleet.h"

int fleet_status_error(struct dd_error *err, int status, const char *what, const char *env)
{
    enum dd_errcode code = status == 2   ? DD_ECONFIG
                           : status == 3 ? DD_EBLOCKED
                           : status == 4 ? DD_ERESTORED
                           : status == 5 ? DD_ERESTOREFAIL
                                         : DD_ECHILD;

    dd_error_set(err, code, "%s of fleet '%s' failed on some targets (the worst exited %d)", what, env, status);
    dd_error_hint(err, "The summary names each target's result; 'dbdeploy status %s --target NAME' shows one.", env);
    return -1;
}

static void outcomes_release(struct fleet_outcome *o, size_t n)
{
    for (size_t i = 0; o && i < n; i++)
        fleet_outcome_release(&o[i]);
    free(o);
}

int fleet_deploy(struct dd_buf *out, int *exit_status, const struct dd_config *cfg, const struct fleet_deploy_opts *o,
                 struct dd_error *err)
{
    struct fleet_targets t = FLEET_TARGETS_INIT;
    struct fleet_outcome *plan = NULL, *roll = NULL;
    struct dd_strv plan_args = DD_STRV_INIT;
    size_t ends[FLEET_WAVES_MAX];
    struct fleet_summary s = {0};
    struct fleet_run_opts r = {0};
    bool planned_ok = true;
    int rc = -1, waves;

    if (fleet_targets_resolve(&t, cfg, err) < 0)
        goto cleanup;
    if (!t.n) {
        dd_error_set(err, DD_ECONFIG, "%s: [targets] lists no target", cfg->env_file);
        dd_error_hint(err, "Name at least one database in [targets] url, file or query.");
        goto cleanup;
    }
    s.env = o->env;
    s.command = "deploy";
    s.targets = &t;
    s.wave_ends = ends;
    s.nwaves = fleet_plan_waves(ends, &cfg->rollout.waves, t.n);
    s.dry_run = o->dry_run;

    /* the plan: read-only on every target, and no halt, so every problem shows before any change */
    plan = dd_xcalloc(t.n, sizeof(*plan));
    dd_strv_push(&plan_args, "--dry-run");
    if (o->extra)
        dd_strv_pushv(&plan_args, (const char *const *)o->extra->v);
    r.exe = o->exe;
    r.root = o->root;
    r.env = o->env;
    r.command = "deploy";
    r.extra = &plan_args;
    r.json = true;
    r.parallel = cfg->rollout.parallel;
    r.commit = cfg->commit;
    if (fleet_run(plan, &t, &r, err) < 0)
        goto cleanup;
    s.plan = plan;
    for (size_t i = 0; i < t.n; i++)
        planned_ok = planned_ok && plan[i].exit_status == 0;

    if (planned_ok && !o->dry_run) {
        roll = dd_xcalloc(t.n, sizeof(*roll));
        r.extra = o->extra;
        r.halt_failures = cfg->rollout.halt_failures;
        r.wave_ends = ends;
        r.nwaves = s.nwaves;
        waves = fleet_run(roll, &t, &r, err);
        if (waves < 0)
            goto cleanup;
        s.rollout = roll;
        s.waves_started = (size_t)waves;
    }
    *exit_status = fleet_summary_render(out, &s, o->json);
    rc = 0;
cleanup:
    outcomes_release(plan, t.n);
    outcomes_release(roll, t.n);
    dd_strv_release(&plan_args);
    fleet_targets_release(&t);
    return rc;
}
