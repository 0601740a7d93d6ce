#ifndef DBDEPLOY_LINT_DESTROY_H
#define DBDEPLOY_LINT_DESTROY_H

/*
 * What each statement of a migration can destroy or change, read from PostgreSQL's parse tree
 * for the apply-time data-loss guard (engine/dataloss.c): which table a DROP TABLE, TRUNCATE,
 * DELETE, UPDATE or INSERT names, which column a DROP COLUMN or ALTER COLUMN TYPE names, which
 * tables the migration creates. The guard then asks the database, right before and after each
 * such statement, what was really there.
 *
 * Declarations are lint suppressions ("-- dbdeploy:allow KIND reason...", see lint.h for where
 * they may stand): data-loss (or any data-loss lint rule id: drop-table, truncate...), not-valid
 * and row-changes. A declaration without a reason declares nothing and is an error.
 */
#include "migrations/sql.h"
#include "util/common.h"

enum lint_op_kind {
    LINT_OP_CREATE_TABLE,
    LINT_OP_DROP_TABLE,
    LINT_OP_DROP_SCHEMA, /* table holds the schema's name */
    LINT_OP_DROP_COLUMN,
    LINT_OP_ALTER_TYPE,
    LINT_OP_TRUNCATE,
    LINT_OP_DELETE,
    LINT_OP_UPDATE, /* UPDATE and MERGE */
    LINT_OP_INSERT,
};

struct lint_op {
    enum lint_op_kind kind;
    size_t stmt;  /* index into the sql_script the ops were read for */
    char *schema; /* NULL when the statement does not qualify the name */
    char *table;
    char *column; /* DROP_COLUMN, ALTER_TYPE; NULL otherwise */
};

enum lint_decl_kind { LINT_DECL_DATA_LOSS, LINT_DECL_NOT_VALID, LINT_DECL_ROW_CHANGES };

#define LINT_DECL_FILE SIZE_MAX /* a declaration in the file header covers every statement */

struct lint_decl {
    enum lint_decl_kind kind;
    size_t stmt; /* statement it covers, or LINT_DECL_FILE */
    unsigned line;
    char *reason;
};

struct lint_ops {
    struct lint_op *v;
    size_t n;
    struct lint_decl *decls;
    size_t ndecls;
    /*
     * A statement may leave an invalid index or a NOT VALID constraint behind (ALTER TABLE,
     * CREATE INDEX CONCURRENTLY or ON ONLY, REINDEX, DO, CALL, a function's side effects, or
     * anything not known to be harmless): the guard then compares the catalog before and after.
     */
    bool may_leave_invalid;
};

#define LINT_OPS_INIT                                                                                                  \
    {                                                                                                                  \
        NULL, 0, NULL, 0, false                                                                                        \
    }

/*
 * Read the ops and declarations of `sql`, whose statements `stmts` (migrations/sql.c's split)
 * numbers. Returns -1 with a message in msg and the line in *line when the text does not parse
 * (line 0: libpg_query and the splitter disagree on statements) or a guard declaration has no
 * reason.
 */
int lint_ops_read(struct lint_ops *out, const char *sql, size_t len, const struct sql_script *stmts, char *msg,
                  size_t msglen, unsigned *line);
/* The declaration of kind k covering statement stmt (LINT_DECL_FILE: any in the file), or NULL. */
const struct lint_decl *lint_ops_declared(const struct lint_ops *o, enum lint_decl_kind k, size_t stmt);
void lint_ops_release(struct lint_ops *o);
/*
 * The schema changes of a script from its parse tree, e.g. "+table orders, +column orders.note,
 * -index orders_a, ~type orders.total, ~rename orders.note -> comment" (caller frees); NULL when
 * it changes no table, column, index, view, sequence or schema, or does not parse.
 */
char *lint_changes(const char *sql, size_t len);
/* "data-loss", "not-valid", "row-changes". */
const char *lint_decl_name(enum lint_decl_kind k);

#endif
