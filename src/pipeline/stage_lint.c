#include "pipeline/deploy.h"

#include <stdio.h>

#include "config/config.h"
#include "db/db.h"

int deploy_lint_catalog(struct lint_run *r, struct db_conn *db, struct dd_error *err)
{
    struct db_table_sizes sizes = DB_TABLE_SIZES_INIT;

    if (db_table_sizes_read(&sizes, db, err) < 0) {
        dd_error_wrap(err, "reading table sizes for lint");
        return -1;
    }
    for (size_t i = 0; i < sizes.n; i++)
        lint_run_add_table(r, sizes.v[i].name, sizes.v[i].rows, sizes.v[i].bytes);
    r->have_catalog = true;
    db_table_sizes_release(&sizes);
    return 0;
}

/*
 * Lint the planned migrations, in apply order and each the way it will run (one transaction
 * or not), against the target's catalog: the same verdict as `dbdeploy lint ENV`. Read-only,
 * so plan shows it too; an error-level finding blocks here, before the lock, the backup or
 * any change. Warnings and honoured suppressions go into the report and the record.
 */
int stage_lint_run(void *ctx, char **note, struct dd_error *err)
{
    struct deploy *d = ctx;
    struct lint_run *r = &d->lint;
    size_t allowed;

    lint_run_configure(r, &d->cfg->lint.rules, d->cfg->lint.small_table);
    if (deploy_lint_catalog(r, d->db, err) < 0)
        return -1;
    for (size_t i = 0; i < d->plan.n; i++) {
        const struct engine_step *s = &d->plan.v[i];
        lint_script(r, s->script->path, s->script->sql.buf, s->script->sql.len, s->exec.mode == MIGRATION_EXEC_TX);
    }
    for (size_t i = 0; i < d->plan.nrep; i++) {
        const struct engine_step *s = &d->plan.rep[i];
        lint_script(r, s->script->path, s->script->sql.buf, s->script->sql.len, true);
    }
    d->linted = true;
    allowed = lint_allowed_count(r);
    *note = dd_xasprintf("%zu file%s, %zu statement%s: %zu error%s, %zu warning%s, %zu suppression%s used", r->files,
                         DD_PLURAL(r->files), r->statements, DD_PLURAL(r->statements), r->errors, DD_PLURAL(r->errors),
                         r->warnings, DD_PLURAL(r->warnings), allowed, DD_PLURAL(allowed));
    if (!r->errors)
        return 0;
    dd_error_set(err, DD_EBLOCKED, "lint: %zu error-level finding%s in the pending migrations", r->errors,
                 DD_PLURAL(r->errors));
    dd_error_hint(err, "Nothing was changed. Rewrite the statements as each hint says, or suppress a finding that is "
                       "safe with '-- dbdeploy:allow RULE-ID reason' (docs/lint.md).");
    return -1;
}
