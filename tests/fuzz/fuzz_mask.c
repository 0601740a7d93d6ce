/*
 * util/mask.c: URL, conninfo and registered-secret masking. The first line of the input is
 * registered as a secret, the rest is the text. In the masked text:
 *  - the registered secret does not occur (unless it contains '*', which "***" could form); a
 *    secret shorter than DD_MASK_WORD_LEN is masked as a whole word only ("shop" in "user=shop",
 *    not in "shop_orders"), so only its whole-word occurrences must be gone;
 *  - every "password=" value starts with "***" (or is empty);
 *  - every "scheme://user:password@" has "***" as its password, both where RFC 3986 ends the
 *    userinfo (the last '@' before '/', '?' or '#') and where libpq does (the first '@' before
 *    '/'), so a password with unencoded '@', '?' or '#' is masked whole.
 */
#include "fuzz.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "util/mask.h"

static void check_password_params(const char *s)
{
    for (const char *p = s; (p = strcasestr(p, "password=")); p++) {
        const char *v = p + strlen("password=");
        /* "db_password=" is another key than libpq's password (a word character before it) */
        if (p > s && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
            continue;
        if (*v && !isspace((unsigned char)*v) && *v != '&' && *v != '"' && strncmp(v, DD_MASK_TEXT, 3) != 0) {
            fprintf(stderr, "a password= value survives masking: %s\n", s);
            abort();
        }
    }
}

static void check_urls(const char *s)
{
    for (const char *p = s; (p = strstr(p, "://")); p++) {
        const char *u = p + 3, *end = u + strcspn(u, "/?#'\" \t\n\v\f\r"), *at = NULL, *colon;
        if (p == s || !(isalnum((unsigned char)p[-1]) || strchr("+-.", p[-1])))
            continue;
        const char *lend = u + strcspn(u, "/'\" \t\n\v\f\r"), *lat = memchr(u, '@', (size_t)(lend - u));
        for (const char *c = u; c < end; c++)
            if (*c == '@')
                at = c;
        /* libpq's reading too: the userinfo ends at the first '@' before the next '/' */
        colon = lat ? memchr(u, ':', (size_t)(lat - u)) : NULL;
        if (colon && colon + 1 < lat && strncmp(colon + 1, DD_MASK_TEXT, 3) != 0) {
            fprintf(stderr, "a URL password (as libpq reads it) survives masking: %s\n", s);
            abort();
        }
        colon = at ? memchr(u, ':', (size_t)(at - u)) : NULL;
        /* all '*': "***", or "******" when a registered secret was masked right after it */
        if (colon && colon + 1 < at && strspn(colon + 1, "*") < (size_t)(at - colon - 1)) {
            fprintf(stderr, "a URL password survives masking: %s\n", s);
            abort();
        }
    }
}

static bool word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Is there an occurrence of secret in s that the masking rules say must have been masked? */
static bool secret_left(const char *s, const char *secret)
{
    size_t sl = strlen(secret);

    for (const char *p = s; (p = strstr(p, secret)); p++) {
        if (sl >= DD_MASK_WORD_LEN)
            return true;
        if (!(p > s && word_char(p[-1])) && !word_char(p[sl]))
            return true;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstr(data, size), *nl = strchr(in, '\n');
    const char *secret = nl ? in : "", *text = nl ? nl + 1 : in;
    char *masked;

    if (nl)
        *nl = '\0';
    dd_mask_register(secret);
    masked = dd_mask_str(text);
    if (strlen(secret) >= DD_MASK_MIN_LEN && !strchr(secret, '*'))
        FUZZ_CHECK(!secret_left(masked, secret));
    check_password_params(masked);
    /* a registered secret with URL delimiters ("@h/") takes them with it when masked */
    if (strlen(secret) < DD_MASK_MIN_LEN || !strpbrk(secret, "@/:?#'\" \t\n\v\f\r"))
        check_urls(masked);
    dd_mask_clear();
    free(masked);
    free(in);
    return 0;
}
