/*
 * config_check_db_url and its use by config_load: only postgres:// / postgresql:// URLs and
 * key=value conninfo are accepted; anything libpq would split inside a user name or password
 * is refused with a hint to percent-encode, and no message quotes any part of the value.
 */
#include "unit.h"

#include "config/config.h"
#include "util/fs.h"
#include "util/mask.h"

#include <git2.h>

static struct dd_error err;

static int setup(void **state)
{
    (void)state;
    err = (struct dd_error)DD_ERROR_INIT;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dd_error_release(&err);
    return 0;
}

/* The check fails; neither message nor hint contains any of the secret fragments. */
static void refused(const char *url, const char *want_msg, const char *want_hint, const char *const *fragments)
{
    dd_error_release(&err);
    err = (struct dd_error)DD_ERROR_INIT;
    if (config_check_db_url("pipeline/prod.conf: [database] url", url, false, &err) != -1)
        fail_msg("accepted '%s'", url);
    assert_int_equal(err.code, DD_ECONFIG);
    if (!strstr(dd_error_msg(&err), want_msg))
        fail_msg("'%s': message '%s' lacks '%s'", url, dd_error_msg(&err), want_msg);
    assert_non_null(err.hint);
    if (!strstr(err.hint, want_hint))
        fail_msg("'%s': hint '%s' lacks '%s'", url, err.hint, want_hint);
    assert_non_null(strstr(dd_error_msg(&err), "pipeline/prod.conf: [database] url: "));
    for (size_t i = 0; fragments && fragments[i]; i++) {
        if (strstr(dd_error_msg(&err), fragments[i]) || strstr(err.hint, fragments[i]))
            fail_msg("'%s': output shows '%s'", url, fragments[i]);
    }
}

static void accepted(const char *url)
{
    dd_error_release(&err);
    err = (struct dd_error)DD_ERROR_INIT;
    if (config_check_db_url("x", url, false, &err) != 0)
        fail_msg("refused '%s': %s", url, dd_error_msg(&err));
}

static void test_accepts_urls_and_conninfo(void **state)
{
    (void)state;
    accepted("postgres://localhost/db");
    accepted("postgresql:///app?host=/var/run/postgresql&port=5433&user=postgres");
    accepted("postgresql://u:p%40ss@127.0.0.1:5432/db?sslmode=require");
    accepted("postgresql://deploy@db1:5432,db2:5433/app?target_session_attrs=read-write");
    accepted("postgres://u:pw@[::1]:5432/db");
    accepted("postgres://u@h/db?user=name@server");
    accepted("postgres://");
    accepted("host=db1 dbname=app user=deploy");
    accepted("dbname = app  password='a b\\'c'");
    accepted("password=a\\ b host=h");
}

static void test_refuses_other_schemes_and_words(void **state)
{
    static const char *const none[] = {NULL};

    (void)state;
    refused("mysql://localhost/db", "'mysql://' is not a PostgreSQL URL", "postgres://user@host:5432/dbname", none);
    refused("postgres//localhost/db", "not a postgres:// or postgresql:// URL, nor key=value conninfo",
            "key=value conninfo", none);
    refused("mydb", "not a postgres:// or postgresql:// URL", "postgres://", none);
    refused("POSTGRES://h/db", "'POSTGRES://' is not a PostgreSQL URL", "postgresql://", none);
    refused("host=h dbname", "key=value pairs", "conninfo", none);
    refused("host=h password='unterminated", "no closing quote", "conninfo", none);
}

static void test_refuses_unencoded_reserved_characters_in_passwords(void **state)
{
    static const char *const at[] = {"p@ss", "ss@127", "@ss", NULL};
    static const char *const qm[] = {"p?ss", "?ss", NULL};
    static const char *const hash[] = {"p#ss", "#ss", NULL};
    static const char *const colon[] = {"p:ss", ":ss", NULL};
    static const char *const slash[] = {"pAx/sQz", "pAx", "sQz", NULL};
    static const char *const digits[] = {"1234/5", "/5@", NULL};
    static const char *const query[] = {"x/y@h", "x/y", NULL};

    (void)state;
    refused("postgres://u:p@ss@127.0.0.1/db", "contains an unencoded '@'", "%40", at);
    refused("postgresql://u:p?ss@127.0.0.1/db", "contains an unencoded '?'", "'?' as %3F", qm);
    refused("postgresql://u:p#ss@127.0.0.1/db", "contains an unencoded '#'", "'#' as %23", hash);
    refused("postgresql://u:p:ss@127.0.0.1/db", "contains an unencoded ':'", "':' as %3A", colon);
    /* libpq ends the host at the '/': "u" as host and "pa" as port */
    refused("postgresql://u:pAx/sQz@127.0.0.1/db", "the port after the host is not a number", "'/' as %2F", slash);
    /* a numeric start makes a valid port; the rest becomes the database name */
    refused("postgresql://u:1234/5@127.0.0.1", "an unencoded '@' follows the host", "Percent-encode", digits);
    refused("postgresql://u:1?x/y@h", "a query parameter is not key=value", "Percent-encode", query);
    refused("postgresql://u:p@ss@[::1/db", "contains an unencoded '@'", "%40", at);
}

