/*
 * A lint run: scripts in apply order, the context they build (new tables and indexes,
 * validated NOT NULL checks), suppressions, severities and catalog sizes.
 */
#include "lint/internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

#include "migrations/sql.h"

#define ALLOW_TAG     "dbdeploy:allow"
#define ALLOW_FILE    SIZE_MAX
#define DATA_LOSS_TAG "data-loss"

int lint_rule_index(const char *id)
{
    for (size_t i = 0; id && i < lint_rule_count; i++)
        if (strcmp(lint_rules[i].id, id) == 0)
            return (int)i;
    return -1;
}

bool lint_rule_known(const char *id)
{
    /* data-loss also names the apply-time guard; not-valid and row-changes are its declarations */
    return lint_rule_index(id) >= 0 || dd_streq(id, DATA_LOSS_TAG) || dd_streq(id, "not-valid") ||
           dd_streq(id, "row-changes");
}

int lint_severity_parse(const char *text, enum lint_severity *out)
{
    if (dd_streq(text, "error"))
        *out = LINT_ERROR;
    else if (dd_streq(text, "warning"))
        *out = LINT_WARNING;
    else if (dd_streq(text, "off"))
        *out = LINT_OFF;
    else
        return -1;
    return 0;
}

const char *lint_severity_name(enum lint_severity s)
{
    return s == LINT_ERROR ? "error" : s == LINT_WARNING ? "warning" : "off";
}

void lint_run_init(struct lint_run *r)
{
    memset(r, 0, sizeof(*r));
    for (size_t i = 0; i < lint_rule_count; i++)
        r->sev[i] = lint_rules[i].severity;
    r->small_table = 10000;
    dd_strv_init(&r->new_tables);
    dd_strv_init(&r->new_indexes);
    dd_strv_init(&r->checked);
    dd_strv_init(&r->not_null_checks);
}

void lint_run_release(struct lint_run *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].file);
        free(r->v[i].message);
    }
    for (size_t i = 0; i < r->nsup; i++) {
        free(r->sup[i].file);
        free(r->sup[i].rule);
        free(r->sup[i].reason);
    }
    for (size_t i = 0; i < r->ntables; i++)
        free(r->tables[i].name);
    free(r->v);
    free(r->sup);
    free(r->tables);
    r->v = NULL;
    r->sup = NULL;
    r->tables = NULL;
    r->n = r->nsup = r->ntables = 0;
    dd_strv_release(&r->new_tables);
    dd_strv_release(&r->new_indexes);
    dd_strv_release(&r->checked);
    dd_strv_release(&r->not_null_checks);
}

int lint_run_set_severity(struct lint_run *r, const char *rule, enum lint_severity s)
{
    int i = lint_rule_index(rule);

    if (i < 0)
        return -1;
    r->sev[i] = s;
    return 0;
}

void lint_run_configure(struct lint_run *r, const struct dd_strv *rules, uint64_t small_table)
{
    for (size_t i = 0; rules && i < rules->n; i++) {
        char *rule = dd_xstrdup(rules->v[i]), *eq = strchr(rule, '=');
        enum lint_severity s;
        if (eq) {
            *eq = '\0';
            if (lint_severity_parse(eq + 1, &s) == 0)
                lint_run_set_severity(r, rule, s);
        }
        free(rule);
    }
    r->small_table = small_table;
}

size_t lint_allowed_count(const struct lint_run *r)
{
    size_t n = 0;

    for (size_t i = 0; i < r->nsup; i++)
        n += r->sup[i].used && r->sup[i].reason;
    return n;
}

void lint_run_add_table(struct lint_run *r, const char *name, double rows, int64_t bytes)
{
    if (r->ntables == r->tables_alloc) {
        r->tables_alloc = r->tables_alloc ? 2 * r->tables_alloc : 64;
        r->tables = dd_xrealloc(r->tables, r->tables_alloc * sizeof(*r->tables));
    }
    r->tables[r->ntables].name = dd_xstrdup(name);
    r->tables[r->ntables].rows = rows;
    r->tables[r->ntables].bytes = bytes;
    r->ntables++;
    r->have_catalog = true;
}

void lint_run_add_new_table(struct lint_run *r, const char *name)
{
    if (!dd_strv_contains(&r->new_tables, name))
        dd_strv_push(&r->new_tables, name);
}

bool lint_table_is_new(const struct lint_run *r, const char *table)
{
    return table && dd_strv_contains(&r->new_tables, table);
}

static const struct lint_table_stat *table_stat(const struct lint_run *r, const char *table)
{
    for (size_t i = 0; table && i < r->ntables; i++)
        if (strcmp(r->tables[i].name, table) == 0)
            return &r->tables[i];
    return NULL;
}

