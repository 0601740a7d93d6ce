#include "util/mask.h"

#include <ctype.h>
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

/* Step 1: replace registered secrets. Longest first would matter only for overlapping secrets. */
static void mask_registered(struct dd_buf *out, const char *s, size_t len)
{
    size_t i = 0, start = 0;

    while (i < len) {
        size_t hit = 0;
        for (size_t k = 0; k < secrets.n; k++) {
            size_t sl = strlen(secrets.v[k]);
            if (sl <= len - i && memcmp(s + i, secrets.v[k], sl) == 0 && sl > hit)
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

/*
 * Step 2: "scheme://user:secret@host" -> "scheme://user:***@host". The userinfo ends at the
 * last '@' before the next '/', '?', '#' or whitespace, as in RFC 3986.
 */
static void mask_urls(struct dd_buf *out, const char *s, size_t len)
{
    size_t i = 0, start = 0;

    while (i + 3 <= len) {
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/' && i > 0 && is_scheme_char(s[i - 1])) {
            size_t u = i + 3, end = u, at = 0, colon = 0;
            while (end < len && s[end] != '/' && s[end] != '?' && s[end] != '#' && !isspace((unsigned char)s[end]) &&
                   s[end] != '\'' && s[end] != '"')
                end++;
            for (size_t k = u; k < end; k++)
                if (s[k] == '@')
                    at = k;
            if (at) {
                for (size_t k = u; k < at; k++)
                    if (s[k] == ':') {
                        colon = k;
                        break;
                    }
            }
            if (at && colon && colon + 1 < at) {
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

/* Step 3: "password=secret" in conninfo strings and URL query parameters. */
static void mask_password_params(struct dd_buf *out, const char *s, size_t len)
{
    static const char key[] = "password=";
    size_t klen = sizeof(key) - 1, i = 0, start = 0;

    while (i + klen <= len) {
        if (strncasecmp(s + i, key, klen) == 0 && (i == 0 || !isalnum((unsigned char)s[i - 1]))) {
            size_t v = i + klen, end = v;
            if (end < len && s[end] == '\'') {
                end++;
                while (end < len && s[end] != '\'') {
                    if (s[end] == '\\' && end + 1 < len)
                        end++;
                    end++;
                }
                if (end < len)
                    end++;
            } else {
                while (end < len && !isspace((unsigned char)s[end]) && s[end] != '&' && s[end] != '"')
                    end++;
            }
            if (end > v && !(end - v == strlen(DD_MASK_TEXT) && memcmp(s + v, DD_MASK_TEXT, end - v) == 0)) {
                dd_buf_add(out, s + start, v - start);
                dd_buf_adds(out, DD_MASK_TEXT);
                start = end;
            }
            i = end > i ? end : i + 1;
            continue;
        }
        i++;
    }
    dd_buf_add(out, s + start, len - start);
}

void dd_mask_add(struct dd_buf *out, const char *s, size_t len)
{
    struct dd_buf a = DD_BUF_INIT, b = DD_BUF_INIT;

    mask_registered(&a, s, len);
    mask_urls(&b, a.buf, a.len);
    mask_password_params(out, b.buf, b.len);
    dd_buf_release(&a);
    dd_buf_release(&b);
}

char *dd_mask_str(const char *s)
{
    struct dd_buf b = DD_BUF_INIT;

    dd_mask_add(&b, s, strlen(s));
    return dd_buf_detach(&b, NULL);
}
