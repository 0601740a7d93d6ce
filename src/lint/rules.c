/*
 * The rules: each looks at one statement's parse tree (libpg_query JSON) and reports through
 * lint_emit, which applies context, severity and suppressions.
 */
#include "lint/internal.h"

#include <stdio.h>
#include <strings.h>

/* clang-format off */
const struct lint_rule lint_rules[] = {
    {"syntax-error", LINT_ERROR, LINT_CLASS_OTHER, "the file does not parse as PostgreSQL 15 SQL",
     "Fix the statement; PostgreSQL would reject it too."},
    {"bad-suppression", LINT_ERROR, LINT_CLASS_OTHER, "a dbdeploy:allow comment without a reason or a known rule",
     "Write '-- dbdeploy:allow RULE-ID why it is safe here'."},
    {"index-without-concurrently", LINT_ERROR, LINT_CLASS_LOCK,
     "CREATE INDEX without CONCURRENTLY on an existing table blocks writes for the whole build",
     "Use CREATE INDEX CONCURRENTLY in a migration of its own (dbdeploy runs it outside a transaction)."},
    {"drop-index-without-concurrently", LINT_ERROR, LINT_CLASS_LOCK,
     "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the index's table",
     "Use DROP INDEX CONCURRENTLY in a migration of its own."},
    {"constraint-without-not-valid", LINT_ERROR, LINT_CLASS_LOCK,
     "ADD FOREIGN KEY or CHECK validates every row while holding a lock that blocks writes",
     "Add the constraint NOT VALID, then VALIDATE CONSTRAINT in a later migration."},
    {"validate-in-same-transaction", LINT_ERROR, LINT_CLASS_OTHER,
     "VALIDATE CONSTRAINT in the transaction that added the constraint NOT VALID keeps the add's lock during the scan",
     "Move VALIDATE CONSTRAINT to a later migration."},
    {"alter-column-type", LINT_ERROR, LINT_CLASS_LOCK,
     "ALTER COLUMN TYPE rewrites the table and its indexes under an ACCESS EXCLUSIVE lock",
     "Add a new column, backfill it in batches, switch the application, then drop the old column."},
    {"set-not-null", LINT_ERROR, LINT_CLASS_LOCK,
     "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock",
     "First add CHECK (col IS NOT NULL) NOT VALID and VALIDATE it in a later migration; SET NOT NULL then skips the scan."},
    {"volatile-default", LINT_ERROR, LINT_CLASS_LOCK,
     "ADD COLUMN with a volatile default (random(), gen_random_uuid(), nextval/serial...) rewrites the table",
     "Add the column without a default (or with a constant one), then backfill in batches."},
    {"unique-without-index", LINT_ERROR, LINT_CLASS_LOCK,
     "ADD PRIMARY KEY/UNIQUE builds its index while blocking writes",
     "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX."},
    {"drop-table", LINT_ERROR, LINT_CLASS_DATA_LOSS, "DROP TABLE destroys the table's data",
     "Keep the table until nothing uses it and a backup holds it; then suppress with a reason."},
    {"drop-column", LINT_ERROR, LINT_CLASS_DATA_LOSS,
     "DROP COLUMN destroys the column's data and breaks the running application if it still reads it",
     "Stop using the column in the application first; drop it in a later release, suppressed with a reason."},
    {"drop-schema", LINT_ERROR, LINT_CLASS_DATA_LOSS, "DROP SCHEMA destroys everything in the schema",
     "Drop the objects one by one in reviewed migrations, or suppress with a reason."},
    {"truncate", LINT_ERROR, LINT_CLASS_DATA_LOSS, "TRUNCATE deletes every row",
     "Delete only what must go, with a WHERE, or suppress with a reason."},
    {"delete-without-where", LINT_ERROR, LINT_CLASS_DATA_LOSS, "DELETE without WHERE deletes every row",
     "Add a WHERE clause naming the rows to delete."},
    {"update-without-where", LINT_ERROR, LINT_CLASS_DATA_LOSS, "UPDATE without WHERE overwrites every row",
     "Add a WHERE clause, and backfill big tables in batches."},
    {"rename-table", LINT_ERROR, LINT_CLASS_BREAKING, "RENAME of a table breaks the running application",
     "Create the new table (or a view with the new name) and move the application over before dropping the old name."},
    {"rename-column", LINT_ERROR, LINT_CLASS_BREAKING, "RENAME of a column breaks the running application",
     "Add a new column, write both, backfill, switch reads, then drop the old column."},
    {"cascade", LINT_WARNING, LINT_CLASS_OTHER, "CASCADE also drops or empties objects the statement does not name",
     "Name every object to drop or truncate explicitly."},
    {"lock-table", LINT_WARNING, LINT_CLASS_LOCK, "LOCK TABLE blocks the application until the migration ends",
     "Avoid explicit locks; if one is needed, keep the transaction short and set lock-timeout."},
    {"vacuum-full", LINT_ERROR, LINT_CLASS_LOCK, "VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock",
     "Use plain VACUUM, or pg_repack outside the deployment."},
    {"cluster", LINT_ERROR, LINT_CLASS_LOCK, "CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock",
     "Run it in a maintenance window outside the deployment, or use pg_repack."},
    {"concurrently-in-transaction", LINT_ERROR, LINT_CLASS_OTHER,
     "CONCURRENTLY cannot run inside a transaction block",
     "Remove the BEGIN/COMMIT around it and keep it in a migration of its own."},
};
/* clang-format on */

