#ifndef DBDEPLOY_LINT_INTERNAL_H
#define DBDEPLOY_LINT_INTERNAL_H

/*
 * Inside lint/: a small JSON reader for libpg_query's parse trees, and the parse wrapper.
 * Only parse.c includes pg_query.h; the rules see the tree as JSON nodes.
 */
#include "lint/lint.h"

enum lj_type { LJ_NULL, LJ_BOOL, LJ_NUM, LJ_STR, LJ_ARR, LJ_OBJ };

/* b sits in the padding after type (48 bytes a node): a tree has many nodes, each fresh page costs a fault. */
struct lj_node {
    enum lj_type type;
    bool b;               /* LJ_BOOL */
    const char *key;      /* member name inside an object, NULL otherwise */
    const char *str;      /* LJ_STR (unescaped, NUL-terminated) */
    double num;           /* LJ_NUM */
    struct lj_node *kids; /* first member/element (LJ_ARR, LJ_OBJ) */
    struct lj_node *next; /* next sibling */
};

/* All nodes and strings of one document live in one arena, freed at once. */
struct lj_doc {
    struct lj_node *root;
    struct lj_chunk *chunks;
};

/* Parse text (NUL-terminated). Returns -1 on malformed JSON (never expected from libpg_query). */
int lj_parse(struct lj_doc *out, const char *text);
void lj_release(struct lj_doc *d);
/* Member `key` of an object (NULL when absent or n is not an object). */
const struct lj_node *lj_get(const struct lj_node *n, const char *key);
/* Member's string, number or bool; absent members read as NULL, 0 and false (libpg_query omits defaults). */
const char *lj_str(const struct lj_node *n, const char *key);
double lj_num(const struct lj_node *n, const char *key);
bool lj_bool(const struct lj_node *n, const char *key);
/* For a one-member object {"Tag": {...}}: its tag, and its value. */
const char *lj_tag(const struct lj_node *n);
const struct lj_node *lj_body(const struct lj_node *n);

/* One parsed statement of a script. */
struct lint_pstmt {
    size_t loc, len;           /* libpg_query's range: from just after the previous ';' */
    size_t start;              /* first token (comments and blanks skipped) */
    const struct lj_node *tag; /* {"IndexStmt": {...}} */
};

struct lint_parsed {
    struct lj_doc doc;
    struct lint_pstmt *v;
    size_t n;
};

/*
 * Parse a whole script with PostgreSQL's parser. On a syntax error returns -1 with the
 * message and the byte offset of the error in *pos (msg holds at most msglen bytes).
 */
int lint_parse(struct lint_parsed *out, const char *sql, size_t len, char *msg, size_t msglen, size_t *pos);
void lint_parsed_release(struct lint_parsed *p);

/* A script's parse: the trees, or the syntax error (message and byte offset). */
struct lint_parse_result {
    struct lint_parsed p;
    int rc; /* lint_parse's */
    size_t pos;
    char msg[256];
};

/* lint_script in two steps: the parse (any thread) and the rules (in order, one thread). */
void lint_script_parse(struct lint_parse_result *out, const char *sql, size_t len);
void lint_script_check(struct lint_run *r, const struct lint_input *in, struct lint_parse_result *pr);

/* Rule indexes into lint_rules (same order as the table in rules.c). */
enum {
    R_SYNTAX,
    R_BAD_SUPPRESSION,
    R_INDEX,
    R_DROP_INDEX,
    R_CONSTRAINT,
    R_VALIDATE_SAME_TX,
    R_ALTER_TYPE,
    R_SET_NOT_NULL,
    R_VOLATILE_DEFAULT,
    R_UNIQUE_NO_INDEX,
    R_DROP_TABLE,
    R_DROP_COLUMN,
    R_DROP_SCHEMA,
    R_TRUNCATE,
    R_DELETE_NO_WHERE,
    R_UPDATE_NO_WHERE,
    R_RENAME_TABLE,
    R_RENAME_COLUMN,
    R_CASCADE,
    R_LOCK_TABLE,
    R_VACUUM_FULL,
    R_CLUSTER,
    R_CONCURRENTLY_IN_TX,
    R_COUNT
};

/* One allow comment, resolved to the statement(s) it covers. */
struct lint_allow {
    size_t sup;  /* index into run->sup */
    size_t stmt; /* statement it covers; SIZE_MAX for the whole file */
};

/* The script being linted. */
struct lint_file {
    struct lint_run *run;
    const char *path;
    const char *sql;
    size_t len;
    bool explicit_tx;         /* inside BEGIN ... COMMIT written in the file */
    bool single_tx;           /* the whole file is one transaction */
    struct dd_strv not_valid; /* "table.constraint" added NOT VALID in the current transaction */
    struct lint_allow *allows;
    size_t nallows;
    size_t stmt;                    /* index of the statement being checked */
    const struct lint_pstmt *pstmt; /* the statement being checked */
};

/* Apply every rule to one statement and update the run's context. */
void lint_rules_check(struct lint_file *f, const struct lj_node *tag);
/*
 * Report rule `rule` on `table` (NULL when it names none) for the current statement, unless
 * the context (new table, small table), the severity or a suppression silences it. The message
 * is prefixed with the table (and its size, when known).
 */
void lint_emit(struct lint_file *f, int rule, const char *table, const char *fmt, ...) DD_PRINTF(4, 5);
bool lint_table_is_new(const struct lint_run *r, const char *table);
/* Collect the file's allow comments into f->allows (and f->run->sup); bad ones become findings. */
void lint_scan_allows(struct lint_file *f, const struct lint_parsed *p);

#endif
