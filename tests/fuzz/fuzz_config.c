/*
 * config/: pipeline/<env>.conf as written by a user (git-config syntax read through git/, then
 * dbdeploy's settings, ${VAR} expansion and URL secret registration). The input is the
 * environment file of a scratch project; a loaded config's masked URL must not show the
 * password of its database URL.
 */
#include "fuzz.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "git/git.h"
#include "util/fs.h"
#include "util/mask.h"

static char root[] = "/tmp/dbdeploy-fuzz-config-XXXXXX";
static char *env_file;

static void cleanup(void)
{
    char *dir = dd_path_join(root, "pipeline");

    unlink(env_file);
    rmdir(dir);
    rmdir(root);
    free(dir);
}

static void setup(void)
{
    struct dd_error err = DD_ERROR_INIT;
    char *dir;

    if (!mkdtemp(root) || repo_global_init(&err) < 0)
        abort();
    dir = dd_path_join(root, "pipeline");
    if (mkdir(dir, 0700) < 0)
        abort();
    env_file = dd_path_join(dir, "fz.conf");
    free(dir);
    atexit(cleanup);
    setenv("FUZZ_PASSWORD", "s3cr3t-from-env", 1);
    unsetenv("DATABASE_URL");
}

/* The password of a "scheme://user:password@host" URL, as libpq would see it (not decoded). */
static char *url_password(const char *url)
{
    const char *u = strstr(url, "://"), *end, *at = NULL, *colon;

    if (!u)
        return NULL;
    u += 3;
    end = u + strcspn(u, "/?#");
    /* a URL with white space in its authority is not a URL libpq takes; the masker ends it there */
    if (memchr(u, ' ', (size_t)(end - u)) || memchr(u, '\t', (size_t)(end - u)))
        return NULL;
    for (const char *c = u; c < end; c++)
        if (*c == '@') {
            /* Known gap, issue 11 item 7: a password with an unencoded '@' ("p@ss") is split at
             * the first '@' and its tail shows. Such URLs are to be refused at config load; until
             * then the masking promise covers userinfo with one '@' only. */
            if (at)
                return NULL;
            at = c;
        }
    colon = at ? memchr(u, ':', (size_t)(at - u)) : NULL;
    return colon && colon + 1 < at ? fuzz_cstr((const uint8_t *)colon + 1, (size_t)(at - colon - 1)) : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dd_config *cfg = NULL;
    struct dd_error err = DD_ERROR_INIT;
    FILE *f;

    if (!env_file)
        setup();
    f = fopen(env_file, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    if (config_load(&cfg, root, "fz", &err) == 0) {
        char *pw = cfg->db_url ? url_password(cfg->db_url) : NULL;
        if (pw && strlen(pw) >= DD_MASK_MIN_LEN && !strchr(pw, '*') && strstr(cfg->db_url_masked, pw)) {
            fprintf(stderr, "password of the database url shows in '%s'\n", cfg->db_url_masked);
            abort();
        }
        free(pw);
    } else {
        FUZZ_CHECK(dd_error_isset(&err) && dd_error_msg(&err)[0] != '\0');
    }
    config_free(cfg);
    dd_error_release(&err);
    dd_mask_clear();
    return 0;
}
