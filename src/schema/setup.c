/*
 * `dbdeploy setup ENV`: a fresh install from the schema file. On an empty database only: load
 * the file, record the versions it lists as applied (the ledger says they came from the file),
 * then apply the migrations newer than the file, as apply would. Everything after the lock.
 */
#include "schema/internal.h"

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "db/db.h"
#include "db/ledger.h"
#include "engine/execute.h"
#include "migrations/migrations.h"
#include "util/out.h"

/* Empty: no object outside the system schemas and the ledger (an empty public schema is fine). */
static int require_empty(struct db_conn *db, const struct dd_config *cfg, const struct db_ledger *ledger,
                         struct dd_error *err)
{
    struct dd_strv lines = DD_STRV_INIT;
    size_t objects = 0;
    const char *first = NULL;
    int rc = -1;

    if (db_schema_catalog(db, cfg->ledger_schema, NULL, &lines, err) < 0)
        goto cleanup;
    for (size_t i = 0; i < lines.n; i++)
        if (strcmp(lines.v[i], "schema public") != 0 && objects++ == 0)
            first = lines.v[i];
    if (objects || ledger->n) {
        dd_error_set(err, DD_EBLOCKED, "%s is not empty: %s", cfg->env,
                     ledger->n ? "its ledger records applied migrations" : "it holds objects");
        if (first)
            dd_error_detail(err, "%.*s (and %zu more)", (int)strcspn(first, "\t"), first, objects - 1);
        dd_error_hint(err,
                      "setup installs into an empty database only; deploy to an existing one with 'dbdeploy "
                      "deploy %s'.",
                      cfg->env);
        goto cleanup;
    }
    rc = 0;
cleanup:
    dd_strv_release(&lines);
    return rc;
}

/* Every version the file lists must be a migration here, or the ledger would record a ghost. */
static int check_versions(const struct schema_applied *a, const struct engine_status *st, const char *file,
                          struct dd_error *err)
{
    for (size_t i = 0; i < a->n; i++) {
        bool found = false;
        for (size_t k = 0; k < st->n && !found; k++)
            found = st->v[k].version == a->versions[i] && st->v[k].m;
        if (!found) {
            dd_error_set(err, DD_EINPUT, "%s lists version %lld (%s), which has no migration file here", file,
                         (long long)a->versions[i], a->files[i]);
            dd_error_hint(err, "The schema file and the migrations come from different commits; regenerate it with "
                               "'dbdeploy schema check --write'.");
            return -1;
        }
    }
    return 0;
}

static int load_file(struct db_conn *db, const char *text, size_t len, const char *file, struct dd_error *err)
{
    struct db_sql_error sqlerr = DB_SQL_ERROR_INIT;
    int rc = -1;

    /* one simple-query message: the server runs it as one implicit transaction, all or nothing */
    if (db_exec_statement(db, text, len, &sqlerr, err) < 0) {
        dd_error_wrap(err, "loading %s", file);
        dd_error_hint(err, "Nothing was installed. Check that the file loads with 'dbdeploy schema check "
                           "--fresh-install'.");
        goto cleanup;
    }
    /* pg_dump's output empties search_path for the session: the migrations after it need the default */
    if (db_exec_statement(db, "RESET ALL", 9, &sqlerr, err) < 0)
        goto cleanup;
    rc = 0;
cleanup:
    db_sql_error_release(&sqlerr);
    return rc;
}

int schema_setup(struct schema_setup_result *out, struct engine_target *t, const struct dd_config *cfg,
                 const char *text, size_t len, const char *file, const char *git_commit, struct dd_error *err)
{
    struct schema_applied a = {NULL, NULL, 0};
    struct engine_plan plan = ENGINE_PLAN_INIT;
    struct engine_goal g = {ENGINE_GOAL_APPLY, -1, 0, false};
    int rc = -1;

    out->installed = 0;
    out->applied = (struct engine_result)ENGINE_RESULT_INIT;
    if (schema_applied_parse(&a, text, len, file, err) < 0 || engine_lock(t, true, err) < 0 ||
        require_empty(t->db, cfg, t->ledger, err) < 0 || check_versions(&a, t->st, file, err) < 0 ||
        load_file(t->db, text, len, file, err) < 0)
        goto cleanup;
    {
        /* the ledger rows of the file's migrations say where they came from */
        struct engine_opts mo = *t->opts;
        char *by = dd_xasprintf("%s (setup from %s)", t->opts->applied_by, file);
        mo.applied_by = by;
        for (size_t i = 0; i < a.n && rc == -1; i++)
            if (engine_mark(t->db, t->st, &mo, a.versions[i], true, git_commit, err) < 0)
                rc = -2;
        free(by);
        if (rc == -2) {
            rc = -1;
            goto cleanup;
        }
    }
    out->installed = a.n;
    if (engine_refresh(t, err) < 0 || engine_decide(&plan, t->st, t->opts, &g, err) < 0)
        goto cleanup;
    if (plan.n || plan.nrep) { /* repeatable migrations run too: their ledger rows are not in the schema file */
        if (engine_run(&out->applied, t->db, &plan, t->opts, git_commit, err) < 0)
            goto cleanup;
    } else if (engine_schema_record(t->db, cfg->ledger_schema, err) < 0) {
        goto cleanup;
    }
    rc = 0;
cleanup:
    engine_plan_release(&plan);
    schema_applied_release(&a);
    return rc;
}
