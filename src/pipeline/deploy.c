#include "pipeline/deploy.h"

#include <stdio.h>

#include "config/config.h"
#include "db/db.h"
#include "engine/dataloss.h"
#include "engine/adopt.h"
#include "engine/execute.h"
#include "notify/notify.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/mask.h"
#include "util/parse.h"

static const struct stage deploy_stages[] = {
    {"preflight", stage_preflight_run, NULL, NULL, STAGE_READ_ONLY},
    {"lint", stage_lint_run, NULL, NULL, STAGE_READ_ONLY},
    {"gate", stage_gate_run, NULL, NULL, STAGE_READ_ONLY},
    {"health-before", stage_health_before_run, NULL, NULL, STAGE_READ_ONLY},
    {"lock", stage_lock_run, NULL, NULL, 0},
    {"backup", stage_backup_run, NULL, NULL, 0},
    {"apply", stage_apply_run, stage_apply_undo, "restore", 0},
    {"health-after", stage_health_after_run, NULL, NULL, 0},
    {"record", stage_record_run, NULL, NULL, STAGE_ALWAYS},
};

const char *deploy_result_name(enum deploy_result r)
{
    static const char *const names[] = {"up-to-date", "planned",  "applied",        "blocked",
                                        "failed",     "restored", "restore-failed", "not-restored"};

    return names[r];
}

enum deploy_result deploy_result_of(const struct deploy *d)
{
    if (!d->err || !dd_error_isset(d->err))
        return d->dry_run ? DEPLOY_PLANNED : d->applied.n || d->applied.nrep ? DEPLOY_APPLIED : DEPLOY_UP_TO_DATE;
    if (d->recovery == DEPLOY_RECOVERY_REFUSED)
        return DEPLOY_NOT_RESTORED;
    if (d->restore_failed)
        return DEPLOY_RESTORE_FAILED;
    if (d->restored || d->restore_unneeded)
        return DEPLOY_RESTORED;
    if (d->err->code == DD_EBLOCKED && !d->db_changed)
        return DEPLOY_BLOCKED;
    return DEPLOY_FAILED;
}

void deploy_init(struct deploy *d)
{
    memset(d, 0, sizeof(*d));
    d->ledger = (struct db_ledger)DB_LEDGER_INIT;
    d->st = (struct engine_status)ENGINE_STATUS_INIT;
    d->plan = (struct engine_plan)ENGINE_PLAN_INIT;
    d->applied = (struct engine_result)ENGINE_RESULT_INIT;
    d->health_before = (struct health_result)HEALTH_RESULT_INIT;
    d->health_after = (struct health_result)HEALTH_RESULT_INIT;
    d->backup = (struct backup_result)BACKUP_RESULT_INIT;
    d->restore = (struct backup_restore_result)BACKUP_RESTORE_RESULT_INIT;
    d->run = (struct pipeline_run)PIPELINE_RUN_INIT;
    d->to_version = -1;
    d->reverted = (struct engine_result)ENGINE_RESULT_INIT;
    d->mark = (struct db_write_mark)DB_WRITE_MARK_INIT;
    d->foreign = (struct db_foreign_writes)DB_FOREIGN_WRITES_INIT;
    lint_run_init(&d->lint);
}

static int replan(struct deploy *d, bool lock, struct dd_error *err)
{
    struct engine_target t = {d->db, &d->set, &d->ledger, &d->st, &d->opts, d->cfg->lock_wait_ms};
    const struct engine_goal goal = {ENGINE_GOAL_APPLY, d->to_version, 0, false};
    int one;

    if (engine_replan(&d->plan, &t, &goal, lock, err) < 0 || engine_foreign_check(d->db, &d->ledger, &d->opts, err) < 0)
        return -1;
    one = engine_plan_one_transaction(&d->plan, &d->opts, err);
    d->one_tx = one > 0;
    return one < 0 ? -1 : 0;
}

int deploy_plan(struct deploy *d, struct dd_error *err)
{
    return replan(d, false, err);
}

int deploy_plan_locked(struct deploy *d, struct dd_error *err)
{
    return replan(d, true, err);
}

