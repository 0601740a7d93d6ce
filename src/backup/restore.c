/*
 * backup_restore: verify, load into a new database through pg_restore, then switch (see
 * backup.h for why this order never touches the original before everything has succeeded).
 */
#include "backup/internal.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "db/admin.h"
#include "util/clock.h"
#include "util/interrupt.h"
#include "util/fs.h"
#include "util/out.h"
#include "util/test_hook.h"

#define BK_SWITCH_WAIT_MS 10000

void backup_restore_result_release(struct backup_restore_result *r)
{
    backup_manifest_release(&r->manifest);
    free(r->database);
    *r = (struct backup_restore_result)BACKUP_RESTORE_RESULT_INIT;
}

/* conninfo with the database replaced: a later keyword wins in libpq, the conninfo over the service. */
static char *conninfo_for(const char *conninfo, const char *dbname)
{
    struct dd_buf b = DD_BUF_INIT;

    dd_buf_addf(&b, "%s dbname='", conninfo);
    for (const char *c = dbname; *c; c++) {
        if (*c == '\'' || *c == '\\')
            dd_buf_addch(&b, '\\');
        dd_buf_addch(&b, *c);
    }
    dd_buf_addch(&b, '\'');
    return dd_buf_detach(&b, NULL);
}

/* pg_restore reads archives of its own major version and older only. */
static int check_pg_restore(const struct backup_restore_request *req, const struct backup_manifest *m,
                            struct dd_error *err)
{
    struct bk_tool_version have, made;
    char need[16];

    if (bk_tool_version(&have, req->pg_restore, "[backup] pg-restore", err) < 0)
        return -1;
    if (bk_parse_tool_version(&made, m->pg_dump_version) < 0 || have.major >= made.major)
        return 0;
    bk_major_text(need, sizeof(need), made.major);
    dd_error_set(err, DD_EBLOCKED, "pg_restore %s ('%s') cannot read a dump made by pg_dump %s", have.text,
                 req->pg_restore, m->pg_dump_version);
    dd_error_hint(err, "Install pg_restore %s or newer and set [backup] pg-restore to its path.", need);
    return -1;
}

struct restore_sink {
    struct dd_proc *p;
    bool closed; /* pg_restore stopped reading; the rest is still hashed */
};

static int sink_write(void *arg, const void *data, size_t len, struct dd_error *err)
{
    struct restore_sink *s = arg;
    struct dd_error werr = DD_ERROR_INIT;

    (void)err;
    if (s->closed)
        return 0;
    if (dd_proc_write(s->p, data, len, &werr) < 0) {
        /* pg_restore's exit status tells whether that was an error; see restore_into */
        s->closed = true;
        dd_proc_close_stdin(s->p);
    }
    dd_error_release(&werr);
    return 0;
}

/*
 * Stream the archive into pg_restore, connected to database `into`. The archive is checked as it
 * streams (layout, manifest, SHA-256), and must be the one whose header was checked; damage is
 * DD_EBLOCKED, since only the new database has seen any of it.
 */
static int restore_into(struct backup_manifest *out, const struct backup_restore_request *req,
                        const struct backup_manifest *header, const char *into, struct dd_error *err)
{
    struct bk_passfile pf = BK_PASSFILE_INIT;
    struct dd_proc p = DD_PROC_INIT;
    struct restore_sink sink = {&p, false};
    struct bk_sink bs = {sink_write, &sink};
    char *conninfo = conninfo_for("service=" BK_SERVICE_NAME, into);
    int rc = -1;

    if (bk_passfile_create(&pf, req->conninfo, req->password, req->dir, err) < 0)
        goto cleanup;
    dd_strv_push(&p.argv, req->pg_restore);
    dd_strv_pushf(&p.argv, "--dbname=%s", conninfo);
    dd_strv_push(&p.argv, "--exit-on-error");
    dd_strv_push(&p.argv, "--no-password");
    bk_passfile_apply(&pf, &p);
    p.stdin_mode = DD_PROC_PIPE;
    p.stdout_mode = DD_PROC_NULLDEV;
    p.stderr_mode = DD_PROC_CAPTURE;
    if (out_verbosity() == OUT_VERBOSE) {
        char *cmd = dd_strv_join(&p.argv, " ");
        log_detail("running %s", cmd);
        free(cmd);
    }
    if (dd_proc_start(&p, err) < 0) {
        dd_error_hint(err, "Install the PostgreSQL client programs, or set [backup] pg-restore to its path.");
        goto cleanup;
    }
    dd_test_hook_pause("restore-loading");
    if (bk_scan(out, req->archive, NULL, &bs, err) < 0 || bk_manifest_match(header, out, req->archive, err) < 0) {
        if (err->code == DD_EINPUT) {
            dd_error_recode(err, DD_EBLOCKED);
            dd_error_hint(err, "Nothing was changed. Pick another archive ('dbdeploy backups %s' lists them).",
                          req->env);
        }
        goto cleanup;
    }
    if (dd_proc_finish(&p, err) < 0)
        goto cleanup;
    if (sink.closed)
        log_detail("pg_restore finished before reading the whole dump");
    rc = 0;
cleanup:
    dd_proc_release(&p);
    bk_passfile_release(&pf);
    free(conninfo);
    return rc;
}