const size_t lint_rule_count = DD_ARRAY_SIZE(lint_rules);

_Static_assert(DD_ARRAY_SIZE(lint_rules) == R_COUNT, "rule table and enum differ");
_Static_assert(R_COUNT <= DD_ARRAY_SIZE(((struct lint_run *)0)->sev), "lint_run.sev is too small");

/* "schema.name" unless the schema is public or absent: the key tables are known by. */
static void name_key(char *out, size_t n, const char *schema, const char *name)
{
    if (schema && strcmp(schema, "public") != 0)
        snprintf(out, n, "%s.%s", schema, name ? name : "?");
    else
        snprintf(out, n, "%s", name ? name : "?");
}

/* A RangeVar, bare ("relation": {...}) or tagged ({"RangeVar": {...}}). */
static void rel_key(char *out, size_t n, const struct lj_node *rv)
{
    const struct lj_node *tagged = lj_get(rv, "RangeVar");

    if (tagged)
        rv = tagged;
    name_key(out, n, lj_str(rv, "schemaname"), lj_str(rv, "relname"));
}

/* A qualified name as a list of String nodes: {"List": {"items": [...]}} or a bare items array. */
static void list_key(char *out, size_t n, const struct lj_node *list)
{
    const char *parts[3] = {NULL, NULL, NULL};
    size_t k = 0;
    const struct lj_node *items = lj_get(lj_get(list, "List"), "items");

    for (const struct lj_node *i = items ? items->kids : (list ? list->kids : NULL); i; i = i->next) {
        const char *s = lj_str(lj_get(i, "String"), "sval");
        if (k < 3)
            parts[k++] = s;
        else {
            parts[0] = parts[1];
            parts[1] = parts[2];
            parts[2] = s;
        }
    }
    if (k >= 2)
        name_key(out, n, parts[k - 2], parts[k - 1]);
    else
        name_key(out, n, NULL, k ? parts[0] : NULL);
}

static const char *string_node(const struct lj_node *n)
{
    return lj_str(lj_get(n, "String"), "sval");
}

static void strv_remove(struct dd_strv *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++)
        if (strcmp(sv->v[i], s) == 0) {
            free(sv->v[i]);
            memmove(&sv->v[i], &sv->v[i + 1], (sv->n - i) * sizeof(*sv->v)); /* moves the NULL too */
            sv->n--;
            return;
        }
}

/* Whether any FuncCall under n calls a volatile function (the ones migrations use as defaults). */
static bool has_volatile_call(const struct lj_node *n)
{
    static const char *const volatile_fns[] = {
        "random",          "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4",
        "clock_timestamp", "timeofday",       "nextval",          "txid_current",       "gen_random_bytes"};

    if (!n)
        return false;
    if (n->type == LJ_OBJ && n->key && strcmp(n->key, "FuncCall") == 0) {
        const struct lj_node *names = lj_get(n, "funcname");
        const struct lj_node *last = names ? names->kids : NULL;
        while (last && last->next)
            last = last->next;
        for (size_t i = 0; last && i < DD_ARRAY_SIZE(volatile_fns); i++)
            if (dd_streq(string_node(last), volatile_fns[i]))
                return true;
    }
    for (const struct lj_node *k = n->kids; k; k = k->next)
        if (has_volatile_call(k))
            return true;
    return false;
}

