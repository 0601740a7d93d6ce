/* dbdeploy restore ENV ARCHIVE [--yes] [--force] */
#include "cli/cli.h"

#include <stdio.h>
#include <unistd.h>

#include "backup/backup.h"
#include "config/config.h"
#include "db/db.h"
#include "pipeline/event.h"
#include "util/identity.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/out.h"
#include "util/parse.h"

static const char details[] =
    "Replaces ENV's database with the contents of ARCHIVE: a path, a file name in\n"
    "<[backup] dir>/ENV/, or 'latest'. It must be a backup of the same environment and database\n"
    "(--force skips that check). pg_restore loads it into a new database while the archive is\n"
    "verified as it streams; only when both succeed are the sessions on ENV's database ended and\n"
    "the new database renamed into its place, so a failure leaves the database as it was. The\n"
    "restore holds the deployment lock, like a deploy: it waits up to [database] lock-wait for a\n"
    "running deployment, then exits 3 naming it.\n"
    "\n"
    "On a terminal the restore asks for confirmation; elsewhere it needs --yes. When a failed\n"
    "deployment refused to restore ARCHIVE because other sessions had written since, the restore\n"
    "needs --discard-writes: those writes are lost.\n"
    "The restore is recorded (kind restore) in the restored ledger and the changelog.\n"
    "See docs/backup.md for what the restore needs and for restoring by hand.";

/* A path as given, a name inside the env's backup directory, or the newest archive. */
static int resolve_archive(struct cli_ctx *ctx, const char *arg, char **out)
{
    struct backup_list l = BACKUP_LIST_INIT;
    char *envdir;

    *out = NULL;
    if (strcmp(arg, "latest") == 0) {
        if (backup_list(&l, ctx->cfg->backup.dir, ctx->cfg->env, 0, &ctx->err) < 0)
            return -1;
        if (l.n)
            *out = dd_xstrdup(l.v[l.n - 1].path);
        backup_list_release(&l);
        if (*out)
            return 0;
        dd_error_set(&ctx->err, DD_EINPUT, "there are no backups of %s in '%s'", ctx->cfg->env, ctx->cfg->backup.dir);
        dd_error_hint(&ctx->err, "Make one with 'dbdeploy backup %s'.", ctx->cfg->env);
        return -1;
    }
    if (dd_path_exists(arg) || strchr(arg, '/')) {
        *out = dd_xstrdup(arg);
        return 0;
    }
    envdir = dd_path_join(ctx->cfg->backup.dir, ctx->cfg->env);
    *out = dd_path_join(envdir, arg);
    free(envdir);
    return 0;
}

static void describe(const struct backup_manifest *h, const char *archive, const char *env, const char *db)
{
    char commit[8];

    snprintf(commit, sizeof(commit), "%.7s", h->git_commit ? h->git_commit : "no git");
    log_warn("database '%s' of %s will be replaced by %s", db, env, archive);
    log_warn("  a backup of %s (database '%s') taken %s at commit %s, with %zu migration%s applied", h->env,
             h->database, h->started_at, commit, h->n_applied, h->n_applied == 1 ? "" : "s");
}

/*
 * The restored ledger is the archive's: put back the deployments recorded since (read before the
 * switch into `history`), so the log and the changelog keep them.
 */
struct history {
    char *deployments, *migrations; /* db_deployments_snapshot */
};

static int carry_history(struct cli_ctx *ctx, const struct history *h)
{
    if (!h->deployments)
        return 0;
    if (db_ledger_ensure(ctx->db, ctx->cfg->ledger_schema, &ctx->err) < 0 ||
        db_deployments_carry(ctx->db, ctx->cfg->ledger_schema, h->deployments, h->migrations, &ctx->err) < 0) {
        dd_error_wrap(&ctx->err, "while carrying the deployment history across the restore (it was done)");
        return -1;
    }
    return 0;
}

/* The history before the restore; none when there is no ledger yet. */
static int snapshot_history(struct cli_ctx *ctx, struct history *h)
{
    struct db_deployments l = {NULL, 0};
    int rc = db_deployments_load(&l, ctx->db, ctx->cfg->ledger_schema, ctx->cfg->env, &ctx->err);

    if (rc == 0 && l.n)
        rc = db_deployments_snapshot(&h->deployments, &h->migrations, ctx->db, ctx->cfg->ledger_schema, &ctx->err);
    db_deployments_release(&l);
    return rc;
}

static void print_result(const struct backup_restore_result *r, const char *archive, const char *env)
{
    struct dd_buf b = DD_BUF_INIT;
    struct dd_json j;

    if (!out_json())
        return;
    dd_json_init(&j, &b);
    dd_json_obj_begin(&j, NULL);
    dd_json_int(&j, "schema", 1);
    dd_json_str(&j, "env", env);
    dd_json_str(&j, "database", r->database);
    dd_json_str(&j, "archive", archive);
    dd_json_str(&j, "backup_started_at", r->manifest.started_at);
    dd_json_str(&j, "git_commit", r->manifest.git_commit);
    dd_json_uint(&j, "dump_size", r->manifest.dump_size);
    dd_json_uint(&j, "sessions_terminated", r->terminated);
    dd_json_uint(&j, "duration_ms", r->ms);
    dd_json_obj_end(&j);
    out_result_buf(&b);
    dd_buf_release(&b);
}