void deploy_notify(struct deploy *d, int kind)
{
    int64_t *versions = dd_xcalloc(d->plan.n ? d->plan.n : 1, sizeof(*versions));
    struct notify_event ev = {.kind = (enum notify_kind)kind,
                              .env = d->cfg->env,
                              .commit = d->set.commit,
                              .who = d->who,
                              .versions = versions,
                              .n_versions = d->plan.n,
                              .n_applied = d->applied.n,
                              .command = "deploy"};

    for (size_t i = 0; i < d->plan.n; i++)
        versions[i] = d->plan.v[i].m->version;
    if (kind != NOTIFY_START) {
        ev.result = deploy_result_name(d->result);
        ev.error = d->err && dd_error_isset(d->err) ? dd_error_msg(d->err) : NULL;
        ev.duration_ms = d->finished_ms - d->started_ms;
    }
    notify_send(d->cfg, &ev);
    d->notified_start |= kind == NOTIFY_START;
    free(versions);
}

/* The result notification: after a start one, and for a deployment blocked before it. */
static void notify_result(struct deploy *d)
{
    if (d->dry_run || (!d->notified_start && d->result != DEPLOY_BLOCKED))
        return;
    deploy_notify(d, d->result == DEPLOY_APPLIED || d->result == DEPLOY_UP_TO_DATE ? NOTIFY_SUCCESS
                     : d->result == DEPLOY_RESTORED                                ? NOTIFY_RESTORED
                                                                                   : NOTIFY_FAILURE);
}

/* Exit 4's hint: how the database got back to its state before the deployment. */
static void restored_hint(const struct deploy *d, struct dd_error *err)
{
    switch (d->recovery) {
    case DEPLOY_RECOVERY_TRANSACTION:
        dd_error_hint(err, "The deployment's transaction was rolled back: the database is exactly as it was before "
                           "the deployment and no other session's writes were touched; nothing needed restoring.");
        break;
    case DEPLOY_RECOVERY_DOWN:
        dd_error_hint(err,
                      "The down files of the %zu migration%s it had committed ran, newest first; other sessions' "
                      "writes were kept.",
                      d->reverted.n, d->reverted.n == 1 ? "" : "s");
        break;
    case DEPLOY_RECOVERY_BACKUP:
        dd_error_hint(err, "The database was restored from %s and is exactly as it was before the deployment.",
                      d->backup.path);
        break;
    default:
        dd_error_hint(err, "No migration had been committed, so the database is as it was before the "
                           "deployment; nothing needed restoring.");
        break;
    }
}

int deploy_run(struct deploy *d, struct dd_error *err)
{
    struct dd_error ignored = DD_ERROR_INIT;
    int rc;

    d->err = err;
    d->started_ms = dd_epoch_ms();
    engine_opts_from_config(&d->opts, d->cfg);
    d->opts.applied_by = d->who;
    d->opts.explain = engine_explain_from_git;
    d->opts.explain_arg = d->repo;
    d->opts.clash = engine_clash_from_git;
    rc = pipeline_run(&d->run, deploy_stages, DD_ARRAY_SIZE(deploy_stages), d, d->dry_run, NULL, err);
    d->finished_ms = dd_epoch_ms();
    d->result = deploy_result_of(d);
    if (db_lock_held(d->db))
        db_lock_release(d->db, &ignored);
    dd_error_release(&ignored);
    if (rc < 0) {
        char *archive = d->backup.path;
        if (d->result == DEPLOY_RESTORED) {
            dd_error_recode(err, DD_ERESTORED);
            restored_hint(d, err);
        } else if (d->result == DEPLOY_NOT_RESTORED) {
            dd_error_recode(err, DD_ERESTOREFAIL);
            dd_error_hint(err,
                          "Other sessions wrote to the database after the backup, so it was NOT restored and keeps "
                          "this deployment's changes: act now. Fix forward, or discard those writes with "
                          "'dbdeploy restore %s %s --yes --discard-writes'.",
                          d->cfg->env, archive);
        } else if (d->result == DEPLOY_RESTORE_FAILED) {
            dd_error_recode(err, DD_ERESTOREFAIL);
            if (archive)
                dd_error_hint(err,
                              "The automatic restore failed: restore by hand with 'dbdeploy restore %s %s', or "
                              "with tar, zstd and pg_restore as docs/backup.md describes.",
                              d->cfg->env, archive);
        }
    }
    notify_result(d);
    return rc;
}

/*
 * The exact text sent to the server for one step (the file's own outer BEGIN/COMMIT blanked
 * out), with a header saying how it runs, so a reviewer reads what will execute.
 */
