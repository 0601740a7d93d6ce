#include "util/mask.h"

#include <ctype.h>
#include <stdlib.h>
#include <strings.h>

#include "util/strv.h"

static struct dd_strv secrets = DD_STRV_INIT;

void dd_mask_register(const char *secret)
{
    if (!secret || strlen(secret) < DD_MASK_MIN_LEN || dd_strv_contains(&secrets, secret))
        return;
    dd_strv_push(&secrets, secret);
}

void dd_mask_clear(void)
{
    for (size_t i = 0; i < secrets.n; i++) {
        for (volatile char *v = secrets.v[i]; *v; v++)
            *v = 0;
    }
    dd_strv_release(&secrets);
}

static bool is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/*
 * Does secret k match at s[i]? A short secret ("shop", "true") is also an ordinary word, so it
 * only matches as a whole word: "user=shop" is masked, "shop_orders.sql" is not.
 */
static size_t registered_at(const char *s, size_t len, size_t i, const char *secret)
{
    size_t sl = strlen(secret);

    if (sl > len - i || memcmp(s + i, secret, sl) != 0)
        return 0;
    if (sl < DD_MASK_WORD_LEN && ((i > 0 && is_word_char(s[i - 1])) || (i + sl < len && is_word_char(s[i + sl]))))
        return 0;
    return sl;
}

/* Step 1: replace registered secrets, the longest match at each position. */
static void mask_registered(struct dd_buf *out, const char *s, size_t len)
{
    size_t i = 0, start = 0;

    if (!secrets.n) {
        dd_buf_add(out, s, len);
        return;
    }

    while (i < len) {
        size_t hit = 0;
        for (size_t k = 0; k < secrets.n; k++) {
            size_t sl = registered_at(s, len, i, secrets.v[k]);
            if (sl > hit)
                hit = sl;
        }
        if (hit) {
            dd_buf_add(out, s + start, i - start);
            dd_buf_adds(out, DD_MASK_TEXT);
            i += hit;
            start = i;
        } else {
            i++;
        }
    }
    dd_buf_add(out, s + start, len - start);
}

static bool is_scheme_char(char c)
{
    return isalnum((unsigned char)c) || c == '+' || c == '-' || c == '.';
}

static bool url_stop(char c)
{
    return isspace((unsigned char)c) || c == '\'' || c == '"';
}

/*
 * Where the password of "scheme://user:secret..." that starts after `colon` ends, or 0. The
 * userinfo ends at the last '@' before the next '/': RFC 3986 also ends the authority at '?'
 * and '#', but libpq does not, so a password "p?ss" or "p#ss" must be masked whole. A password
 * with an unencoded '/' ("u:pa/ss@host") makes the authority "u:pa" with a port that is not a
 * number: then the password runs to the next '@'.
 */
static size_t password_end(const char *s, size_t len, size_t u)
{
    size_t end = u, at = 0, colon = 0;

    while (end < len && s[end] != '/' && !url_stop(s[end]))
        end++;
    for (size_t k = u; k < end; k++)
        if (s[k] == '@')
            at = k;
    for (size_t k = u; k < (at ? at : end); k++)
        if (s[k] == ':') {
            colon = k;
            break;
        }
    if (!colon)
        return 0;
    if (!at && end < len && s[end] == '/') {
        bool port = true; /* digits or nothing: a real port */
        for (size_t k = colon + 1; k < end && port; k++)
            port = isdigit((unsigned char)s[k]);
        for (size_t k = end; !port && k < len && !url_stop(s[k]); k++) {
            if (s[k] != '@')
                continue;
            /* from the first '@' on, the userinfo ends at the last '@' before the next '/' */
            at = k;
            for (k++; k < len && s[k] != '/' && !url_stop(s[k]); k++)
                if (s[k] == '@')
                    at = k;
            return at;
        }
        return 0;
    }
    return at;
}

/* Step 3: "scheme://user:secret@host" -> "scheme://user:***@host". */
static void mask_urls(struct dd_buf *out, const char *s, size_t len)
{
    size_t i = 0, start = 0;

    while (i + 3 <= len) {
        const char *next = memmem(s + i, len - i, "://", 3);
        if (!next)
            break;
        i = (size_t)(next - s);
        if (i > 0 && is_scheme_char(s[i - 1])) {
            size_t u = i + 3, at = password_end(s, len, u), colon = u;
            while (at && s[colon] != ':')
                colon++;
            if (at && colon + 1 < at) {
                dd_buf_add(out, s + start, colon + 1 - start);
                dd_buf_adds(out, DD_MASK_TEXT);
                start = at;
                i = at;
                continue;
            }
        }
        i++;
    }
    dd_buf_add(out, s + start, len - start);
}

/* Keys whose values are secrets in conninfo strings and URL query parameters. */
static const char *const secret_keys[] = {"sslpassword", "password"};

/*
 * A secret parameter at s[i]: "password=x", "sslpassword = 'a b'", "?password=x&..." (libpq
 * allows spaces around '='). On a match, [*v, *end) is the value as written (quotes included).
 */
