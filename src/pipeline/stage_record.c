#include "pipeline/deploy.h"

#include <stdio.h>

#include "config/config.h"
#include "db/db.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/fs.h"
#include "util/mask.h"
#include "util/out.h"
#include "schema/schema.h"

static void stages_json(struct dd_buf *out, const struct pipeline_run *run)
{
    struct dd_json j;

    dd_json_init(&j, out);
    deploy_stages_json(&j, NULL, run, false);
}

/*
 * [schema] source = this environment: a successful deployment rewrites the schema file, so it
 * follows the migrations without anyone remembering to update it. A failure here only warns:
 * the deployment itself succeeded and is on record.
 */
static void rewrite_schema_file(struct deploy *d)
{
    struct dd_buf text = DD_BUF_INIT;
    struct dd_error e = DD_ERROR_INIT;
    char *path = dd_path_join(d->cfg->root, d->cfg->schema.file);

    if (schema_dump(&text, d->db, d->cfg, &e) < 0 || dd_write_file_atomic(path, text.buf, text.len, 0644, &e) < 0)
        log_warn("could not rewrite %s ([schema] source = %s): %s", d->cfg->schema.file, d->cfg->env, dd_error_msg(&e));
    else
        log_info("rewrote %s from %s ([schema] source); commit it", d->cfg->schema.file, d->cfg->env);
    free(path);
    dd_error_release(&e);
    dd_buf_release(&text);
}

/*
 * Runs after success and after any restore (STAGE_ALWAYS): the deployment's row goes into the
 * ledger of the database as it is now, and its entry into changelog/<env>/CHANGELOG.md, so the
 * history of a failure survives the restore that rewound everything else.
 */
int stage_record_run(void *ctx, char **note, struct dd_error *err)
{
    struct deploy *d = ctx;
    struct db_deployments one = {NULL, 0};
    struct dd_buf stages = DD_BUF_INIT;
    int rc = -1;

    d->finished_ms = dd_epoch_ms();
    d->result = deploy_result_of(d);
    /* exit 2 before any change (bad input or configuration) means nothing was done: no deployment */
    if (d->result == DEPLOY_UP_TO_DATE || d->result == DEPLOY_PLANNED || d->result == DEPLOY_BLOCKED ||
        (d->result == DEPLOY_FAILED && !d->db_changed && dd_error_exit_status(d->err) == DD_EXIT_USAGE)) {
        *note = dd_xstrdup("nothing to record");
        return STAGE_SKIPPED;
    }
    if (d->err && dd_error_isset(d->err) && !d->error)
        d->error = dd_mask_str(dd_error_msg(d->err));
    stages_json(&stages, &d->run); /* masked value by value by util/json */
    one.v = dd_xcalloc(1, sizeof(*one.v));
    one.n = 1;
    deploy_to_record(&one.v[0], d, stages.buf);
    /* held since the lock stage; after a restore the session may be new and must be checked first */
    if ((db_lock_held(d->db) && db_lock_acquire(d->db, d->cfg->lock_wait_ms, err) < 0) ||
        db_ledger_ensure(d->db, d->cfg->ledger_schema, err) < 0 ||
        db_deployment_insert(d->db, d->cfg->ledger_schema, &one.v[0], err) < 0)
        goto cleanup;
    d->record_id = one.v[0].id;
    if (deploy_changelog(d, &one.v[0], err) < 0)
        goto cleanup;
    *note = dd_xasprintf("deployment #%lld, %s", (long long)d->record_id, d->changelog_path);
    if (d->result == DEPLOY_APPLIED && dd_streq(d->cfg->schema.source, d->cfg->env))
        rewrite_schema_file(d);
    rc = 0;
cleanup:
    db_deployments_release(&one);
    dd_buf_release(&stages);
    return rc;
}
