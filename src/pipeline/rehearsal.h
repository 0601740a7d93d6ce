#ifndef DBDEPLOY_PIPELINE_REHEARSAL_H
#define DBDEPLOY_PIPELINE_REHEARSAL_H

/*
 * The rehearsal requirement ([gate] rehearsal = required, docs/rehearsal.md): a deployment
 * needs a passed `dbdeploy rehearse ENV` of the same plan, which is the same commit and the
 * same migrations with the same checksums, recorded in ENV's ledger (db/rehearsal.h), and
 * not older than [gate] rehearsal-max-age. `plan ENV` shows that rehearsal's predicted time.
 */
#include "engine/engine.h"

struct deploy;

/* The plan as the ledger keeps it: "<version> <checksum>\n" per step, in order. Caller frees. */
char *deploy_plan_key(const struct engine_plan *p);

/*
 * Part of the gate stage: look for the passed rehearsal of d's plan (when required, or for a
 * dry run), fill d->rehearsal_*; *note says what was found (NULL when nothing was looked at).
 * Required and none fits: DD_EBLOCKED naming the newest rehearsal and why it does not count.
 */
int deploy_rehearsal_check(struct deploy *d, char **note, struct dd_error *err);

#endif
