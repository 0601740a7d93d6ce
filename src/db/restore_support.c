/* Whole-database operations for restores (see db/admin.h). */
#include "db/admin.h"

#include <stdio.h>

#include "db/internal.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/out.h"
#include "util/test_hook.h"

#define SWITCH_POLL_MS 10 /* while the target refuses connections: keep it short */

struct db_setting {
    char *role; /* NULL: the whole database */
    char *name;
    char *value;
};

struct db_grant {
    char *grantee; /* NULL: PUBLIC */
    char *privilege;
    bool grantable;
};

struct db_database_props {
    char *owner, *encoding, *collate, *ctype;
    char provider;   /* 'c' libc, 'i' icu, 'b' builtin */
    char *locale;    /* ICU or builtin locale, NULL for libc */
    char *icu_rules; /* NULL when none */
    char *tablespace;
    int conn_limit;
    char *comment;    /* NULL when none */
    bool default_acl; /* datacl IS NULL: nothing to grant */
    struct db_setting *settings;
    size_t n_settings;
    struct db_grant *grants;
    size_t n_grants;
};

/* Server messages (DROP DATABASE IF EXISTS notices...) go to -v output, not raw to stderr. */
static void on_notice(void *arg, const PGresult *res)
{
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

    (void)arg;
    if (msg)
        log_detail("server: %s", msg);
}

int db_admin_connect(struct db_conn **out, const struct db_conn *like, const char *avoid, struct dd_error *err)
{
    static const char *const candidates[] = {"postgres", "template1"};
    struct dd_buf why = DD_BUF_INIT;

    *out = NULL;
    for (size_t i = 0; i < DD_ARRAY_SIZE(candidates); i++) {
        /* the second dbname overrides the one inside the expanded URL */
        const char *keys[] = {"dbname", "application_name", "client_encoding", "connect_timeout", "dbname", NULL};
        const char *vals[] = {like->url, "dbdeploy", "UTF8", "15", candidates[i], NULL};
        struct db_conn *c;

        if (dd_streq(avoid, candidates[i]))
            continue;
        c = dd_xcalloc(1, sizeof(*c));
        c->url = dd_xstrdup(like->url);
        c->url_masked = dd_xstrdup(like->url_masked);
        c->url_origin = dd_xstrdup(like->url_origin);
        c->pg = PQconnectdbParams(keys, vals, 1);
        if (c->pg && PQstatus(c->pg) == CONNECTION_OK) {
            PQsetNoticeReceiver(c->pg, on_notice, NULL);
            c->server_version = PQserverVersion(c->pg);
            dd_buf_release(&why);
            *out = c;
            return 0;
        }
        if (c->pg) {
            struct dd_buf m = DD_BUF_INIT;
            dd_buf_adds(&m, PQerrorMessage(c->pg));
            dd_buf_rtrim(&m);
            dd_buf_addf(&why, "%s'%s': %s", why.len ? "; " : "", candidates[i], m.buf);
            dd_buf_release(&m);
        }
        db_free(c);
    }
    dd_error_set(err, DD_EDB, "cannot connect to a maintenance database of %s: %s", like->url_masked, why.buf);
    dd_error_hint(err, "A restore creates and renames databases from the 'postgres' or 'template1' database; "
                       "the configured role must be able to connect to one of them.");
    dd_buf_release(&why);
    return -1;
}

static char *quote_literal(struct db_conn *c, const char *s)
{
    char *q = PQescapeLiteral(c->pg, s, strlen(s));
    char *copy;

    if (!q)
        DD_BUG("cannot quote literal");
    copy = dd_xstrdup(q);
    PQfreemem(q);
    return copy;
}

