#ifndef DBDEPLOY_PIPELINE_EVENT_H
#define DBDEPLOY_PIPELINE_EVENT_H

/*
 * Changes made outside the pipeline (`apply`, `rollback`, `mark`, `restore`, `adopt`) go on
 * record as deployments do: a row in <schema>.deployments with its kind (the command), who ran
 * it (OS user and git identity), the commit, the migrations and the result, and an entry at the
 * top of changelog/<env>/CHANGELOG.md that `dbdeploy changelog ENV` regenerates byte for byte.
 */
#include "db/ledger.h"
#include "migrations/migrations.h"

struct dd_config;
struct repo;

struct event {
    const char *kind;            /* apply, rollback, mark, restore, adopt */
    const struct dd_config *cfg; /* borrowed, as are the members below */
    struct db_conn *db;
    struct repo *repo;        /* NULL: no git identity, no authors in the changelog */
    const char *commit;       /* the commit the files came from; NULL for the working tree */
    const char *who;          /* user@host */
    uint64_t started_ms;      /* wall clock (dd_epoch_ms) */
    struct db_deployment dep; /* owned: the row, its migrations appended with event_add* */
    char *changelog_path;     /* owned: set by event_record */
};

void event_init(struct event *ev, const char *kind, const struct dd_config *cfg, struct db_conn *db, struct repo *repo,
                const char *commit, const char *who);
/* A migration of the event; status applied, restored (reverted or unrecorded) or failed. */
void event_add(struct event *ev, const struct migration *m, int64_t duration_ms, const char *status);
/* The same from its parts (a migration known only from the ledger). */
void event_add_row(struct event *ev, int64_t version, const char *name, const char *file, const char *checksum,
                   const char *status);
/*
 * Write the row (creating or upgrading the ledger first: after a restore it is the archive's)
 * and the changelog entry. result: applied, rolled-back, marked, adopted, restored, failed;
 * error (masked here) is the first line of a failure or NULL; archive a backup path or NULL.
 */
int event_record(struct event *ev, const char *result, const char *error, const char *archive, struct dd_error *err);
void event_release(struct event *ev);

#endif
