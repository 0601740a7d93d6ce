/*
 * What a migration changes in the schema, read from its parse tree: "+table orders, +column
 * orders.note, -index orders_a, ~type orders.total". Cheap (no database), so `plan` shows it for
 * pending files and the ledger keeps it for applied ones.
 */
#include "lint/destroy.h"

#include <stdio.h>

#include "lint/internal.h"
#include "util/buf.h"

static void item(struct dd_buf *b, char sign, const char *what, const char *schema, const char *name, const char *sub)
{
    if (!name)
        return;
    if (b->len)
        dd_buf_adds(b, ", ");
    dd_buf_addf(b, "%c%s %s%s%s%s%s", sign, what, schema && strcmp(schema, "public") != 0 ? schema : "",
                schema && strcmp(schema, "public") != 0 ? "." : "", name, sub ? "." : "", sub ? sub : "");
}

static void rel_item(struct dd_buf *b, char sign, const char *what, const struct lj_node *rv, const char *sub)
{
    const struct lj_node *tagged = lj_get(rv, "RangeVar");

    if (tagged)
        rv = tagged;
    item(b, sign, what, lj_str(rv, "schemaname"), lj_str(rv, "relname"), sub);
}

/* A qualified name as a list of String nodes: its last two parts. */
static void list_item(struct dd_buf *b, char sign, const char *what, const struct lj_node *list)
{
    const char *prev = NULL, *last = NULL;
    const struct lj_node *items = lj_get(lj_get(list, "List"), "items");

    if (!items) {
        last = lj_str(lj_get(list, "String"), "sval");
    } else {
        for (const struct lj_node *i = items->kids; i; i = i->next) {
            prev = last;
            last = lj_str(lj_get(i, "String"), "sval");
        }
    }
    item(b, sign, what, prev, last, NULL);
}

static const char *drop_kind(const char *type)
{
    static const char *const kinds[][2] = {
        {"OBJECT_TABLE", "table"},   {"OBJECT_INDEX", "index"},         {"OBJECT_VIEW", "view"},
        {"OBJECT_SCHEMA", "schema"}, {"OBJECT_SEQUENCE", "sequence"},   {"OBJECT_MATVIEW", "materialized view"},
        {"OBJECT_TYPE", "type"},     {"OBJECT_FOREIGN_TABLE", "table"}, {"OBJECT_EXTENSION", "extension"},
    };

    for (size_t i = 0; type && i < DD_ARRAY_SIZE(kinds); i++)
        if (strcmp(kinds[i][0], type) == 0)
            return kinds[i][1];
    return NULL;
}

static void alter_items(struct dd_buf *b, const struct lj_node *s)
{
    const struct lj_node *cmds = lj_get(s, "cmds"), *rel = lj_get(s, "relation");

    for (const struct lj_node *c = cmds ? cmds->kids : NULL; c; c = c->next) {
        const struct lj_node *cmd = lj_get(c, "AlterTableCmd");
        const char *sub = lj_str(cmd, "subtype"), *name = lj_str(cmd, "name");
        const struct lj_node *def = lj_get(cmd, "def");
        if (dd_streq(sub, "AT_AddColumn"))
            rel_item(b, '+', "column", rel, lj_str(lj_get(def, "ColumnDef"), "colname"));
        else if (dd_streq(sub, "AT_DropColumn"))
            rel_item(b, '-', "column", rel, name);
        else if (dd_streq(sub, "AT_AlterColumnType"))
            rel_item(b, '~', "type", rel, name);
        else if (dd_streq(sub, "AT_SetNotNull") || dd_streq(sub, "AT_DropNotNull"))
            rel_item(b, '~', sub[3] == 'S' ? "not-null" : "null", rel, name);
        else if (dd_streq(sub, "AT_AddConstraint"))
            rel_item(b, '+', "constraint", rel, lj_str(lj_get(def, "Constraint"), "conname"));
        else if (dd_streq(sub, "AT_DropConstraint"))
            rel_item(b, '-', "constraint", rel, name);
        else if (dd_streq(sub, "AT_ValidateConstraint"))
            rel_item(b, '~', "validate", rel, name);
    }
}

static void stmt_items(struct dd_buf *b, const struct lj_node *tag)
{
    const char *t = lj_tag(tag), *kind;
    const struct lj_node *s = lj_body(tag), *objs;

    if (!t)
        return;
    if (strcmp(t, "CreateStmt") == 0) {
        rel_item(b, '+', "table", lj_get(s, "relation"), NULL);
    } else if (strcmp(t, "CreateTableAsStmt") == 0) {
        rel_item(b, '+', dd_streq(lj_str(s, "objtype"), "OBJECT_MATVIEW") ? "materialized view" : "table",
                 lj_get(lj_get(s, "into"), "rel"), NULL);
    } else if (strcmp(t, "ViewStmt") == 0) {
        rel_item(b, '+', "view", lj_get(s, "view"), NULL);
    } else if (strcmp(t, "IndexStmt") == 0) {
        if (lj_str(s, "idxname"))
            item(b, '+', "index", NULL, lj_str(s, "idxname"), NULL);
        else
            rel_item(b, '+', "index on", lj_get(s, "relation"), NULL);
    } else if (strcmp(t, "CreateSchemaStmt") == 0) {
        item(b, '+', "schema", NULL, lj_str(s, "schemaname"), NULL);
    } else if (strcmp(t, "CreateSeqStmt") == 0) {
        rel_item(b, '+', "sequence", lj_get(s, "sequence"), NULL);
    } else if (strcmp(t, "DropStmt") == 0 && (kind = drop_kind(lj_str(s, "removeType")))) {
        objs = lj_get(s, "objects");
        for (const struct lj_node *o = objs ? objs->kids : NULL; o; o = o->next)
            list_item(b, '-', kind, o);
    } else if (strcmp(t, "AlterTableStmt") == 0 && dd_streq(lj_str(s, "objtype"), "OBJECT_TABLE")) {
        alter_items(b, s);
    } else if (strcmp(t, "RenameStmt") == 0) {
        const char *rt = lj_str(s, "renameType");
        if (dd_streq(rt, "OBJECT_TABLE"))
            rel_item(b, '~', "rename", lj_get(s, "relation"), NULL);
        else if (dd_streq(rt, "OBJECT_COLUMN"))
            rel_item(b, '~', "rename", lj_get(s, "relation"), lj_str(s, "subname"));
        if ((dd_streq(rt, "OBJECT_TABLE") || dd_streq(rt, "OBJECT_COLUMN")) && lj_str(s, "newname"))
            dd_buf_addf(b, " -> %s", lj_str(s, "newname"));
    }
}

char *lint_changes(const char *sql, size_t len)
{
    struct lint_parsed p;
    struct dd_buf b = DD_BUF_INIT;
    char msg[64];
    size_t pos;

    if (lint_parse(&p, sql, len, msg, sizeof(msg), &pos) < 0)
        return NULL;
    for (size_t i = 0; i < p.n; i++)
        stmt_items(&b, p.v[i].tag);
    lint_parsed_release(&p);
    if (!b.len) {
        dd_buf_release(&b);
        return NULL;
    }
    return dd_buf_detach(&b, NULL);
}
