/*
 * The rehearsal itself (rehearse.h): a copy of the environment from a verified backup, deploy's
 * own stages run on it with the engine's trace on, the copy dropped, the outcome recorded.
 */
#include "rehearse/internal.h"

#include <stdio.h>
#include <unistd.h>

#include "backup/backup.h"
#include "config/config.h"
#include "db/admin.h"
#include "db/db.h"
#include "db/rehearsal.h"
#include "pipeline/deploy.h"
#include "pipeline/rehearsal.h"
#include "util/clock.h"
#include "util/mask.h"
#include "util/out.h"

/* deploy's stages that matter on a copy: no gate, health, backup or record, and nothing to undo */
static const struct stage copy_stages[] = {
    {"preflight", stage_preflight_run, NULL, NULL, 0},
    {"lint", stage_lint_run, NULL, NULL, 0},
    {"lock", stage_lock_run, NULL, NULL, 0},
    {"apply", stage_apply_run, NULL, NULL, 0},
};

/* Everything the copy is made of, released on every path. */
struct copy {
    struct dd_config *cfg; /* ENV's settings pointed at the copy */
    struct db_conn *admin; /* on [rehearsal] url */
    struct db_conn *db;    /* on the copy */
    bool created;
};

void rehearse_result_init(struct rehearse_result *r)
{
    memset(r, 0, sizeof(*r));
    r->run = (struct pipeline_run)PIPELINE_RUN_INIT;
}

void rehearse_result_release(struct rehearse_result *r)
{
    free(r->env);
    free(r->commit);
    free(r->archive);
    free(r->server);
    free(r->database);
    free(r->error);
    for (size_t i = 0; i < r->n_migrations; i++) {
        free(r->migrations[i].file);
        free(r->migrations[i].checksum);
    }
    free(r->migrations);
    for (size_t i = 0; i < r->n_statements; i++)
        free(r->statements[i].text);
    free(r->statements);
    for (size_t i = 0; i < r->n_locks; i++)
        free(r->locks[i].relation);
    free(r->locks);
    free(r->plan_key);
    free(r->lint_text);
    pipeline_run_release(&r->run);
    rehearse_result_init(r);
}

/*
 * ENV's settings as committed (the same the deployment reads), pointed at [rehearsal] url. The
 * copy needs no way back: it is thrown away, so backup and restore are off there.
 */
static int copy_config(struct dd_config **out, const struct rehearse_request *req, struct dd_error *err)
{
    const struct dd_config *cfg = req->cfg;

    if ((cfg->commit && req->repo ? config_load_committed(out, req->repo, cfg->root, cfg->env, cfg->commit, 0, err)
                                  : config_load(out, cfg->root, cfg->env, err)) < 0)
        return -1;
    config_set_url(*out, cfg->rehearsal.url, "[rehearsal] url");
    (*out)->backup.enabled = false;
    (*out)->restore.on_failure = false;
    (*out)->restore.strategy = CONFIG_RESTORE_NONE;
    return 0;
}

/* A scratch database with a fresh name on the rehearsal server, loaded from the archive. */
static int copy_open(struct copy *c, struct rehearse_result *r, const struct rehearse_request *req,
                     struct dd_error *err)
{
    struct backup_restore_request rq;
    struct backup_manifest m = BACKUP_MANIFEST_INIT;
    char *conninfo = NULL, *password = NULL;
    uint64_t t0 = dd_now_ms();
    int rc = -1;