static void plan_sql_text(struct dd_buf *b, const struct engine_step *s)
{
    const struct migration_exec *x = &s->exec;

    dd_buf_addf(b, "\n-- %s: %s\n", s->script->path,
                x->mode == MIGRATION_EXEC_TX ? "one transaction, with its ledger row"
                                             : "no transaction: statement by statement, progress in the ledger");
    dd_buf_add(b, x->text.buf, x->text.len);
    if (x->text.len && x->text.buf[x->text.len - 1] != '\n')
        dd_buf_addch(b, '\n');
}

/* Every repeatable migration and whether this deployment runs it (none: nothing printed). */
static void repeatables_text(struct dd_buf *b, const struct deploy *d)
{
    for (size_t i = 0; i < d->st.nrep; i++)
        dd_buf_addf(b, "  repeatable %s  (%s%s)\n", d->st.rep[i].m->up.path, engine_rep_state(&d->st.rep[i]),
                    d->st.rep[i].changed ? ": runs after the migrations" : ": skipped");
}

static void repeatables_json(struct dd_json *j, const struct deploy *d)
{
    if (!d->st.nrep)
        return; /* documents of projects without repeatable migrations keep their shape */
    dd_json_arr_begin(j, "repeatable");
    for (size_t i = 0; i < d->st.nrep; i++) {
        dd_json_obj_begin(j, NULL);
        dd_json_str(j, "name", d->st.rep[i].m->name);
        dd_json_str(j, "file", d->st.rep[i].m->up.path);
        dd_json_str(j, "checksum", d->st.rep[i].m->checksum);
        dd_json_str(j, "state", engine_rep_state(&d->st.rep[i]));
        dd_json_bool(j, "runs", d->st.rep[i].changed);
        dd_json_obj_end(j);
    }
    dd_json_arr_end(j);
}

static void result_sentence(struct dd_buf *b, const struct deploy *d)
{
    char dur[32];

    snprintf(dur, sizeof(dur), "%.1fs", (double)(d->finished_ms - d->started_ms) / 1000.0);
    switch (d->result) {
    case DEPLOY_UP_TO_DATE:
        dd_buf_addf(b, "%s is up to date; nothing was deployed\n", d->cfg->env);
        repeatables_text(b, d);
        break;
    case DEPLOY_PLANNED:
        if (!d->plan.n && d->plan.nrep)
            dd_buf_addf(b, "dry run: %zu repeatable migration%s would run again on %s%s%.7s:\n", d->plan.nrep,
                        DD_PLURAL(d->plan.nrep), d->cfg->env, d->set.commit ? " at " : "",
                        d->set.commit ? d->set.commit : "");
        else
            dd_buf_addf(b, "dry run: %zu migration%s would be deployed to %s%s%.7s:\n", d->plan.n,
                        d->plan.n == 1 ? "" : "s", d->cfg->env, d->set.commit ? " at " : "",
                        d->set.commit ? d->set.commit : "");
        for (size_t i = 0; i < d->plan.n; i++) {
            char *changes = engine_step_changes(&d->plan.v[i]);
            dd_buf_addf(b, "  %s%s\n", d->plan.v[i].script->path,
                        d->plan.v[i].exec.mode == MIGRATION_EXEC_TX ? "" : "  (no transaction)");
            if (changes)
                dd_buf_addf(b, "      changes: %s\n", changes);
            free(changes);
        }
        repeatables_text(b, d);
        {
            char *rp = deploy_recovery_plan(d);
            dd_buf_addf(b, "%s\n", rp);
            free(rp);
        }
        if (d->rehearsal_id) {
            dd_format_duration(dur, sizeof(dur), (uint64_t)d->rehearsal_ms);
            dd_buf_addf(b, "predicted duration: %s (rehearsal #%lld, %s)\n", dur, (long long)d->rehearsal_id,
                        d->rehearsal_at);
        }
        if (d->show_sql)
            for (size_t i = 0; i < d->plan.n + d->plan.nrep; i++)
                plan_sql_text(b, i < d->plan.n ? &d->plan.v[i] : &d->plan.rep[i - d->plan.n]);
        break;
    case DEPLOY_APPLIED:
        dd_buf_addf(b, "deployed %zu migration%s to %s%s%.7s in %s\n", d->applied.n, d->applied.n == 1 ? "" : "s",
                    d->cfg->env, d->set.commit ? " at " : "", d->set.commit ? d->set.commit : "", dur);
        for (size_t i = 0; i < d->applied.nrep; i++)
            dd_buf_addf(b, "  reapplied %s\n", d->applied.rep[i].file);
        break;
    case DEPLOY_BLOCKED:
        dd_buf_addf(b, "deployment to %s blocked; nothing was changed\n", d->cfg->env);
        break;
    case DEPLOY_FAILED:
        dd_buf_addf(b, "deployment to %s failed%s\n", d->cfg->env,
                    d->db_changed ? "; the database was NOT restored" : "; nothing was changed");
        break;
    case DEPLOY_RESTORED:
        dd_buf_addf(b, "deployment to %s failed; the database is back to its state before the deployment (%s)\n",
                    d->cfg->env,
                    d->recovery == DEPLOY_RECOVERY_TRANSACTION ? "the transaction was rolled back"
                    : d->recovery == DEPLOY_RECOVERY_DOWN      ? "the down files ran"
                    : d->recovery == DEPLOY_RECOVERY_BACKUP    ? "the backup was restored"
                                                               : "nothing had been committed");
        break;
    case DEPLOY_NOT_RESTORED:
        dd_buf_addf(b,
                    "deployment to %s failed and was NOT restored: other sessions wrote since the backup; act "
                    "now (see the error)\n",
                    d->cfg->env);
        break;
    case DEPLOY_RESTORE_FAILED:
        dd_buf_addf(b, "deployment to %s failed and the restore failed too: act now (see the error)\n", d->cfg->env);
        break;
    }
}

