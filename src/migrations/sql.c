#include "migrations/sql.h"

#include <ctype.h>
#include <stdio.h>

#define MAX_WORDS 32
#define WORD_LEN  24

/* Per-statement state while scanning. */
struct stmt_state {
    size_t start;    /* SIZE_MAX until the first token */
    size_t last_end; /* end of the last token, for a statement without ';' */
    bool content;    /* anything besides ';' */
    int paren;       /* parenthesis depth */
    int begin_depth; /* BEGIN ATOMIC ... END nesting */
    size_t nwords;   /* top-level keywords/identifiers seen, lowercased */
    size_t nwords_all;
    char words[MAX_WORDS][WORD_LEN];
};

struct lexer {
    const char *s;
    size_t len;
    size_t i;
    struct sql_lex_error *e;
    struct sql_script *out;
};

static bool ident_start(unsigned char c)
{
    return isalpha(c) || c == '_' || c >= 0x80;
}

static bool ident_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

static bool tag_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c >= 0x80;
}

static int lex_error(struct lexer *lx, size_t at, const char *fmt, const char *arg)
{
    sql_linecol(lx->s, lx->len, at, &lx->e->line, &lx->e->col);
    snprintf(lx->e->message, sizeof(lx->e->message), fmt, arg);
    return -1;
}

static bool word_is(const struct stmt_state *st, size_t k, const char *w)
{
    return k < st->nwords && strcmp(st->words[k], w) == 0;
}

static bool has_word(const struct stmt_state *st, const char *w)
{
    for (size_t k = 0; k < st->nwords; k++)
        if (strcmp(st->words[k], w) == 0)
            return true;
    return false;
}

/* Index of word w at or after position from, or SIZE_MAX. */
static size_t find_word(const struct stmt_state *st, size_t from, const char *w)
{
    for (size_t k = from; k < st->nwords; k++)
        if (strcmp(st->words[k], w) == 0)
            return k;
    return SIZE_MAX;
}

static bool is_create_routine(const struct stmt_state *st)
{
    if (!word_is(st, 0, "create"))
        return false;
    if (word_is(st, 1, "function") || word_is(st, 1, "procedure"))
        return true;
    return word_is(st, 1, "or") && word_is(st, 2, "replace") &&
           (word_is(st, 3, "function") || word_is(st, 3, "procedure"));
}

/* Statements that cannot run in a transaction block, recognised by their first two words. */
static const struct {
    const char *first, *second, *what;
} two_word_no_tx[] = {
    {"create", "database", "CREATE DATABASE"},
    {"drop", "database", "DROP DATABASE"},
    {"create", "tablespace", "CREATE TABLESPACE"},
    {"drop", "tablespace", "DROP TABLESPACE"},
    {"create", "subscription", "CREATE SUBSCRIPTION"},
    {"drop", "subscription", "DROP SUBSCRIPTION"},
    {"alter", "system", "ALTER SYSTEM"},
    {"discard", "all", "DISCARD ALL"},
};

/* What kind of statement this is, judged from its top-level words. */
static enum sql_kind classify(const struct stmt_state *st, const char **what)
{
    size_t k;