    if (copy_config(&c->cfg, req, err) < 0)
        goto cleanup;
    r->server = dd_xstrdup(c->cfg->db_url_masked);
    if (db_connect(&c->admin, c->cfg, err) < 0) {
        dd_error_hint(err, "[rehearsal] url names the server where the rehearsal makes its copy of %s; check it.",
                      req->cfg->env);
        goto cleanup;
    }
    r->database =
        dd_xasprintf("dbdeploy_rehearsal_%ld_%llu", (long)getpid(), (unsigned long long)(dd_epoch_ms() / 1000));
    if (db_database_create_empty(c->admin, r->database, err) < 0) {
        dd_error_hint(err, "The role of [rehearsal] url needs CREATEDB on %s.", r->server);
        goto cleanup;
    }
    c->created = true;
    if (db_child_conninfo(c->admin, &conninfo, &password, err) < 0)
        goto cleanup;
    memset(&rq, 0, sizeof(rq));
    rq.archive = r->archive;
    rq.env = req->cfg->env;
    rq.pg_restore = req->cfg->backup.pg_restore;
    rq.conninfo = conninfo;
    rq.password = password;
    rq.dir = req->cfg->backup.dir;
    log_info("loading %s into %s on %s", r->archive, r->database, r->server);
    if (backup_restore_into(&m, &rq, r->database, err) < 0 ||
        db_connect_database(&c->db, c->admin, r->database, err) < 0)
        goto cleanup;
    r->restore_ms = dd_now_ms() - t0;
    rc = 0;
cleanup:
    backup_manifest_release(&m);
    free(conninfo);
    dd_free_secret(password);
    return rc;
}

static void copy_close(struct copy *c, struct rehearse_result *r, bool keep)
{
    struct dd_error derr = DD_ERROR_INIT;

    db_free(c->db);
    c->db = NULL;
    if (c->created && keep) {
        r->kept = true;
        log_info("kept the copy: database %s on %s", r->database, r->server);
    } else if (c->created && db_database_drop(c->admin, r->database, &derr) < 0) {
        log_warn("could not drop the rehearsal's copy '%s' on %s: %s", r->database, r->server, dd_error_msg(&derr));
        r->kept = true;
    }
    dd_error_release(&derr);
    db_free(c->admin);
    config_free(c->cfg);
    memset(c, 0, sizeof(*c));
}

/* Deploy's stages on the copy, traced; perr receives the failure exactly as deploy would report it. */
static void rehearse_copy(struct rehearse_result *r, struct copy *c, const struct rehearse_request *req,
                          struct dd_error *perr)
{
    struct deploy d;
    struct rh_trace t;
    char *floor = NULL;

    deploy_init(&d);
    d.cfg = c->cfg;
    d.repo = req->repo;
    d.db = c->db;
    d.who = req->who;
    d.err = perr;
    engine_opts_from_config(&d.opts, c->cfg);
    d.opts.applied_by = req->who;
    d.opts.explain = engine_explain_from_git;
    d.opts.explain_arg = req->repo;
    d.opts.clash = engine_clash_from_git;
    if (db_relation_oid_floor(c->db, &floor, perr) < 0)
        goto cleanup;
    rh_trace_init(&t, r, &d.plan, floor);
    d.opts.trace = &t.ops;
    log_info("rehearsing on a copy of %s (%s)", req->cfg->env, r->database);
    pipeline_run(&d.run, copy_stages, DD_ARRAY_SIZE(copy_stages), &d, false, NULL, perr);
    rh_trace_release(&t);
    r->up_to_date = !dd_error_isset(perr) && d.run.finished_early;
    r->ran = !r->up_to_date && d.plan.n;
    for (size_t i = 0; i < d.run.n; i++)
        if (strcmp(d.run.results[i].name, "apply") == 0)
            r->apply_ms = d.run.results[i].ms;
    if (d.linted) {
        struct dd_buf b = DD_BUF_INIT;
        lint_render_text(&b, &d.lint);
        r->lint_text = dd_buf_detach(&b, NULL);
    }
    r->plan_key = deploy_plan_key(&d.plan);
    rh_collect(r, &d);
    r->run = d.run;
    d.run = (struct pipeline_run)PIPELINE_RUN_INIT;
    if (db_lock_held(c->db)) {
        struct dd_error ignored = DD_ERROR_INIT;
        db_lock_release(c->db, &ignored);
        dd_error_release(&ignored);
    }
cleanup:
    deploy_release(&d);
}