void deploy_stages_json(struct dd_json *j, const char *key, const struct pipeline_run *run, bool not_run_too)
{
    dd_json_arr_begin(j, key);
    for (size_t i = 0; i < run->n; i++) {
        const struct stage_result *r = &run->results[i];
        if (r->outcome == STAGE_OUT_NOT_RUN && !not_run_too)
            continue;
        dd_json_obj_begin(j, NULL);
        dd_json_str(j, "name", r->name);
        dd_json_str(j, "outcome", stage_outcome_name(r->outcome));
        dd_json_uint(j, "ms", r->ms);
        dd_json_str(j, "note", r->note);
        if (r->undo != UNDO_NONE) {
            dd_json_str(j, "undo", r->undo == UNDO_OK ? "ok" : "fail");
            dd_json_uint(j, "undo_ms", r->undo_ms);
            dd_json_str(j, "undo_note", r->undo_note);
        }
        dd_json_obj_end(j);
    }
    dd_json_arr_end(j);
}

/* recovery: {method, plan, archive, reverted, foreign_writes, restore_command} */
static void recovery_json(struct dd_json *j, const struct deploy *d)
{
    char *rp = deploy_recovery_plan(d);

    dd_json_obj_begin(j, "recovery");
    dd_json_str(j, "method", deploy_recovery_name(d->recovery));
    dd_json_str(j, "plan", rp);
    dd_json_bool(j, "one_transaction", d->one_tx);
    if (d->recovery == DEPLOY_RECOVERY_BACKUP)
        dd_json_str(j, "archive", d->backup.path);
    if (d->recovery == DEPLOY_RECOVERY_DOWN || d->reverted.n)
        engine_result_json(j, "reverted", &d->reverted);
    if (d->recovery == DEPLOY_RECOVERY_REFUSED || d->foreign.n_xids) {
        char *cmd = dd_xasprintf("dbdeploy restore %s %s --yes --discard-writes", d->cfg->env, d->backup.path);
        dd_json_obj_begin(j, "foreign_writes");
        dd_json_int(j, "transactions", d->foreign.n_xids);
        dd_json_bool(j, "at_least", d->foreign.capped);
        dd_json_arr_begin(j, "tables");
        for (size_t i = 0; i < d->foreign.n; i++) {
            dd_json_obj_begin(j, NULL);
            dd_json_str(j, "table", d->foreign.t[i].name);
            dd_json_int(j, "inserted", d->foreign.t[i].ins);
            dd_json_int(j, "updated", d->foreign.t[i].upd);
            dd_json_int(j, "deleted", d->foreign.t[i].del);
            dd_json_bool(j, "new", d->foreign.t[i].is_new);
            dd_json_obj_end(j);
        }
        dd_json_arr_end(j);
        dd_json_obj_end(j);
        dd_json_str(j, "restore_command", cmd);
        free(cmd);
    }
    dd_json_obj_end(j);
    free(rp);
}

