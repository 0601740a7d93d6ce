/*
 * The data-loss guard's view of a migration: the ops each statement performs, from the parse
 * tree, and the declarations that allow them (lint's suppression comments).
 */
#include "lint/destroy.h"

#include <stdio.h>

#include "lint/internal.h"

static const char *const decl_names[] = {"data-loss", "not-valid", "row-changes"};

const char *lint_decl_name(enum lint_decl_kind k)
{
    return decl_names[k];
}

static void add_op(struct lint_ops *o, enum lint_op_kind kind, size_t stmt, const char *schema, const char *table,
                   const char *column)
{
    struct lint_op *x;

    if (!table)
        return;
    o->v = dd_xrealloc(o->v, (o->n + 1) * sizeof(*o->v));
    x = &o->v[o->n++];
    x->kind = kind;
    x->stmt = stmt;
    x->schema = schema ? dd_xstrdup(schema) : NULL;
    x->table = dd_xstrdup(table);
    x->column = column ? dd_xstrdup(column) : NULL;
}

/* A RangeVar, bare ("relation": {...}) or tagged ({"RangeVar": {...}}). */
static void add_rel(struct lint_ops *o, enum lint_op_kind kind, size_t stmt, const struct lj_node *rv,
                    const char *column)
{
    const struct lj_node *tagged = lj_get(rv, "RangeVar");

    if (tagged)
        rv = tagged;
    add_op(o, kind, stmt, lj_str(rv, "schemaname"), lj_str(rv, "relname"), column);
}

/* A qualified name as a list of String nodes ({"List": {"items": [...]}}): its last two parts. */
static void add_list(struct lint_ops *o, enum lint_op_kind kind, size_t stmt, const struct lj_node *list)
{
    const char *prev = NULL, *last = NULL;
    const struct lj_node *items = lj_get(lj_get(list, "List"), "items");

    for (const struct lj_node *i = items ? items->kids : NULL; i; i = i->next) {
        prev = last;
        last = lj_str(lj_get(i, "String"), "sval");
    }
    add_op(o, kind, stmt, prev, last, NULL);
}

static void read_drop(struct lint_ops *o, size_t stmt, const struct lj_node *s)
{
    const char *type = lj_str(s, "removeType");
    const struct lj_node *objs = lj_get(s, "objects");

    for (const struct lj_node *x = objs ? objs->kids : NULL; x; x = x->next) {
        if (dd_streq(type, "OBJECT_TABLE"))
            add_list(o, LINT_OP_DROP_TABLE, stmt, x);
        else if (dd_streq(type, "OBJECT_SCHEMA"))
            add_op(o, LINT_OP_DROP_SCHEMA, stmt, NULL, lj_str(lj_get(x, "String"), "sval"), NULL);
    }
}

static void read_alter(struct lint_ops *o, size_t stmt, const struct lj_node *s)
{
    const struct lj_node *cmds = lj_get(s, "cmds"), *rel = lj_get(s, "relation");

    if (!dd_streq(lj_str(s, "objtype"), "OBJECT_TABLE"))
        return;
    for (const struct lj_node *c = cmds ? cmds->kids : NULL; c; c = c->next) {
        const struct lj_node *cmd = lj_get(c, "AlterTableCmd");
        const char *sub = lj_str(cmd, "subtype"), *col = lj_str(cmd, "name");
        if (dd_streq(sub, "AT_DropColumn"))
            add_rel(o, LINT_OP_DROP_COLUMN, stmt, rel, col);
        else if (dd_streq(sub, "AT_AlterColumnType"))
            add_rel(o, LINT_OP_ALTER_TYPE, stmt, rel, col);
    }
}

/*
 * Statements that cannot leave an invalid index or a NOT VALID constraint: an index is invalid
 * only after a CONCURRENTLY build or drop cut short, or as an ON ONLY index on a partitioned
 * table not yet attached everywhere; a constraint stays NOT VALID only when ALTER TABLE (or
 * ALTER DOMAIN) adds it so. Statements that may call functions (SELECT, DO, CALL) are not here.
 */
