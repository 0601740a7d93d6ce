/*
 * The schema as one sorted line per object, read from the catalog (for drift detection): cheap
 * enough to run at every deploy, unlike pg_dump. Each line is "<kind> <name>\t<definition>";
 * bodies that can be long (functions, views, triggers) are represented by their md5, which is
 * enough to say that they changed. The ledger's own schema, system schemas and objects that
 * belong to an extension are left out (the extension itself is listed, with its version).
 */
#include "db/db.h"

#include <string.h>

#include "db/internal.h"
#include "util/buf.h"

/* $1: the ledger schema. */
#define CATALOG_LINES_SQL                                                                                              \
    "WITH ns AS (SELECT oid, nspname FROM pg_namespace"                                                                \
    "  WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_toast%'"                   \
    "    AND nspname NOT LIKE 'pg\\_temp\\_%' AND nspname <> $1),"                                                     \
    " ext AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e'),"                                              \
    " rel AS (SELECT c.oid, c.relkind, c.relrowsecurity, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS "  \
    "name"                                                                                                             \
    "  FROM pg_class c JOIN ns n ON n.oid = c.relnamespace"                                                            \
    "  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')"                                                         \
    "    AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_class'::regclass AND objid = c.oid))"                   \
    " SELECT line FROM ("                                                                                              \
    "  SELECT 'schema ' || quote_ident(nspname) AS line FROM ns"                                                       \
    "   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_namespace'::regclass AND objid = ns.oid)"              \
    "  UNION ALL SELECT CASE relkind WHEN 'r' THEN 'table ' WHEN 'p' THEN 'table ' WHEN 'v' THEN 'view '"              \
    "    WHEN 'm' THEN 'materialized-view ' WHEN 'S' THEN 'sequence ' WHEN 'f' THEN 'foreign-table ' ELSE 'type ' END" \
    "    || name || E'\\t' || CASE WHEN relkind IN ('v', 'm') THEN md5(pg_get_viewdef(oid)) ELSE relkind::text END"    \
    "    || CASE WHEN relrowsecurity THEN ' row-level-security' ELSE '' END FROM rel"                                  \
    "  UNION ALL SELECT 'column ' || r.name || '.' || quote_ident(a.attname) || E'\\t'"                                \
    "    || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END"               \
    "    || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')"                                              \
    "    || CASE a.attidentity WHEN 'a' THEN ' identity always' WHEN 'd' THEN ' identity by default' ELSE '' END"      \
    "   FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped"                  \
    "   LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"                                       \
    "   WHERE r.relkind <> 'S'"                                                                                        \
    "  UNION ALL SELECT 'index ' || quote_ident(n.nspname) || '.' || quote_ident(ic.relname) || E'\\t'"                \
    "    || pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' (invalid)' END"                     \
    "   FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN rel r ON r.oid = i.indrelid"                    \
    "   JOIN ns n ON n.oid = ic.relnamespace"                                                                          \
    "  UNION ALL SELECT 'constraint ' || r.name || '.' || quote_ident(co.conname) || E'\\t'"                           \
    "    || pg_get_constraintdef(co.oid) FROM pg_constraint co JOIN rel r ON r.oid = co.conrelid"                      \
    "  UNION ALL SELECT 'function ' || quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '('"                 \
    "    || pg_get_function_identity_arguments(p.oid) || E')\\t'"                                                      \
    "    || md5(CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) ELSE p.prosrc END)"                   \
    "   FROM pg_proc p JOIN ns n ON n.oid = p.pronamespace"                                                            \
    "   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_proc'::regclass AND objid = p.oid)"                    \
    "  UNION ALL SELECT 'trigger ' || r.name || '.' || quote_ident(t.tgname) || E'\\t' || "                            \
    "md5(pg_get_triggerdef(t.oid))"                                                                                    \
    "   FROM pg_trigger t JOIN rel r ON r.oid = t.tgrelid WHERE NOT t.tgisinternal"                                    \
    "  UNION ALL SELECT 'policy ' || r.name || '.' || quote_ident(po.polname) || E'\\t' || po.polcmd::text"            \
    "    || CASE WHEN po.polpermissive THEN ' permissive' ELSE ' restrictive' END"                                     \
    "    || ' using ' || coalesce(pg_get_expr(po.polqual, po.polrelid), '-')"                                          \
    "    || ' check ' || coalesce(pg_get_expr(po.polwithcheck, po.polrelid), '-')"                                     \
    "   FROM pg_policy po JOIN rel r ON r.oid = po.polrelid"                                                           \
    "  UNION ALL SELECT 'type ' || quote_ident(n.nspname) || '.' || quote_ident(t.typname) || E'\\t'"                  \
    "    || CASE t.typtype WHEN 'e' THEN 'enum ' || (SELECT string_agg(quote_literal(enumlabel), ', '"                 \
    "      ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = t.oid)"                                              \
    "    WHEN 'd' THEN 'domain ' || format_type(t.typbasetype, t.typtypmod)"                                           \
    "      || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || t.typdefault, '')"        \
    "      || coalesce((SELECT ' ' || string_agg(pg_get_constraintdef(c.oid), ' ' ORDER BY c.conname)"                 \
    "        FROM pg_constraint c WHERE c.contypid = t.oid), '')"                                                      \
    "    ELSE 'range' END"                                                                                             \
    "   FROM pg_type t JOIN ns n ON n.oid = t.typnamespace WHERE t.typtype IN ('e', 'd', 'r')"                         \
    "    AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_type'::regclass AND objid = t.oid)"                     \
    "  UNION ALL SELECT 'extension ' || quote_ident(extname) || E'\\t' || extversion FROM pg_extension"                \
    "   WHERE extname <> 'plpgsql'"                                                                                    \
    " ) lines"