    *what = NULL;
    if (!st->nwords)
        return SQL_KIND_OTHER;
    if (word_is(st, 0, "begin") || (word_is(st, 0, "start") && word_is(st, 1, "transaction"))) {
        *what = "BEGIN";
        return SQL_KIND_BEGIN;
    }
    if (word_is(st, 0, "commit") || word_is(st, 0, "end")) {
        if (word_is(st, 1, "prepared")) {
            *what = "COMMIT PREPARED";
            return SQL_KIND_NO_TX;
        }
        *what = "COMMIT";
        return has_word(st, "chain") && !has_word(st, "no") ? SQL_KIND_TX_OTHER : SQL_KIND_COMMIT;
    }
    if (word_is(st, 0, "rollback") || word_is(st, 0, "abort")) {
        if (word_is(st, 1, "to"))
            return SQL_KIND_OTHER; /* ROLLBACK TO SAVEPOINT stays inside the transaction */
        if (word_is(st, 1, "prepared")) {
            *what = "ROLLBACK PREPARED";
            return SQL_KIND_NO_TX;
        }
        *what = "ROLLBACK";
        return has_word(st, "chain") && !has_word(st, "no") ? SQL_KIND_TX_OTHER : SQL_KIND_ROLLBACK;
    }
    if (word_is(st, 0, "prepare") && word_is(st, 1, "transaction")) {
        *what = "PREPARE TRANSACTION";
        return SQL_KIND_TX_OTHER;
    }
    if (word_is(st, 0, "vacuum")) {
        *what = "VACUUM";
        return SQL_KIND_NO_TX;
    }
    for (k = 0; k < DD_ARRAY_SIZE(two_word_no_tx); k++) {
        if (word_is(st, 0, two_word_no_tx[k].first) && word_is(st, 1, two_word_no_tx[k].second)) {
            *what = two_word_no_tx[k].what;
            return SQL_KIND_NO_TX;
        }
    }
    k = word_is(st, 1, "unique") ? 2 : 1;
    if (word_is(st, 0, "create") && word_is(st, k, "index") && word_is(st, k + 1, "concurrently")) {
        *what = "CREATE INDEX CONCURRENTLY";
        return SQL_KIND_NO_TX;
    }
    if (word_is(st, 0, "drop") && word_is(st, 1, "index") && word_is(st, 2, "concurrently")) {
        *what = "DROP INDEX CONCURRENTLY";
        return SQL_KIND_NO_TX;
    }
    if (word_is(st, 0, "reindex")) {
        if (has_word(st, "concurrently")) {
            *what = "REINDEX CONCURRENTLY";
            return SQL_KIND_NO_TX;
        }
        if (word_is(st, 1, "database") || word_is(st, 1, "system")) {
            *what = "REINDEX DATABASE";
            return SQL_KIND_NO_TX;
        }
        return SQL_KIND_OTHER;
    }
    if (word_is(st, 0, "alter")) {
        if (word_is(st, 1, "database")) {
            k = find_word(st, 2, "set");
            if (k != SIZE_MAX && word_is(st, k + 1, "tablespace")) {
                *what = "ALTER DATABASE SET TABLESPACE";
                return SQL_KIND_NO_TX;
            }
        }
        if (word_is(st, 1, "table")) {
            k = find_word(st, 2, "detach");
            if (k != SIZE_MAX && word_is(st, k + 1, "partition") && find_word(st, k + 2, "concurrently") != SIZE_MAX) {
                *what = "DETACH PARTITION CONCURRENTLY";
                return SQL_KIND_NO_TX;
            }
        }
        if (word_is(st, 1, "subscription") && (has_word(st, "refresh") || has_word(st, "publication"))) {
            *what = "ALTER SUBSCRIPTION";
            return SQL_KIND_NO_TX;
        }
        return SQL_KIND_OTHER;
    }
    if (word_is(st, 0, "cluster") && st->nwords_all == 1) {
        *what = "CLUSTER";
        return SQL_KIND_NO_TX;
    }
    return SQL_KIND_OTHER;
}

static void stmt_reset(struct stmt_state *st)
{
    st->start = SIZE_MAX;
    st->last_end = 0;
    st->content = false;
    st->paren = 0;
    st->begin_depth = 0;
    st->nwords = 0;
    st->nwords_all = 0;
}

static void emit(struct lexer *lx, struct stmt_state *st, size_t end)
{
    struct sql_stmt *s;

    if (st->start != SIZE_MAX && st->content) {
        DD_ALLOC_GROW(lx->out->stmts, lx->out->n + 1, lx->out->alloc);
        s = &lx->out->stmts[lx->out->n++];
        s->start = st->start;
        s->end = end;
        s->line = s->col = 0;
        s->kind = classify(st, &s->what);
    }
    stmt_reset(st);
}