/* Everything that can refuse the restore before the server is touched: cheap, header only. */
static int preflight(struct backup_manifest *h, const struct backup_restore_request *req, const char *target,
                     struct dd_error *err)
{
    if (backup_read_header(h, req->archive, err) < 0) {
        if (err->code == DD_EINPUT) {
            dd_error_recode(err, DD_EBLOCKED);
            dd_error_hint(err, "Nothing was changed. Pick another archive ('dbdeploy backups %s' lists them).",
                          req->env);
        }
        return -1;
    }
    if (backup_check_target(h, req->env, target, req->force, err) < 0)
        return -1;
    return check_pg_restore(req, h, err);
}

/* A marker on the side database: what it is and how far the restore got (db_restore_heal reads it). */
static int mark(struct db_conn *admin, const char *fresh, const char *target, const char *state, const char *archive,
                struct dd_error *err)
{
    char *m = db_restore_marker(target, "new", state, (long)getpid(), dd_basename(archive));
    int rc = db_database_comment(admin, fresh, m, err);

    free(m);
    return rc;
}

/*
 * Our own session on the target must go before the rename. It is closed, not terminated, and
 * opened again afterwards on the restored database; the deployment lock lives on another session
 * (db/lock.c) and stays held throughout, the per-database half of it is taken again.
 */
static void session_back(struct db_conn *db, bool locked)
{
    struct dd_error cerr = DD_ERROR_INIT;

    if ((locked ? db_lock_acquire(db, BK_SWITCH_WAIT_MS, &cerr) : db_reconnect(db, &cerr)) < 0)
        log_warn("cannot reconnect to the restored database: %s", dd_error_msg(&cerr));
    dd_error_release(&cerr);
}

/* The late check's last look, inside the switch: then our session goes, so the rename can happen. */
static int final_check(void *arg, struct dd_error *err)
{
    const struct backup_restore_request *req = arg;

    if (req->late_check(req->late_check_arg, req->db, true, err) < 0)
        return -1;
    db_disconnect(req->db);
    return 0;
}

/* The switch itself and dropping the replaced database; test hook points around it. */
static int switch_in(struct backup_restore_result *out, struct db_conn *admin, const struct backup_restore_request *req,
                     const char *target, const char *fresh, struct dd_error *err)
{
    char *retired = db_restore_side_name(target, "old", (long)getpid());
    char *marker = db_restore_marker(target, "old", "replaced", (long)getpid(), dd_basename(req->archive));
    bool locked = db_lock_held(req->db);
    struct db_switch_check check = {db_backend_pid(req->db), final_check, (void *)req};
    uint64_t wait_ms = req->wait_ms ? req->wait_ms : BK_SWITCH_WAIT_MS;
    struct dd_error derr = DD_ERROR_INIT;
    int rc;

    dd_test_hook_pause("switch-ready");
    /* a cheap first look while the applications still run: most late writes show here already */
    if (req->late_check && req->late_check(req->late_check_arg, req->db, false, err) < 0) {
        rc = -1;
        goto cleanup;
    }
    if (!req->late_check)
        db_disconnect(req->db);
    rc = db_database_switch_checked(admin, target, fresh, retired, marker, wait_ms, req->late_check ? &check : NULL,
                                    &out->terminated, err);
    if (rc == 0) {
        dd_test_hook_pause("switch-renamed");
        if (db_database_drop(admin, retired, &derr) < 0)
            log_warn("the restore succeeded, but the replaced database '%s' could not be dropped: %s", retired,
                     dd_error_msg(&derr));
    }
    session_back(req->db, locked);
cleanup:
    dd_error_release(&derr);
    free(marker);
    free(retired);
    return rc;
}

