/*
 * The only file that includes pg_query.h: PostgreSQL 15's own parser (libpg_query) turns a
 * script into JSON parse trees, read by json.c.
 */
#include "lint/internal.h"

#include <pg_query.h>
#include <stdio.h>

#include "migrations/sql.h"

/* libpg_query's statement range starts right after the previous ';': skip blanks and comments. */
static size_t first_token(const char *s, size_t at, size_t end)
{
    while (at < end) {
        if (s[at] == ' ' || s[at] == '\t' || s[at] == '\n' || s[at] == '\r' || s[at] == '\f' || s[at] == '\v') {
            at++;
        } else if (s[at] == '-' && at + 1 < end && s[at + 1] == '-') {
            while (at < end && s[at] != '\n')
                at++;
        } else if (s[at] == '/' && at + 1 < end && s[at + 1] == '*') {
            int depth = 1;
            for (at += 2; at < end && depth; at++) {
                if (s[at] == '/' && at + 1 < end && s[at + 1] == '*')
                    depth++, at++;
                else if (s[at] == '*' && at + 1 < end && s[at + 1] == '/')
                    depth--, at++;
            }
        } else {
            break;
        }
    }
    return at;
}

static void set_error(char *msg, size_t msglen, size_t *pos, const char *sql, size_t len, const PgQueryError *e)
{
    snprintf(msg, msglen, "%s", e->message);
    *pos = e->cursorpos > 0 ? sql_char_to_byte(sql, len, (size_t)e->cursorpos) : 0;
}

int lint_parse(struct lint_parsed *out, const char *sql, size_t len, char *msg, size_t msglen, size_t *pos)
{
    PgQueryParseResult r;
    const struct lj_node *stmts;
    size_t n = 0, bom = sql_bom_len(sql, len); /* the parser would read the mark as an identifier */

    memset(out, 0, sizeof(*out));
    if (memchr(sql, '\0', len)) {
        snprintf(msg, msglen, "the file contains a NUL byte");
        *pos = (size_t)((const char *)memchr(sql, '\0', len) - sql);
        return -1;
    }
    r = pg_query_parse(sql + bom);
    if (r.error) {
        set_error(msg, msglen, pos, sql + bom, len - bom, r.error);
        *pos += bom;
        pg_query_free_parse_result(r);
        return -1;
    }
    if (lj_parse(&out->doc, r.parse_tree) < 0) {
        pg_query_free_parse_result(r);
        DD_BUG("libpg_query returned malformed JSON");
    }
    pg_query_free_parse_result(r);
    stmts = lj_get(out->doc.root, "stmts");
    for (const struct lj_node *s = stmts ? stmts->kids : NULL; s; s = s->next)
        n++;
    out->v = dd_xcalloc(n ? n : 1, sizeof(*out->v));
    for (const struct lj_node *s = stmts ? stmts->kids : NULL; s; s = s->next) {
        struct lint_pstmt *p = &out->v[out->n++];
        double loc = lj_num(s, "stmt_location") + (double)bom, l = lj_num(s, "stmt_len");
        p->loc = loc > 0 && loc < (double)len ? (size_t)loc : 0;
        /* the last statement's length is 0: the rest of the text */
        p->len = l > 0 && p->loc + (size_t)l <= len ? (size_t)l : len - p->loc;
        p->start = first_token(sql, p->loc, p->loc + p->len);
        p->tag = lj_get(s, "stmt");
    }
    return 0;
}

void lint_parsed_release(struct lint_parsed *p)
{
    if (!p)
        return;
    lj_release(&p->doc);
    free(p->v);
    p->v = NULL;
    p->n = 0;
}

int lint_check_split(const char *sql, size_t len, char *msg, size_t msglen)
{
    struct sql_script ours = SQL_SCRIPT_INIT;
    struct sql_lex_error le;
    PgQuerySplitResult r;
    size_t bom = sql_bom_len(sql, len);
    int rc = -1;

    if (memchr(sql, '\0', len)) {
        snprintf(msg, msglen, "the file contains a NUL byte");
        return -1;
    }
    r = pg_query_split_with_parser(sql + bom);
    if (r.error) {
        snprintf(msg, msglen, "libpg_query: %s", r.error->message);
        goto cleanup;
    }
    if (sql_split(&ours, sql, len, &le) < 0) {
        snprintf(msg, msglen, "%u:%u: %s", le.line, le.col, le.message);
        goto cleanup;
    }
    if ((size_t)r.n_stmts != ours.n) {
        snprintf(msg, msglen, "libpg_query finds %d statements, the splitter %zu", r.n_stmts, ours.n);
        goto cleanup;
    }
    for (size_t i = 0; i < ours.n; i++) {
        size_t loc = bom + (size_t)r.stmts[i]->stmt_location;
        size_t end = r.stmts[i]->stmt_len ? loc + (size_t)r.stmts[i]->stmt_len : len;
        /* same first token; the splitter's end includes the ';' libpg_query leaves out */
        if (first_token(sql, loc, end) != ours.stmts[i].start || ours.stmts[i].end < end) {
            snprintf(msg, msglen, "%u:%u: statement %zu starts or ends elsewhere for libpg_query", ours.stmts[i].line,
                     ours.stmts[i].col, i + 1);
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    pg_query_free_split_result(r);
    sql_script_release(&ours);
    return rc;
}
