/*
 * What a killed restore leaves behind, and how the next command deals with it (see db/admin.h
 * and docs/backup.md "When a restore was killed"). Everything here runs under the deployment
 * lock of the target, taken without waiting: if another run holds it, the side databases may be
 * its own, live ones.
 */
#include "db/admin.h"

#include <stdio.h>

#include "config/config.h"
#include "db/internal.h"
#include "db/targets.h"
#include "util/buf.h"
#include "util/out.h"

/* Room for the suffixes within PostgreSQL's 63-byte names. */
#define SIDE_BASE_MAX       36
#define HEAL_SWITCH_WAIT_MS 10000
#define MARKER_HEAD         "dbdeploy restore side database; target="

/* The target's name cut at a character boundary so that "<cut>_dbdeploy_<what>_<pid>" fits. */
static size_t side_base_len(const char *target)
{
    size_t n = strlen(target);

    if (n > SIDE_BASE_MAX) {
        n = SIDE_BASE_MAX;
        while (n && ((unsigned char)target[n] & 0xc0) == 0x80)
            n--;
    }
    return n;
}

char *db_restore_side_name(const char *target, const char *what, long pid)
{
    return dd_xasprintf("%.*s_dbdeploy_%s_%ld", (int)side_base_len(target), target, what, pid);
}

char *db_restore_marker(const char *target, const char *role, const char *state, long pid, const char *archive)
{
    return dd_xasprintf(MARKER_HEAD "%s; role=%s; state=%s; pid=%ld; archive=%s", target, role, state, pid,
                        archive ? archive : "?");
}

struct side_db {
    char *name;
    bool is_new;   /* role=new: a copy being loaded or loaded; else role=old: a replaced database */
    bool ready;    /* state=ready */
    char *pid;     /* of the run that made it */
    char *archive; /* as the marker says */
};

