#include "engine/adopt.h"

#include <stdio.h>
#include <stdlib.h>

int engine_adopt_tool(enum db_foreign_tool *out, const char *name, struct dd_error *err)
{
    if (dd_streq(name, "golang-migrate") || dd_streq(name, "migrate")) {
        *out = DB_FOREIGN_GOLANG_MIGRATE;
        return 0;
    }
    if (dd_streq(name, "dbmate")) {
        *out = DB_FOREIGN_DBMATE;
        return 0;
    }
    if (dd_streq(name, "flyway")) {
        *out = DB_FOREIGN_FLYWAY;
        return 0;
    }
    if (name)
        dd_error_set(err, DD_EUSAGE, "'%s' is not a tool dbdeploy can adopt from", name);
    else
        dd_error_set(err, DD_EUSAGE,
                     "say which tool applied the migrations: --from golang-migrate, --from dbmate or --from flyway");
    dd_error_hint(err, "Use --from golang-migrate, --from dbmate or --from flyway.");
    return -1;
}

const char *engine_adopt_default_table(enum db_foreign_tool tool)
{
    return tool == DB_FOREIGN_FLYWAY ? "flyway_schema_history" : "schema_migrations";
}

/* golang-migrate records only where it stopped: everything up to there ran. */
static int select_golang_migrate(struct engine_adoption *out, const struct migration_set *set,
                                 const struct db_foreign_versions *fv, const char *env, struct dd_error *err)
{
    if (fv->dirty) {
        dd_error_set(err, DD_EBLOCKED, "golang-migrate left %s dirty at version %lld", env,
                     (long long)(fv->n ? fv->v[0] : -1));
        dd_error_hint(err, "A migration failed part-way under golang-migrate: repair the database, run 'migrate "
                           "force VERSION', then adopt.");
        return -1;
    }
    if (fv->n && !migration_set_find(set, fv->v[0])) {
        dd_error_set(err, DD_EINPUT, "golang-migrate is at version %lld, but no migration file has it",
                     (long long)fv->v[0]);
        dd_error_hint(err, "Check out the commit the database was migrated from.");
        return -1;
    }
    for (size_t i = 0; fv->n && i < set->n; i++)
        if (set->v[i].version <= fv->v[0])
            out->versions[out->n++] = set->v[i].version;
    return 0;
}

/* dbmate records every version it ran (so does Flyway, once replayed); each must be one of ours. */
static int select_each(struct engine_adoption *out, const struct migration_set *set,
                       const struct db_foreign_versions *fv, const char *tool, struct dd_error *err)
{
    struct dd_strv unknown = DD_STRV_INIT;

    for (size_t i = 0; i < fv->n; i++) {
        if (!migration_set_find(set, fv->v[i]))
            dd_strv_pushf(&unknown, "version %lld is applied according to %s but has no file", (long long)fv->v[i],
                          tool);
        out->versions[out->n++] = fv->v[i];
    }
    if (!unknown.n)
        return 0;
    dd_error_set(err, DD_EINPUT, "%zu version%s recorded by %s %s no migration file", unknown.n,
                 unknown.n == 1 ? "" : "s", tool, unknown.n == 1 ? "has" : "have");
    for (size_t i = 0; i < unknown.n; i++)
        dd_error_detail(err, "%s", unknown.v[i]);
    dd_error_hint(err, "Check out the commit the database was migrated from.");
    dd_strv_release(&unknown);
    return -1;
}

static int cmp_version(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * Flyway's history is a log: replay it in installed_rank order (an undo or a repair's DELETE
 * takes a version back out; a baseline stands for every version up to it), then every version
 * left must have a file, as for dbmate.
 */
static int select_flyway(struct engine_adoption *out, const struct migration_set *set,
                         const struct db_foreign_versions *fv, const char *env, struct dd_error *err)
{
    struct db_foreign_versions applied = {NULL, 0, false, NULL, 0};
    size_t n = 0;
    int rc;

    if (fv->dirty) {
        dd_error_set(err, DD_EBLOCKED, "Flyway recorded a failed migration on %s (version %lld)", env,
                     (long long)fv->dirty_version);
        dd_error_hint(err, "Repair the database and run 'flyway repair' (it removes the failed row), then adopt.");
        return -1;
    }
    applied.v = dd_xcalloc(fv->n + set->n + 1, sizeof(*applied.v));
    for (size_t i = 0; i < fv->n; i++) {
        size_t k = 0;
        while (k < n && applied.v[k] != fv->v[i])
            k++;
        if (fv->op[i] == DB_FLYWAY_UNDONE && k < n)
            applied.v[k] = applied.v[--n];
        else if (fv->op[i] == DB_FLYWAY_APPLIED && k == n)
            applied.v[n++] = fv->v[i];
        else if (fv->op[i] == DB_FLYWAY_BASELINE)
            for (size_t j = 0; j < set->n && set->v[j].version <= fv->v[i]; j++) {
                size_t m = 0;
                while (m < n && applied.v[m] != set->v[j].version)
                    m++;
                if (m == n)
                    applied.v[n++] = set->v[j].version;
            }
    }
    qsort(applied.v, n, sizeof(*applied.v), cmp_version);
    applied.n = n;
    rc = select_each(out, set, &applied, "Flyway", err);
    free(applied.v);
    return rc;
}

