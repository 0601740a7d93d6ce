/*
 * Scratch databases: where `schema check` builds the schema the migrations produce and loads a
 * schema file as a fresh install would, so that both can be dumped and compared.
 */
#include "schema/internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "db/admin.h"
#include "db/db.h"
#include "db/ledger.h"
#include "engine/execute.h"
#include "migrations/migrations.h"
#include "util/out.h"

struct schema_server {
    struct schema_cluster cluster; /* started when no scratch-url is configured */
    struct dd_config *cfg;         /* a copy of the caller's settings pointed at the server */
    struct db_conn *admin;         /* on the server's maintenance database */
    char *name;                    /* for messages */
    unsigned serial;               /* scratch databases made so far */
};

/* A conninfo value in single quotes (a temporary directory may hold anything). */
static char *quoted(const char *v)
{
    struct dd_buf b = DD_BUF_INIT;

    dd_buf_addch(&b, '\'');
    for (; *v; v++) {
        if (*v == '\'' || *v == '\\')
            dd_buf_addch(&b, '\\');
        dd_buf_addch(&b, *v);
    }
    dd_buf_addch(&b, '\'');
    return dd_buf_detach(&b, NULL);
}

int schema_server_open(struct schema_server **out, const struct dd_config *cfg, struct dd_error *err)
{
    struct schema_server *s = dd_xcalloc(1, sizeof(*s));
    int rc = -1;

    *out = NULL;
    /* a private copy of the settings: only the url differs (config_load is cheap and has no side effects) */
    if (config_load(&s->cfg, cfg->root, NULL, err) < 0)
        goto cleanup;
    if (cfg->schema.scratch_url) {
        config_set_url(s->cfg, cfg->schema.scratch_url, "[schema] scratch-url");
        s->name = dd_xstrdup(s->cfg->db_url_masked);
    } else {
        char *q;
        if (schema_cluster_start(&s->cluster, err) < 0)
            goto cleanup;
        q = quoted(s->cluster.dir);
        {
            char *url = dd_xasprintf("host=%s port=5432 user=" SCHEMA_CLUSTER_USER " dbname=postgres", q);
            config_set_url(s->cfg, url, "the temporary cluster");
            free(url);
        }
        free(q);
        s->name = dd_xstrdup("a temporary PostgreSQL cluster");
    }
    if (db_connect(&s->admin, s->cfg, err) < 0) {
        if (cfg->schema.scratch_url)
            dd_error_hint(err,
                          "[schema] scratch-url names a server where dbdeploy creates and drops scratch databases; "
                          "check it, or remove it to let dbdeploy start a temporary cluster.");
        goto cleanup;
    }
    *out = s;
    s = NULL;
    rc = 0;
cleanup:
    schema_server_close(s);
    return rc;
}

void schema_server_close(struct schema_server *s)
{
    if (!s)
        return;
    db_free(s->admin);
    schema_cluster_stop(&s->cluster);
    config_free(s->cfg);
    free(s->name);
    free(s);
}

const char *schema_server_name(const struct schema_server *s)
{
    return s->name;
}

/* A new empty database on the server and a session on it; *name receives its name. */
static int scratch_open(struct db_conn **db, char **name, struct schema_server *s, struct dd_error *err)
{
    *name = dd_xasprintf("dbdeploy_schema_%ld_%u", (long)getpid(), ++s->serial);
    if (db_database_create_empty(s->admin, *name, err) < 0) {
        dd_error_hint(err, "The role of %s needs CREATEDB to build a schema there.", s->name);
        free(*name);
        *name = NULL;
        return -1;
    }
    return db_connect_database(db, s->admin, *name, err);
}

static void scratch_close(struct db_conn *db, char *name, struct schema_server *s)
{
    struct dd_error ignored = DD_ERROR_INIT;

    db_free(db);
    if (name && db_database_drop(s->admin, name, &ignored) < 0)
        log_warn("could not drop the scratch database '%s' on %s: %s", name, s->name, ignored.chain.v[0]);
    dd_error_release(&ignored);
    free(name);
}

int schema_build(struct dd_buf *out, struct schema_server *s, struct migration_set *set, const struct dd_config *cfg,
                 struct dd_error *err)
{
    struct db_conn *db = NULL;
    char *name = NULL;
    struct db_ledger ledger = DB_LEDGER_INIT;
    struct engine_status st = ENGINE_STATUS_INIT;
    struct engine_plan plan = ENGINE_PLAN_INIT;
    struct engine_result res = ENGINE_RESULT_INIT;
    struct engine_opts o;
    int rc = -1;

    if (scratch_open(&db, &name, s, err) < 0)
        goto cleanup;
    engine_opts_from_config(&o, cfg);
    o.env = "schema";
    o.applied_by = "dbdeploy schema check";
    {
        struct engine_target t = {db, set, &ledger, &st, &o, cfg->lock_wait_ms};
        struct engine_goal g = {ENGINE_GOAL_APPLY, -1, 0, false};
        if (engine_refresh(&t, err) < 0 || engine_execute(&res, &plan, &t, &g, false, set->commit, err) < 0) {
            dd_error_hint(err,
                          "The migrations do not apply to an empty database on %s; fix the migration named "
                          "above.",
                          s->name);
            goto cleanup;
        }
    }
    if (schema_dump(out, db, cfg, err) < 0)
        goto cleanup;
    rc = 0;
cleanup:
    engine_result_release(&res);
    engine_plan_release(&plan);
    engine_status_release(&st);
    db_ledger_release(&ledger);
    scratch_close(db, name, s);
    return rc;
}

/* The line of a 1-based character position that the server reported (0: unknown, line 1). */
static unsigned line_of(const char *text, size_t len, long position)
{
    unsigned line = 1;
    long chars = 0;

    for (size_t i = 0; i < len && chars < position - 1; i++) {
        if ((text[i] & 0xC0) != 0x80)
            chars++;
        if (text[i] == '\n')
            line++;
    }
    return line;
}

int schema_load(struct dd_buf *out, struct schema_server *s, const char *text, size_t len, const char *file,
                const struct dd_config *cfg, struct dd_error *err)
{
    struct db_conn *db = NULL;
    char *name = NULL;
    struct schema_applied applied = {NULL, NULL, 0};
    struct db_sql_error sqlerr = DB_SQL_ERROR_INIT;
    int rc = -1;

    if (schema_applied_parse(&applied, text, len, file, err) < 0 || scratch_open(&db, &name, s, err) < 0)
        goto cleanup;
    if (db_exec_statement(db, text, len, &sqlerr, err) < 0) {
        if (sqlerr.message) {
            dd_error_release(err);
            dd_error_set(err, DD_EINPUT, "%s:%u: %s", file, line_of(text, len, sqlerr.position), sqlerr.message);
        }
        dd_error_hint(err,
                      "'%s' does not load into an empty database; regenerate it with 'dbdeploy schema check "
                      "--write'.",
                      file);
        goto cleanup;
    }
    /* a dump of the loaded schema, with the file's versions as an installed database's ledger would list them */
    if (schema_dump(out, db, cfg, err) < 0)
        goto cleanup;
    {
        /* schema_dump found no ledger: its trailer lists nothing, so replace it with the file's */
        const char *mark = strstr(out->buf, "\n" SCHEMA_TRAILER_HEAD);
        if (mark)
            dd_buf_setlen(out, (size_t)(mark - out->buf) + 1);
        schema_trailer(out, applied.versions, (const char *const *)applied.files, applied.n);
    }
    rc = 0;
cleanup:
    db_sql_error_release(&sqlerr);
    schema_applied_release(&applied);
    scratch_close(db, name, s);
    return rc;
}