static const char *const harmless[] = {"CreateStmt",         "InsertStmt",
                                       "UpdateStmt",         "DeleteStmt",
                                       "CommentStmt",        "GrantStmt",
                                       "GrantRoleStmt",      "CreateSeqStmt",
                                       "AlterSeqStmt",       "ViewStmt",
                                       "CreateFunctionStmt", "CreateSchemaStmt",
                                       "CreateEnumStmt",     "AlterEnumStmt",
                                       "CompositeTypeStmt",  "DropStmt",
                                       "TransactionStmt",    "VariableSetStmt",
                                       "RenameStmt",         "CreateTrigStmt",
                                       "CreatePolicyStmt",   "AlterPolicyStmt",
                                       "TruncateStmt",       "CreateRoleStmt",
                                       "AlterOwnerStmt",     "AlterDefaultPrivilegesStmt",
                                       "CreateDomainStmt",   "DefineStmt"};

static bool leaves_nothing_invalid(const char *t, const struct lj_node *s)
{
    if (strcmp(t, "IndexStmt") == 0)
        return !lj_bool(s, "concurrent") && lj_bool(lj_get(s, "relation"), "inh");
    if (strcmp(t, "DropStmt") == 0)
        return !lj_bool(s, "concurrent"); /* DROP INDEX CONCURRENTLY cut short leaves the index invalid */
    for (size_t i = 0; i < DD_ARRAY_SIZE(harmless); i++)
        if (strcmp(t, harmless[i]) == 0)
            return true;
    return false;
}

static void read_stmt(struct lint_ops *o, size_t stmt, const struct lj_node *tag)
{
    const char *t = lj_tag(tag);
    const struct lj_node *s = lj_body(tag), *list;

    if (!t || !leaves_nothing_invalid(t, s))
        o->may_leave_invalid = true;
    if (!t)
        return;
    if (strcmp(t, "CreateStmt") == 0) {
        add_rel(o, LINT_OP_CREATE_TABLE, stmt, lj_get(s, "relation"), NULL);
    } else if (strcmp(t, "CreateTableAsStmt") == 0) {
        add_rel(o, LINT_OP_CREATE_TABLE, stmt, lj_get(lj_get(s, "into"), "rel"), NULL);
    } else if (strcmp(t, "SelectStmt") == 0 && lj_get(s, "intoClause")) {
        add_rel(o, LINT_OP_CREATE_TABLE, stmt, lj_get(lj_get(s, "intoClause"), "rel"), NULL);
    } else if (strcmp(t, "DropStmt") == 0) {
        read_drop(o, stmt, s);
    } else if (strcmp(t, "AlterTableStmt") == 0) {
        read_alter(o, stmt, s);
    } else if (strcmp(t, "TruncateStmt") == 0) {
        list = lj_get(s, "relations");
        for (const struct lj_node *r = list ? list->kids : NULL; r; r = r->next)
            add_rel(o, LINT_OP_TRUNCATE, stmt, r, NULL);
    } else if (strcmp(t, "DeleteStmt") == 0) {
        add_rel(o, LINT_OP_DELETE, stmt, lj_get(s, "relation"), NULL);
    } else if (strcmp(t, "UpdateStmt") == 0 || strcmp(t, "MergeStmt") == 0) {
        add_rel(o, LINT_OP_UPDATE, stmt, lj_get(s, "relation"), NULL);
    } else if (strcmp(t, "InsertStmt") == 0) {
        add_rel(o, LINT_OP_INSERT, stmt, lj_get(s, "relation"), NULL);
    }
}

/* The kind a suppression's rule declares for the guard; -1 for lint-only rules. */
static int decl_kind(const char *rule)
{
    int r = lint_rule_index(rule);

    for (size_t k = 0; k < DD_ARRAY_SIZE(decl_names); k++)
        if (dd_streq(rule, decl_names[k]))
            return (int)k;
    return r >= 0 && lint_rules[r].cls == LINT_CLASS_DATA_LOSS ? LINT_DECL_DATA_LOSS : -1;
}