static void note_word(struct stmt_state *st, const char *w, size_t len)
{
    char lower[WORD_LEN];
    size_t n = len < WORD_LEN - 1 ? len : WORD_LEN - 1;

    for (size_t k = 0; k < n; k++)
        lower[k] = (char)tolower((unsigned char)w[k]);
    lower[n] = '\0';
    if (st->paren == 0) {
        /* BEGIN ATOMIC bodies: psql's heuristic, so we split exactly where psql does */
        if (is_create_routine(st)) {
            if (strcmp(lower, "begin") == 0)
                st->begin_depth++;
            else if (strcmp(lower, "case") == 0 && st->begin_depth > 0)
                st->begin_depth++;
            else if (strcmp(lower, "end") == 0 && st->begin_depth > 0)
                st->begin_depth--;
        }
        if (st->nwords < MAX_WORDS)
            memcpy(st->words[st->nwords++], lower, n + 1);
        st->nwords_all++;
    }
}

/* Skip a quoted run starting at lx->i (the opening quote). */
static int skip_quoted(struct lexer *lx, char q, bool backslash_escapes, const char *what)
{
    size_t open = lx->i;

    lx->i++;
    while (lx->i < lx->len) {
        char c = lx->s[lx->i];
        if (backslash_escapes && c == '\\') {
            lx->i += 2;
            continue;
        }
        if (c == q) {
            if (lx->i + 1 < lx->len && lx->s[lx->i + 1] == q) {
                lx->i += 2;
                continue;
            }
            lx->i++;
            return 0;
        }
        lx->i++;
    }
    return lex_error(lx, open, "unterminated %s", what);
}

static int skip_block_comment(struct lexer *lx)
{
    size_t open = lx->i;
    int depth = 0;

    while (lx->i < lx->len) {
        if (lx->s[lx->i] == '/' && lx->i + 1 < lx->len && lx->s[lx->i + 1] == '*') {
            depth++;
            lx->i += 2;
        } else if (lx->s[lx->i] == '*' && lx->i + 1 < lx->len && lx->s[lx->i + 1] == '/') {
            depth--;
            lx->i += 2;
            if (depth == 0)
                return 0;
        } else {
            lx->i++;
        }
    }
    return lex_error(lx, open, "unterminated /* comment%s", "");
}

/* At '$': a dollar quote ($$ or $tag$), a parameter ($1), or a lone '$'. */
static int skip_dollar(struct lexer *lx)
{
    size_t open = lx->i, j = lx->i + 1, taglen;
    const char *tag;

    if (j < lx->len && isdigit((unsigned char)lx->s[j])) {
        while (j < lx->len && isdigit((unsigned char)lx->s[j]))
            j++;
        lx->i = j;
        return 0;
    }
    if (j < lx->len && ident_start((unsigned char)lx->s[j])) {
        while (j < lx->len && tag_char((unsigned char)lx->s[j]))
            j++;
    }
    if (j >= lx->len || lx->s[j] != '$') {
        lx->i++;
        return 0;
    }
    tag = lx->s + open;
    taglen = j - open + 1; /* "$tag$" */
    for (size_t k = j + 1; k + taglen <= lx->len; k++) {
        if (lx->s[k] == '$' && memcmp(lx->s + k, tag, taglen) == 0) {
            lx->i = k + taglen;
            return 0;
        }
    }
    {
        char t[64];
        snprintf(t, sizeof(t), "%.*s", (int)(taglen < 60 ? taglen : 60), tag);
        return lex_error(lx, open, "unterminated dollar-quoted string (opened with %s)", t);
    }
}

