#include "unit.h"

#include <errno.h>
#include <sys/wait.h>

#include "util/proc.h"

static void test_capture_stdout_and_env(void **state)
{
    struct dd_proc p = DD_PROC_INIT;
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    setenv("DD_UNIT_DROP", "x", 1);
    dd_strv_push(&p.argv, "/usr/bin/env");
    dd_proc_env_set(&p, "DD_UNIT_SET", "value with spaces");
    dd_proc_env_unset(&p, "DD_UNIT_DROP");
    p.stdout_mode = DD_PROC_CAPTURE;
    assert_int_equal(dd_proc_run(&p, &err), 0);
    assert_non_null(strstr(p.out_capture.buf, "DD_UNIT_SET=value with spaces\n"));
    assert_null(strstr(p.out_capture.buf, "DD_UNIT_DROP"));
    dd_proc_release(&p);
}

static void test_failure_status_and_stderr_tail_in_words(void **state)
{
    struct dd_proc p = DD_PROC_INIT;
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    /* argv, never a shell: the shell here is the program under test, not a way to run one */
    dd_strv_push(&p.argv, "/bin/sh");
    dd_strv_push(&p.argv, "-c");
    dd_strv_push(&p.argv, "echo 'first line' >&2; echo 'pg_dump: error: boom' >&2; exit 3");
    p.stderr_mode = DD_PROC_CAPTURE;
    assert_int_equal(dd_proc_run(&p, &err), -1);
    assert_int_equal(err.code, DD_ECHILD);
    assert_string_equal(dd_error_msg(&err), "sh exited with status 3: first line | pg_dump: error: boom");
    dd_error_release(&err);
    dd_proc_release(&p);
}

static void test_killed_by_signal(void **state)
{
    struct dd_proc p = DD_PROC_INIT;
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    dd_strv_push(&p.argv, "/bin/sh");
    dd_strv_push(&p.argv, "-c");
    dd_strv_push(&p.argv, "kill -9 $$");
    assert_int_equal(dd_proc_run(&p, &err), -1);
    assert_string_equal(dd_error_msg(&err), "sh was killed by signal 9");
    dd_error_release(&err);
    dd_proc_release(&p);
}

static void test_missing_program(void **state)
{
    struct dd_proc p = DD_PROC_INIT;
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    dd_strv_push(&p.argv, "dbdeploy-no-such-program");
    assert_int_equal(dd_proc_start(&p, &err), -1);
    assert_string_equal(dd_error_msg(&err), "cannot run 'dbdeploy-no-such-program': not found on PATH");
    dd_error_release(&err);
    dd_proc_release(&p);
}

static void test_pipe_stdin_to_stdout_streams(void **state)
{
    struct dd_proc p = DD_PROC_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct dd_buf got = DD_BUF_INIT;
    char chunk[4096];
    size_t n;

    (void)state;
    dd_strv_push(&p.argv, "/bin/cat");
    p.stdin_mode = DD_PROC_PIPE;
    p.stdout_mode = DD_PROC_PIPE;
    assert_int_equal(dd_proc_start(&p, &err), 0);
    assert_int_equal(dd_proc_write(&p, "hello ", 6, &err), 0);
    assert_int_equal(dd_proc_write(&p, "world", 5, &err), 0);
    dd_proc_close_stdin(&p);
    do {
        assert_int_equal(dd_proc_read(&p, chunk, sizeof(chunk), &n, &err), 0);
        dd_buf_add(&got, chunk, n);
    } while (n);
    assert_int_equal(dd_proc_finish(&p, &err), 0);
    assert_string_equal(got.buf, "hello world");
    dd_buf_release(&got);
    dd_proc_release(&p);
}

/* A child we cannot wait for has not "exited 0": before, a failed waitpid counted as success. */
static void test_failed_wait_is_an_error(void **state)
{
    struct dd_proc p = DD_PROC_INIT;
    struct dd_error err = DD_ERROR_INIT;
    int status;

    (void)state;
    dd_strv_push(&p.argv, "/bin/false");
    assert_int_equal(dd_proc_start(&p, &err), 0);
    /* someone else reaps it (a SIGCHLD handler, a stray wait): our waitpid gets ECHILD */
    assert_int_equal(waitpid(p.pid, &status, 0), p.pid);
    assert_int_equal(dd_proc_finish(&p, &err), -1);
    assert_int_equal(err.code, DD_ECHILD);
    assert_non_null(strstr(dd_error_msg(&err), "cannot wait for 'false'"));
    assert_non_null(strstr(dd_error_msg(&err), strerror(ECHILD)));
    dd_error_release(&err);
    dd_proc_release(&p);
}

/* posix_spawn_file_actions_* return their error; errno is whatever it was before. */
static void test_file_action_error_is_the_returned_code(void **state)
{
    struct dd_proc p = DD_PROC_INIT;
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    dd_strv_push(&p.argv, "/bin/true");
    p.stdout_mode = DD_PROC_FD;
    p.stdout_fd = -1; /* adddup2 refuses it with EBADF */
    errno = ENOENT;   /* a stale errno the old code reported */
    assert_int_equal(dd_proc_start(&p, &err), -1);
    assert_non_null(strstr(dd_error_msg(&err), strerror(EBADF)));
    assert_null(strstr(dd_error_msg(&err), strerror(ENOENT)));
    dd_error_release(&err);
    dd_proc_release(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capture_stdout_and_env),
        cmocka_unit_test(test_failure_status_and_stderr_tail_in_words),
        cmocka_unit_test(test_killed_by_signal),
        cmocka_unit_test(test_missing_program),
        cmocka_unit_test(test_pipe_stdin_to_stdout_streams),
        cmocka_unit_test(test_failed_wait_is_an_error),
        cmocka_unit_test(test_file_action_error_is_the_returned_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