static const char *type_last_name(const struct lj_node *type_name)
{
    const struct lj_node *names = lj_get(type_name, "names"), *last = names ? names->kids : NULL;

    while (last && last->next)
        last = last->next;
    return last ? string_node(last) : NULL;
}

/* Changing to text or unbounded varchar is binary-coercible from the text types: no rewrite. */
static bool type_change_is_cheap(const struct lj_node *type_name)
{
    const char *t = type_last_name(type_name);

    if (lj_get(type_name, "arrayBounds"))
        return false;
    return dd_streq(t, "text") || (dd_streq(t, "varchar") && !lj_get(type_name, "typmods"));
}

/* The column of a CHECK (col IS NOT NULL), or NULL. */
static const char *not_null_check_column(const struct lj_node *con)
{
    const struct lj_node *nt = lj_get(lj_get(con, "raw_expr"), "NullTest");
    const struct lj_node *fields = lj_get(lj_get(lj_get(nt, "arg"), "ColumnRef"), "fields");

    if (!nt || !dd_streq(lj_str(nt, "nulltesttype"), "IS_NOT_NULL") || !fields || !fields->kids || fields->kids->next)
        return NULL;
    return string_node(fields->kids);
}

static void check_index(struct lint_file *f, const struct lj_node *s)
{
    char table[256];
    const char *idx = lj_str(s, "idxname");

    rel_key(table, sizeof(table), lj_get(s, "relation"));
    if (lj_bool(s, "concurrent")) {
        if (f->explicit_tx)
            lint_emit(f, R_CONCURRENTLY_IN_TX, table, "CREATE INDEX CONCURRENTLY inside BEGIN ... COMMIT fails");
    } else {
        lint_emit(f, R_INDEX, table, "CREATE %sINDEX%s%s without CONCURRENTLY blocks writes for the whole build",
                  lj_bool(s, "unique") ? "UNIQUE " : "", idx ? " " : "", idx ? idx : "");
    }
    if (idx && lint_table_is_new(f->run, table))
        dd_strv_push(&f->run->new_indexes, idx);
}

static void check_drop(struct lint_file *f, const struct lj_node *s)
{
    const char *type = lj_str(s, "removeType");
    const struct lj_node *objs = lj_get(s, "objects");
    char name[256];

    if (dd_streq(lj_str(s, "behavior"), "DROP_CASCADE"))
        lint_emit(f, R_CASCADE, NULL, "DROP ... CASCADE also drops every object that depends on what it names");
    for (const struct lj_node *o = objs ? objs->kids : NULL; o; o = o->next) {
        if (dd_streq(type, "OBJECT_SCHEMA")) {
            name_key(name, sizeof(name), NULL, string_node(o));
            lint_emit(f, R_DROP_SCHEMA, NULL, "DROP SCHEMA %s destroys every object and row in it", name);
            continue;
        }
        list_key(name, sizeof(name), o);
        if (dd_streq(type, "OBJECT_TABLE")) {
            lint_emit(f, R_DROP_TABLE, name, "DROP TABLE destroys the table and its rows");
            strv_remove(&f->run->new_tables, name);
        } else if (dd_streq(type, "OBJECT_INDEX")) {
            if (lj_bool(s, "concurrent")) {
                if (f->explicit_tx)
                    lint_emit(f, R_CONCURRENTLY_IN_TX, NULL, "DROP INDEX CONCURRENTLY %s inside BEGIN ... COMMIT fails",
                              name);
            } else if (!dd_strv_contains(&f->run->new_indexes, name)) {
                lint_emit(f, R_DROP_INDEX, NULL,
                          "DROP INDEX %s without CONCURRENTLY locks its table against reads and writes", name);
            }
            strv_remove(&f->run->new_indexes, name);
        }
    }
}

