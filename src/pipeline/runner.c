#include "pipeline/runner.h"

#include "util/clock.h"
#include "util/interrupt.h"
#include "util/out.h"

const char *stage_outcome_name(enum stage_outcome o)
{
    static const char *const names[] = {"not-run", "ok", "skip", "dry", "fail"};

    return names[o];
}

static uint64_t now(const struct pipeline_ops *ops)
{
    return ops && ops->now_ms ? ops->now_ms(ops->arg) : dd_now_ms();
}

static void line(const struct pipeline_ops *ops, const char *name, const char *outcome, uint64_t ms, const char *note)
{
    if (ops && ops->line)
        ops->line(ops->arg, name, outcome, ms, note);
    else
        log_stage(name, outcome, ms, "%s", note ? note : "");
}

/* Run one stage (or its undo) and time it. */
static int call(int (*fn)(void *, char **, struct dd_error *), void *ctx, char **note, uint64_t *ms,
                const struct pipeline_ops *ops, struct dd_error *err)
{
    uint64_t t0 = now(ops);
    int rc = fn(ctx, note, err);

    *ms = now(ops) - t0;
    return rc;
}

/* Undo, newest first, every stage that started; keeps the original error in err. */
static void undo_all(struct pipeline_run *out, const struct stage *stages, size_t upto, void *ctx,
                     const struct pipeline_ops *ops, struct dd_error *err)
{
    for (size_t i = upto + 1; i-- > 0;) {
        struct stage_result *r = &out->results[i];
        struct dd_error uerr = DD_ERROR_INIT;
        const char *name = stages[i].undo_name ? stages[i].undo_name : stages[i].name;
        int rc;

        if (!stages[i].undo || (r->outcome != STAGE_OUT_OK && r->outcome != STAGE_OUT_FAILED))
            continue;
        out->undo_ran = true;
        rc = call(stages[i].undo, ctx, &r->undo_note, &r->undo_ms, ops, &uerr);
        if (rc < 0) {
            r->undo = UNDO_FAILED;
            out->undo_failed = true;
            line(ops, name, "fail", r->undo_ms, dd_error_msg(&uerr));
            dd_error_detail(err, "%s failed too: %s", name, dd_error_msg(&uerr));
            for (size_t k = 0; k < uerr.details.n; k++)
                dd_error_detail(err, "  %s", uerr.details.v[k]);
            if (uerr.hint)
                dd_error_detail(err, "  %s", uerr.hint);
        } else {
            r->undo = rc == STAGE_SKIPPED ? UNDO_NONE : UNDO_OK;
            if (rc != STAGE_SKIPPED)
                line(ops, name, "ok", r->undo_ms, r->undo_note);
        }
        dd_error_release(&uerr);
    }
}

static void run_always(struct pipeline_run *out, const struct stage *stages, size_t n, void *ctx, size_t from,
                       const struct pipeline_ops *ops, struct dd_error *err)
{
    for (size_t i = from; i < n; i++) {
        struct stage_result *r = &out->results[i];
        struct dd_error aerr = DD_ERROR_INIT;
        int rc;

        if (!(stages[i].flags & STAGE_ALWAYS) || r->outcome != STAGE_OUT_NOT_RUN)
            continue;
        rc = call(stages[i].run, ctx, &r->note, &r->ms, ops, &aerr);
        r->outcome = rc < 0 ? STAGE_OUT_FAILED : rc == STAGE_SKIPPED ? STAGE_OUT_SKIPPED : STAGE_OUT_OK;
        line(ops, stages[i].name, stage_outcome_name(r->outcome), r->ms, rc < 0 ? dd_error_msg(&aerr) : r->note);
        if (rc < 0 && dd_error_isset(err)) {
            dd_error_detail(err, "%s failed too: %s", stages[i].name, dd_error_msg(&aerr));
        } else if (rc < 0) {
            /* everything else succeeded: this failure is the run's failure */
            dd_error_move(err, &aerr);
            dd_error_wrap(err, "running stage '%s'", stages[i].name);
        }
        dd_error_release(&aerr);
    }
}

int pipeline_run(struct pipeline_run *out, const struct stage *stages, size_t n, void *ctx, bool dry_run,
                 const struct pipeline_ops *ops, struct dd_error *err)
{
    size_t i;

    *out = (struct pipeline_run)PIPELINE_RUN_INIT;
    out->results = dd_xcalloc(n ? n : 1, sizeof(*out->results));
    out->n = n;
    for (i = 0; i < n; i++)
        out->results[i].name = stages[i].name;

    for (i = 0; i < n; i++) {
        struct stage_result *r = &out->results[i];
        int rc;

        if (dry_run && !(stages[i].flags & STAGE_READ_ONLY)) {
            r->outcome = STAGE_OUT_DRY;
            continue;
        }
        if ((stages[i].flags & STAGE_ALWAYS) && !dry_run)
            continue; /* after everything else */
        if (dd_interrupt_pending()) {
            dd_error_set(err, DD_EINTERRUPTED, "interrupted by signal %d before stage '%s'", dd_interrupt_signal(),
                         stages[i].name);
            goto failed;
        }
        rc = call(stages[i].run, ctx, &r->note, &r->ms, ops, err);
        if (rc < 0) {
            r->outcome = STAGE_OUT_FAILED;
            line(ops, stages[i].name, "fail", r->ms, r->note);
            goto failed;
        }
        r->outcome = rc == STAGE_SKIPPED ? STAGE_OUT_SKIPPED : STAGE_OUT_OK;
        line(ops, stages[i].name, stage_outcome_name(r->outcome), r->ms, r->note);
        if (rc == STAGE_FINISH) {
            out->finished_early = true;
            return 0;
        }
    }
    if (!dry_run)
        run_always(out, stages, n, ctx, 0, ops, err);
    return dd_error_isset(err) ? -1 : 0;

failed:
    if (!dd_error_isset(err))
        DD_BUG("stage '%s' failed without an error", stages[i < n ? i : n - 1].name);
    if (i < n)
        dd_error_wrap(err, "running stage '%s'", stages[i].name);
    /* a restore that has started must finish: hold further signals until it has */
    dd_interrupt_block(true);
    undo_all(out, stages, i < n ? i : n - 1, ctx, ops, err);
    run_always(out, stages, n, ctx, 0, ops, err);
    dd_interrupt_block(false);
    return -1;
}

void pipeline_run_release(struct pipeline_run *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->results[i].note);
        free(r->results[i].undo_note);
    }
    free(r->results);
    *r = (struct pipeline_run)PIPELINE_RUN_INIT;
}