/* "~12.3M rows, 3.1 GB" */
static void add_size(struct dd_buf *b, const struct lint_table_stat *t)
{
    static const char *const units[] = {"bytes", "kB", "MB", "GB", "TB"};
    double rows = t->rows < 0 ? 0 : t->rows, bytes = (double)t->bytes;
    size_t u = 0;

    if (rows >= 1e6)
        dd_buf_addf(b, "~%.1fM rows, ", rows / 1e6);
    else if (rows >= 1e3)
        dd_buf_addf(b, "~%.1fk rows, ", rows / 1e3);
    else
        dd_buf_addf(b, "~%.0f rows, ", rows);
    while (bytes >= 1024 && u + 1 < DD_ARRAY_SIZE(units)) {
        bytes /= 1024;
        u++;
    }
    dd_buf_addf(b, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

/* Whether an allow comment of the file covers `rule` at the current statement; counts the use. */
static bool suppressed(struct lint_file *f, int rule)
{
    for (size_t i = 0; i < f->nallows; i++) {
        struct lint_suppression *s = &f->run->sup[f->allows[i].sup];
        if (f->allows[i].stmt != ALLOW_FILE && f->allows[i].stmt != f->stmt)
            continue;
        if (!s->reason)
            continue; /* a suppression without a reason suppresses nothing */
        if (strcmp(s->rule, lint_rules[rule].id) == 0 ||
            (lint_rules[rule].cls == LINT_CLASS_DATA_LOSS && strcmp(s->rule, DATA_LOSS_TAG) == 0)) {
            s->used++;
            return true;
        }
    }
    return false;
}

static void add_finding(struct lint_run *r, const char *path, unsigned line, unsigned col, int rule, char *message)
{
    struct lint_finding *x;

    if (r->n == r->alloc) {
        r->alloc = r->alloc ? 2 * r->alloc : 16;
        r->v = dd_xrealloc(r->v, r->alloc * sizeof(*r->v));
    }
    x = &r->v[r->n++];
    x->file = dd_xstrdup(path);
    x->line = line;
    x->col = col;
    x->rule = rule;
    x->severity = r->sev[rule];
    x->message = message;
    if (x->severity == LINT_ERROR)
        r->errors++;
    else
        r->warnings++;
}

void lint_emit(struct lint_file *f, int rule, const char *table, const char *fmt, ...)
{
    struct lint_run *r = f->run;
    const struct lint_table_stat *st = NULL;
    struct dd_buf b = DD_BUF_INIT;
    unsigned line, col;
    va_list ap;

    if (r->sev[rule] == LINT_OFF)
        return;
    if (lint_rules[rule].cls != LINT_CLASS_OTHER && lint_table_is_new(r, table))
        return; /* nothing to lock or lose in a table this run created */
    if (lint_rules[rule].cls != LINT_CLASS_OTHER && table && r->have_catalog) {
        st = table_stat(r, table);
        if (!st)
            return; /* not in the target at all: nothing to lock, lose or break */
        if (lint_rules[rule].cls == LINT_CLASS_LOCK && st->rows < (double)r->small_table)
            return; /* small: the lock is brief */
        if (lint_rules[rule].cls != LINT_CLASS_LOCK)
            st = NULL; /* sizes only matter in lock messages */
    }
    if (suppressed(f, rule))
        return;
    if (table) {
        dd_buf_adds(&b, table);
        if (st) {
            dd_buf_adds(&b, ": ");
            add_size(&b, st);
        }
        dd_buf_adds(&b, ": ");
    }
    va_start(ap, fmt);
    dd_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    sql_linecol(f->sql, f->len, f->pstmt ? f->pstmt->start : 0, &line, &col);
    add_finding(r, f->path, line, col, rule, dd_buf_detach(&b, NULL));
}

/* Line number (1-based) of a byte offset. */
static unsigned line_of(const char *s, size_t at)
{
    unsigned line = 1;

    for (size_t i = 0; i < at; i++)
        line += s[i] == '\n';
    return line;
}

static void add_allow(struct lint_file *f, const char *text, size_t len, size_t at, size_t stmt)
{
    struct lint_run *r = f->run;
    struct lint_suppression *s;
    const char *p = text, *end = text + len, *id;
    size_t idlen;

    while (p < end && isspace((unsigned char)*p))
        p++;
    id = p;
    while (p < end && !isspace((unsigned char)*p))
        p++;
    idlen = (size_t)(p - id);
    if (idlen == 5 && strncmp(id, "empty", 5) == 0)
        return; /* -- dbdeploy:allow empty belongs to the runner (migrations/), not to a lint rule */
    while (p < end && isspace((unsigned char)*p))
        p++;
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    if (r->nsup == r->sup_alloc) {
        r->sup_alloc = r->sup_alloc ? 2 * r->sup_alloc : 8;
        r->sup = dd_xrealloc(r->sup, r->sup_alloc * sizeof(*r->sup));
    }
    s = &r->sup[r->nsup];
    memset(s, 0, sizeof(*s));
    s->file = dd_xstrdup(f->path);
    s->line = line_of(f->sql, at);
    s->rule = dd_xstrndup(id, idlen);
    s->reason = p < end ? dd_xstrndup(p, (size_t)(end - p)) : NULL;
    if (!idlen || !lint_rule_known(s->rule) || !s->reason) {
        unsigned col;
        sql_linecol(f->sql, f->len, at, &s->line, &col);
        if (r->sev[R_BAD_SUPPRESSION] != LINT_OFF)
            add_finding(r, f->path, s->line, col, R_BAD_SUPPRESSION,
                        !idlen ? dd_xstrdup("dbdeploy:allow names no rule")
                        : !lint_rule_known(s->rule)
                            ? dd_xasprintf("dbdeploy:allow names '%s', which is no rule", s->rule)
                            : dd_xasprintf("dbdeploy:allow %s has no reason", s->rule));
        free(s->reason);
        s->reason = NULL; /* it silences nothing */
    }
    r->nsup++;
    f->allows = dd_xrealloc(f->allows, (f->nallows + 1) * sizeof(*f->allows));
    f->allows[f->nallows].sup = r->nsup - 1;
    f->allows[f->nallows].stmt = stmt;
    f->nallows++;
}

/*
 * Allow comments in the text between two statements, [from, to). A comment on the line where
 * the previous statement ends covers that statement; the others cover the next one (or the
 * whole file before the first statement).
 */
static void scan_gap(struct lint_file *f, size_t from, size_t to, size_t prev, size_t next)
{
    const char *s = f->sql;
    size_t line_end = from; /* end of the previous statement's last line */

    while (line_end < to && s[line_end] != '\n')
        line_end++;
    for (size_t at = from; at < to;) {
        if (s[at] == '/' && at + 1 < to && s[at + 1] == '*') {
            int depth = 1;
            for (at += 2; at < to && depth; at++) {
                if (s[at] == '/' && at + 1 < to && s[at + 1] == '*')
                    depth++, at++;
                else if (s[at] == '*' && at + 1 < to && s[at + 1] == '/')
                    depth--, at++;
            }
        } else if (s[at] == '-' && at + 1 < to && s[at + 1] == '-') {
            size_t c = at + 2, eol = c;
            while (eol < to && s[eol] != '\n')
                eol++;
            while (c < eol && (s[c] == ' ' || s[c] == '\t'))
                c++;
            if (eol - c >= strlen(ALLOW_TAG) && memcmp(s + c, ALLOW_TAG, strlen(ALLOW_TAG)) == 0 &&
                (c + strlen(ALLOW_TAG) == eol || isspace((unsigned char)s[c + strlen(ALLOW_TAG)]))) {
                size_t stmt = prev != SIZE_MAX && at < line_end ? prev : next;
                c += strlen(ALLOW_TAG);
                add_allow(f, s + c, eol - c, at, stmt);
            }
            at = eol;
        } else {
            at++;
        }
    }
}

/* Text before the first statement is the file header: its allow comments cover the whole file. */
void lint_scan_allows(struct lint_file *f, const struct lint_parsed *p)
{
    size_t from = 0;

    for (size_t i = 0; i <= p->n; i++) {
        size_t to = i < p->n ? p->v[i].start : f->len;
        size_t next = i == 0 ? ALLOW_FILE : i < p->n ? i : SIZE_MAX - 1; /* after the last: nothing */
        scan_gap(f, from, to, i ? i - 1 : SIZE_MAX, next);
        if (i < p->n)
            from = p->v[i].loc + p->v[i].len;
    }
}

void lint_script_parse(struct lint_parse_result *out, const char *sql, size_t len)
{
    out->pos = 0;
    out->rc = lint_parse(&out->p, sql, len, out->msg, sizeof(out->msg), &out->pos);
}

/* Consumes pr's trees. */
void lint_script_check(struct lint_run *r, const struct lint_input *in, struct lint_parse_result *pr)
{
    struct lint_file f;

    memset(&f, 0, sizeof(f));
    f.run = r;
    f.path = in->path;
    f.sql = in->sql;
    f.len = in->len;
    f.single_tx = in->single_tx;
    dd_strv_init(&f.not_valid);
    r->files++;
    if (pr->rc < 0) {
        unsigned line, col;
        sql_linecol(in->sql, in->len, pr->pos, &line, &col);
        add_finding(r, in->path, line, col, R_SYNTAX, dd_xstrdup(pr->msg));
        goto cleanup;
    }
    lint_scan_allows(&f, &pr->p);
    for (size_t i = 0; i < pr->p.n; i++) {
        f.stmt = i;
        f.pstmt = &pr->p.v[i];
        r->statements++;
        lint_rules_check(&f, pr->p.v[i].tag);
        if (!f.single_tx && !f.explicit_tx)
            dd_strv_clear(&f.not_valid); /* autocommit: each statement is its own transaction */
    }
cleanup:
    lint_parsed_release(&pr->p);
    dd_strv_release(&f.not_valid);
    free(f.allows);
}

void lint_script(struct lint_run *r, const char *path, const char *sql, size_t len, bool single_tx)
{
    struct lint_input in = {path, sql, len, single_tx};
    struct lint_parse_result pr;

    lint_script_parse(&pr, sql, len);
    lint_script_check(r, &in, &pr);
}
