#include "unit.h"

#include <unistd.h>

#include "config/config.h"
#include "util/fs.h"
#include "util/mask.h"

#include <git2.h>

static char *root;
static struct dd_config *cfg;
static struct dd_error err;

static int setup(void **state)
{
    (void)state;
    git_libgit2_init();
    err = (struct dd_error)DD_ERROR_INIT;
    cfg = NULL;
    if (dd_mkdtemp(&root, "dbdeploy-unit-config", &err) < 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    config_free(cfg);
    dd_rm_rf(root);
    free(root);
    dd_error_release(&err);
    dd_mask_clear();
    unsetenv("DATABASE_URL");
    unsetenv("DD_UNIT_PW");
    git_libgit2_shutdown();
    return 0;
}

static void write_conf(const char *name, const char *text)
{
    char *dir = dd_path_join(root, "pipeline");
    char *path = dd_xasprintf("%s/%s", dir, name);
    struct dd_error e = DD_ERROR_INIT;

    assert_int_equal(dd_mkdir_p(dir, 0755, &e), 0);
    assert_int_equal(dd_write_file_atomic(path, text, strlen(text), 0644, &e), 0);
    free(dir);
    free(path);
}

static void test_defaults_and_override_order(void **state)
{
    (void)state;
    write_conf("dbdeploy.conf",
               "[database]\n\tlock-wait = 2m\n\tledger-schema = shared\n[migrations]\n\tdir = db/migrations/\n");
    write_conf("prod.conf", "[database]\n\turl = postgresql://app@db/prod\n\tledger-schema = prod_ledger\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), 0);
    assert_string_equal(cfg->ledger_schema, "prod_ledger");    /* env file wins */
    assert_int_equal(cfg->lock_wait_ms, 120000);               /* shared default kept */
    assert_int_equal(cfg->lock_timeout_ms, 5000);              /* built-in default */
    assert_string_equal(cfg->migrations_dir, "db/migrations"); /* trailing slash dropped */
    assert_string_equal(cfg->env_file, "pipeline/prod.conf");
    assert_string_equal(cfg->db_url_origin, "pipeline/prod.conf [database] url");
    assert_true(cfg->backup.enabled);
    assert_true(cfg->restore.on_failure);
    assert_true(dd_status_set_has(&cfg->health.expect_status, 204));
    assert_false(dd_status_set_has(&cfg->health.expect_status, 301));
}

static void test_unknown_key_names_file_section_and_key(void **state)
{
    (void)state;
    write_conf("prod.conf", "[database]\n\turl = postgresql:///x\n\turll = y\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_int_equal(err.code, DD_ECONFIG);
    assert_string_equal(dd_error_msg(&err), "pipeline/prod.conf: [database] urll: unknown setting");
    assert_non_null(strstr(err.hint, "ledger-schema"));
}

static void test_unknown_section(void **state)
{
    (void)state;
    write_conf("prod.conf", "[databse]\n\turl = x\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_string_equal(dd_error_msg(&err), "pipeline/prod.conf: [databse]: unknown section");
    assert_non_null(strstr(err.hint, "[database]"));
}

static void test_bad_duration_value(void **state)
{
    (void)state;
    write_conf("prod.conf", "[database]\n\turl = x\n[health]\n\ttimeout = ten\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_string_equal(dd_error_msg(&err), "pipeline/prod.conf: [health] timeout: 'ten' is not a duration above zero");
    assert_non_null(strstr(err.hint, "5s"));
}

/* A URL pasted into the wrong setting must not show its password in the error. */
static void test_rejected_values_are_quoted_safely(void **state)
{
    (void)state;
    write_conf("prod.conf",
               "[database]\n\turl = x\n[database]\n\tledger-schema = postgres://app:Hunter2isMine@db/app\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_null(strstr(dd_error_msg(&err), "Hunter2"));
    assert_non_null(strstr(dd_error_msg(&err), "[database] ledger-schema: the value (not shown"));
    dd_error_release(&err);
    write_conf("prod.conf", "[database]\n\turl = x\n[health]\n\theader = Authorization Bearer tok3nS3cr3tValue\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_null(strstr(dd_error_msg(&err), "tok3n"));
    assert_non_null(strstr(dd_error_msg(&err), "[health] header: a header line has no 'Name:'"));
    dd_error_release(&err);
    write_conf("prod.conf", "[database]\n\turl = x\n[backup]\n\tenabled = "
                            "yes-or-no-or-maybe-or-perhaps-or-something-else-entirely-long-value\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_string_equal(dd_error_msg(&err), "pipeline/prod.conf: [backup] enabled: "
                                            "'yes-or-no-or-maybe-or-perhaps-or-something-else-entirely-lon...' "
                                            "is not a boolean");
}

static void test_bad_boolean_and_status(void **state)
{
    (void)state;
    write_conf("prod.conf", "[database]\n\turl = x\n[backup]\n\tenabled = maybe\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_string_equal(dd_error_msg(&err), "pipeline/prod.conf: [backup] enabled: 'maybe' is not a boolean");
    dd_error_release(&err);
    write_conf("prod.conf", "[database]\n\turl = x\n[health]\n\texpect-status = 2xx,99\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_non_null(strstr(dd_error_msg(&err), "[health] expect-status: '2xx,99' is not a set of HTTP status codes"));
}

static void test_syntax_error_names_the_file(void **state)
{
    (void)state;
    write_conf("prod.conf", "[database\n\turl = x\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_int_equal(err.code, DD_ECONFIG);
    assert_non_null(strstr(dd_error_msg(&err), "pipeline/prod.conf"));
    assert_null(strstr(dd_error_msg(&err), root)); /* the relative name, not our temp path */
}

static void test_rehearsal_keys(void **state)
{
    char *masked;

    (void)state;
    write_conf("prod.conf", "[database]\n\turl = postgresql://app@db/prod\n[rehearsal]\n\turl = "
                            "postgresql://rh:rh-s3cret@copyhost/postgres\n[gate]\n\trehearsal = required\n"
                            "\trehearsal-max-age = 24h\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), 0);
    assert_int_equal(cfg->gate.rehearsal, CONFIG_REHEARSAL_REQUIRED);
    assert_int_equal(cfg->gate.rehearsal_max_age_ms, 24ull * 3600 * 1000);
    assert_string_equal(cfg->rehearsal.url, "postgresql://rh:rh-s3cret@copyhost/postgres");
    masked = dd_mask_str("cannot reach rh-s3cret"); /* a secret like [database] url */
    assert_string_equal(masked, "cannot reach ***");
    free(masked);
    config_free(cfg);
    cfg = NULL;
    write_conf("prod.conf", "[database]\n\turl = postgresql://app@db/prod\n[gate]\n\trehearsal = always\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_non_null(strstr(dd_error_msg(&err), "pipeline/prod.conf: [gate] rehearsal"));
}

static void test_variables_expand_and_password_is_masked(void **state)
{
    char *masked;

    (void)state;
    setenv("DD_UNIT_PW", "s3cr3t-pw", 1);
    write_conf("prod.conf", "[database]\n\turl = postgresql://app:${DD_UNIT_PW}@db/${DD_UNIT_DB:-prod}\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), 0);
    assert_string_equal(cfg->db_url, "postgresql://app:s3cr3t-pw@db/prod");
    assert_string_equal(cfg->db_url_masked, "postgresql://app:***@db/prod");
    masked = dd_mask_str("connection failed for s3cr3t-pw");
    assert_string_equal(masked, "connection failed for ***");
    free(masked);
}

static void test_unset_variable_is_an_error(void **state)
{
    (void)state;
    write_conf("prod.conf", "[database]\n\turl = postgresql://app:${DD_UNIT_MISSING}@db/prod\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_string_equal(dd_error_msg(&err),
                        "pipeline/prod.conf: [database] url: environment variable 'DD_UNIT_MISSING' is not set");
}

static void test_database_url_fallback(void **state)
{
    (void)state;
    write_conf("prod.conf", "[migrations]\n\tdir = m\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), 0);
    assert_null(cfg->db_url); /* only commands that connect complain */
    config_free(cfg);
    cfg = NULL;
    setenv("DATABASE_URL", "postgresql://u:pw123@h/d", 1);
    assert_int_equal(config_load(&cfg, root, "prod", &err), 0);
    assert_string_equal(cfg->db_url_origin, "DATABASE_URL");
    assert_string_equal(cfg->db_url_masked, "postgresql://u:***@h/d");
}

static void test_missing_environment_lists_defined_ones(void **state)
{
    (void)state;
    write_conf("staging.conf", "[database]\n\turl = x\n");
    write_conf("dev.conf", "[database]\n\turl = x\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_string_equal(dd_error_msg(&err), "environment 'prod' is not defined: 'pipeline/prod.conf' does not exist");
    assert_non_null(strstr(err.hint, "dev, staging"));
}

static void test_env_names_are_validated(void **state)
{
    (void)state;
    assert_int_equal(config_load(&cfg, root, "../etc", &err), -1);
    assert_int_equal(err.code, DD_EUSAGE);
    assert_true(config_env_name_valid("staging-eu_2"));
    assert_false(config_env_name_valid("-x"));
    assert_false(config_env_name_valid(""));
}

/* One rule for every place a name arrives: the shared file's name is never an environment. */
static void test_env_name_rule_reserves_dbdeploy_and_is_ascii(void **state)
{
    char longest[CONFIG_ENV_NAME_MAX + 2];

    (void)state;
    assert_false(config_env_name_valid("dbdeploy"));
    assert_true(config_env_name_valid("dbdeploy-ci"));
    assert_false(config_env_name_valid("_prod"));
    assert_false(config_env_name_valid("prod.eu"));
    assert_false(config_env_name_valid("pr\xc3\xb6"
                                       "d"));
    assert_false(config_env_name_valid(NULL));
    memset(longest, 'a', CONFIG_ENV_NAME_MAX);
    longest[CONFIG_ENV_NAME_MAX] = '\0';
    assert_true(config_env_name_valid(longest));
    longest[CONFIG_ENV_NAME_MAX] = 'a';
    longest[CONFIG_ENV_NAME_MAX + 1] = '\0';
    assert_false(config_env_name_valid(longest));
    /* the command line gets the specific message */
    assert_int_equal(config_load(&cfg, root, "dbdeploy", &err), -1);
    assert_int_equal(err.code, DD_EUSAGE);
    assert_non_null(strstr(dd_error_msg(&err), "pipeline/dbdeploy.conf holds shared defaults"));
}

static void test_gate_cannot_require_the_shared_file(void **state)
{
    (void)state;
    write_conf("prod.conf", "[database]\n\turl = x\n[gate]\n\trequires = dbdeploy\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_int_equal(err.code, DD_ECONFIG);
    assert_non_null(strstr(dd_error_msg(&err), "'dbdeploy' is not an environment name"));
}

static void test_migrations_dir_must_stay_inside(void **state)
{
    (void)state;
    write_conf("prod.conf", "[database]\n\turl = x\n[migrations]\n\tdir = ../elsewhere\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_non_null(strstr(dd_error_msg(&err), "is not a directory inside the project"));
}

static void test_health_headers_are_secret(void **state)
{
    char *masked;

    (void)state;
    setenv("DD_UNIT_PW", "tok-123456", 1);
    write_conf("prod.conf", "[database]\n\turl = dbname=x\n[health]\n\turl = http://127.0.0.1/h\n"
                            "\theader = Authorization: Bearer ${DD_UNIT_PW}\n\theader = X-Env: prod-value\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), 0);
    assert_int_equal(cfg->health.headers.n, 2);
    masked = dd_mask_str("sent Bearer tok-123456 and prod-value; token tok-123456");
    assert_string_equal(masked, "sent *** and ***; token ***");
    free(masked);
}

static void test_recovery_choices(void **state)
{
    (void)state;
    write_conf("prod.conf", "[database]\n\turl = dbname=x\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), 0);
    assert_int_equal(cfg->apply.transaction, CONFIG_TX_AUTO);
    assert_int_equal(cfg->restore.strategy, CONFIG_RESTORE_AUTO);
    assert_int_equal(cfg->restore.on_foreign_writes, CONFIG_FOREIGN_REFUSE);
    config_free(cfg);
    cfg = NULL;
    write_conf("prod.conf",
               "[database]\n\turl = dbname=x\n[apply]\n\ttransaction = per-migration\n[restore]\n\tstrategy = "
               "none\n\ton-foreign-writes = restore\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), 0);
    assert_int_equal(cfg->apply.transaction, CONFIG_TX_PER_MIGRATION);
    assert_int_equal(cfg->restore.strategy, CONFIG_RESTORE_NONE);
    assert_int_equal(cfg->restore.on_foreign_writes, CONFIG_FOREIGN_RESTORE);
    config_free(cfg);
    cfg = NULL;
    write_conf("prod.conf", "[database]\n\turl = x\n[restore]\n\tstrategy = restore-everything\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_string_equal(dd_error_msg(&err),
                        "pipeline/prod.conf: [restore] strategy: 'restore-everything' is not a known value");
    assert_non_null(strstr(err.hint, "auto, down, backup, none"));
}

static void test_gate_cannot_require_itself(void **state)
{
    (void)state;
    write_conf("prod.conf", "[database]\n\turl = x\n[gate]\n\trequires = prod\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_non_null(strstr(dd_error_msg(&err), "[gate] requires: 'prod' cannot gate itself"));
}

/* verify and the pre-push hook check the changelogs of the environments listed here: an
 * unreadable pipeline/ must not look like "no environments" (that failed open). */
static void test_list_envs_reports_unreadable_pipeline(void **state)
{
    struct dd_strv envs = DD_STRV_INIT;
    char *path = dd_path_join(root, "pipeline");

    (void)state;
    assert_int_equal(dd_write_file_atomic(path, "x", 1, 0644, &err), 0); /* ENOTDIR, even for root */
    assert_int_equal(config_list_envs(&envs, root, &err), -1);
    assert_int_equal(err.code, DD_ECONFIG);
    assert_non_null(strstr(dd_error_msg(&err), "pipeline"));
    assert_non_null(err.hint);
    assert_int_equal(envs.n, 0);
    free(path);
}

static void test_list_envs_without_pipeline_is_empty(void **state)
{
    struct dd_strv envs = DD_STRV_INIT;

    (void)state;
    assert_int_equal(config_list_envs(&envs, root, &err), 0);
    assert_int_equal(envs.n, 0);
    write_conf("prod.conf", "[database]\n");
    write_conf("dbdeploy.conf", "[database]\n");
    write_conf("staging.conf", "[database]\n");
    assert_int_equal(config_list_envs(&envs, root, &err), 0);
    assert_int_equal(envs.n, 2);
    assert_string_equal(envs.v[0], "prod");
    assert_string_equal(envs.v[1], "staging");
    dd_strv_release(&envs);
}

static void test_notify_settings_and_secrets(void **state)
{
    char *shown;

    (void)state;
    setenv("DD_UNIT_PW", "hook-token-4242", 1);
    write_conf("prod.conf", "[database]\n\turl = postgresql://app@db/prod\n[notify]\n"
                            "\turl = https://hooks.example.com/services/${DD_UNIT_PW}\n"
                            "\turl = http://u:Pw-Of-Hook@127.0.0.1:9/x\n\ton = start,failure\n\tformat = slack\n"
                            "\ttimeout = 1500ms\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), 0);
    assert_int_equal(cfg->notify.urls.n, 2);
    assert_string_equal(cfg->notify.urls.v[0], "https://hooks.example.com/services/hook-token-4242");
    assert_int_equal(cfg->notify.on, CONFIG_NOTIFY_START | CONFIG_NOTIFY_FAILURE);
    assert_int_equal(cfg->notify.format, CONFIG_NOTIFY_SLACK);
    assert_int_equal(cfg->notify.timeout_ms, 1500);
    /* the token (whatever its variable is called), the whole URL and a URL password are masked */
    shown = dd_mask_str("token hook-token-4242, url https://hooks.example.com/services/hook-token-4242, pw Pw-Of-Hook");
    assert_null(strstr(shown, "hook-token-4242"));
    assert_null(strstr(shown, "Pw-Of-Hook"));
    free(shown);
}

static void test_notify_defaults_and_bad_values(void **state)
{
    (void)state;
    write_conf("prod.conf", "[database]\n\turl = postgresql://app@db/prod\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), 0);
    assert_int_equal(cfg->notify.urls.n, 0);
    assert_int_equal(cfg->notify.on,
                     CONFIG_NOTIFY_START | CONFIG_NOTIFY_SUCCESS | CONFIG_NOTIFY_FAILURE | CONFIG_NOTIFY_RESTORED);
    assert_int_equal(cfg->notify.format, CONFIG_NOTIFY_JSON);
    assert_int_equal(cfg->notify.timeout_ms, 5000);
    config_free(cfg);
    cfg = NULL;
    write_conf("prod.conf", "[database]\n\turl = postgresql://app@db/prod\n[notify]\n\ton = start, done\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_string_equal(dd_error_msg(&err), "pipeline/prod.conf: [notify] on: 'done' is not a notification event");
    dd_error_release(&err);
    write_conf("prod.conf", "[database]\n\turl = postgresql://app@db/prod\n[notify]\n\turl = ftp://x/Tok-123\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_string_equal(dd_error_msg(&err),
                        "pipeline/prod.conf: [notify] url: the value is not an http:// or https:// URL");
    dd_error_release(&err);
    write_conf("prod.conf", "[database]\n\turl = postgresql://app@db/prod\n[notify]\n\ttimeout = 0\n");
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_string_equal(dd_error_msg(&err), "pipeline/prod.conf: [notify] timeout: '0' is not a duration above zero");
    assert_string_equal(err.hint, "Use a number with a unit, for example 5s or 500ms.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults_and_override_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_choices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_names_file_section_and_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_section, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_duration_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_boolean_and_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_error_names_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_variables_expand_and_password_is_masked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unset_variable_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_database_url_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_environment_lists_defined_ones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_names_are_validated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_name_rule_reserves_dbdeploy_and_is_ascii, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_cannot_require_the_shared_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrations_dir_must_stay_inside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health_headers_are_secret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejected_values_are_quoted_safely, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_cannot_require_itself, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_envs_reports_unreadable_pipeline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_envs_without_pipeline_is_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notify_settings_and_secrets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notify_defaults_and_bad_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rehearsal_keys, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