int backup_restore(struct backup_restore_result *out, const struct backup_restore_request *req, struct dd_error *err)
{
    struct backup_manifest header = BACKUP_MANIFEST_INIT, m = BACKUP_MANIFEST_INIT;
    struct db_database_props *props = NULL;
    struct db_conn *admin = NULL;
    struct sigaction ign, old_pipe;
    char *target = dd_xstrdup(db_name(req->db)), *fresh = NULL;
    uint64_t t0 = dd_now_ms();
    bool fresh_exists = false;
    int rc = -1;

    backup_restore_result_release(out);
    /* a pg_restore that dies must show up as EPIPE on our side, not kill us */
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old_pipe);

    if (preflight(&header, req, target, err) < 0)
        goto cleanup;
    fresh = db_restore_side_name(target, "new", (long)getpid());
    if (db_admin_connect(&admin, req->db, target, err) < 0 || db_database_props_read(&props, admin, target, err) < 0)
        goto cleanup;
    if (db_database_create_like(admin, fresh, props, err) < 0)
        goto cleanup;
    fresh_exists = true;
    if (mark(admin, fresh, target, "loading", req->archive, err) < 0)
        goto cleanup;
    if (restore_into(&m, req, &header, fresh, err) < 0 || db_database_apply_props(admin, fresh, props, err) < 0)
        goto cleanup;
    if (dd_interrupt_pending()) {
        dd_error_set(err, DD_EINTERRUPTED, "interrupted by signal %d before the switch", dd_interrupt_signal());
        goto cleanup;
    }
    /* complete and verified: from here a killed run's copy is worth switching to */
    if (mark(admin, fresh, target, "ready", req->archive, err) < 0 ||
        switch_in(out, admin, req, target, fresh, err) < 0)
        goto cleanup;
    fresh_exists = false;
    out->manifest = m;
    m = (struct backup_manifest)BACKUP_MANIFEST_INIT;
    out->database = target;
    target = NULL;
    out->ms = dd_now_ms() - t0;
    rc = 0;
cleanup:
    if (fresh_exists) {
        struct dd_error derr = DD_ERROR_INIT;
        if (db_database_drop(admin, fresh, &derr) < 0)
            dd_error_detail(err, "the partly restored database '%s' is left behind: %s", fresh, dd_error_msg(&derr));
        dd_error_release(&derr);
    }
    if (rc < 0 && err->code != DD_EBLOCKED && target)
        dd_error_wrap(err, "restoring '%s' into database '%s' of %s (the database was not changed)", req->archive,
                      target, req->env);
    db_free(admin);
    db_database_props_free(props);
    backup_manifest_release(&m);
    backup_manifest_release(&header);
    free(target);
    free(fresh);
    sigaction(SIGPIPE, &old_pipe, NULL);
    return rc;
}

int backup_restore_into(struct backup_manifest *out, const struct backup_restore_request *req, const char *database,
                        struct dd_error *err)
{
    struct backup_manifest header = BACKUP_MANIFEST_INIT, m = BACKUP_MANIFEST_INIT;
    struct backup_restore_request r = *req;
    struct sigaction ign, old_pipe;
    int rc = -1;

    r.force = true; /* a copy elsewhere: any environment's archive, under any database name */
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old_pipe);
    if (preflight(&header, &r, database, err) < 0 || restore_into(&m, &r, &header, database, err) < 0)
        goto cleanup;
    *out = m;
    m = (struct backup_manifest)BACKUP_MANIFEST_INIT;
    rc = 0;
cleanup:
    backup_manifest_release(&m);
    backup_manifest_release(&header);
    sigaction(SIGPIPE, &old_pipe, NULL);
    return rc;
}