int db_schema_catalog(struct db_conn *c, const char *ledger_schema, char **fingerprint, struct dd_strv *lines,
                      struct dd_error *err)
{
    const char *params[1] = {ledger_schema};
    /*
     * The usual question is "same fingerprint?", answered server-side without the lines. With
     * them, one query gives both: the md5 on every row (and on a row of its own when there are
     * no lines), computed the same way, so both forms compare equal.
     */
    const char *sql = lines ? "WITH l AS (" CATALOG_LINES_SQL "), "
                              "f AS (SELECT md5(coalesce(string_agg(line, E'\\n' ORDER BY line COLLATE \"C\"), '')) "
                              "AS fp FROM l) "
                              "SELECT f.fp, l.line FROM f LEFT JOIN l ON true ORDER BY l.line COLLATE \"C\""
                            : "SELECT md5(coalesce(string_agg(line, E'\\n' ORDER BY line COLLATE \"C\"), ''))"
                              " FROM (" CATALOG_LINES_SQL ") l";
    /* both forms return at least the fingerprint's row */
    PGresult *res = db_exec(c, sql, 1, params, "cannot read the schema from the catalog", err);
    int rc = -1;

    if (!res)
        goto cleanup;
    if (fingerprint)
        *fingerprint = dd_xstrdup(PQgetvalue(res, 0, 0));
    for (int i = 0; lines && i < PQntuples(res); i++)
        if (!PQgetisnull(res, i, 1))
            dd_strv_push(lines, PQgetvalue(res, i, 1));
    rc = 0;
cleanup:
    PQclear(res);
    return rc;
}

/* The recorded state lives in the ledger's info table: no ledger format change needed. */
#define STATE_FP_KEY      "schema-fingerprint"
#define STATE_CATALOG_KEY "schema-catalog"

int db_schema_state_read(struct db_conn *c, const char *ledger_schema, char **fingerprint, char **catalog,
                         struct dd_error *err)
{
    char *qs = db_quote_ident(c, ledger_schema);
    char *sql = dd_xasprintf("SELECT (SELECT value FROM %1$s.info WHERE key = '" STATE_FP_KEY "'),"
                             " (SELECT value FROM %1$s.info WHERE key = '" STATE_CATALOG_KEY "')",
                             qs);
    bool missing;
    PGresult *res =
        db_exec_maybe_missing(c, &missing, sql, 0, NULL, "cannot read the recorded schema from the ledger", err);
    int rc = -1;

    *fingerprint = NULL;
    if (catalog)
        *catalog = NULL;
    if (!res) {
        if (missing)
            rc = 0; /* no ledger yet: nothing recorded */
        goto cleanup;
    }
    if (!PQgetisnull(res, 0, 0))
        *fingerprint = dd_xstrdup(PQgetvalue(res, 0, 0));
    if (catalog && !PQgetisnull(res, 0, 1))
        *catalog = dd_xstrdup(PQgetvalue(res, 0, 1));
    rc = 0;
cleanup:
    PQclear(res);
    free(sql);
    free(qs);
    return rc;
}

int db_schema_state_write(struct db_conn *c, const char *ledger_schema, const char *fingerprint, const char *catalog,
                          struct dd_error *err)
{
    char *qs = db_quote_ident(c, ledger_schema);
    /* the transaction's id is dbdeploy's own: the foreign-write guard must not count this write */
    char *sql =
        dd_xasprintf("WITH up AS (INSERT INTO %1$s.info (key, value) VALUES ('" STATE_FP_KEY
                     "', $1), ('" STATE_CATALOG_KEY "', $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value "
                     "RETURNING 1) SELECT txid_current()::text FROM (SELECT count(*) FROM up) n",
                     qs);
    const char *params[2] = {fingerprint, catalog};
    PGresult *res = db_exec(c, sql, 2, params, "cannot record the schema in the ledger", err);
    int rc = res ? 0 : -1;

    if (res)
        db_own_xid_add(c, PQgetvalue(res, 0, 0));
    PQclear(res);
    free(sql);
    free(qs);
    return rc;
}
