/* pg_dump/pg_restore version parsing and the password file handed to them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backup/internal.h"
#include "util/fs.h"

static void test_tool_version_parses_packaged_and_devel_output(void **state)
{
    struct bk_tool_version v;

    (void)state;
    assert_int_equal(bk_parse_tool_version(&v, "pg_dump (PostgreSQL) 15.4 (Debian 15.4-1.pgdg120+1)\n"), 0);
    assert_int_equal(v.major, 1500);
    assert_string_equal(v.text, "15.4");
    assert_int_equal(bk_parse_tool_version(&v, "pg_restore (PostgreSQL) 17devel\n"), 0);
    assert_int_equal(v.major, 1700);
    assert_int_equal(bk_parse_tool_version(&v, "pg_dump (PostgreSQL) 9.6.24\n"), 0);
    assert_int_equal(v.major, 906);
    assert_int_equal(bk_parse_tool_version(&v, "16.1"), 0); /* as stored in a manifest */
    assert_int_equal(v.major, 1600);
    assert_int_equal(bk_parse_tool_version(&v, "pg_dump: command not found"), -1);
    assert_int_equal(bk_parse_tool_version(&v, ""), -1);
}

static void test_server_major_matches_tool_major(void **state)
{
    char t[16];

    (void)state;
    assert_int_equal(bk_server_major(150004), 1500);
    assert_int_equal(bk_server_major(170000), 1700);
    assert_int_equal(bk_server_major(90624), 906);
    assert_true(bk_server_major(90624) < bk_server_major(100001));
    bk_major_text(t, sizeof(t), 906);
    assert_string_equal(t, "9.6");
    bk_major_text(t, sizeof(t), 1600);
    assert_string_equal(t, "16");
}

static void test_passfile_line_escapes_colon_and_backslash(void **state)
{
    struct dd_buf b = DD_BUF_INIT;

    (void)state;
    assert_int_equal(bk_passfile_line(&b, "a:b\\c"), 0);
    assert_string_equal(b.buf, "*:*:*:*:a\\:b\\\\c\n");
    dd_buf_reset(&b);
    assert_int_equal(bk_passfile_line(&b, "two\nlines"), -1);
    dd_buf_release(&b);
}

