#ifndef DBDEPLOY_MIGRATIONS_SQL_H
#define DBDEPLOY_MIGRATIONS_SQL_H

/*
 * A psql-grade SQL lexer: it splits a script into top-level statements exactly where psql
 * would send them, and classifies each statement for the engine.
 *
 * It understands everything that can hide a ';': -- and nested block comments, '' strings
 * (standard-conforming), E'' strings with backslash escapes, U&'' and U&"" forms, B''/X''/N''
 * literals, "quoted identifiers", dollar quotes with tags ($$, $fn$...), parentheses, and the
 * BEGIN ATOMIC ... END bodies of SQL-standard CREATE FUNCTION/PROCEDURE (tracked like psql:
 * only after CREATE [OR REPLACE] FUNCTION|PROCEDURE, outside parentheses).
 *
 * It refuses, with line and column: psql meta-commands (a backslash outside quotes, such as
 * \i, \set, \connect), NUL bytes, and unterminated strings, identifiers, comments and dollar
 * quotes. It never looks at psql variables (:name); nobody interpolates them.
 */
#include "util/common.h"

enum sql_kind {
    SQL_KIND_OTHER,
    SQL_KIND_BEGIN,    /* BEGIN [WORK|TRANSACTION] ..., START TRANSACTION */
    SQL_KIND_COMMIT,   /* COMMIT [WORK|TRANSACTION], END [WORK|TRANSACTION] */
    SQL_KIND_ROLLBACK, /* ROLLBACK / ABORT (not ROLLBACK TO SAVEPOINT) */
    SQL_KIND_TX_OTHER, /* other transaction control that ends a transaction: COMMIT AND CHAIN, PREPARE TRANSACTION... */
    SQL_KIND_NO_TX,    /* cannot run inside a transaction block (CONCURRENTLY, VACUUM, ...) */
};

struct sql_stmt {
    size_t start;       /* byte offset of the first token */
    size_t end;         /* byte offset just past the terminating ';' (or the end of the text) */
    unsigned line, col; /* 1-based position of start (col in characters) */
    enum sql_kind kind;
    const char *what; /* static text naming the statement for messages ("CREATE INDEX CONCURRENTLY") */
};

struct sql_script {
    struct sql_stmt *stmts;
    size_t n, alloc;
};

#define SQL_SCRIPT_INIT                                                                                                \
    {                                                                                                                  \
        NULL, 0, 0                                                                                                     \
    }

struct sql_lex_error {
    unsigned line, col;
    char message[160];
};

/*
 * Length of a UTF-8 byte-order mark at the start of text (3), else 0. Some Windows editors
 * write one; psql skips it, so do we: it is never executed, but checksums keep it.
 */
size_t sql_bom_len(const char *text, size_t len);
/* Split text into statements (a leading byte-order mark is skipped). Comment-only text gives zero statements. */
int sql_split(struct sql_script *out, const char *text, size_t len, struct sql_lex_error *e);
void sql_script_release(struct sql_script *s);

/* 1-based line and character column of a byte offset (a leading byte-order mark takes no column). */
void sql_linecol(const char *text, size_t len, size_t offset, unsigned *line, unsigned *col);
/* Byte offset of a 1-based character position (as the server reports it), clamped to len. */
size_t sql_char_to_byte(const char *text, size_t len, size_t char_pos);
/* Number of characters (UTF-8 code points) in text[0..len). */
size_t sql_char_count(const char *text, size_t len);

#endif