/* The outcome in ENV's ledger: the one write a rehearsal makes there, under the deployment lock. */
static int record(struct rehearse_result *r, const struct rehearse_request *req, struct dd_error *err)
{
    const struct dd_config *cfg = req->cfg;
    struct db_rehearsal row;
    struct dd_error ignored = DD_ERROR_INIT;
    int rc = -1;

    memset(&row, 0, sizeof(row));
    row.env = cfg->env;
    row.git_commit = r->commit;
    row.plan = r->plan_key;
    row.result = r->passed ? "passed" : "failed";
    row.started_ms = r->started_ms;
    row.finished_ms = dd_epoch_ms();
    row.rehearsed_by = (char *)req->who;
    row.archive = r->archive;
    row.server = r->server;
    row.total_ms = (int64_t)r->apply_ms;
    row.migrations = rh_json_text(rh_json_migrations, r);
    row.locks = rh_json_text(rh_json_locks, r);
    row.error = r->error;
    if (db_session_read_only(req->db, false, err) < 0 || db_lock_acquire(req->db, cfg->lock_wait_ms, err) < 0)
        goto cleanup;
    if (db_ledger_ensure(req->db, cfg->ledger_schema, err) == 0 &&
        db_rehearsal_insert(req->db, cfg->ledger_schema, &row, err) == 0) {
        r->record_id = row.id;
        rc = 0;
    }
    db_lock_release(req->db, &ignored);
cleanup:
    if (rc < 0)
        dd_error_wrap(err, "recording the rehearsal in the ledger of %s", cfg->env);
    dd_error_release(&ignored);
    free(row.migrations);
    free(row.locks);
    return rc;
}

/* A failure on the copy becomes the command's: as deploy would have said it, exit 1. */
static void failed_on_copy(struct rehearse_result *r, struct dd_error *perr, struct dd_error *err)
{
    r->error = dd_mask_str(dd_error_msg(perr));
    dd_error_release(err);
    *err = *perr;
    *perr = (struct dd_error)DD_ERROR_INIT;
    if (err->code != DD_EINTERRUPTED)
        dd_error_recode(err, DD_ECHECK);
    dd_error_detail(err, "rehearsed on a copy of %s from %s; %s itself was not changed", r->env, r->archive, r->env);
}

int rehearse_run(struct rehearse_result *out, const struct rehearse_request *req, struct dd_error *err)
{
    const struct dd_config *cfg = req->cfg;
    struct copy c;
    struct dd_error perr = DD_ERROR_INIT;
    int rc = -1;

    memset(&c, 0, sizeof(c));
    out->env = dd_xstrdup(cfg->env);
    out->commit = cfg->commit ? dd_xstrdup(cfg->commit) : NULL;
    out->started_ms = dd_epoch_ms();
    if (!cfg->rehearsal.url) {
        dd_error_set(err, DD_ECONFIG, "%s: [rehearsal] url is not set", cfg->env_file);
        dd_error_hint(err,
                      "Name the server for the rehearsal's copy: a server of its own, or %s's own cluster (the copy "
                      "gets a database of its own there), e.g. url = postgres://user@host/postgres.",
                      cfg->env);
        goto cleanup;
    }
    /* nothing on the environment's own session may write until the record */
    if (db_session_read_only(req->db, true, err) < 0)
        goto cleanup;
    if ((req->fresh ? rh_take_backup(out, cfg, req->db, err) : rh_newest_verified(out, cfg, err)) < 0)
        goto cleanup;
    if (copy_open(&c, out, req, err) < 0)
        goto cleanup;
    rehearse_copy(out, &c, req, &perr);
    copy_close(&c, out, req->keep);
    out->passed = out->ran && !dd_error_isset(&perr);
    if (dd_error_isset(&perr))
        failed_on_copy(out, &perr, err);
    /* an interrupted rehearsal says nothing about the plan: not recorded */
    if (out->ran && err->code != DD_EINTERRUPTED && record(out, req, out->passed ? err : &perr) < 0 && !out->passed)
        log_warn("%s", dd_error_msg(&perr)); /* the rehearsal's own failure stays the error */
    rc = dd_error_isset(err) ? -1 : 0;
cleanup:
    copy_close(&c, out, req->keep);
    out->finished_ms = dd_epoch_ms();
    dd_error_release(&perr);
    return rc;
}