static bool secret_param_at(const char *s, size_t len, size_t i, size_t *v, size_t *end)
{
    if (i > 0 && is_word_char(s[i - 1]))
        return false;
    for (size_t k = 0; k < DD_ARRAY_SIZE(secret_keys); k++) {
        size_t kl = strlen(secret_keys[k]), p = i + kl;
        /* first letter first: this runs at every position of everything printed */
        if (tolower((unsigned char)s[i]) != secret_keys[k][0] || kl > len - i ||
            strncasecmp(s + i, secret_keys[k], kl) != 0)
            continue;
        while (p < len && s[p] == ' ')
            p++;
        if (p >= len || s[p] != '=')
            continue;
        p++;
        while (p < len && s[p] == ' ')
            p++;
        *v = *end = p;
        if (p < len && s[p] == '\'') {
            for (p++; p < len && s[p] != '\''; p++)
                if (s[p] == '\\' && p + 1 < len)
                    p++;
            *end = p < len ? p + 1 : p;
        } else {
            /* to the end of the value as libpq reads it (a URL query value ends at '&') */
            while (*end < len && !isspace((unsigned char)s[*end]) && s[*end] != '&')
                (*end)++;
        }
        return true;
    }
    return false;
}

/*
 * Where a secret key ending right before the '=' at s[eq] (spaces between allowed) starts, or
 * SIZE_MAX: the only places secret_param_at can match, found from the '=' signs at memchr's
 * speed instead of trying every position of everything printed.
 */
static size_t key_before(const char *s, size_t eq)
{
    size_t k = eq;

    while (k > 0 && s[k - 1] == ' ')
        k--;
    for (size_t i = 0; i < DD_ARRAY_SIZE(secret_keys); i++) {
        size_t kl = strlen(secret_keys[i]);
        if (k >= kl && strncasecmp(s + k - kl, secret_keys[i], kl) == 0)
            return k - kl;
    }
    return SIZE_MAX;
}

/* Step 2: "password=secret" and "sslpassword = secret" in conninfo strings and URL queries. */
static void mask_password_params(struct dd_buf *out, const char *s, size_t len)
{
    size_t i = 0, start = 0;
    const char *eq;

    while (i < len && (eq = memchr(s + i, '=', len - i))) {
        size_t at = key_before(s, (size_t)(eq - s)), v, end;
        /* "sslpassword=" also ends in "password=": the longer key, tried first, wins */
        if (at != SIZE_MAX && at >= start && secret_param_at(s, len, at, &v, &end)) {
            if (end > v && !(end - v == strlen(DD_MASK_TEXT) && memcmp(s + v, DD_MASK_TEXT, end - v) == 0)) {
                dd_buf_add(out, s + start, v - start);
                dd_buf_adds(out, DD_MASK_TEXT);
                start = end;
            }
            i = end > (size_t)(eq - s) ? end : (size_t)(eq - s) + 1;
            continue;
        }
        i = (size_t)(eq - s) + 1;
    }
    dd_buf_add(out, s + start, len - start);
}

/* Percent-decoding, as libpq applies it to URL parts. */
static void percent_decode(struct dd_buf *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2])) {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            dd_buf_addch(out, (char)strtol(hex, NULL, 16));
            i += 2;
        } else {
            dd_buf_addch(out, s[i]);
        }
    }
}

static void register_wiped(struct dd_buf *b)
{
    dd_mask_register(b->buf);
    if (b->len)
        memset(b->buf, 0, b->len);
    dd_buf_release(b);
}

void dd_mask_register_params(const char *s)
{
    size_t len = s ? strlen(s) : 0;

    for (size_t i = 0; i < len; i++) {
        size_t v, end;
        struct dd_buf raw = DD_BUF_INIT, dec = DD_BUF_INIT;
        if (!secret_param_at(s, len, i, &v, &end))
            continue;
        if (end > v && s[v] == '\'') {
            /* conninfo quoting: 'a b\'c' is a b'c */
            for (size_t p = v + 1; p < end && s[p] != '\''; p++) {
                if (s[p] == '\\' && p + 1 < end)
                    p++;
                dd_buf_addch(&raw, s[p]);
            }
        } else {
            dd_buf_add(&raw, s + v, end - v);
        }
        percent_decode(&dec, raw.buf ? raw.buf : "", raw.len);
        if (raw.len)
            register_wiped(&raw);
        if (dec.len)
            register_wiped(&dec);
        dd_buf_release(&raw);
        dd_buf_release(&dec);
        i = end > i ? end - 1 : i;
    }
}

void dd_mask_add(struct dd_buf *out, const char *s, size_t len)
{
    struct dd_buf a = DD_BUF_INIT, b = DD_BUF_INIT;

    mask_registered(&a, s, len);
    /* parameters before URLs: a quoted value ("password='a b'") can hide a URL's end from it */
    mask_password_params(&b, a.buf, a.len);
    if (!secrets.n) {
        mask_urls(out, b.buf, b.len);
    } else {
        /*
         * Once more after the URL step: a short secret ("@h/") that was not a whole word in
         * "u:pw@h/" is one in "u:***@h/".
         */
        dd_buf_setlen(&a, 0);
        mask_urls(&a, b.buf, b.len);
        mask_registered(out, a.buf, a.len);
    }
    dd_buf_release(&a);
    dd_buf_release(&b);
}

char *dd_mask_str(const char *s)
{
    struct dd_buf b = DD_BUF_INIT;

    dd_mask_add(&b, s, strlen(s));
    return dd_buf_detach(&b, NULL);
}
