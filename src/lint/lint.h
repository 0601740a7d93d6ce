#ifndef DBDEPLOY_LINT_LINT_H
#define DBDEPLOY_LINT_LINT_H

/*
 * Migration lint: PostgreSQL's own parser (libpg_query, included only in lint/parse.c) turns
 * each script into parse trees, and rules classify statements from the trees, never from
 * tokens. A run lints scripts in the order they would be applied and keeps context: a table
 * created (or renamed into being) by an earlier script of the run, or earlier in the same
 * script, is new, so no lock, data-loss or breaking-change rule fires on it. With catalog statistics
 * (lint_run_add_table), tables below small_table rows do not trigger lock rules either, and
 * messages on other tables carry their size.
 *
 * Findings are collected, never printed: lint_render_* format them into a buffer.
 * Suppression: "-- dbdeploy:allow RULE-ID reason..." on the line(s) before a statement (or at
 * the end of its last line) or before the first statement (the whole file). RULE-ID may be
 * "data-loss" for every data-loss rule. A suppression without a reason, or naming no rule, is
 * itself a finding (bad-suppression, error).
 */
#include "util/buf.h"
#include "util/strv.h"

enum lint_severity { LINT_OFF, LINT_WARNING, LINT_ERROR };

enum lint_rule_class {
    LINT_CLASS_LOCK,      /* takes a lock that blocks the application on a big table */
    LINT_CLASS_DATA_LOSS, /* destroys data */
    LINT_CLASS_BREAKING,  /* breaks the application running against the old schema */
    LINT_CLASS_OTHER,
};

struct lint_rule {
    const char *id;
    enum lint_severity severity; /* default */
    enum lint_rule_class cls;
    const char *summary; /* what the rule catches (docs, --json) */
    const char *hint;    /* the safe rewrite, one sentence */
};

extern const struct lint_rule lint_rules[];
extern const size_t lint_rule_count;

/* Index of a rule in lint_rules, or -1. */
int lint_rule_index(const char *id);
/* True for a rule id, or a name a suppression may use (data-loss, not-valid, row-changes). */
bool lint_rule_known(const char *id);
/* "error", "warning", "off" -> severity; -1 when the text is none of them. */
int lint_severity_parse(const char *text, enum lint_severity *out);
const char *lint_severity_name(enum lint_severity s);

struct lint_finding {
    char *file;
    unsigned line, col; /* 1-based; col in characters */
    int rule;           /* index into lint_rules */
    enum lint_severity severity;
    char *message;
};

struct lint_suppression {
    char *file;
    unsigned line;
    char *rule;
    char *reason;  /* NULL when missing (a bad-suppression finding) */
    unsigned used; /* findings it silenced */
};

struct lint_table_stat {
    char *name; /* "orders", or "schema.orders" outside public */
    double rows;
    int64_t bytes;
};

struct lint_run {
    /* settings, filled before the first script */
    enum lint_severity sev[64]; /* per rule, from the defaults by lint_run_init */
    uint64_t small_table;       /* rows; default 10000 */
    bool have_catalog;          /* tables[] describe the target */
    struct lint_table_stat *tables;
    size_t ntables, tables_alloc;

    /* results */
    struct lint_finding *v;
    size_t n, alloc;
    struct lint_suppression *sup;
    size_t nsup, sup_alloc;
    size_t files, statements, errors, warnings;

    /* context carried from script to script */
    struct dd_strv new_tables;      /* created by the run */
    struct dd_strv new_indexes;     /* created by the run */
    struct dd_strv checked;         /* "table.col" with a validated CHECK (col IS NOT NULL) */
    struct dd_strv not_null_checks; /* "table.constraint\tcol" added NOT VALID, awaiting VALIDATE */
};

void lint_run_init(struct lint_run *r);
void lint_run_release(struct lint_run *r);
/* Override a rule's severity; -1 for an unknown rule. */
int lint_run_set_severity(struct lint_run *r, const char *rule, enum lint_severity s);
/* Catalog statistics of the target (sets have_catalog). */
void lint_run_add_table(struct lint_run *r, const char *name, double rows, int64_t bytes);
/* Mark a table as created by the run (applied-but-new context, tests). */
void lint_run_add_new_table(struct lint_run *r, const char *name);

/*
 * Lint one script. `single_tx` says whether it runs as one transaction (dbdeploy's default for
 * a migration file); explicit BEGIN ... COMMIT inside it count either way. A syntax error is a
 * finding (syntax-error), not a failure.
 */
void lint_script(struct lint_run *r, const char *path, const char *sql, size_t len, bool single_tx);

/*
 * A batch of scripts linted in order, exactly as lint_script on each in turn would (same
 * findings, same order), but parsed on several threads: parsing is most of a lint's work and
 * needs no context, so worker threads parse ahead while the rules run in order on the caller's
 * thread. The batch borrows path and sql; they must stay valid until lint_batch_run returns.
 */
struct lint_input {
    const char *path;
    const char *sql;
    size_t len;
    bool single_tx;
};

struct lint_batch {
    struct lint_input *v;
    size_t n, alloc;
};

#define LINT_BATCH_INIT                                                                                                \
    {                                                                                                                  \
        NULL, 0, 0                                                                                                     \
    }

void lint_batch_add(struct lint_batch *b, const char *path, const char *sql, size_t len, bool single_tx);
/*
 * Lint the batch into r and empty it. threads: how many threads parse (the caller's included);
 * 0 picks one per online CPU, fewer for a small batch. 1 parses on the caller's thread only.
 */
void lint_batch_run(struct lint_run *r, struct lint_batch *b, unsigned threads);
void lint_batch_release(struct lint_batch *b);

/*
 * [lint] settings as config/ holds them: "RULE-ID=severity" strings (already checked there) and
 * small-table rows. Unknown ids and values are ignored.
 */
void lint_run_configure(struct lint_run *r, const struct dd_strv *rules, uint64_t small_table);
/* Suppressions that silenced at least one finding. */
size_t lint_allowed_count(const struct lint_run *r);

/* Output formats (append to out). */
void lint_render_text(struct dd_buf *out, const struct lint_run *r);
/* One line per suppression that silenced something: "allowed: RULE-ID at FILE:LINE (N): reason". */
void lint_render_allowed(struct dd_buf *out, const struct lint_run *r);
struct dd_json;
/*
 * The run as members of the JSON object j has open (the --json document of lint, the "lint"
 * member of deploy's, the ledger's deployments.lint): files, statements, errors, warnings,
 * findings [{file, line, col, severity, rule, message, hint}], suppressions [{file, line, rule,
 * reason, used}].
 */
void lint_json_members(struct dd_json *j, const struct lint_run *r);
void lint_render_github(struct dd_buf *out, const struct lint_run *r);
void lint_render_json(struct dd_buf *out, const struct lint_run *r);

/*
 * Check that libpg_query (pg_query_split_with_parser) and migrations/sql.c split `sql` into the
 * same statements; -1 with the difference in msg. For the corpus test.
 */
int lint_check_split(const char *sql, size_t len, char *msg, size_t msglen);

#endif
