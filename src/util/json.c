#include "util/json.h"

#include "util/mask.h"

#include <math.h>

void dd_json_init(struct dd_json *j, struct dd_buf *out)
{
    j->out = out;
    j->mask = true;
    j->depth = 0;
    j->first[0] = true;
}

void dd_json_document_begin(struct dd_json *j, struct dd_buf *out, const char *command)
{
    dd_json_init(j, out);
    dd_json_obj_begin(j, NULL);
    dd_json_int(j, "schema", 1);
    dd_json_str(j, "command", command);
}

size_t dd_utf8_len(const char *str, size_t avail)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned c = s[0], cp, min;
    size_t n;

    if (!avail)
        return 0;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0)
        n = 2, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
        n = 3, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
        n = 4, min = 0x10000;
    else
        return 0;
    if (n > avail)
        return 0;
    cp = c & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void dd_json_escape(struct dd_buf *out, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;

    dd_buf_addch(out, '"');
    while (*s) {
        size_t n;
        switch (*s) {
        case '"':
            dd_buf_adds(out, "\\\"");
            s++;
            continue;
        case '\\':
            dd_buf_adds(out, "\\\\");
            s++;
            continue;
        case '\n':
            dd_buf_adds(out, "\\n");
            s++;
            continue;
        case '\r':
            dd_buf_adds(out, "\\r");
            s++;
            continue;
        case '\t':
            dd_buf_adds(out, "\\t");
            s++;
            continue;
        default:
            break;
        }
        if (*s < 0x20 || *s == 0x7f) {
            dd_buf_addf(out, "\\u%04x", *s);
            s++;
            continue;
        }
        n = dd_utf8_len((const char *)s, 4); /* the terminating NUL stops a short sequence */
        if (!n) {
            dd_buf_adds(out, "\\ufffd");
            s++;
            continue;
        }
        dd_buf_add(out, s, n);
        s += n;
    }
    dd_buf_addch(out, '"');
}

static void member(struct dd_json *j, const char *key)
{
    if (!j->first[j->depth])
        dd_buf_addch(j->out, ',');
    j->first[j->depth] = false;
    if (key) {
        dd_json_escape(j->out, key);
        dd_buf_addch(j->out, ':');
    }
}

static void open_container(struct dd_json *j, const char *key, char c)
{
    member(j, key);
    dd_buf_addch(j->out, c);
    if (j->depth + 1 >= DD_JSON_MAX_DEPTH)
        DD_BUG("JSON nested too deeply");
    j->first[++j->depth] = true;
}

static void close_container(struct dd_json *j, char c)
{
    if (j->depth <= 0)
        DD_BUG("unbalanced JSON container");
    j->depth--;
    dd_buf_addch(j->out, c);
    if (j->depth == 0)
        dd_buf_addch(j->out, '\n');
}

void dd_json_obj_begin(struct dd_json *j, const char *key)
{
    open_container(j, key, '{');
}

void dd_json_obj_end(struct dd_json *j)
{
    close_container(j, '}');
}

void dd_json_arr_begin(struct dd_json *j, const char *key)
{
    open_container(j, key, '[');
}

void dd_json_arr_end(struct dd_json *j)
{
    close_container(j, ']');
}

void dd_json_str(struct dd_json *j, const char *key, const char *value)
{
    member(j, key);
    if (value && j->mask) {
        char *m = dd_mask_str(value);
        dd_json_escape(j->out, m);
        free(m);
    } else if (value) {
        dd_json_escape(j->out, value);
    } else {
        dd_buf_adds(j->out, "null");
    }
}

void dd_json_int(struct dd_json *j, const char *key, int64_t value)
{
    member(j, key);
    dd_buf_addf(j->out, "%lld", (long long)value);
}

void dd_json_uint(struct dd_json *j, const char *key, uint64_t value)
{
    member(j, key);
    dd_buf_addf(j->out, "%llu", (unsigned long long)value);
}

void dd_json_double(struct dd_json *j, const char *key, double value)
{
    member(j, key);
    if (isfinite(value))
        dd_buf_addf(j->out, "%.3f", value);
    else
        dd_buf_adds(j->out, "null");
}

void dd_json_bool(struct dd_json *j, const char *key, bool value)
{
    member(j, key);
    dd_buf_adds(j->out, value ? "true" : "false");
}

void dd_json_null(struct dd_json *j, const char *key)
{
    member(j, key);
    dd_buf_adds(j->out, "null");
}

void dd_json_raw(struct dd_json *j, const char *key, const char *json, size_t len)
{
    member(j, key);
    /* a document ends with a newline; inside another one it must not */
    while (len && (json[len - 1] == '\n' || json[len - 1] == ' '))
        len--;
    if (len)
        dd_buf_add(j->out, json, len);
    else
        dd_buf_adds(j->out, "null");
}

void dd_json_error(struct dd_json *j, const char *key, const struct dd_error *err)
{
    if (!err || !dd_error_isset(err)) {
        dd_json_null(j, key);
        return;
    }
    dd_json_obj_begin(j, key);
    dd_json_str(j, "message", dd_error_msg(err));
    dd_json_arr_begin(j, "details");
    for (size_t i = 0; i < err->details.n; i++)
        dd_json_str(j, NULL, err->details.v[i]);
    dd_json_arr_end(j);
    dd_json_arr_begin(j, "context");
    for (size_t i = 1; i < err->chain.n; i++)
        dd_json_str(j, NULL, err->chain.v[i]);
    dd_json_arr_end(j);
    dd_json_str(j, "hint", err->hint);
    dd_json_obj_end(j);
}