static void check_add_constraint(struct lint_file *f, const char *table, const struct lj_node *con)
{
    const char *type = lj_str(con, "contype"), *name = lj_str(con, "conname");
    const char *col = dd_streq(type, "CONSTR_CHECK") ? not_null_check_column(con) : NULL;
    bool fk = dd_streq(type, "CONSTR_FOREIGN");

    if (fk || dd_streq(type, "CONSTR_CHECK")) {
        if (lj_bool(con, "skip_validation")) {
            if (name) {
                dd_strv_pushf(&f->not_valid, "%s.%s", table, name);
                if (col)
                    dd_strv_pushf(&f->run->not_null_checks, "%s.%s\t%s", table, name, col);
            }
            return;
        }
        lint_emit(f, R_CONSTRAINT, table, "ADD %s%s%s without NOT VALID checks every row while blocking writes",
                  fk ? "FOREIGN KEY" : "CHECK", name ? " " : "", name ? name : "");
        if (col)
            dd_strv_pushf(&f->run->checked, "%s.%s", table, col);
    } else if ((dd_streq(type, "CONSTR_PRIMARY") || dd_streq(type, "CONSTR_UNIQUE")) && !lj_str(con, "indexname")) {
        lint_emit(f, R_UNIQUE_NO_INDEX, table, "ADD %s%s%s builds its index while blocking writes",
                  type[7] == 'P' ? "PRIMARY KEY" : "UNIQUE", name ? " " : "", name ? name : "");
    }
}

static void check_validate(struct lint_file *f, const char *table, const char *name)
{
    char key[300];
    size_t klen;
    struct dd_strv *pending = &f->run->not_null_checks;

    snprintf(key, sizeof(key), "%s.%s", table, name ? name : "");
    if (dd_strv_contains(&f->not_valid, key))
        lint_emit(f, R_VALIDATE_SAME_TX, table,
                  "VALIDATE CONSTRAINT %s runs in the transaction that added it NOT VALID, so the add's lock is held "
                  "during the whole scan",
                  name);
    klen = strlen(key);
    for (size_t i = 0; i < pending->n; i++)
        if (strncmp(pending->v[i], key, klen) == 0 && pending->v[i][klen] == '\t') {
            dd_strv_pushf(&f->run->checked, "%s.%s", table, pending->v[i] + klen + 1);
            break;
        }
}

static void check_add_column(struct lint_file *f, const char *table, const struct lj_node *def)
{
    const struct lj_node *cons = lj_get(def, "constraints");
    const char *col = lj_str(def, "colname"), *type = type_last_name(lj_get(def, "typeName"));

    if (type && (strcasecmp(type, "serial") == 0 || strcasecmp(type, "bigserial") == 0 ||
                 strcasecmp(type, "smallserial") == 0 || strcasecmp(type, "serial4") == 0 ||
                 strcasecmp(type, "serial8") == 0 || strcasecmp(type, "serial2") == 0))
        lint_emit(f, R_VOLATILE_DEFAULT, table,
                  "ADD COLUMN %s %s fills every row from a sequence: the table is rewritten", col, type);
    for (const struct lj_node *c = cons ? cons->kids : NULL; c; c = c->next) {
        const struct lj_node *con = lj_get(c, "Constraint");
        const char *ct = lj_str(con, "contype");
        if (dd_streq(ct, "CONSTR_DEFAULT") && has_volatile_call(lj_get(con, "raw_expr")))
            lint_emit(f, R_VOLATILE_DEFAULT, table,
                      "ADD COLUMN %s with a volatile default rewrites the table under an ACCESS EXCLUSIVE lock", col);
        else if (dd_streq(ct, "CONSTR_PRIMARY") || dd_streq(ct, "CONSTR_UNIQUE"))
            lint_emit(f, R_UNIQUE_NO_INDEX, table, "ADD COLUMN %s %s builds an index while blocking writes", col,
                      ct[7] == 'P' ? "PRIMARY KEY" : "UNIQUE");
    }
}

