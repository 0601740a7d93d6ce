#include "unit.h"

#include "pipeline/runner.h"
#include "util/interrupt.h"

/* Fake stages record what ran, in order, into a trace string. */
struct fake {
    char trace[512];
    const char *fail_stage;   /* run of this stage fails */
    const char *fail_undo;    /* undo of this stage fails */
    const char *finish_stage; /* this stage returns STAGE_FINISH */
    const char *skip_stage;   /* this stage returns STAGE_SKIPPED */
    const char *raise_in;     /* this stage raises SIGTERM while running */
    bool undo_saw_interrupt;
    uint64_t clock;
    char lines[1024];
};

static struct fake F;

static void trace(const char *what, const char *name)
{
    size_t n = strlen(F.trace);
    snprintf(F.trace + n, sizeof(F.trace) - n, "%s%s:%s", n ? " " : "", what, name);
}

#define FAKE_STAGE(NAME)                                                                                               \
    static int run_##NAME(void *ctx, char **note, struct dd_error *err)                                                \
    {                                                                                                                  \
        (void)ctx;                                                                                                     \
        (void)note;                                                                                                    \
        trace("run", #NAME);                                                                                           \
        F.clock += 10;                                                                                                 \
        if (F.raise_in && strcmp(F.raise_in, #NAME) == 0)                                                              \
            dd_interrupt_raise(15);                                                                                    \
        if (F.fail_stage && strcmp(F.fail_stage, #NAME) == 0)                                                          \
            return dd_error_set(err, DD_EDB, "%s broke", #NAME);                                                       \
        if (F.finish_stage && strcmp(F.finish_stage, #NAME) == 0)                                                      \
            return STAGE_FINISH;                                                                                       \
        if (F.skip_stage && strcmp(F.skip_stage, #NAME) == 0)                                                          \
            return STAGE_SKIPPED;                                                                                      \
        return 0;                                                                                                      \
    }                                                                                                                  \
    __attribute__((unused)) static int undo_##NAME(void *ctx, char **note, struct dd_error *err)                       \
    {                                                                                                                  \
        (void)ctx;                                                                                                     \
        (void)note;                                                                                                    \
        trace("undo", #NAME);                                                                                          \
        F.undo_saw_interrupt = F.undo_saw_interrupt || dd_interrupt_pending();                                         \
        if (F.fail_undo && strcmp(F.fail_undo, #NAME) == 0)                                                            \
            return dd_error_set(err, DD_ECHILD, "undo of %s broke", #NAME);                                            \
        return 0;                                                                                                      \
    }

FAKE_STAGE(preflight)
FAKE_STAGE(gate)
FAKE_STAGE(backup)
FAKE_STAGE(apply)
FAKE_STAGE(health)
FAKE_STAGE(record)

static const struct stage stages[] = {
    {"preflight", run_preflight, NULL, NULL, STAGE_READ_ONLY},
    {"gate", run_gate, NULL, NULL, STAGE_READ_ONLY},
    {"backup", run_backup, undo_backup, "discard", 0},
    {"apply", run_apply, undo_apply, "restore", 0},
    {"health", run_health, NULL, NULL, 0},
    {"record", run_record, NULL, NULL, STAGE_ALWAYS},
};

static uint64_t fake_now(void *arg)
{
    (void)arg;
    return F.clock;
}

static void fake_line(void *arg, const char *name, const char *outcome, uint64_t ms, const char *note)
{
    size_t n = strlen(F.lines);
    (void)arg;
    (void)note;
    snprintf(F.lines + n, sizeof(F.lines) - n, "%s %s %llu\n", name, outcome, (unsigned long long)ms);
}

static const struct pipeline_ops ops = {fake_now, NULL, fake_line};

static int setup(void **state)
{
    (void)state;
    memset(&F, 0, sizeof(F));
    dd_interrupt_clear();
    return 0;
}

static int run(struct pipeline_run *r, bool dry, struct dd_error *err)
{
    return pipeline_run(r, stages, sizeof(stages) / sizeof(stages[0]), NULL, dry, &ops, err);
}

static void test_success_runs_every_stage_in_order_then_always(void **state)
{
    struct pipeline_run r;
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    assert_int_equal(run(&r, false, &err), 0);
    assert_string_equal(F.trace, "run:preflight run:gate run:backup run:apply run:health run:record");
    assert_string_equal(F.lines,
                        "preflight ok 10\ngate ok 10\nbackup ok 10\napply ok 10\nhealth ok 10\nrecord ok 10\n");
    assert_int_equal(r.results[3].outcome, STAGE_OUT_OK);
    assert_false(r.undo_ran);
    pipeline_run_release(&r);
}

static void test_failure_undoes_started_stages_newest_first_and_still_records(void **state)
{
    struct pipeline_run r;
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    F.fail_stage = "health";
    assert_int_equal(run(&r, false, &err), -1);
    assert_string_equal(F.trace, "run:preflight run:gate run:backup run:apply run:health undo:apply undo:backup "
                                 "run:record");
    assert_string_equal(dd_error_msg(&err), "health broke");
    assert_string_equal(err.chain.v[1], "running stage 'health'");
    assert_int_equal(err.code, DD_EDB);
    assert_int_equal(r.results[3].undo, UNDO_OK);
    assert_int_equal(r.results[5].outcome, STAGE_OUT_OK);
    assert_non_null(strstr(F.lines, "health fail 10\nrestore ok 0\ndiscard ok 0\nrecord ok 10\n"));
    assert_true(r.undo_ran);
    assert_false(r.undo_failed);
    dd_error_release(&err);
    pipeline_run_release(&r);
}

static void test_the_failed_stage_is_undone_too(void **state)
{
    struct pipeline_run r;
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    F.fail_stage = "apply";
    assert_int_equal(run(&r, false, &err), -1);
    assert_string_equal(F.trace, "run:preflight run:gate run:backup run:apply undo:apply undo:backup run:record");
    dd_error_release(&err);
    pipeline_run_release(&r);
}

static void test_failure_before_any_change_undoes_nothing(void **state)
{
    struct pipeline_run r;
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    F.fail_stage = "gate";
    assert_int_equal(run(&r, false, &err), -1);
    assert_string_equal(F.trace, "run:preflight run:gate run:record");
    assert_false(r.undo_ran);
    dd_error_release(&err);
    pipeline_run_release(&r);
}

static void test_undo_failure_is_reported_as_detail(void **state)
{
    struct pipeline_run r;
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    F.fail_stage = "health";
    F.fail_undo = "apply";
    assert_int_equal(run(&r, false, &err), -1);
    assert_true(r.undo_failed);
    assert_int_equal(r.results[3].undo, UNDO_FAILED);
    assert_string_equal(dd_error_msg(&err), "health broke");
    assert_string_equal(err.details.v[0], "restore failed too: undo of apply broke");
    dd_error_release(&err);
    pipeline_run_release(&r);
}

static void test_dry_run_only_runs_read_only_stages(void **state)
{
    struct pipeline_run r;
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    assert_int_equal(run(&r, true, &err), 0);
    assert_string_equal(F.trace, "run:preflight run:gate");
    assert_int_equal(r.results[3].outcome, STAGE_OUT_DRY);
    assert_int_equal(r.results[5].outcome, STAGE_OUT_DRY);
    pipeline_run_release(&r);
}

static void test_finish_early_stops_without_recording(void **state)
{
    struct pipeline_run r;
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    F.finish_stage = "preflight";
    assert_int_equal(run(&r, false, &err), 0);
    assert_true(r.finished_early);
    assert_string_equal(F.trace, "run:preflight");
    pipeline_run_release(&r);
}

static void test_skipped_stage_lets_the_pipeline_go_on(void **state)
{
    struct pipeline_run r;
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    F.skip_stage = "backup";
    assert_int_equal(run(&r, false, &err), 0);
    assert_int_equal(r.results[2].outcome, STAGE_OUT_SKIPPED);
    assert_non_null(strstr(F.lines, "backup skip 10\n"));
    pipeline_run_release(&r);
}

static void test_interrupt_stops_at_the_next_stage_and_undo_is_shielded(void **state)
{
    struct pipeline_run r;
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    F.raise_in = "apply";
    assert_int_equal(run(&r, false, &err), -1);
    assert_int_equal(err.code, DD_EINTERRUPTED);
    assert_string_equal(dd_error_msg(&err), "interrupted by signal 15 before stage 'health'");
    assert_string_equal(F.trace, "run:preflight run:gate run:backup run:apply undo:apply undo:backup run:record");
    assert_false(F.undo_saw_interrupt); /* a restore in progress is never told to stop */
    assert_true(dd_interrupt_pending());
    dd_interrupt_clear();
    dd_error_release(&err);
    pipeline_run_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_success_runs_every_stage_in_order_then_always, setup),
        cmocka_unit_test_setup(test_failure_undoes_started_stages_newest_first_and_still_records, setup),
        cmocka_unit_test_setup(test_the_failed_stage_is_undone_too, setup),
        cmocka_unit_test_setup(test_failure_before_any_change_undoes_nothing, setup),
        cmocka_unit_test_setup(test_undo_failure_is_reported_as_detail, setup),
        cmocka_unit_test_setup(test_dry_run_only_runs_read_only_stages, setup),
        cmocka_unit_test_setup(test_finish_early_stops_without_recording, setup),
        cmocka_unit_test_setup(test_skipped_stage_lets_the_pipeline_go_on, setup),
        cmocka_unit_test_setup(test_interrupt_stops_at_the_next_stage_and_undo_is_shielded, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
