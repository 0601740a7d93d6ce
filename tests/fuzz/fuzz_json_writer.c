/*
 * util/json.c: the JSON writer, driven by the input as a sequence of operations (open, close,
 * string, numbers) whose strings are arbitrary bytes. The document must always be valid JSON;
 * a small strict validator (RFC 8259) checks it.
 */
#include "fuzz.h"

#include <math.h>
#include <string.h>

#include "util/json.h"

struct reader {
    const uint8_t *p, *end;
};

static uint8_t next_byte(struct reader *r)
{
    return r->p < r->end ? *r->p++ : 0;
}

/* A string from the input: up to the next 0xff byte (NUL bytes end it early, as in C). */
static char *next_str(struct reader *r)
{
    const uint8_t *start = r->p;

    while (r->p < r->end && *r->p != 0xff)
        r->p++;
    char *s = fuzz_cstr(start, (size_t)(r->p - start));
    if (r->p < r->end)
        r->p++;
    return s;
}

/* ---- validator ---------------------------------------------------------------------------- */

static const char *v_value(const char *p, int depth);

static const char *v_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static size_t v_utf8(const unsigned char *s)
{
    unsigned c = s[0], cp, min;
    size_t n;

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
    cp = c & (0x7fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    return cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0 : n;
}

static const char *v_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    while (*p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20)
            return NULL;
        if (c == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
                        return NULL;
                p += 5;
            } else if (*p && strchr("\"\\/bfnrt", *p)) {
                p++;
            } else {
                return NULL;
            }
            continue;
        }
        size_t n = v_utf8((const unsigned char *)p);
        if (!n)
            return NULL;
        p += n;
    }
    return p + 1;
}

static const char *v_number(const char *p)
{
    const char *s;

    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return NULL;
    if (*p == '.') {
        s = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == s)
            return NULL;
    }
    return p;
}

static const char *v_container(const char *p, int depth, char close, bool object)
{
    p = v_ws(p + 1);
    if (*p == close)
        return p + 1;
    for (;;) {
        if (object) {
            p = v_string(p);
            if (!p)
                return NULL;
            p = v_ws(p);
            if (*p++ != ':')
                return NULL;
        }
        p = v_value(v_ws(p), depth + 1);
        if (!p)
            return NULL;
        p = v_ws(p);
        if (*p == close)
            return p + 1;
        if (*p++ != ',')
            return NULL;
        p = v_ws(p);
    }
}

static const char *v_value(const char *p, int depth)
{
    if (depth > 64)
        return NULL;
    switch (*p) {
    case '{':
        return v_container(p, depth, '}', true);
    case '[':
        return v_container(p, depth, ']', false);
    case '"':
        return v_string(p);
    case 't':
        return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f':
        return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n':
        return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default:
        return v_number(p);
    }
}

/* ---- driver ------------------------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader r = {data, data + size};
    struct dd_buf out = DD_BUF_INIT;
    struct dd_json j;
    bool object[DD_JSON_MAX_DEPTH];
    int depth = 1;

    /* top level: always an object, as every dbdeploy document is */
    dd_json_init(&j, &out);
    dd_json_obj_begin(&j, NULL);
    object[1] = true;
    while (r.p < r.end) {
        uint8_t op = next_byte(&r);
        char *key = object[depth] ? next_str(&r) : NULL;
        uint64_t n = 0;

        switch (op % 9) {
        case 0:
        case 1:
            if (depth + 2 < DD_JSON_MAX_DEPTH) {
                if (op % 9 == 0)
                    dd_json_obj_begin(&j, key);
                else
                    dd_json_arr_begin(&j, key);
                object[++depth] = op % 9 == 0;
            }
            break;
        case 2:
            if (depth > 1) {
                if (object[depth])
                    dd_json_obj_end(&j);
                else
                    dd_json_arr_end(&j);
                depth--;
            }
            break;
        case 3: {
            char *v = next_str(&r);
            dd_json_str(&j, key, v);
            free(v);
            break;
        }
        case 4:
            dd_json_str(&j, key, NULL);
            break;
        case 5:
        case 6:
        case 7:
            for (int i = 0; i < 8; i++)
                n = n << 8 | next_byte(&r);
            if (op % 9 == 5)
                dd_json_int(&j, key, (int64_t)n);
            else if (op % 9 == 6)
                dd_json_uint(&j, key, n);
            else {
                double d;
                memcpy(&d, &n, sizeof(d));
                dd_json_double(&j, key, d);
            }
            break;
        default:
            if (op & 0x80)
                dd_json_null(&j, key);
            else
                dd_json_bool(&j, key, op & 1);
            break;
        }
        free(key);
    }
    while (depth > 1) {
        if (object[depth])
            dd_json_obj_end(&j);
        else
            dd_json_arr_end(&j);
        depth--;
    }
    dd_json_obj_end(&j);
    const char *end = v_value(out.buf, 0);
    if (!end || strcmp(end, "\n") != 0) {
        fprintf(stderr, "invalid JSON document:\n%s\n", out.buf);
        abort();
    }
    dd_buf_release(&out);
    return 0;
}