static void check_alter_cmd(struct lint_file *f, const char *table, const struct lj_node *cmd)
{
    const char *sub = lj_str(cmd, "subtype"), *name = lj_str(cmd, "name");
    const struct lj_node *def = lj_get(cmd, "def");
    char key[300];

    if (dd_streq(lj_str(cmd, "behavior"), "DROP_CASCADE"))
        lint_emit(f, R_CASCADE, table, "ALTER TABLE ... CASCADE also drops every object that depends on it");
    if (dd_streq(sub, "AT_AddConstraint")) {
        check_add_constraint(f, table, lj_get(def, "Constraint"));
    } else if (dd_streq(sub, "AT_ValidateConstraint")) {
        check_validate(f, table, name);
    } else if (dd_streq(sub, "AT_AlterColumnType")) {
        const struct lj_node *tn = lj_get(lj_get(def, "ColumnDef"), "typeName");
        if (!type_change_is_cheap(tn))
            lint_emit(f, R_ALTER_TYPE, table,
                      "ALTER COLUMN %s TYPE %s rewrites the table and its indexes under an ACCESS EXCLUSIVE lock", name,
                      type_last_name(tn) ? type_last_name(tn) : "?");
    } else if (dd_streq(sub, "AT_SetNotNull")) {
        snprintf(key, sizeof(key), "%s.%s", table, name ? name : "");
        if (!dd_strv_contains(&f->run->checked, key))
            lint_emit(f, R_SET_NOT_NULL, table,
                      "ALTER COLUMN %s SET NOT NULL scans every row under an ACCESS EXCLUSIVE lock", name);
    } else if (dd_streq(sub, "AT_AddColumn")) {
        check_add_column(f, table, lj_get(def, "ColumnDef"));
    } else if (dd_streq(sub, "AT_DropColumn")) {
        lint_emit(f, R_DROP_COLUMN, table, "DROP COLUMN %s destroys the column's data", name);
    }
}

static void check_alter_table(struct lint_file *f, const struct lj_node *s)
{
    const struct lj_node *cmds = lj_get(s, "cmds");
    char table[256];

    if (!dd_streq(lj_str(s, "objtype"), "OBJECT_TABLE"))
        return;
    rel_key(table, sizeof(table), lj_get(s, "relation"));
    for (const struct lj_node *c = cmds ? cmds->kids : NULL; c; c = c->next)
        check_alter_cmd(f, table, lj_get(c, "AlterTableCmd"));
}

static void check_rename(struct lint_file *f, const struct lj_node *s)
{
    const char *type = lj_str(s, "renameType");
    char table[256], renamed[256];

    rel_key(table, sizeof(table), lj_get(s, "relation"));
    if (dd_streq(type, "OBJECT_TABLE")) {
        lint_emit(f, R_RENAME_TABLE, table, "RENAME TO %s breaks the running application, which still uses %s",
                  lj_str(s, "newname"), table);
        if (lint_table_is_new(f->run, table)) {
            const struct lj_node *rv = lj_get(s, "relation");
            name_key(renamed, sizeof(renamed), lj_str(rv, "schemaname"), lj_str(s, "newname"));
            strv_remove(&f->run->new_tables, table);
            dd_strv_push(&f->run->new_tables, renamed);
        }
    } else if (dd_streq(type, "OBJECT_COLUMN") && dd_streq(lj_str(s, "relationType"), "OBJECT_TABLE")) {
        lint_emit(f, R_RENAME_COLUMN, table, "RENAME COLUMN %s TO %s breaks the running application",
                  lj_str(s, "subname"), lj_str(s, "newname"));
    }
}

/* Each relation of a list ("relations", "rels"), for TRUNCATE, LOCK and VACUUM. */
static void each_relation(struct lint_file *f, const struct lj_node *list, int rule, const char *what)
{
    char table[256];

    for (const struct lj_node *r = list ? list->kids : NULL; r; r = r->next) {
        const struct lj_node *vr = lj_get(r, "VacuumRelation");
        rel_key(table, sizeof(table), vr ? lj_get(vr, "relation") : r);
        lint_emit(f, rule, table, "%s", what);
    }
}

static void check_dml(struct lint_file *f, const struct lj_node *s, int rule, const char *what)
{
    char table[256];

    if (lj_get(s, "whereClause"))
        return;
    rel_key(table, sizeof(table), lj_get(s, "relation"));
    lint_emit(f, rule, table, "%s without WHERE changes every row", what);
}

static void check_vacuum(struct lint_file *f, const struct lj_node *s)
{
    const struct lj_node *opts = lj_get(s, "options");
    bool full = false;

    for (const struct lj_node *o = opts ? opts->kids : NULL; o; o = o->next)
        full |= dd_streq(lj_str(lj_get(o, "DefElem"), "defname"), "full");
    if (!full)
        return;
    if (lj_get(s, "rels"))
        each_relation(f, lj_get(s, "rels"), R_VACUUM_FULL,
                      "VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock");
    else
        lint_emit(f, R_VACUUM_FULL, NULL, "VACUUM FULL rewrites every table of the database under exclusive locks");
}

