#ifndef DBDEPLOY_REHEARSE_INTERNAL_H
#define DBDEPLOY_REHEARSE_INTERNAL_H

/* Shared inside rehearse/ only. */
#include "engine/engine.h"
#include "rehearse/rehearse.h"

struct deploy;

/* The engine's trace (engine_opts.trace) collecting statements and locks into a result. */
struct rh_trace {
    struct engine_trace ops;
    struct rehearse_result *r;      /* borrowed */
    const struct engine_plan *plan; /* borrowed: the plan being applied (steps map to migrations) */
    char *floor;                    /* db_relation_oid_floor of the copy before anything ran */
    bool warned;                    /* a lock look-up failed once already */
};

void rh_trace_init(struct rh_trace *t, struct rehearse_result *r, const struct engine_plan *plan, char *floor);
void rh_trace_release(struct rh_trace *t);

/* The migrations of the plan with their outcome, from what the deployment on the copy did. */
void rh_collect(struct rehearse_result *r, const struct deploy *d);

/* The JSON arrays of the report and the record; rh_json_text makes one a string of its own. */
struct dd_json;
void rh_json_migrations(struct dd_json *j, const char *key, const struct rehearse_result *r);
void rh_json_locks(struct dd_json *j, const char *key, const struct rehearse_result *r);
char *rh_json_text(void (*fn)(struct dd_json *, const char *, const struct rehearse_result *),
                   const struct rehearse_result *r);

/* archive.c: the newest archive that verifies, or a new one (--fresh); fill r->archive. */
struct dd_config;
int rh_newest_verified(struct rehearse_result *r, const struct dd_config *cfg, struct dd_error *err);
int rh_take_backup(struct rehearse_result *r, const struct dd_config *cfg, struct db_conn *db, struct dd_error *err);

#endif