static void json_report(struct dd_buf *b, const struct deploy *d)
{
    struct dd_json j;
    char started[32], finished[32];

    dd_time_iso8601_ms(started, d->started_ms);
    dd_time_iso8601_ms(finished, d->finished_ms);
    dd_json_document_begin(&j, b, "deploy");
    dd_json_str(&j, "env", d->cfg->env);
    dd_json_str(&j, "database", d->cfg->db_url_masked);
    dd_json_str(&j, "commit", d->set.commit);
    dd_json_str(&j, "deployed_by", d->who);
    dd_json_bool(&j, "dry_run", d->dry_run);
    dd_json_str(&j, "result", deploy_result_name(d->result));
    dd_json_str(&j, "started_at", started);
    dd_json_str(&j, "finished_at", finished);
    deploy_stages_json(&j, "stages", &d->run, true);
    dd_json_arr_begin(&j, "pending");
    for (size_t i = 0; i < d->plan.n; i++) {
        dd_json_obj_begin(&j, NULL);
        dd_json_int(&j, "version", d->plan.v[i].m->version);
        dd_json_str(&j, "file", d->plan.v[i].script->path);
        dd_json_str(&j, "checksum", d->plan.v[i].m->checksum);
        dd_json_bool(&j, "transaction", d->plan.v[i].exec.mode == MIGRATION_EXEC_TX);
        {
            char *changes = engine_step_changes(&d->plan.v[i]);
            dd_json_str(&j, "changes", changes);
            free(changes);
        }
        if (d->show_sql)
            dd_json_str(&j, "sql", d->plan.v[i].exec.text.buf);
        dd_json_obj_end(&j);
    }
    dd_json_arr_end(&j);
    engine_result_json(&j, "applied", &d->applied);
    repeatables_json(&j, d);
    dd_json_str(&j, "gate", d->gate_env);
    if (d->rehearsal_id) {
        dd_json_obj_begin(&j, "rehearsal");
        dd_json_int(&j, "id", d->rehearsal_id);
        dd_json_int(&j, "predicted_ms", d->rehearsal_ms);
        dd_json_str(&j, "finished_at", d->rehearsal_at);
        dd_json_obj_end(&j);
    }
    dd_json_str(&j, "archive", d->backup.path);
    /* "restored" says what "result" says (the database is as before, exit 4), also when nothing had
     * been committed; "restore_ran" says whether an archive was actually loaded */
    dd_json_bool(&j, "restored", d->result == DEPLOY_RESTORED);
    dd_json_bool(&j, "restore_ran", d->restored);
    dd_json_bool(&j, "restore_failed", d->restore_failed);
    recovery_json(&j, d);
    if (d->record_id)
        dd_json_int(&j, "deployment_id", d->record_id);
    else
        dd_json_null(&j, "deployment_id");
    dd_json_str(&j, "changelog", d->changelog_path);
    if (d->linted) {
        dd_json_obj_begin(&j, "lint");
        lint_json_members(&j, &d->lint);
        dd_json_obj_end(&j);
    } else {
        dd_json_null(&j, "lint");
    }
    dd_json_error(&j, "error", d->err);
    dd_json_obj_end(&j);
}

void deploy_report(struct dd_buf *out, const struct deploy *d, bool json)
{
    if (json) {
        json_report(out, d);
        return;
    }
    /* the lint stage's findings and the suppressions it honoured, before the verdict */
    if (d->linted) {
        lint_render_text(out, &d->lint);
        lint_render_allowed(out, &d->lint);
    }
    result_sentence(out, d);
}

void deploy_release(struct deploy *d)
{
    migration_set_release(&d->set);
    db_ledger_release(&d->ledger);
    engine_status_release(&d->st);
    engine_plan_release(&d->plan);
    engine_result_release(&d->applied);
    health_result_release(&d->health_before);
    health_result_release(&d->health_after);
    backup_result_release(&d->backup);
    backup_restore_result_release(&d->restore);
    engine_result_release(&d->reverted);
    db_write_mark_release(&d->mark);
    db_foreign_writes_release(&d->foreign);
    pipeline_run_release(&d->run);
    lint_run_release(&d->lint);
    free(d->gate_env);
    free(d->error);
    free(d->drift_accepted);
    d->drift_accepted = NULL;
    free(d->rehearsal_at);
    d->rehearsal_at = NULL;
    free(d->changelog_path);
    d->gate_env = d->error = d->changelog_path = NULL;
}
