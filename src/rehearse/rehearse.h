#ifndef DBDEPLOY_REHEARSE_REHEARSE_H
#define DBDEPLOY_REHEARSE_REHEARSE_H

/*
 * `dbdeploy rehearse ENV` (docs/rehearsal.md): the pending migrations applied, exactly as
 * `deploy` would apply them, to a copy of ENV made from its newest verified backup, measured.
 *
 *   backup   ENV's newest archive that verifies (--fresh: a new one, pg_dump being read-only)
 *   copy     a scratch database with a fresh name on [rehearsal] url's server, loaded from it
 *   rehearse deploy's own stages on the copy: preflight, lint, lock, apply (data-loss guard and
 *            validator included), each statement timed and the ACCESS EXCLUSIVE locks it took
 *            read after it, inside its transaction (engine_opts.trace)
 *   drop     the copy (unless keep)
 *   record   one row in ENV's ledger (<schema>.rehearsals: commit, plan, timings, outcome), the
 *            only write ENV ever sees: its session is read-only until then
 *
 * A failed rehearsal (the plan failed on the copy as it would on ENV) is DD_ECHECK (exit 1) with
 * the failure as deploy would have reported it, and is recorded; a rehearsal that could not be
 * set up (no archive, no server) keeps its own error code and records nothing.
 */
#include "pipeline/runner.h"
#include "util/buf.h"
#include "util/error.h"

struct dd_config;
struct db_conn;
struct repo;

struct rehearse_request {
    const struct dd_config *cfg; /* ENV's configuration (committed), borrowed */
    struct repo *repo;           /* borrowed; NULL for allow-dirty environments outside git */
    struct db_conn *db;          /* ENV's session, borrowed: read, then the record */
    const char *who;             /* user@host */
    bool fresh;                  /* take a new backup instead of using the newest */
    bool keep;                   /* keep the scratch database */
};

struct rehearse_migration {
    int64_t version;
    char *file;
    char *checksum;
    int64_t ms;         /* on the copy; the failed one: until it failed */
    const char *status; /* "applied", "failed", "rolled back" (one transaction), "not run" */
};

struct rehearse_statement {
    size_t migration; /* index into migrations */
    size_t index;     /* 0-based, in its file */
    unsigned line;
    char *text; /* its first line, shortened */
    uint64_t start_ms, ms;
    bool ok;
};

/* An ACCESS EXCLUSIVE lock on a relation that existed before: from the statement that took it to its transaction's end.
 */
struct rehearse_lock {
    char *relation;
    size_t statement; /* index into statements: the one after which it was first seen */
    uint64_t from_ms, to_ms;
};

struct rehearse_result {
    char *env;
    char *commit;                             /* NULL: the working tree */
    char *archive;                            /* the backup restored */
    bool fresh;                               /* taken for this rehearsal */
    char *server;                             /* masked url of [rehearsal] url */
    char *database;                           /* the scratch database's name */
    bool kept;                                /* still there (--keep) */
    uint64_t started_ms, finished_ms;         /* epoch */
    uint64_t backup_ms, restore_ms, apply_ms; /* apply_ms: the predicted total */
    bool ran;                                 /* the plan was rehearsed (or tried): there is an outcome */
    bool up_to_date;                          /* nothing pending on the copy */
    bool passed;
    char *error; /* the failure's first line, masked; NULL when passed */
    struct rehearse_migration *migrations;
    size_t n_migrations;
    struct rehearse_statement *statements;
    size_t n_statements, statements_alloc;
    struct rehearse_lock *locks;
    size_t n_locks, locks_alloc;
    char *plan_key;          /* deploy_plan_key of the plan */
    int64_t record_id;       /* the ledger row, 0 when none was written */
    char *lint_text;         /* lint's findings, as deploy shows them */
    struct pipeline_run run; /* the stages run on the copy */
};

void rehearse_result_init(struct rehearse_result *r);
void rehearse_result_release(struct rehearse_result *r);

/* Rehearse as described above; -1 with err set on failure (DD_ECHECK: the plan failed on the copy). */
int rehearse_run(struct rehearse_result *out, const struct rehearse_request *req, struct dd_error *err);

/* The report: text (per migration, predicted total, ACCESS EXCLUSIVE locks) or the --json document. */
void rehearse_report(struct dd_buf *out, const struct rehearse_result *r, const struct dd_error *err, bool json);

/* How long lock l was held (to its transaction's end, or the end of the rehearsal). */
uint64_t rehearse_lock_ms(const struct rehearse_result *r, const struct rehearse_lock *l);

#endif