int engine_adopt_select(struct engine_adoption *out, const struct migration_set *set, enum db_foreign_tool tool,
                        const struct db_foreign_versions *fv, const char *env, struct dd_error *err)
{
    int rc;

    *out = (struct engine_adoption)ENGINE_ADOPTION_INIT;
    out->versions = dd_xcalloc(set->n + fv->n + 1, sizeof(*out->versions));
    rc = tool == DB_FOREIGN_GOLANG_MIGRATE ? select_golang_migrate(out, set, fv, env, err)
         : tool == DB_FOREIGN_FLYWAY       ? select_flyway(out, set, fv, env, err)
                                           : select_each(out, set, fv, "dbmate", err);
    if (rc < 0)
        engine_adoption_release(out);
    return rc;
}

static const struct engine_item *find_item(const struct engine_status *st, int64_t version)
{
    for (size_t k = 0; k < st->n; k++)
        if (st->v[k].version == version)
            return &st->v[k];
    return NULL;
}

int engine_adopt_check(struct engine_adoption *a, const struct engine_status *st, struct dd_error *err)
{
    a->already = 0;
    for (size_t i = 0; i < a->n; i++) {
        const struct engine_item *it = find_item(st, a->versions[i]);
        if (!it || !it->row)
            continue;
        if (it->state == ENGINE_APPLIED) {
            a->already++;
            continue;
        }
        dd_error_set(err, DD_EBLOCKED, "%s is already in the ledger as %s", it->m ? it->m->up.path : it->row->file,
                     engine_state_name(it->state));
        dd_error_hint(err, "Resolve it with 'dbdeploy mark' before adopting.");
        return -1;
    }
    return 0;
}

/* Whether the ledger already has version as applied (recorded by an earlier adoption or run). */
static bool recorded(const struct engine_status *st, int64_t version)
{
    const struct engine_item *it = find_item(st, version);
    return it && it->row && it->state == ENGINE_APPLIED;
}

int engine_adopt(struct engine_adoption *out, struct engine_target *t, enum db_foreign_tool tool, const char *table,
                 bool dry_run, const char *git_commit, struct dd_error *err)
{
    struct db_foreign_versions fv = {NULL, 0, false, NULL, 0};
    int rc = -1;

    *out = (struct engine_adoption)ENGINE_ADOPTION_INIT;
    if (db_foreign_versions_read(&fv, t->db, tool, table, err) < 0 ||
        engine_adopt_select(out, t->set, tool, &fv, t->opts->env, err) < 0)
        goto cleanup;
    if (!dry_run && engine_lock(t, true, err) < 0)
        goto cleanup;
    /* every version is judged before the first is recorded, so a refusal changes nothing */
    if (engine_adopt_check(out, t->st, err) < 0)
        goto cleanup;
    for (size_t i = 0; !dry_run && i < out->n; i++)
        if (!recorded(t->st, out->versions[i]) &&
            engine_mark(t->db, t->st, t->opts, out->versions[i], true, git_commit, err) < 0)
            goto cleanup;
    rc = 0;
cleanup:
    db_foreign_versions_release(&fv);
    return rc;
}

/* "dbdeploy adopt ENV --from TOOL [--table SCHEMA.TABLE]": --table only when the default would not find it. */
static char *adopt_command(const struct db_foreign_ledger *f, const char *env)
{
    if (strcmp(f->schema, "public") == 0)
        return dd_xasprintf("dbdeploy adopt %s --from %s", env, db_foreign_tool_name(f->tool));
    return dd_xasprintf("dbdeploy adopt %s --from %s --table %s.%s", env, db_foreign_tool_name(f->tool), f->schema,
                        f->table);
}

int engine_foreign_check(struct db_conn *db, const struct db_ledger *ledger, const struct engine_opts *o,
                         struct dd_error *err)
{
    struct db_foreign_ledger f = {DB_FOREIGN_DBMATE, NULL, NULL};
    char *cmd = NULL;
    int found;

    if (ledger->exists)
        return 0; /* dbdeploy already manages this database (adopted, or deployed before) */
    found = db_foreign_find(&f, db, o->schema, err);
    if (found <= 0)
        return found;
    if (f.tool == DB_FOREIGN_SQITCH) {
        dd_error_set(err, DD_EBLOCKED,
                     "%s was migrated by Sqitch (registry schema '%s') and has no dbdeploy ledger yet", o->env,
                     f.schema);
        dd_error_hint(err,
                      "dbdeploy cannot read Sqitch's plan: record each change Sqitch deployed with 'dbdeploy "
                      "mark %s VERSION --applied', then deploy.",
                      o->env);
    } else {
        cmd = adopt_command(&f, o->env);
        dd_error_set(err, DD_EBLOCKED, "%s was migrated by %s (table %s.%s) and has no dbdeploy ledger yet", o->env,
                     db_foreign_tool_name(f.tool), f.schema, f.table);
        dd_error_hint(err, "Nothing was run. Record what %s applied, without re-running it: '%s'; then deploy again.",
                      db_foreign_tool_name(f.tool), cmd);
    }
    free(cmd);
    db_foreign_ledger_release(&f);
    return -1;
}

void engine_adoption_release(struct engine_adoption *a)
{
    if (!a)
        return;
    free(a->versions);
    *a = (struct engine_adoption)ENGINE_ADOPTION_INIT;
}