/* A password from ${VARS} cannot be percent-encoded in place: only what libpq splits at is refused. */
static void test_url_from_variables_refuses_only_what_libpq_splits(void **state)
{
    (void)state;
    assert_int_equal(config_check_db_url("x", "postgresql://u:pw-Zq8#sec?r:et@h/db", true, &err), 0);
    assert_int_equal(config_check_db_url("x", "postgresql://u:pw-Zq8#sec?r:et@h/db", false, &err), -1);
    dd_error_release(&err);
    err = (struct dd_error)DD_ERROR_INIT;
    assert_int_equal(config_check_db_url("x", "postgresql://u:p@ss@h/db", true, &err), -1);
    assert_non_null(strstr(dd_error_msg(&err), "unencoded '@'"));
    dd_error_release(&err);
    err = (struct dd_error)DD_ERROR_INIT;
    assert_int_equal(config_check_db_url("x", "postgresql://u:pAx/sQz@h/db", true, &err), -1);
}

static char *root;

/* config_load runs the check on the url that wins, and names where it came from. */
static void test_config_load_checks_the_url(void **state)
{
    struct dd_config *cfg = NULL;
    char *dir, *path;
    const char *conf = "[database]\n\turl = postgres://u:p@ss@127.0.0.1/db\n";

    (void)state;
    git_libgit2_init();
    assert_int_equal(dd_mkdtemp(&root, "dbdeploy-unit-url", &err), 0);
    dir = dd_path_join(root, "pipeline");
    path = dd_path_join(dir, "prod.conf");
    assert_int_equal(dd_mkdir_p(dir, 0755, &err), 0);
    assert_int_equal(dd_write_file_atomic(path, conf, strlen(conf), 0644, &err), 0);
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_int_equal(err.code, DD_ECONFIG);
    assert_string_equal(dd_error_msg(&err),
                        "pipeline/prod.conf: [database] url: the user name or password contains an unencoded '@'");
    assert_non_null(strstr(err.hint, "%40"));
    dd_error_release(&err);
    err = (struct dd_error)DD_ERROR_INIT;

    /* an empty url falls back to DATABASE_URL, which is checked the same way */
    conf = "[database]\n\turl =\n";
    assert_int_equal(dd_write_file_atomic(path, conf, strlen(conf), 0644, &err), 0);
    setenv("DATABASE_URL", "mysql://localhost/db", 1);
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_string_equal(dd_error_msg(&err), "DATABASE_URL: 'mysql://' is not a PostgreSQL URL");
    dd_error_release(&err);
    err = (struct dd_error)DD_ERROR_INIT;
    setenv("DATABASE_URL", "dbname=app", 1);
    assert_int_equal(config_load(&cfg, root, "prod", &err), 0);
    assert_string_equal(cfg->db_url, "dbname=app");

    config_free(cfg);
    cfg = NULL;

    /* written with ${VARS}: '#' in the value passes, '@' does not */
    unsetenv("DATABASE_URL");
    conf = "[database]\n\turl = postgresql://u:${DD_UNIT_URL_PW}@h/db\n";
    assert_int_equal(dd_write_file_atomic(path, conf, strlen(conf), 0644, &err), 0);
    setenv("DD_UNIT_URL_PW", "pw-Zq8#secret-DB", 1);
    assert_int_equal(config_load(&cfg, root, "prod", &err), 0);
    assert_string_equal(cfg->db_url_masked, "postgresql://u:***@h/db");
    config_free(cfg);
    cfg = NULL;
    setenv("DD_UNIT_URL_PW", "pw-Zq8@secret-DB", 1);
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_string_equal(dd_error_msg(&err),
                        "pipeline/prod.conf: [database] url: the user name or password contains an unencoded '@'");
    unsetenv("DD_UNIT_URL_PW");
    dd_error_release(&err);
    err = (struct dd_error)DD_ERROR_INIT;

    /* a git-config syntax error on the url line names the file, not the rest of the line */
    conf = "[database]\n\turl = postgres:\\//app:Secret99x@db/x\n";
    assert_int_equal(dd_write_file_atomic(path, conf, strlen(conf), 0644, &err), 0);
    assert_int_equal(config_load(&cfg, root, "prod", &err), -1);
    assert_non_null(strstr(dd_error_msg(&err), "pipeline/prod.conf"));
    assert_null(strstr(dd_error_msg(&err), "Secret99x"));
    config_free(cfg);
    dd_mask_clear();
    dd_rm_rf(root);
    free(root);
    free(dir);
    free(path);
    git_libgit2_shutdown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_accepts_urls_and_conninfo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_other_schemes_and_words, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_unencoded_reserved_characters_in_passwords, setup, teardown),
        cmocka_unit_test_setup_teardown(test_url_from_variables_refuses_only_what_libpq_splits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_load_checks_the_url, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
