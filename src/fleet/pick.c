/*
 * Reading a child's --json document: only skipping values and decoding strings, which is all
 * the summary needs ("result", "pending", "applied", "error"."message"). The documents come
 * from our own writer (util/json.c), so anything malformed simply reads as absent.
 */
#include "fleet/fleet.h"

#include <ctype.h>
#include <stdlib.h>

static const char *ws(const char *p)
{
    while (p && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* p at '"': just past the closing quote, or NULL */
static const char *skip_string(const char *p)
{
    for (p++; *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

static const char *skip_value(const char *p, int depth);

/* p at '{' or '[': just past the matching close */
static const char *skip_container(const char *p, int depth)
{
    char close = *p == '{' ? '}' : ']';

    if (depth > 64)
        return NULL;
    p = ws(p + 1);
    if (p && *p == close)
        return p + 1;
    while (p && *p) {
        if (close == '}') {
            if (*p != '"' || !(p = ws(skip_string(p))) || *p != ':')
                return NULL;
            p = ws(p + 1);
        }
        p = ws(skip_value(p, depth + 1));
        if (!p)
            return NULL;
        if (*p == close)
            return p + 1;
        if (*p != ',')
            return NULL;
        p = ws(p + 1);
    }
    return NULL;
}

static const char *skip_value(const char *p, int depth)
{
    if (!p)
        return NULL;
    if (*p == '"')
        return skip_string(p);
    if (*p == '{' || *p == '[')
        return skip_container(p, depth);
    if (!*p)
        return NULL;
    while (*p && (isalnum((unsigned char)*p) || *p == '-' || *p == '+' || *p == '.'))
        p++; /* numbers, true, false, null */
    return p;
}

const char *fleet_json_member(const char *obj, const char *key)
{
    const char *p = ws(obj);
    size_t klen = strlen(key);

    if (!p || *p != '{')
        return NULL;
    p = ws(p + 1);
    while (p && *p == '"') {
        const char *k = p + 1, *end = skip_string(p);
        bool match;
        if (!end)
            return NULL;
        match = (size_t)(end - 1 - k) == klen && memcmp(k, key, klen) == 0;
        p = ws(end);
        if (!p || *p != ':')
            return NULL;
        p = ws(p + 1);
        if (match)
            return p;
        p = ws(skip_value(p, 1));
        if (!p || *p != ',')
            return NULL;
        p = ws(p + 1);
    }
    return NULL;
}

char *fleet_json_string(const char *v)
{
    struct dd_buf b = DD_BUF_INIT;

    if (!v || *v != '"')
        return NULL;
    for (v++; *v && *v != '"'; v++) {
        if (*v != '\\') {
            dd_buf_addch(&b, *v);
            continue;
        }
        v++;
        switch (*v) {
        case 'n':
            dd_buf_addch(&b, '\n');
            break;
        case 't':
            dd_buf_addch(&b, '\t');
            break;
        case 'r':
            dd_buf_addch(&b, '\r');
            break;
        case 'b':
        case 'f':
            dd_buf_addch(&b, ' ');
            break;
        case 'u': {
            /* our writer escapes only control characters this way: keep ASCII, mark the rest */
            char hex[5] = {0};
            for (int i = 0; i < 4 && v[1]; i++)
                hex[i] = *++v;
            long c = strtol(hex, NULL, 16);
            dd_buf_addch(&b, c >= 0x20 && c < 0x7f ? (char)c : '?');
            break;
        }
        case '\0':
            v--;
            break;
        default:
            dd_buf_addch(&b, *v); /* \" \\ \/ */
        }
    }
    return dd_buf_detach(&b, NULL);
}

long fleet_json_array_len(const char *v)
{
    long n = 0;
    const char *p;

    if (!v || *v != '[')
        return -1;
    p = ws(v + 1);
    if (p && *p == ']')
        return 0;
    while (p && *p) {
        p = ws(skip_value(p, 1));
        n++;
        if (!p || *p == ']')
            return p ? n : -1;
        if (*p != ',')
            return -1;
        p = ws(p + 1);
    }
    return -1;
}