/* Run utility SQL text (no parameters); `what` starts the error message. */
static int exec_sql(struct db_conn *c, const char *sql, const char *what, struct dd_error *err)
{
    PGresult *res;

    log_detail("sql: %s", sql);
    res = db_exec(c, sql, 0, NULL, what, err);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

static PGresult *query(struct db_conn *c, const char *sql, const char *param, const char *what, struct dd_error *err)
{
    const char *params[1] = {param};

    return db_exec(c, sql, 1, params, what, err);
}

void db_database_props_free(struct db_database_props *p)
{
    if (!p)
        return;
    free(p->owner);
    free(p->encoding);
    free(p->collate);
    free(p->ctype);
    free(p->locale);
    free(p->icu_rules);
    free(p->tablespace);
    free(p->comment);
    for (size_t i = 0; i < p->n_settings; i++) {
        free(p->settings[i].role);
        free(p->settings[i].name);
        free(p->settings[i].value);
    }
    free(p->settings);
    for (size_t i = 0; i < p->n_grants; i++) {
        free(p->grants[i].grantee);
        free(p->grants[i].privilege);
    }
    free(p->grants);
    free(p);
}

/* Column expressions for the locale provider, its locale and ICU rules, by server version. */
static void locale_columns(int version, struct dd_buf *sql)
{
    if (version >= 170000)
        dd_buf_adds(sql, "d.datlocprovider::text, d.datlocale, d.daticurules");
    else if (version >= 160000)
        dd_buf_adds(sql, "d.datlocprovider::text, d.daticulocale, d.daticurules");
    else if (version >= 150000)
        dd_buf_adds(sql, "d.datlocprovider::text, d.daticulocale, NULL");
    else
        dd_buf_adds(sql, "'c', NULL, NULL");
}

static int read_settings(struct db_database_props *p, struct db_conn *admin, const char *oid, struct dd_error *err)
{
    PGresult *res = query(admin,
                          "SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(s.setrole) END, "
                          "c.cfg FROM pg_catalog.pg_db_role_setting s, "
                          "LATERAL unnest(s.setconfig) WITH ORDINALITY AS c(cfg, n) "
                          "WHERE s.setdatabase = $1::oid ORDER BY s.setrole, c.n",
                          oid, "cannot read the database's settings", err);
    int n;

    if (!res)
        return -1;
    n = PQntuples(res);
    p->settings = dd_xcalloc((size_t)n + 1, sizeof(*p->settings));
    for (int i = 0; i < n; i++) {
        const char *cfg = PQgetvalue(res, i, 1), *eq = strchr(cfg, '=');
        struct db_setting *s = &p->settings[p->n_settings];
        if (!eq)
            continue;
        s->role = db_value_dup(res, i, 0);
        s->name = dd_xstrndup(cfg, (size_t)(eq - cfg));
        s->value = dd_xstrdup(eq + 1);
        p->n_settings++;
    }
    PQclear(res);
    return 0;
}

static int read_grants(struct db_database_props *p, struct db_conn *admin, const char *oid, struct dd_error *err)
{
    PGresult *res = query(admin,
                          "SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(a.grantee) END, "
                          "a.privilege_type, a.is_grantable FROM pg_catalog.pg_database d, "
                          "LATERAL pg_catalog.aclexplode(d.datacl) a WHERE d.oid = $1::oid",
                          oid, "cannot read the database's privileges", err);
    int n;

    if (!res)
        return -1;
    n = PQntuples(res);
    p->grants = dd_xcalloc((size_t)n + 1, sizeof(*p->grants));
    for (int i = 0; i < n; i++) {
        struct db_grant *g = &p->grants[p->n_grants++];
        g->grantee = db_value_dup(res, i, 0);
        g->privilege = dd_xstrdup(PQgetvalue(res, i, 1));
        g->grantable = PQgetvalue(res, i, 2)[0] == 't';
    }
    PQclear(res);
    return 0;
}

int db_database_props_read(struct db_database_props **out, struct db_conn *admin, const char *name,
                           struct dd_error *err)
{
    struct db_database_props *p = dd_xcalloc(1, sizeof(*p));
    struct dd_buf sql = DD_BUF_INIT;
    PGresult *res = NULL;
    char *oid = NULL;
    int rc = -1;

    *out = NULL;
    dd_buf_adds(&sql, "SELECT pg_catalog.pg_get_userbyid(d.datdba), pg_catalog.pg_encoding_to_char(d.encoding), "
                      "d.datcollate, d.datctype, ");
    locale_columns(admin->server_version, &sql);
    dd_buf_adds(&sql, ", t.spcname, d.datconnlimit, pg_catalog.shobj_description(d.oid, 'pg_database'), "
                      "d.datacl IS NULL, d.oid FROM pg_catalog.pg_database d "
                      "JOIN pg_catalog.pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = $1");
    res = query(admin, sql.buf, name, "cannot read the properties of the database", err);
    if (!res)
        goto cleanup;
    if (PQntuples(res) != 1) {
        dd_error_set(err, DD_EDB, "database '%s' does not exist", name);
        goto cleanup;
    }
    p->owner = dd_xstrdup(PQgetvalue(res, 0, 0));
    p->encoding = dd_xstrdup(PQgetvalue(res, 0, 1));
    p->collate = dd_xstrdup(PQgetvalue(res, 0, 2));
    p->ctype = dd_xstrdup(PQgetvalue(res, 0, 3));
    p->provider = PQgetvalue(res, 0, 4)[0];
    p->locale = db_value_dup(res, 0, 5);
    p->icu_rules = db_value_dup(res, 0, 6);
    p->tablespace = dd_xstrdup(PQgetvalue(res, 0, 7));
    p->conn_limit = (int)strtol(PQgetvalue(res, 0, 8), NULL, 10);
    p->comment = db_value_dup(res, 0, 9);
    p->default_acl = PQgetvalue(res, 0, 10)[0] == 't';
    oid = dd_xstrdup(PQgetvalue(res, 0, 11));
    if (read_settings(p, admin, oid, err) < 0 || (!p->default_acl && read_grants(p, admin, oid, err) < 0))
        goto cleanup;
    *out = p;
    p = NULL;
    rc = 0;
cleanup:
    PQclear(res);
    free(oid);
    dd_buf_release(&sql);
    db_database_props_free(p);
    return rc;
}

/* Append "<key> = <literal>". */
static void add_option(struct dd_buf *sql, struct db_conn *c, const char *key, const char *value)
{
    char *q = quote_literal(c, value);

    dd_buf_addf(sql, " %s = %s", key, q);
    free(q);
}

int db_database_create_like(struct db_conn *admin, const char *name, const struct db_database_props *p,
                            struct dd_error *err)
{
    struct dd_buf sql = DD_BUF_INIT;
    char *qname = db_quote_ident(admin, name), *qowner = db_quote_ident(admin, p->owner),
         *qspc = db_quote_ident(admin, p->tablespace);
    char *what = dd_xasprintf("cannot create database '%s'", name);
    int rc;

    /* template0: the restored dump expects an empty database, whatever template1 holds */
    dd_buf_addf(&sql, "CREATE DATABASE %s WITH TEMPLATE = template0 OWNER = %s", qname, qowner);
    add_option(&sql, admin, "ENCODING", p->encoding);
    add_option(&sql, admin, "LC_COLLATE", p->collate);
    add_option(&sql, admin, "LC_CTYPE", p->ctype);
    if (admin->server_version >= 150000) {
        dd_buf_addf(&sql, " LOCALE_PROVIDER = %s",
                    p->provider == 'i' ? "icu" : (p->provider == 'b' ? "builtin" : "libc"));
        if (p->locale && p->provider == 'i')
            add_option(&sql, admin, "ICU_LOCALE", p->locale);
        if (p->locale && p->provider == 'b')
            add_option(&sql, admin, "BUILTIN_LOCALE", p->locale);
        if (p->icu_rules && p->provider == 'i')
            add_option(&sql, admin, "ICU_RULES", p->icu_rules);
    }
    dd_buf_addf(&sql, " TABLESPACE = %s", qspc);
    rc = exec_sql(admin, sql.buf, what, err);
    free(what);
    free(qname);
    free(qowner);
    free(qspc);
    dd_buf_release(&sql);
    return rc;
}

/* Settings whose values are lists of identifiers (pg_dump's variable_is_guc_list_quote). */
static bool is_list_setting(const char *name)
{
    static const char *const names[] = {"local_preload_libraries",  "search_path",      "session_preload_libraries",
                                        "shared_preload_libraries", "temp_tablespaces", "unix_socket_directories"};

    for (size_t i = 0; i < DD_ARRAY_SIZE(names); i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

/*
 * A stored list value ('app, "$user", public') as literals ('app', '$user', 'public'), so SET
 * stores it back the same way; the server quotes each element again.
 */
static void add_list_value(struct dd_buf *sql, struct db_conn *c, const char *v)
{
    bool first = true;

    for (;;) {
        struct dd_buf item = DD_BUF_INIT;
        char *lit;

        while (*v == ' ' || *v == '\t')
            v++;
        if (*v == '"') {
            for (v++; *v && !(v[0] == '"' && v[1] != '"'); v++) {
                if (v[0] == '"')
                    v++; /* "" inside quotes */
                dd_buf_addch(&item, *v);
            }
            if (*v == '"')
                v++;
            while (*v && *v != ',')
                v++;
        } else {
            while (*v && *v != ',')
                dd_buf_addch(&item, *v++);
            dd_buf_rtrim(&item);
        }
        lit = quote_literal(c, item.buf);
        dd_buf_addf(sql, "%s%s", first ? "" : ", ", lit);
        free(lit);
        dd_buf_release(&item);
        first = false;
        if (*v != ',')
            break;
        v++;
    }
}

/* "ALTER DATABASE x SET a.b TO ..." / "ALTER ROLE r IN DATABASE x SET ..." */
static int apply_setting(struct db_conn *admin, const char *qname, const struct db_setting *s, struct dd_error *err)
{
    struct dd_buf sql = DD_BUF_INIT;
    const char *part = s->name;
    int rc;

    if (s->role) {
        char *qrole = db_quote_ident(admin, s->role);
        dd_buf_addf(&sql, "ALTER ROLE %s IN DATABASE %s SET ", qrole, qname);
        free(qrole);
    } else {
        dd_buf_addf(&sql, "ALTER DATABASE %s SET ", qname);
    }
    /* custom settings are "prefix.name": each part is an identifier */
    for (;;) {
        size_t n = strcspn(part, ".");
        char *p = dd_xstrndup(part, n), *q = db_quote_ident(admin, p);
        dd_buf_adds(&sql, q);
        free(p);
        free(q);
        if (!part[n])
            break;
        dd_buf_addch(&sql, '.');
        part += n + 1;
    }
    dd_buf_adds(&sql, " TO ");
    if (is_list_setting(s->name)) {
        add_list_value(&sql, admin, s->value);
    } else {
        char *lit = quote_literal(admin, s->value);
        dd_buf_adds(&sql, lit);
        free(lit);
    }
    rc = exec_sql(admin, sql.buf, "cannot copy a database setting", err);
    dd_buf_release(&sql);
    return rc;
}

static bool known_privilege(const char *p)
{
    return strcmp(p, "CREATE") == 0 || strcmp(p, "CONNECT") == 0 || strcmp(p, "TEMPORARY") == 0;
}

static int apply_grants(struct db_conn *admin, const char *qname, const struct db_database_props *p,
                        struct dd_error *err)
{
    struct dd_buf sql = DD_BUF_INIT;
    char *qowner = db_quote_ident(admin, p->owner);
    int rc = -1;

    /* start from nothing, as the original's explicit list does, then grant what it lists */
    dd_buf_addf(&sql, "REVOKE ALL ON DATABASE %s FROM PUBLIC; REVOKE ALL ON DATABASE %s FROM %s", qname, qname, qowner);
    for (size_t i = 0; i < p->n_grants; i++) {
        const struct db_grant *g = &p->grants[i];
        char *who = g->grantee ? db_quote_ident(admin, g->grantee) : dd_xstrdup("PUBLIC");
        if (!known_privilege(g->privilege)) {
            free(who);
            dd_error_set(err, DD_EDB, "unknown database privilege '%s'", g->privilege);
            goto cleanup;
        }
        dd_buf_addf(&sql, "; GRANT %s ON DATABASE %s TO %s%s", g->privilege, qname, who,
                    g->grantable ? " WITH GRANT OPTION" : "");
        free(who);
    }
    rc = exec_sql(admin, sql.buf, "cannot copy the database's privileges", err);
cleanup:
    free(qowner);
    dd_buf_release(&sql);
    return rc;
}

int db_database_apply_props(struct db_conn *admin, const char *name, const struct db_database_props *p,
                            struct dd_error *err)
{
    char *qname = db_quote_ident(admin, name), *sql = NULL;
    int rc = -1;

    if (p->conn_limit != -1) {
        sql = dd_xasprintf("ALTER DATABASE %s CONNECTION LIMIT = %d", qname, p->conn_limit);
        if (exec_sql(admin, sql, "cannot copy the connection limit", err) < 0)
            goto cleanup;
    }
    for (size_t i = 0; i < p->n_settings; i++)
        if (apply_setting(admin, qname, &p->settings[i], err) < 0)
            goto cleanup;
    if (p->comment) {
        char *lit = quote_literal(admin, p->comment);
        free(sql);
        sql = dd_xasprintf("COMMENT ON DATABASE %s IS %s", qname, lit);
        free(lit);
        if (exec_sql(admin, sql, "cannot copy the database's comment", err) < 0)
            goto cleanup;
    }
    if (!p->default_acl && apply_grants(admin, qname, p, err) < 0)
        goto cleanup;
    rc = 0;
cleanup:
    free(sql);
    free(qname);
    return rc;
}

/*
 * Sessions on `name` other than ours: terminate them, and say how many are left. All are
 * signalled at once (pg_terminate_backend's own wait would take them one by one, 100 ms steps);
 * the caller polls briefly for them to be gone.
 */
static int end_sessions(struct db_conn *admin, const char *name, int keep_pid, unsigned *terminated, int *left,
                        struct dd_error *err)
{
    char *sql = dd_xasprintf("SELECT count(*) FILTER (WHERE pg_catalog.pg_terminate_backend(pid)) FROM "
                             "pg_catalog.pg_stat_activity WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid() "
                             "AND pid <> %d",
                             keep_pid);
    PGresult *res = query(admin, sql, name, "cannot terminate the sessions on the database", err);

    free(sql);

    if (!res) {
        dd_error_hint(err, "A restore ends every session on the database; run it as the role the sessions belong "
                           "to, a member of pg_signal_backend, or a superuser.");
        return -1;
    }
    {
        /* a session still exiting is signalled again on the next poll: count it once */
        unsigned n = (unsigned)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
        if (n > *terminated)
            *terminated = n;
    }
    PQclear(res);
    sql = dd_xasprintf("SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = $1 "
                       "AND pid <> pg_catalog.pg_backend_pid() AND pid <> %d",
                       keep_pid);
    res = query(admin, sql, name, "cannot list the sessions on the database", err);
    free(sql);
    if (!res)
        return -1;
    *left = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

int db_database_allow_connections(struct db_conn *admin, const char *name, bool allow, struct dd_error *err)
{
    char *q = db_quote_ident(admin, name);
    char *sql = dd_xasprintf("ALTER DATABASE %s WITH ALLOW_CONNECTIONS %s", q, allow ? "true" : "false");
    int rc = exec_sql(admin, sql, "cannot change whether the database accepts connections", err);

    free(sql);
    free(q);
    return rc;
}

static int set_allow_connections(struct db_conn *admin, const char *qtarget, bool allow, struct dd_error *err)
{
    char *sql = dd_xasprintf("ALTER DATABASE %s WITH ALLOW_CONNECTIONS %s", qtarget, allow ? "true" : "false");
    int rc = exec_sql(admin, sql, "cannot change whether the database accepts connections", err);

    free(sql);
    return rc;
}

/* The database's comment (NULL when none or when there is no such database). */
static int read_comment(struct db_conn *admin, const char *name, char **out, struct dd_error *err)
{
    PGresult *res = query(admin,
                          "SELECT pg_catalog.shobj_description(oid, 'pg_database') FROM pg_catalog.pg_database "
                          "WHERE datname = $1",
                          name, "cannot read the database's comment", err);

    *out = NULL;
    if (!res)
        return -1;
    if (PQntuples(res) > 0)
        *out = db_value_dup(res, 0, 0);
    PQclear(res);
    return 0;
}

int db_database_comment(struct db_conn *admin, const char *name, const char *text, struct dd_error *err)
{
    char *qname = db_quote_ident(admin, name), *lit = text ? quote_literal(admin, text) : dd_xstrdup("NULL");
    char *sql = dd_xasprintf("COMMENT ON DATABASE %s IS %s", qname, lit);
    int rc = exec_sql(admin, sql, "cannot comment on the database", err);

    free(sql);
    free(lit);
    free(qname);
    return rc;
}

/*
 * Both renames, the target's own comment back onto the database taking its name (the
 * replacement carried a marker), and a marker on the retired one: one simple query is one
 * transaction, so all of it happens or none.
 */
static char *swap_sql(struct db_conn *admin, const char *target, const char *replacement, const char *retired,
                      const char *comment, const char *retired_marker)
{
    char *qt = db_quote_ident(admin, target), *qr = db_quote_ident(admin, replacement),
         *qo = db_quote_ident(admin, retired);
    char *lc = comment ? quote_literal(admin, comment) : dd_xstrdup("NULL");
    char *lm = retired_marker ? quote_literal(admin, retired_marker) : dd_xstrdup("NULL");
    char *sql = dd_xasprintf("ALTER DATABASE %s RENAME TO %s; ALTER DATABASE %s RENAME TO %s; "
                             "COMMENT ON DATABASE %s IS %s; COMMENT ON DATABASE %s IS %s",
                             qt, qo, qr, qt, qt, lc, qo, lm);

    free(qt);
    free(qr);
    free(qo);
    free(lc);
    free(lm);
    return sql;
}

int db_backend_pid(const struct db_conn *c)
{
    return c && c->pg ? PQbackendPID(c->pg) : 0;
}

int db_database_switch(struct db_conn *admin, const char *target, const char *replacement, const char *retired,
                       const char *retired_marker, uint64_t wait_ms, unsigned *terminated, struct dd_error *err)
{
    return db_database_switch_checked(admin, target, replacement, retired, retired_marker, wait_ms, NULL, terminated,
                                      err);
}

int db_database_switch_checked(struct db_conn *admin, const char *target, const char *replacement, const char *retired,
                               const char *retired_marker, uint64_t wait_ms, const struct db_switch_check *check,
                               unsigned *terminated, struct dd_error *err)
{
    bool checked = !check;
    char *qt = db_quote_ident(admin, target), *comment = NULL, *swap = NULL;
    uint64_t deadline = dd_now_ms() + wait_ms, refused_at = 0;
    bool blocked = false;
    int rc = -1;

    *terminated = 0;
    if (read_comment(admin, target, &comment, err) < 0)
        goto cleanup;
    swap = swap_sql(admin, target, replacement, retired, comment, retired_marker);
    /*
     * New sessions (an application reconnecting) would otherwise race the rename. From here to
     * the swap the target refuses connections, so nothing slow happens in between: the sessions
     * are all signalled at once, polled for every 10 ms, and the swap follows. If we are killed
     * here, the next dbdeploy command finishes the switch (db_restore_heal).
     */
    if (set_allow_connections(admin, qt, false, err) < 0)
        goto cleanup;
    refused_at = dd_now_ms();
    blocked = true;
    dd_test_hook_pause("switch-disabled");
    for (;;) {
        struct dd_error serr = DD_ERROR_INIT;
        int left = 0;

        if (end_sessions(admin, target, check ? check->keep_pid : 0, terminated, &left, err) < 0)
            goto cleanup;
        if (!left && !checked) {
            /* nobody else is left to write: the last look before the point of no return */
            checked = true;
            if (check->fn(check->arg, err) < 0)
                goto cleanup;
        }
        if (!left) {
            if (exec_sql(admin, swap, "cannot switch the databases", &serr) == 0) {
                dd_error_release(&serr);
                break;
            }
            if (dd_now_ms() >= deadline) {
                dd_error_move(err, &serr);
                goto cleanup;
            }
            dd_error_release(&serr);
        } else if (dd_now_ms() >= deadline) {
            dd_error_set(err, DD_EDB, "%d session(s) on database '%s' did not end within %llums", left, target,
                         (unsigned long long)wait_ms);
            goto cleanup;
        }
        dd_sleep_ms(SWITCH_POLL_MS);
    }
    blocked = false;
    log_detail("database '%s' refused new connections for %llums during the switch", target,
               (unsigned long long)(dd_now_ms() - refused_at));
    rc = 0;
cleanup:
    if (blocked) {
        struct dd_error e2 = DD_ERROR_INIT;
        if (set_allow_connections(admin, qt, true, &e2) < 0)
            log_warn("database '%s' may still refuse connections: %s", target, dd_error_msg(&e2));
        dd_error_release(&e2);
    }
    free(swap);
    free(comment);
    free(qt);
    return rc;
}

/* "<head> <quoted name><tail>" on the maintenance session; the error says "cannot <verb> database 'name'". */
static int database_statement(struct db_conn *admin, const char *head, const char *name, const char *tail,
                              const char *verb, struct dd_error *err)
{
    char *q = db_quote_ident(admin, name);
    char *sql = dd_xasprintf("%s %s%s", head, q, tail);
    char *what = dd_xasprintf("cannot %s database '%s'", verb, name);
    int rc = exec_sql(admin, sql, what, err);

    free(what);
    free(sql);
    free(q);
    return rc;
}

int db_database_create_empty(struct db_conn *admin, const char *name, struct dd_error *err)
{
    return database_statement(admin, "CREATE DATABASE", name, " TEMPLATE template0", "create", err);
}

int db_database_drop(struct db_conn *admin, const char *name, struct dd_error *err)
{
    return database_statement(admin, "DROP DATABASE IF EXISTS", name,
                              admin->server_version >= 130000 ? " WITH (FORCE)" : "", "drop", err);
}
