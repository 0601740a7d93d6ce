#ifndef DBDEPLOY_ENGINE_GATE_H
#define DBDEPLOY_ENGINE_GATE_H

/*
 * "Gate" means two things to users; the code keeps them apart by name:
 *
 *  - the readiness check, `dbdeploy gate ENV` (cli/cmd_gate.c, for CI): does ENV hold exactly
 *    the migrations of this commit? Every one applied with the same checksum and file name,
 *    none dirty, none applied that the commit no longer has. ENGINE_GATE_READINESS.
 *  - the promotion requirement, `[gate] requires = staging` (pipeline/stage_gate.c, the
 *    pipeline's gate stage): a deployment may only apply what the required environment already
 *    has, as it is here. Only the migrations about to be applied count, and the same content
 *    under another file name is the same migration. ENGINE_GATE_PROMOTION.
 *
 * Both ask the same question of each migration, "is it on that environment as it is here?",
 * and engine_gate_compare is the one answer, so the two never disagree about a file. Health
 * checks stay with the callers (health/ is not an engine dependency).
 */
#include "engine/engine.h"

enum engine_gate_scope {
    ENGINE_GATE_READINESS, /* every migration of the set, renamed ones and extra ledger rows too */
    ENGINE_GATE_PROMOTION, /* only the versions in `pending` */
};

enum engine_gate_kind {
    ENGINE_GATE_MISSING,  /* not applied there */
    ENGINE_GATE_MODIFIED, /* applied there with other content */
    ENGINE_GATE_DIRTY,    /* stopped part-way there */
    ENGINE_GATE_RENAMED,  /* applied there under another file name (readiness only) */
    ENGINE_GATE_EXTRA,    /* applied there, but not in this commit (readiness only) */
};

/* "missing", "modified", "dirty", "renamed", "extra": the --json kinds. */
const char *engine_gate_kind_name(enum engine_gate_kind k);

struct engine_gate_problem {
    enum engine_gate_kind kind;
    int64_t version;  /* -1 for a repeatable migration */
    const char *file; /* borrowed from the status: the file here, or the ledger's for extra */
    char *message;    /* one sentence naming the file and the environment */
};

struct engine_gate_result {
    struct engine_gate_problem *v;
    size_t n;
};

#define ENGINE_GATE_RESULT_INIT                                                                                        \
    {                                                                                                                  \
        NULL, 0                                                                                                        \
    }

/*
 * Compare the files here with the environment `env` whose ledger `st` was built from
 * (engine_status_build(st, files here, env's ledger)). `pending` (PROMOTION only, borrowed)
 * names the versions (and repeatable migrations) about to be applied elsewhere. Problems come in
 * version order, then the repeatable migrations (new or changed since they last ran there: they
 * would run elsewhere untried); none means the gate passes. Borrowed pointers stay valid while st lives.
 */
void engine_gate_compare(struct engine_gate_result *out, const struct engine_status *st, const char *env,
                         enum engine_gate_scope scope, const struct engine_plan *pending);
void engine_gate_result_release(struct engine_gate_result *r);

#endif
