/*
 * A minimal JSON reader for libpg_query's output. libpg_query also offers protobuf trees, but
 * Debian ships no protobuf-c headers; its JSON is machine-written and small, so a recursive
 * reader into an arena is enough and keeps the dependency to one library.
 */
#include "lint/internal.h"

#include <stdlib.h>

#define LJ_CHUNK_SIZE (64 * 1024)
#define LJ_MAX_DEPTH  1000

struct lj_chunk {
    struct lj_chunk *next;
    size_t used, size;
    struct lj_node data[]; /* nodes, and strings between them */
};

/* Nodes need a pointer's alignment (not max_align_t's 16: that would pad each node to 64 bytes). */
#define LJ_ALIGN _Alignof(struct lj_node)

struct lj_reader {
    const char *p;
    struct lj_doc *doc;
    int depth;
};

static void *arena_alloc(struct lj_doc *d, size_t n)
{
    struct lj_chunk *c = d->chunks;

    n = (n + LJ_ALIGN - 1) / LJ_ALIGN * LJ_ALIGN;
    if (!c || c->size - c->used < n) {
        size_t size = n > LJ_CHUNK_SIZE ? n : LJ_CHUNK_SIZE;
        c = dd_xmalloc(sizeof(*c) + size);
        c->size = size;
        c->used = 0;
        c->next = d->chunks;
        d->chunks = c;
    }
    c->used += n;
    return (char *)c->data + c->used - n;
}

static void skip_ws(struct lj_reader *r)
{
    while (*r->p == ' ' || *r->p == '\n' || *r->p == '\t' || *r->p == '\r')
        r->p++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void put_utf8(char **o, unsigned cp)
{
    char *q = *o;

    if (cp < 0x80) {
        *q++ = (char)cp;
    } else if (cp < 0x800) {
        *q++ = (char)(0xC0 | (cp >> 6));
        *q++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *q++ = (char)(0xE0 | (cp >> 12));
        *q++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *q++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *q++ = (char)(0xF0 | (cp >> 18));
        *q++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *q++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *q++ = (char)(0x80 | (cp & 0x3F));
    }
    *o = q;
}

static int read_u4(const char *p, unsigned *out)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + (unsigned)h;
    }
    *out = v;
    return 0;
}

/* The unescaped string never grows past its escaped form, so one allocation suffices. */
static const char *read_string(struct lj_reader *r)
{
    const char *s = ++r->p, *end = s;
    bool escaped = false;
    char *out, *o;

    while (*end && *end != '"') {
        if (*end == '\\' && end[1]) {
            escaped = true;
            end++;
        }
        end++;
    }
    if (*end != '"')
        return NULL;
    out = o = arena_alloc(r->doc, (size_t)(end - s) + 1);
    if (!escaped) { /* most strings (every key): one copy */
        memcpy(out, s, (size_t)(end - s));
        out[end - s] = '\0';
        r->p = end + 1;
        return out;
    }
    while (r->p < end) {
        char c = *r->p++;
        unsigned cp;
        if (c != '\\') {
            *o++ = c;
            continue;
        }
        c = *r->p++;
        switch (c) {
        case 'n':
            *o++ = '\n';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'u':
            if (end - r->p < 4 || read_u4(r->p, &cp) < 0)
                return NULL;
            r->p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && end - r->p >= 6 && r->p[0] == '\\' && r->p[1] == 'u') {
                unsigned lo;
                if (read_u4(r->p + 2, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    r->p += 6;
                }
            }
            put_utf8(&o, cp);
            break;
        default:
            *o++ = c;
            break; /* \" \\ \/ */
        }
    }
    *o = '\0';
    r->p = end + 1;
    return out;
}

static struct lj_node *read_value(struct lj_reader *r);

/*
 * Integers (every location, length and enum of a parse tree) without strtod, which is slower and
 * reads the locale; false leaves anything else (fractions, exponents, huge values) to strtod.
 */
