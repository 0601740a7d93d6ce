#include "db/db.h"

#include <stdio.h>

#include "db/internal.h"
#include "util/buf.h"

/* "schema_migrations" or "app.schema_migrations", each part quoted. */
static char *quote_table(struct db_conn *c, const char *table)
{
    const char *dot = strchr(table, '.');
    char *a, *b, *out;

    if (!dot)
        return db_quote_ident(c, table);
    a = dd_xstrndup(table, (size_t)(dot - table));
    b = dd_xstrdup(dot + 1);
    {
        char *qa = db_quote_ident(c, a), *qb = db_quote_ident(c, b);
        out = dd_xasprintf("%s.%s", qa, qb);
        free(qa);
        free(qb);
    }
    free(a);
    free(b);
    return out;
}

int db_foreign_versions_read(struct db_foreign_versions *out, struct db_conn *c, enum db_foreign_tool tool,
                             const char *table, struct dd_error *err)
{
    char *qt = quote_table(c, table);
    char *sql = dd_xasprintf(tool == DB_FOREIGN_GOLANG_MIGRATE ? "SELECT version::text, dirty FROM %s"
                                                               : "SELECT version::text, false FROM %s",
                             qt);
    PGresult *res = PQexec(c->pg, sql);
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (state && (strcmp(state, "42P01") == 0 || strcmp(state, "3F000") == 0)) {
            dd_error_set(err, DD_EINPUT, "there is no table '%s' in %s", table, PQdb(c->pg));
            dd_error_hint(err, "Point --table at the other tool's migrations table (for example "
                               "--table public.schema_migrations).");
        } else {
            db_error_from_result(err, res, c->pg, "cannot read the other tool's migrations table");
        }
        goto cleanup;
    }
    out->n = (size_t)PQntuples(res);
    out->v = dd_xcalloc(out->n ? out->n : 1, sizeof(*out->v));
    for (int i = 0; i < PQntuples(res); i++) {
        const char *v = PQgetvalue(res, i, 0);
        char *end;
        long long x = strtoll(v, &end, 10);
        if (!*v || *end || x < 0) {
            dd_error_set(err, DD_EINPUT, "'%s' in %s is not a numeric migration version", v, table);
            goto cleanup;
        }
        out->v[i] = x;
        if (PQgetvalue(res, i, 1)[0] == 't')
            out->dirty = true;
    }
    rc = 0;
cleanup:
    if (rc < 0)
        db_foreign_versions_release(out);
    PQclear(res);
    free(sql);
    free(qt);
    return rc;
}

void db_foreign_versions_release(struct db_foreign_versions *f)
{
    free(f->v);
    memset(f, 0, sizeof(*f));
}