static void test_passfile_is_private_and_removed(void **state)
{
    struct bk_passfile pf = BK_PASSFILE_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct dd_buf content = DD_BUF_INIT;
    struct dd_proc p = DD_PROC_INIT;
    struct stat st;
    char *dir;

    (void)state;
    assert_int_equal(bk_passfile_create(&pf, NULL, "s3cret:pw", NULL, &err), 0);
    assert_int_equal(stat(pf.path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(pf.dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(dd_read_file(&content, pf.path, &err), 0);
    assert_string_equal(content.buf, "*:*:*:*:s3cret\\:pw\n");
    bk_passfile_apply(&pf, &p);
    assert_int_equal(p.env_set.n, 1);
    assert_true(strncmp(p.env_set.v[0], "PGPASSFILE=", 11) == 0);
    assert_true(dd_strv_contains(&p.env_unset, "PGPASSWORD"));
    dir = dd_xstrdup(pf.dir);
    bk_passfile_release(&pf);
    assert_false(dd_path_exists(dir));
    bk_passfile_release(&pf); /* twice is fine */
    free(dir);
    dd_proc_release(&p);
    dd_buf_release(&content);
}

static void test_no_password_means_no_file(void **state)
{
    struct bk_passfile pf = BK_PASSFILE_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct dd_proc p = DD_PROC_INIT;

    (void)state;
    assert_int_equal(bk_passfile_create(&pf, NULL, NULL, NULL, &err), 0);
    assert_null(pf.path);
    bk_passfile_apply(&pf, &p);
    assert_int_equal(p.env_set.n, 0);
    assert_int_equal(p.env_unset.n, 0);
    dd_proc_release(&p);
}

/* A pid that existed and is gone: a child that has exited and been reaped. */
static long dead_pid(void)
{
    pid_t pid = fork();

    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    return (long)pid;
}

static void test_passfile_under_backup_dir_is_swept_when_its_process_is_gone(void **state)
{
    struct bk_passfile pf = BK_PASSFILE_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct dd_strv removed = DD_STRV_INIT;
    struct stat st;
    char *root, *tmp, *prefix, *dead_dir, *dead_partial, *live_partial;
    long dead = dead_pid();

    (void)state;
    assert_int_equal(dd_mkdtemp(&root, "dbdeploy-sweep", &err), 0);
    assert_int_equal(bk_passfile_create(&pf, NULL, "pw", root, &err), 0);
    tmp = dd_path_join(root, BK_TMP_DIR);
    assert_int_equal(stat(tmp, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    prefix = dd_xasprintf("%s/pg-%ld.", tmp, (long)getpid());
    assert_true(strncmp(pf.path, prefix, strlen(prefix)) == 0);

    /* what a killed run leaves: its passfile directory and a partial archive */
    dead_dir = dd_xasprintf("%s/pg-%ld.AbCdEf", tmp, dead);
    assert_int_equal(dd_mkdir_p(dead_dir, 0700, &err), 0);
    {
        char *f = dd_path_join(dead_dir, "pgpass");
        assert_int_equal(dd_write_file_atomic(f, "*:*:*:*:pw\n", 11, 0600, &err), 0);
        free(f);
    }
    {
        char *env = dd_path_join(root, "dev");
        assert_int_equal(dd_mkdir_p(env, 0700, &err), 0);
        dead_partial = dd_xasprintf("%s/.20261121T101500Z-abc.tar.zst.tmp-%ld", env, dead);
        live_partial = dd_xasprintf("%s/.20261121T101501Z-abc.tar.zst.tmp-%ld", env, (long)getpid());
        assert_int_equal(dd_write_file_atomic(dead_partial, "x", 1, 0600, &err), 0);
        assert_int_equal(dd_write_file_atomic(live_partial, "x", 1, 0600, &err), 0);
        free(env);
    }

    backup_sweep(&removed, root, "dev");
    assert_int_equal(removed.n, 2);
    assert_false(dd_path_exists(dead_dir));
    assert_false(dd_path_exists(dead_partial));
    assert_true(dd_path_exists(pf.path)); /* ours: we are alive */
    assert_true(dd_path_exists(live_partial));

    bk_passfile_release(&pf);
    dd_rm_rf(root);
    dd_strv_release(&removed);
    free(root);
    free(tmp);
    free(prefix);
    free(dead_dir);
    free(dead_partial);
    free(live_partial);
}

static void test_check_target_refuses_other_env_and_database(void **state)
{
    struct backup_manifest m = BACKUP_MANIFEST_INIT;
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    m.env = dd_xstrdup("staging");
    m.database = dd_xstrdup("app");
    assert_int_equal(backup_check_target(&m, "prod", "app", false, &err), -1);
    assert_int_equal(err.code, DD_EBLOCKED);
    assert_string_equal(dd_error_msg(&err), "the archive is a backup of environment 'staging', not 'prod'");
    assert_non_null(strstr(err.hint, "--force"));
    dd_error_release(&err);
    assert_int_equal(backup_check_target(&m, "staging", "other", false, &err), -1);
    assert_non_null(strstr(dd_error_msg(&err), "database 'app'"));
    dd_error_release(&err);
    assert_int_equal(backup_check_target(&m, "prod", "other", true, &err), 0);
    assert_int_equal(backup_check_target(&m, "staging", "app", false, &err), 0);
    backup_manifest_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tool_version_parses_packaged_and_devel_output),
        cmocka_unit_test(test_server_major_matches_tool_major),
        cmocka_unit_test(test_passfile_line_escapes_colon_and_backslash),
        cmocka_unit_test(test_passfile_is_private_and_removed),
        cmocka_unit_test(test_no_password_means_no_file),
        cmocka_unit_test(test_passfile_under_backup_dir_is_swept_when_its_process_is_gone),
        cmocka_unit_test(test_check_target_refuses_other_env_and_database),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