struct restore_opts {
    bool yes, force, discard_writes;
};

static const struct cli_opt restore_options[] = {
    CLI_OPT_BOOL('y', "yes", struct restore_opts, yes, "do not ask for confirmation"),
    CLI_OPT_BOOL(0, "force", struct restore_opts, force, "restore an archive of another environment or database"),
    CLI_OPT_BOOL(0, "discard-writes", struct restore_opts, discard_writes,
                 "restore although other sessions wrote since the backup (their writes are lost)"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_restore = {
    .brief = "replace an environment's database with a backup",
    .name = "restore",
    .usage = "ENV ARCHIVE [--yes] [--force] [--discard-writes]",
    .summary = "replace an environment's database with a backup",
    .details = details,
    .opts = restore_options,
    .min_args = 2,
    .max_args = 2,
};

int cmd_restore(struct cli_ctx *ctx, int argc, char **argv)
{
    struct restore_opts o = {false, false, false};
    struct dd_strv args = DD_STRV_INIT;
    struct backup_manifest header = BACKUP_MANIFEST_INIT;
    struct backup_restore_result res = BACKUP_RESTORE_RESULT_INIT;
    struct backup_restore_request req;
    char *archive = NULL, *conninfo = NULL, *password = NULL, *who = NULL, size[32];
    struct event ev;
    struct history history = {NULL, NULL};
    int rc = -1, parsed = cli_parse(ctx, &cli_spec_restore, &o, argc, argv, &args);

    memset(&ev, 0, sizeof(ev));
    if (parsed != 0) {
        rc = parsed > 0 ? 0 : -1;
        goto cleanup;
    }
    if (cli_need_config(ctx, args.v[0]) < 0 || resolve_archive(ctx, args.v[1], &archive) < 0)
        goto cleanup;
    if (backup_read_header(&header, archive, &ctx->err) < 0) {
        if (ctx->err.code == DD_EINPUT)
            dd_error_recode(&ctx->err, DD_EBLOCKED);
        dd_error_hint(&ctx->err, "Nothing was changed. 'dbdeploy backups %s' lists the archives.", ctx->cfg->env);
        goto cleanup;
    }
    if (cli_need_db(ctx) < 0 || backup_check_target(&header, ctx->cfg->env, db_name(ctx->db), o.force, &ctx->err) < 0)
        goto cleanup;
    if (!o.discard_writes &&
        db_deployment_restore_refused(ctx->db, ctx->cfg->ledger_schema, ctx->cfg->env, archive, &ctx->err) < 0)
        goto cleanup;
    describe(&header, archive, ctx->cfg->env, db_name(ctx->db));
    if (!o.yes && cli_confirm(ctx, "restore", ctx->cfg->env, DD_EBLOCKED) < 0)
        goto cleanup;
    /* a deploy running meanwhile would undo this restore with its own, or report a state that is gone */
    if (db_lock_acquire(ctx->db, ctx->cfg->lock_wait_ms, &ctx->err) < 0 ||
        db_child_conninfo(ctx->db, &conninfo, &password, &ctx->err) < 0)
        goto cleanup;
    req = (struct backup_restore_request){
        .archive = archive,
        .env = ctx->cfg->env,
        .pg_restore = ctx->cfg->backup.pg_restore,
        .db = ctx->db,
        .conninfo = conninfo,
        .password = password,
        .force = o.force,
        .dir = ctx->cfg->backup.dir,
    };
    who = dd_whoami();
    cli_want_repo(ctx); /* for the git identity; a restore needs no repository */
    cli_event_init(&ev, ctx, header.git_commit, who);
    if (snapshot_history(ctx, &history) < 0 || backup_restore(&res, &req, &ctx->err) < 0 ||
        carry_history(ctx, &history) < 0)
        goto cleanup;
    /* the ledger is now the archive's: the event goes into it, after the switch, so it survives */
    if (cli_event_record(&ev, ctx, "restored", archive) < 0)
        goto cleanup;
    dd_format_bytes(size, sizeof(size), res.manifest.dump_size);
    log_stage("restore", "ok", res.ms, "database '%s' from %s (%s dump; %u other session%s ended)", res.database,
              archive, size, res.terminated, res.terminated == 1 ? "" : "s");
    print_result(&res, archive, ctx->cfg->env);
    rc = 0;
cleanup:
    free(history.deployments);
    free(history.migrations);
    event_release(&ev);
    free(who);
    backup_restore_result_release(&res);
    backup_manifest_release(&header);
    dd_free_secret(password);
    free(conninfo);
    free(archive);
    dd_strv_release(&args);
    return rc;
}
