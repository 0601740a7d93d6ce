/*
 * config/: pipeline/<env>.conf as written by a user (git-config syntax read through git/, then
 * dbdeploy's settings, ${VAR} expansion and URL secret registration). The input is the
 * environment file of a scratch project; a loaded config's masked URL must not show the
 * password of its database URL, and when loading fails, the error as main() would print it
 * (masked) shows no piece of any URL password in the input.
 */
#include "fuzz.h"

#include <ctype.h>
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
    char *dir;

    if (!mkdtemp(root))
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

/*
 * The password of a "scheme://user:password@host" URL: from the first ':' to the last '@'
 * before the next '/' (not decoded). libpq ends it at the first '@'; config_load refuses URLs
 * where the two differ, so either way the whole of it must stay hidden.
 */
static char *url_password(const char *u, size_t len)
{
    const char *end, *at = NULL, *colon;

    end = u + strcspn(u, "/ \t\r\n'\"");
    if ((size_t)(end - u) > len)
        end = u + len;
    for (const char *c = u; c < end; c++)
        if (*c == '@')
            at = c;
    /* a ${VAR} reference is not the secret (its value is registered and masked) */
    if (at && memchr(u, '$', (size_t)(at - u)))
        return NULL;
    colon = at ? memchr(u, ':', (size_t)(at - u)) : NULL;
    return colon && colon + 1 < at ? fuzz_cstr((const uint8_t *)colon + 1, (size_t)(at - colon - 1)) : NULL;
}

/*
 * The error (masked as main() prints it, message and hint) of loading the size bytes of input
 * (NUL bytes included: git-config reads past them); NULL when it loads.
 */
static char *masked_error_of(const char *input, size_t size)
{
    struct dd_config *cfg = NULL;
    struct dd_error err = DD_ERROR_INIT;
    char *text = NULL;
    FILE *f = fopen(env_file, "wb");

    if (!f || fwrite(input, 1, size, f) != size || fclose(f) != 0)
        abort();
    if (config_load(&cfg, root, "fz", &err) < 0) {
        char *msg = dd_mask_str(dd_error_msg(&err)), *hint = err.hint ? dd_mask_str(err.hint) : NULL;
        text = dd_xasprintf("%s\n%s", msg, hint ? hint : "");
        free(msg);
        free(hint);
    }
    config_free(cfg);
    dd_error_release(&err);
    return text;
}

/* The whole input, NUL bytes included (git-config reads past them). */
static const uint8_t *raw_data;
static size_t raw_size;

/*
 * Whether piece shows in the error only because the error's own words contain it ("database",
 * "postgresql"): the same input, byte for byte, with the copies of piece inside the password
 * (input[from, to)) replaced still gives it.
 */
static bool fixed_text(size_t from, size_t to, const char *piece)
{
    char *changed = fuzz_cstr(raw_data, raw_size), *again;
    size_t n = strlen(piece);
    bool fixed;

    for (size_t i = from; i + n <= to && i + n <= raw_size; i++)
        if (memcmp(changed + i, piece, n) == 0) {
            memset(changed + i, 'Q', n);
            i += n - 1;
        }
    again = masked_error_of(changed, raw_size);
    fixed = again && strstr(again, piece);
    free(again);
    free(changed);
    return fixed;
}

/* Whether piece is part of a ${NAME} reference's name in the input: names are not secrets. */
static bool variable_name(const char *piece)
{
    size_t n = strlen(piece);

    for (size_t i = 0; i + 1 < raw_size; i++) {
        size_t j = i + 2, k;
        if (raw_data[i] != '$' || raw_data[i + 1] != '{')
            continue;
        while (j < raw_size && raw_data[j] != '}' && raw_data[j] != ':' && raw_data[j] != '\n')
            j++;
        for (k = i + 2; k + n <= j; k++)
            if (memcmp(raw_data + k, piece, n) == 0)
                return true;
    }
    return false;
}

/* No piece of pw (split at the reserved characters libpq splits at) long enough to be told apart from ordinary words
 * shows in text, unless the error's own words contain it. */
static void check_hidden(const char *text, const char *pw, const char *what, size_t from)
{
    /* "<file>: [<section>] <key>: " names where, from the input's own headers: not a value */
    const char *where = strstr(text, "] ");

    if (where && text[0] != '\'' && (where = strstr(where, ": ")))
        text = where + 2;
    for (const char *piece = pw; *piece;) {
        size_t n = strcspn(piece, "@:/?#");
        char *p = fuzz_cstr((const uint8_t *)piece, n);
        if (n >= DD_MASK_WORD_LEN && !strchr(p, '*') && strstr(text, p) && !variable_name(p) &&
            !fixed_text(from, from + strlen(pw), p)) {
            fprintf(stderr, "a piece of a database url password shows in %s: '%s' (piece '%s')\n", what, text, p);
            abort();
        }
        free(p);
        piece += n + (piece[n] != '\0');
    }
}

/* What main() would print for err: masked, as out.c masks every line. */
static void check_error_hides_passwords(const struct dd_error *err, const uint8_t *data, size_t size)
{
    char *input = fuzz_cstr(data, size), *msg = dd_mask_str(dd_error_msg(err));
    char *hint = err->hint ? dd_mask_str(err->hint) : NULL;

    raw_data = data;
    raw_size = size;
    for (const char *p = input; (p = strstr(p, "://")); p++) {
        char *pw = url_password(p + 3, strlen(p + 3));
        if (pw) {
            /* where the password is in the input: its first copy after the "://" */
            const char *at = strstr(p, pw);
            size_t from = at ? (size_t)(at - input) : 0;
            check_hidden(msg, pw, "the error", from);
            if (hint)
                check_hidden(hint, pw, "the hint", from);
        }
        free(pw);
    }
    free(input);
    free(msg);
    free(hint);
}

static bool word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/*
 * Whether pw shows in text as the masking rules define a secret's showing (util/mask.h): a
 * password shorter than DD_MASK_WORD_LEN counts only as a whole word ("SWORD}" inside the
 * user's own "PASSWORD}" elsewhere in the URL is that word, not the secret).
 */
static bool shows(const char *text, const char *pw)
{
    size_t n = strlen(pw);

    for (const char *q = text; (q = strstr(q, pw)); q++) {
        if (n >= DD_MASK_WORD_LEN || ((q == text || !word_char(q[-1])) && !word_char(q[n])))
            return true;
    }
    return false;
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
        const char *u = cfg->db_url ? strstr(cfg->db_url, "://") : NULL;
        char *pw = u ? url_password(u + 3, strlen(u + 3)) : NULL;
        if (pw && strlen(pw) >= DD_MASK_MIN_LEN && !strchr(pw, '*') && shows(cfg->db_url_masked, pw)) {
            fprintf(stderr, "password of the database url shows in '%s'\n", cfg->db_url_masked);
            abort();
        }
        free(pw);
    } else {
        FUZZ_CHECK(dd_error_isset(&err) && dd_error_msg(&err)[0] != '\0');
        check_error_hides_passwords(&err, data, size);
    }
    config_free(cfg);
    dd_error_release(&err);
    dd_mask_clear();
    return 0;
}