static bool read_int(struct lj_reader *r, double *out)
{
    const char *p = r->p + (*r->p == '-');
    uint64_t v = 0;
    size_t digits = 0;

    while (*p >= '0' && *p <= '9' && digits < 18) {
        v = v * 10 + (uint64_t)(*p++ - '0');
        digits++;
    }
    if (!digits || (*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E')
        return false;
    *out = *r->p == '-' ? -(double)v : (double)v;
    r->p = p;
    return true;
}

static struct lj_node *read_container(struct lj_reader *r, struct lj_node *n, char close)
{
    struct lj_node **tail = &n->kids;

    if (++r->depth > LJ_MAX_DEPTH)
        return NULL;
    r->p++;
    skip_ws(r);
    if (*r->p == close) {
        r->p++;
        r->depth--;
        return n;
    }
    for (;;) {
        const char *key = NULL;
        struct lj_node *kid;
        skip_ws(r);
        if (close == '}') {
            if (*r->p != '"' || !(key = read_string(r)))
                return NULL;
            skip_ws(r);
            if (*r->p++ != ':')
                return NULL;
        }
        if (!(kid = read_value(r)))
            return NULL;
        kid->key = key;
        *tail = kid;
        tail = &kid->next;
        skip_ws(r);
        if (*r->p == ',') {
            r->p++;
            continue;
        }
        if (*r->p++ != close)
            return NULL;
        r->depth--;
        return n;
    }
}

static struct lj_node *read_value(struct lj_reader *r)
{
    struct lj_node *n;
    char *end;

    skip_ws(r);
    n = arena_alloc(r->doc, sizeof(*n));
    memset(n, 0, sizeof(*n));
    switch (*r->p) {
    case '{':
        n->type = LJ_OBJ;
        return read_container(r, n, '}');
    case '[':
        n->type = LJ_ARR;
        return read_container(r, n, ']');
    case '"':
        n->type = LJ_STR;
        return (n->str = read_string(r)) ? n : NULL;
    case 't':
    case 'f':
    case 'n': {
        static const char *const words[] = {"true", "false", "null"};
        for (size_t i = 0; i < DD_ARRAY_SIZE(words); i++) {
            size_t l = strlen(words[i]);
            if (strncmp(r->p, words[i], l) == 0) {
                r->p += l;
                n->type = i == 2 ? LJ_NULL : LJ_BOOL;
                n->b = i == 0;
                return n;
            }
        }
        return NULL;
    }
    default:
        n->type = LJ_NUM;
        if (read_int(r, &n->num))
            return n;
        n->num = strtod(r->p, &end);
        if (end == r->p)
            return NULL;
        r->p = end;
        return n;
    }
}

int lj_parse(struct lj_doc *out, const char *text)
{
    struct lj_reader r = {text, out, 0};

    out->chunks = NULL;
    out->root = read_value(&r);
    if (out->root) {
        skip_ws(&r);
        if (*r.p == '\0')
            return 0;
    }
    lj_release(out);
    return -1;
}

void lj_release(struct lj_doc *d)
{
    while (d && d->chunks) {
        struct lj_chunk *c = d->chunks;
        d->chunks = c->next;
        free(c);
    }
    if (d)
        d->root = NULL;
}

const struct lj_node *lj_get(const struct lj_node *n, const char *key)
{
    if (!n || n->type != LJ_OBJ)
        return NULL;
    for (const struct lj_node *k = n->kids; k; k = k->next)
        if (strcmp(k->key, key) == 0)
            return k;
    return NULL;
}

const char *lj_str(const struct lj_node *n, const char *key)
{
    const struct lj_node *v = lj_get(n, key);
    return v && v->type == LJ_STR ? v->str : NULL;
}

double lj_num(const struct lj_node *n, const char *key)
{
    const struct lj_node *v = lj_get(n, key);
    return v && v->type == LJ_NUM ? v->num : 0;
}

bool lj_bool(const struct lj_node *n, const char *key)
{
    const struct lj_node *v = lj_get(n, key);
    return v && v->type == LJ_BOOL && v->b;
}

const char *lj_tag(const struct lj_node *n)
{
    return n && n->type == LJ_OBJ && n->kids ? n->kids->key : NULL;
}

const struct lj_node *lj_body(const struct lj_node *n)
{
    return n && n->type == LJ_OBJ && n->kids ? n->kids : NULL;
}