/* "key=value; ..." -> value of key (owned), or NULL. */
static char *marker_field(const char *marker, const char *key)
{
    char pat[32];
    const char *p, *end;

    snprintf(pat, sizeof(pat), "; %s=", key);
    p = strstr(marker, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    end = strstr(p, "; ");
    return end && strcmp(key, "archive") != 0 ? dd_xstrndup(p, (size_t)(end - p)) : dd_xstrdup(p);
}

/* A side database of `target`, when its marker says so. */
static bool parse_side(struct side_db *out, const char *target, const char *name, const char *marker)
{
    size_t head = strlen(MARKER_HEAD), tn = strlen(target);
    char *role;

    memset(out, 0, sizeof(*out));
    if (!marker || strncmp(marker, MARKER_HEAD, head) != 0 || strncmp(marker + head, target, tn) != 0 ||
        strncmp(marker + head + tn, "; role=", 7) != 0)
        return false;
    role = marker_field(marker + head + tn, "role");
    if (!role || (strcmp(role, "new") != 0 && strcmp(role, "old") != 0)) {
        free(role);
        return false;
    }
    out->name = dd_xstrdup(name);
    out->is_new = strcmp(role, "new") == 0;
    free(role);
    role = marker_field(marker + head + tn, "state");
    out->ready = role && strcmp(role, "ready") == 0;
    free(role);
    out->pid = marker_field(marker + head + tn, "pid");
    out->archive = marker_field(marker + head + tn, "archive");
    if (!out->pid)
        out->pid = dd_xstrdup("?");
    if (!out->archive)
        out->archive = dd_xstrdup("?");
    return true;
}

static void side_release(struct side_db *s)
{
    free(s->name);
    free(s->pid);
    free(s->archive);
    memset(s, 0, sizeof(*s));
}

struct heal_scan {
    bool target_exists, target_allows;
    struct side_db *v;
    size_t n;
};

static void scan_release(struct heal_scan *s)
{
    for (size_t i = 0; i < s->n; i++)
        side_release(&s->v[i]);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static int scan(struct heal_scan *out, struct db_conn *admin, const char *target, struct dd_error *err)
{
    char *prefix = dd_xasprintf("%.*s_dbdeploy_", (int)side_base_len(target), target);
    const char *params[2] = {target, prefix};
    PGresult *res = db_exec(admin,
                            "SELECT datname, datallowconn, pg_catalog.shobj_description(oid, 'pg_database') "
                            "FROM pg_catalog.pg_database WHERE datname = $1 OR "
                            "left(datname, length($2)) = $2 ORDER BY datname",
                            2, params, "cannot list the databases", err);
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (!res)
        goto cleanup;
    out->v = dd_xcalloc((size_t)PQntuples(res) + 1, sizeof(*out->v));
    for (int r = 0; r < PQntuples(res); r++) {
        const char *name = PQgetvalue(res, r, 0);
        if (strcmp(name, target) == 0) {
            out->target_exists = true;
            out->target_allows = PQgetvalue(res, r, 1)[0] == 't';
        } else if (parse_side(&out->v[out->n], target, name, PQgetisnull(res, r, 2) ? NULL : PQgetvalue(res, r, 2))) {
            out->n++;
        }
    }
    rc = 0;
cleanup:
    PQclear(res);
    free(prefix);
    return rc;
}

/* Target refuses connections: the killed run had begun its switch. */
static int heal_refusing(struct db_conn *admin, const char *target, struct heal_scan *s, struct dd_strv *notes,
                         struct dd_error *err)
{
    struct side_db *copy = NULL;

    for (size_t i = 0; i < s->n && !copy; i++)
        if (s->v[i].is_new && s->v[i].ready)
            copy = &s->v[i];
    if (copy) {
        char *retired = db_restore_side_name(target, "old", strtol(copy->pid, NULL, 10));
        char *marker = db_restore_marker(target, "old", "replaced", strtol(copy->pid, NULL, 10), copy->archive);
        unsigned ended = 0;
        int rc = db_database_switch(admin, target, copy->name, retired, marker, HEAL_SWITCH_WAIT_MS, &ended, err);
        if (rc == 0) {
            dd_strv_pushf(notes,
                          "finished the restore of database '%s' from %s that dbdeploy (pid %s) was killed in the "
                          "middle of switching: '%s' holds the restored data and accepts connections again",
                          target, copy->archive, copy->pid, target);
            if (db_database_drop(admin, retired, err) == 0)
                dd_strv_pushf(notes, "dropped '%s', the database the restore replaced", retired);
        }
        free(retired);
        free(marker);
        return rc;
    }
    if (db_database_allow_connections(admin, target, true, err) < 0)
        return -1;
    dd_strv_pushf(notes,
                  "database '%s' refused connections after a killed restore that had no complete copy to switch "
                  "to: it accepts connections again and was not restored",
                  target);
    return 0;
}

int db_restore_heal(struct db_conn *admin, const char *target, struct dd_strv *notes, struct dd_error *err)
{
    struct heal_scan s;
    bool got = false;
    int rc = -1;

    if (db_lock_try_named(admin, target, &got, err) < 0)
        return -1;
    if (!got)
        return 0;
    if (scan(&s, admin, target, err) < 0)
        goto cleanup;
    if (!s.target_exists) {
        rc = 0;
        goto cleanup;
    }
    if (!s.target_allows && heal_refusing(admin, target, &s, notes, err) < 0)
        goto cleanup;
    scan_release(&s);
    /* whatever is left is a dead run's: an unswitched copy, or a database already replaced */
    if (scan(&s, admin, target, err) < 0)
        goto cleanup;
    for (size_t i = 0; i < s.n; i++) {
        if (db_database_drop(admin, s.v[i].name, err) < 0)
            goto cleanup;
        if (s.v[i].is_new)
            dd_strv_pushf(notes,
                          "dropped '%s', the copy made by a restore of '%s' from %s that was killed before it "
                          "switched (pid %s): '%s' was not restored",
                          s.v[i].name, target, s.v[i].archive, s.v[i].pid, target);
        else
            dd_strv_pushf(notes,
                          "dropped '%s', the database that a killed restore (pid %s) had already replaced: '%s' "
                          "holds the restored data from %s",
                          s.v[i].name, s.v[i].pid, target, s.v[i].archive);
    }
    rc = 0;
cleanup:
    scan_release(&s);
    {
        /* the session ends right after; unlock anyway so a pooled connection would not keep it */
        PGresult *res = PQexec(admin->pg, "SELECT pg_catalog.pg_advisory_unlock_all()");
        PQclear(res);
    }
    return rc;
}

/* Whether the error is the server refusing connections to a database (ALLOW_CONNECTIONS false). */
static bool refused(const struct dd_error *err)
{
    return strstr(dd_error_msg(err), "is not currently accepting connections") != NULL;
}

static bool has_side_databases(struct db_conn *c)
{
    char *prefix = dd_xasprintf("%.*s_dbdeploy_", (int)side_base_len(db_name(c)), db_name(c));
    const char *params[1] = {prefix};
    PGresult *res = PQexecParams(c->pg,
                                 "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE "
                                 "left(datname, length($1)) = $1)",
                                 1, NULL, params, NULL, NULL, 0);
    bool any = PQresultStatus(res) == PGRES_TUPLES_OK && PQgetvalue(res, 0, 0)[0] == 't';

    PQclear(res);
    free(prefix);
    return any;
}

static int heal_via_admin(const struct db_conn *like, const char *target, struct dd_strv *notes, struct dd_error *err)
{
    struct db_conn *admin = NULL;
    int rc;

    if (db_admin_connect(&admin, like, target, err) < 0)
        return -1;
    rc = db_restore_heal(admin, target, notes, err);
    db_free(admin);
    return rc;
}

int db_connect_healing(struct db_conn **out, const struct dd_config *cfg, struct dd_strv *notes, struct dd_error *err)
{
    struct db_conn shell;
    char *target = NULL;
    int rc = -1;

    if (db_connect(out, cfg, err) == 0) {
        struct dd_error herr = DD_ERROR_INIT;
        /* healing is a courtesy here: the command can go on whatever it finds */
        if (has_side_databases(*out) && heal_via_admin(*out, db_name(*out), notes, &herr) < 0)
            log_warn("cannot clean up after a killed restore: %s", dd_error_msg(&herr));
        dd_error_release(&herr);
        return 0;
    }
    if (!refused(err) || !(target = db_url_dbname(cfg->db_url)))
        return -1;
    memset(&shell, 0, sizeof(shell));
    shell.url = cfg->db_url;
    shell.url_masked = cfg->db_url_masked;
    shell.url_origin = cfg->db_url_origin ? cfg->db_url_origin : "the configuration";
    {
        struct dd_error herr = DD_ERROR_INIT;
        size_t before = notes->n;
        if (heal_via_admin(&shell, target, notes, &herr) < 0 || notes->n == before) {
            /* not ours to heal (a live restore, or someone else's doing): the first error stands */
            if (dd_error_isset(&herr))
                dd_error_detail(err, "cannot repair it: %s", dd_error_msg(&herr));
            dd_error_hint(err, "A restore switching databases refuses connections for a moment; if no dbdeploy is "
                               "running, see docs/backup.md \"When a restore was killed\".");
            dd_error_release(&herr);
            goto cleanup;
        }
        dd_error_release(&herr);
    }
    dd_error_release(err);
    rc = db_connect(out, cfg, err);
cleanup:
    free(target);
    return rc;
}
