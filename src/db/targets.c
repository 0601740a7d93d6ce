#include "db/targets.h"

#include "db/internal.h"

int db_query_pairs(struct dd_strv *names, struct dd_strv *urls, struct db_conn *c, const char *sql,
                   struct dd_error *err)
{
    PGresult *res = PQexec(c->pg, sql);
    int rc = -1;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        db_error_from_result(err, res, c->pg, "query failed");
        goto cleanup;
    }
    if (PQnfields(res) < 2) {
        dd_error_set(err, DD_ECONFIG, "the query returned %d column(s), not a name and a connection string",
                     PQnfields(res));
        goto cleanup;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        dd_strv_push(names, PQgetisnull(res, i, 0) ? "" : PQgetvalue(res, i, 0));
        dd_strv_push(urls, PQgetisnull(res, i, 1) ? "" : PQgetvalue(res, i, 1));
    }
    rc = 0;
cleanup:
    PQclear(res);
    return rc;
}

char *db_url_dbname(const char *url)
{
    PQconninfoOption *opts = PQconninfoParse(url, NULL);
    char *name = NULL;

    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "dbname") == 0 && o->val && *o->val)
            name = dd_xstrdup(o->val);
    PQconninfoFree(opts);
    return name;
}