int sql_split(struct sql_script *out, const char *text, size_t len, struct sql_lex_error *e)
{
    struct lexer lx = {text, len, sql_bom_len(text, len), e, out};
    struct stmt_state st;
    size_t line = 1, line_start = lx.i, scanned = lx.i; /* after a byte-order mark */

    stmt_reset(&st);
    e->line = e->col = 0;
    e->message[0] = '\0';
    while (lx.i < len) {
        unsigned char c = (unsigned char)text[lx.i];
        size_t tok = lx.i;

        if (c == '\0')
            return lex_error(&lx, lx.i, "NUL byte in the file%s", "");
        if (isspace(c)) {
            lx.i++;
            continue;
        }
        if (c == '-' && lx.i + 1 < len && text[lx.i + 1] == '-') {
            while (lx.i < len && text[lx.i] != '\n')
                lx.i++;
            continue;
        }
        if (c == '/' && lx.i + 1 < len && text[lx.i + 1] == '*') {
            if (skip_block_comment(&lx) < 0)
                return -1;
            continue;
        }
        if (st.start == SIZE_MAX)
            st.start = tok;
        if (c == ';') {
            lx.i++;
            if (st.paren == 0 && st.begin_depth == 0)
                emit(&lx, &st, lx.i);
            continue;
        }
        st.content = true;
        if (c == '\\') {
            char cmd[32];
            size_t n = 1;
            while (tok + n < len && n < sizeof(cmd) - 1 && isalnum((unsigned char)text[tok + n]))
                n++;
            snprintf(cmd, sizeof(cmd), "%.*s", (int)n, text + tok);
            return lex_error(&lx, tok, "psql meta-command '%s' is not supported in migrations", cmd);
        }
        if (c == '(') {
            st.paren++;
            lx.i++;
        } else if (c == ')') {
            if (st.paren > 0)
                st.paren--;
            lx.i++;
        } else if (c == '\'') {
            if (skip_quoted(&lx, '\'', false, "quoted string") < 0)
                return -1;
        } else if (c == '"') {
            if (skip_quoted(&lx, '"', false, "quoted identifier") < 0)
                return -1;
        } else if (c == '$') {
            if (skip_dollar(&lx) < 0)
                return -1;
        } else if (ident_start(c)) {
            size_t j = lx.i;
            while (j < len && ident_char((unsigned char)text[j]))
                j++;
            if (j - lx.i == 1 && j < len && text[j] == '\'' && strchr("EeBbXxNn", c)) {
                lx.i = j;
                if (skip_quoted(&lx, '\'', c == 'E' || c == 'e', "quoted string") < 0)
                    return -1;
            } else if (j - lx.i == 1 && (c == 'U' || c == 'u') && j + 1 < len && text[j] == '&' &&
                       (text[j + 1] == '\'' || text[j + 1] == '"')) {
                lx.i = j + 1;
                if (skip_quoted(&lx, text[j + 1], false, text[j + 1] == '"' ? "quoted identifier" : "quoted string") <
                    0)
                    return -1;
            } else {
                note_word(&st, text + lx.i, j - lx.i);
                lx.i = j;
            }
        } else if (isdigit(c)) {
            while (lx.i < len && (isalnum((unsigned char)text[lx.i]) || text[lx.i] == '.' || text[lx.i] == '_'))
                lx.i++;
        } else {
            lx.i++;
        }
        st.last_end = lx.i;
    }
    emit(&lx, &st, st.last_end);

    /* line and column of each statement, in one forward pass */
    for (size_t k = 0; k < out->n; k++) {
        struct sql_stmt *s = &out->stmts[k];
        for (; scanned < s->start; scanned++)
            if (text[scanned] == '\n') {
                line++;
                line_start = scanned + 1;
            }
        s->line = (unsigned)line;
        s->col = (unsigned)sql_char_count(text + line_start, s->start - line_start) + 1;
    }
    return 0;
}

void sql_script_release(struct sql_script *s)
{
    free(s->stmts);
    s->stmts = NULL;
    s->n = s->alloc = 0;
}

size_t sql_bom_len(const char *text, size_t len)
{
    return len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
}

size_t sql_char_count(const char *text, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        if (((unsigned char)text[i] & 0xc0) != 0x80)
            n++;
    return n;
}

void sql_linecol(const char *text, size_t len, size_t offset, unsigned *line, unsigned *col)
{
    size_t l = 1, start = sql_bom_len(text, len);

    if (offset > len)
        offset = len;
    if (start > offset)
        start = 0;
    for (size_t i = 0; i < offset; i++)
        if (text[i] == '\n') {
            l++;
            start = i + 1;
        }
    *line = (unsigned)l;
    *col = (unsigned)sql_char_count(text + start, offset - start) + 1;
}

size_t sql_char_to_byte(const char *text, size_t len, size_t char_pos)
{
    size_t chars = 0;

    if (char_pos <= 1)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)text[i] & 0xc0) != 0x80) {
            chars++;
            if (chars == char_pos)
                return i;
        }
    }
    return len;
}
