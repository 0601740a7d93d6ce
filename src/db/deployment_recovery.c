/*
 * The recovery method of recorded deployments, for `dbdeploy log`. The column
 * <schema>.deployments.recovery is added by a later ledger version; with a ledger that has no
 * such column every deployment simply has none, so this never fails on its absence.
 */
#include "db/ledger.h"

#include <stdio.h>

#include "db/internal.h"

int db_deployments_recovery(char ***out, const struct db_deployments *l, struct db_conn *c, const char *schema,
                            struct dd_error *err)
{
    const char *params[1] = {schema};
    PGresult *res = PQexecParams(c->pg,
                                 "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = $1 "
                                 "AND table_name = 'deployments' AND column_name = 'recovery')",
                                 1, NULL, params, NULL, NULL, 0);
    char *qs = NULL, *sql = NULL;
    int rc = -1;

    *out = dd_xcalloc(l->n ? l->n : 1, sizeof(**out));
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        db_error_from_result(err, res, c->pg, "cannot read the ledger's columns");
        goto cleanup;
    }
    if (PQgetvalue(res, 0, 0)[0] != 't') {
        rc = 0;
        goto cleanup;
    }
    PQclear(res);
    qs = db_quote_ident(c, schema);
    sql = dd_xasprintf("SELECT id, recovery::text FROM %s.deployments WHERE recovery IS NOT NULL", qs);
    res = PQexec(c->pg, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        db_error_from_result(err, res, c->pg, "cannot read the deployments' recovery");
        goto cleanup;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        int64_t id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
        for (size_t i = 0; i < l->n; i++)
            if (l->v[i].id == id && !(*out)[i])
                (*out)[i] = dd_xstrdup(PQgetvalue(res, r, 1));
    }
    rc = 0;
cleanup:
    PQclear(res);
    free(sql);
    free(qs);
    return rc;
}