static void check_transaction(struct lint_file *f, const struct lj_node *s)
{
    const char *kind = lj_str(s, "kind");

    if (dd_streq(kind, "TRANS_STMT_BEGIN") || dd_streq(kind, "TRANS_STMT_START")) {
        f->explicit_tx = true;
    } else if (dd_streq(kind, "TRANS_STMT_COMMIT") || dd_streq(kind, "TRANS_STMT_ROLLBACK") ||
               dd_streq(kind, "TRANS_STMT_PREPARE")) {
        f->explicit_tx = false;
        /* a COMMIT in a file that runs as one transaction is only its own wrapper's end */
        if (!f->single_tx)
            dd_strv_clear(&f->not_valid);
    }
}

static void created(struct lint_file *f, const struct lj_node *rv)
{
    char table[256];

    rel_key(table, sizeof(table), rv);
    if (!dd_strv_contains(&f->run->new_tables, table))
        dd_strv_push(&f->run->new_tables, table);
}

void lint_rules_check(struct lint_file *f, const struct lj_node *tag)
{
    const char *t = lj_tag(tag);
    const struct lj_node *s = lj_body(tag);
    char table[256];

    if (!t)
        return;
    if (strcmp(t, "CreateStmt") == 0) {
        created(f, lj_get(s, "relation"));
    } else if (strcmp(t, "CreateTableAsStmt") == 0) {
        created(f, lj_get(lj_get(s, "into"), "rel"));
    } else if (strcmp(t, "SelectStmt") == 0 && lj_get(s, "intoClause")) {
        created(f, lj_get(lj_get(s, "intoClause"), "rel"));
    } else if (strcmp(t, "IndexStmt") == 0) {
        check_index(f, s);
    } else if (strcmp(t, "DropStmt") == 0) {
        check_drop(f, s);
    } else if (strcmp(t, "AlterTableStmt") == 0) {
        check_alter_table(f, s);
    } else if (strcmp(t, "RenameStmt") == 0) {
        check_rename(f, s);
    } else if (strcmp(t, "TruncateStmt") == 0) {
        if (dd_streq(lj_str(s, "behavior"), "DROP_CASCADE"))
            lint_emit(f, R_CASCADE, NULL, "TRUNCATE ... CASCADE also empties every table that references these");
        each_relation(f, lj_get(s, "relations"), R_TRUNCATE, "TRUNCATE deletes every row");
    } else if (strcmp(t, "DeleteStmt") == 0) {
        check_dml(f, s, R_DELETE_NO_WHERE, "DELETE");
    } else if (strcmp(t, "UpdateStmt") == 0) {
        check_dml(f, s, R_UPDATE_NO_WHERE, "UPDATE");
    } else if (strcmp(t, "LockStmt") == 0) {
        each_relation(f, lj_get(s, "relations"), R_LOCK_TABLE,
                      "LOCK TABLE blocks the application until the migration ends");
    } else if (strcmp(t, "VacuumStmt") == 0) {
        check_vacuum(f, s);
    } else if (strcmp(t, "ClusterStmt") == 0) {
        if (lj_get(s, "relation")) {
            rel_key(table, sizeof(table), lj_get(s, "relation"));
            lint_emit(f, R_CLUSTER, table, "CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock");
        } else {
            lint_emit(f, R_CLUSTER, NULL, "CLUSTER rewrites every clustered table under exclusive locks");
        }
    } else if (strcmp(t, "ReindexStmt") == 0 || strcmp(t, "RefreshMatViewStmt") == 0) {
        /* CONCURRENTLY variants fail inside a transaction block as well */
        bool conc = lj_bool(s, "concurrent");
        const struct lj_node *params = lj_get(s, "params");
        for (const struct lj_node *p = params ? params->kids : NULL; p; p = p->next)
            conc |= dd_streq(lj_str(lj_get(p, "DefElem"), "defname"), "concurrently");
        if (conc && f->explicit_tx)
            lint_emit(f, R_CONCURRENTLY_IN_TX, NULL, "%s CONCURRENTLY inside BEGIN ... COMMIT fails",
                      t[0] == 'R' && t[2] == 'i' ? "REINDEX" : "REFRESH MATERIALIZED VIEW");
    } else if (strcmp(t, "TransactionStmt") == 0) {
        check_transaction(f, s);
    }
}