/* Index in stmts of the statement starting at byte `start`; SIZE_MAX when none does. */
static size_t stmt_at(const struct sql_script *stmts, size_t start)
{
    for (size_t i = 0; i < stmts->n; i++)
        if (stmts->stmts[i].start == start)
            return i;
    return SIZE_MAX;
}

static int read_decls(struct lint_ops *out, const char *sql, size_t len, const struct lint_parsed *p, const size_t *map,
                      char *msg, size_t msglen, unsigned *line)
{
    struct lint_run run;
    struct lint_file f;
    int rc = 0;

    lint_run_init(&run);
    memset(&f, 0, sizeof(f));
    f.run = &run;
    f.path = "";
    f.sql = sql;
    f.len = len;
    lint_scan_allows(&f, p);
    for (size_t i = 0; i < f.nallows && rc == 0; i++) {
        const struct lint_suppression *s = &run.sup[f.allows[i].sup];
        size_t at = f.allows[i].stmt;
        int k = decl_kind(s->rule);
        struct lint_decl *d;
        if (k < 0)
            continue;
        if (!s->reason) {
            snprintf(msg, msglen, "dbdeploy:allow %s has no reason", s->rule);
            *line = s->line;
            rc = -1;
            break;
        }
        if (at != SIZE_MAX && at >= p->n)
            continue; /* after the last statement: covers nothing */
        out->decls = dd_xrealloc(out->decls, (out->ndecls + 1) * sizeof(*out->decls));
        d = &out->decls[out->ndecls++];
        d->kind = (enum lint_decl_kind)k;
        d->stmt = at == SIZE_MAX ? LINT_DECL_FILE : map[at];
        d->line = s->line;
        d->reason = dd_xstrdup(s->reason);
    }
    free(f.allows);
    lint_run_release(&run);
    return rc;
}

int lint_ops_read(struct lint_ops *out, const char *sql, size_t len, const struct sql_script *stmts, char *msg,
                  size_t msglen, unsigned *line)
{
    struct lint_parsed p;
    size_t pos = 0, *map = NULL;
    int rc = -1;

    *out = (struct lint_ops)LINT_OPS_INIT;
    *line = 0;
    if (lint_parse(&p, sql, len, msg, msglen, &pos) < 0) {
        unsigned col;
        sql_linecol(sql, len, pos, line, &col);
        return -1;
    }
    map = dd_xcalloc(p.n ? p.n : 1, sizeof(*map));
    for (size_t i = 0; i < p.n; i++) {
        map[i] = stmt_at(stmts, p.v[i].start);
        if (map[i] == SIZE_MAX) {
            snprintf(msg, msglen, "PostgreSQL's parser and dbdeploy's splitter disagree on statement %zu", i + 1);
            goto cleanup;
        }
        read_stmt(out, map[i], p.v[i].tag);
    }
    rc = read_decls(out, sql, len, &p, map, msg, msglen, line);
cleanup:
    free(map);
    lint_parsed_release(&p);
    if (rc < 0)
        lint_ops_release(out);
    return rc;
}

const struct lint_decl *lint_ops_declared(const struct lint_ops *o, enum lint_decl_kind k, size_t stmt)
{
    for (size_t i = 0; i < o->ndecls; i++)
        if (o->decls[i].kind == k &&
            (o->decls[i].stmt == LINT_DECL_FILE || stmt == LINT_DECL_FILE || o->decls[i].stmt == stmt))
            return &o->decls[i];
    return NULL;
}

void lint_ops_release(struct lint_ops *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++) {
        free(o->v[i].schema);
        free(o->v[i].table);
        free(o->v[i].column);
    }
    for (size_t i = 0; i < o->ndecls; i++)
        free(o->decls[i].reason);
    free(o->v);
    free(o->decls);
    *o = (struct lint_ops)LINT_OPS_INIT;
}
