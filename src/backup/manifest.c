/*
 * header.json and manifest.json: written with util/json, read with the small parser below.
 * The parser only has to read what we write, but an archive is input from disk, so it checks
 * everything (types, ranges, nesting, sizes) and never trusts a length.
 */
#include "backup/internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>

#include "util/json.h"

void backup_manifest_release(struct backup_manifest *m)
{
    free(m->env);
    free(m->database);
    free(m->server_version);
    free(m->pg_dump_version);
    free(m->git_commit);
    free(m->applied);
    free(m->dbdeploy_version);
    free(m->started_at);
    free(m->finished_at);
    *m = (struct backup_manifest)BACKUP_MANIFEST_INIT;
}

void bk_server_version_text(char *out, size_t outsz, int num)
{
    if (num >= 100000)
        snprintf(out, outsz, "%d.%d", num / 10000, num % 10000);
    else
        snprintf(out, outsz, "%d.%d.%d", num / 10000, (num / 100) % 100, num % 100);
}

void bk_manifest_json(struct dd_buf *out, const struct backup_manifest *m)
{
    struct dd_json j;

    dd_json_init(&j, out);
    /*
     * Not masked: the manifest holds no secrets (names, versions, times, hashes), and a masked
     * value (a database named like its password) would no longer match what it describes.
     */
    j.mask = false;
    dd_json_obj_begin(&j, NULL);
    dd_json_str(&j, "format", BACKUP_FORMAT);
    dd_json_int(&j, "format_version", BACKUP_FORMAT_VERSION);
    dd_json_str(&j, "env", m->env);
    dd_json_str(&j, "database", m->database);
    dd_json_str(&j, "server_version", m->server_version);
    dd_json_int(&j, "server_version_num", m->server_version_num);
    dd_json_str(&j, "pg_dump_version", m->pg_dump_version);
    dd_json_str(&j, "git_commit", m->git_commit);
    dd_json_arr_begin(&j, "applied_versions");
    for (size_t i = 0; i < m->n_applied; i++)
        dd_json_int(&j, NULL, m->applied[i]);
    dd_json_arr_end(&j);
    dd_json_str(&j, "dbdeploy_version", m->dbdeploy_version);
    dd_json_str(&j, "started_at", m->started_at);
    dd_json_str(&j, "finished_at", m->complete ? m->finished_at : NULL);
    dd_json_obj_begin(&j, "dump");
    dd_json_str(&j, "format", "custom");
    dd_json_str(&j, "compression", "zstd");
    dd_json_uint(&j, "level", m->level);
    dd_json_uint(&j, "part_size", m->part_size);
    if (m->complete) {
        dd_json_uint(&j, "parts", m->parts);
        dd_json_uint(&j, "size", m->dump_size);
        dd_json_str(&j, "sha256", m->dump_sha256);
        dd_json_str(&j, "header_sha256", m->header_sha256);
    } else {
        dd_json_null(&j, "parts");
        dd_json_null(&j, "size");
        dd_json_null(&j, "sha256");
        dd_json_null(&j, "header_sha256");
    }
    dd_json_obj_end(&j);
    dd_json_obj_end(&j);
}

/* ---- a small JSON reader ------------------------------------------------------------------ */

enum jv_type { JV_NULL, JV_BOOL, JV_NUM, JV_STR, JV_ARR, JV_OBJ };

struct jv {
    enum jv_type type;
    bool b;
    bool is_int; /* a number without fraction or exponent that fits int64 */
    int64_t i;
    char *s;          /* JV_STR */
    struct jv *items; /* JV_ARR, JV_OBJ (values) */
    char **keys;      /* JV_OBJ */
    size_t n, alloc;
};

#define JV_MAX_DEPTH 8

struct jparse {
    const char *p, *end;
    const char *error;
};

static void jv_release(struct jv *v)
{
    free(v->s);
    for (size_t i = 0; i < v->n; i++) {
        jv_release(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    memset(v, 0, sizeof(*v));
}

static void skip_ws(struct jparse *jp)
{
    while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
        jp->p++;
}

static int fail(struct jparse *jp, const char *what)
{
    if (!jp->error)
        jp->error = what;
    return -1;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        int c = (unsigned char)s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static void add_utf8(struct dd_buf *b, unsigned cp)
{
    if (cp < 0x80) {
        dd_buf_addch(b, (char)cp);
    } else if (cp < 0x800) {
        dd_buf_addch(b, (char)(0xc0 | (cp >> 6)));
        dd_buf_addch(b, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        dd_buf_addch(b, (char)(0xe0 | (cp >> 12)));
        dd_buf_addch(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
        dd_buf_addch(b, (char)(0x80 | (cp & 0x3f)));
    } else {
        dd_buf_addch(b, (char)(0xf0 | (cp >> 18)));
        dd_buf_addch(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
        dd_buf_addch(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
        dd_buf_addch(b, (char)(0x80 | (cp & 0x3f)));
    }
}

static int parse_string(struct jparse *jp, char **out)
{
    struct dd_buf b = DD_BUF_INIT;

    jp->p++; /* opening quote */
    while (jp->p < jp->end && *jp->p != '"') {
        unsigned char c = (unsigned char)*jp->p;
        unsigned cp, lo;

        if (c < 0x20)
            goto bad;
        if (c >= 0x80) {
            /* RFC 8259 text is UTF-8; anything else would not survive being written back */
            size_t n = dd_utf8_len(jp->p, (size_t)(jp->end - jp->p));
            if (!n) {
                dd_buf_release(&b);
                return fail(jp, "a string that is not valid UTF-8");
            }
            dd_buf_add(&b, jp->p, n);
            jp->p += n;
            continue;
        }
        if (c != '\\') {
            dd_buf_addch(&b, (char)c);
            jp->p++;
            continue;
        }
        if (jp->end - jp->p < 2)
            goto bad;
        switch (jp->p[1]) {
        case '"':
        case '\\':
        case '/':
            dd_buf_addch(&b, jp->p[1]);
            break;
        case 'b':
            dd_buf_addch(&b, '\b');
            break;
        case 'f':
            dd_buf_addch(&b, '\f');
            break;
        case 'n':
            dd_buf_addch(&b, '\n');
            break;
        case 'r':
            dd_buf_addch(&b, '\r');
            break;
        case 't':
            dd_buf_addch(&b, '\t');
            break;
        case 'u':
            if (jp->end - jp->p < 6 || hex4(jp->p + 2, &cp) < 0)
                goto bad;
            jp->p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (jp->end - jp->p < 8 || jp->p[2] != '\\' || jp->p[3] != 'u' || hex4(jp->p + 4, &lo) < 0 ||
                    lo < 0xdc00 || lo > 0xdfff)
                    goto bad;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                jp->p += 6;
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                goto bad;
            }
            if (cp == 0)
                goto bad; /* our strings never hold NUL */
            add_utf8(&b, cp);
            break;
        default:
            goto bad;
        }
        jp->p += 2;
    }
    if (jp->p >= jp->end)
        goto bad;
    jp->p++;
    *out = dd_buf_detach(&b, NULL);
    return 0;
bad:
    dd_buf_release(&b);
    return fail(jp, "a malformed string");
}

static int parse_number(struct jparse *jp, struct jv *v)
{
    const char *s = jp->p;
    bool integral = true;
    char tmp[64];

    if (jp->p < jp->end && *jp->p == '-')
        jp->p++;
    if (jp->p >= jp->end || !isdigit((unsigned char)*jp->p))
        return fail(jp, "a malformed number");
    while (jp->p < jp->end && (isdigit((unsigned char)*jp->p) || strchr(".eE+-", *jp->p))) {
        if (!isdigit((unsigned char)*jp->p))
            integral = false;
        jp->p++;
    }
    v->type = JV_NUM;
    if (integral && (size_t)(jp->p - s) < sizeof(tmp)) {
        char *endp;
        memcpy(tmp, s, (size_t)(jp->p - s));
        tmp[jp->p - s] = '\0';
        errno = 0;
        v->i = strtoll(tmp, &endp, 10);
        v->is_int = errno == 0 && *endp == '\0';
    }
    return 0;
}

static int parse_value(struct jparse *jp, struct jv *v, int depth);

static int parse_container(struct jparse *jp, struct jv *v, int depth, bool object)
{
    char close = object ? '}' : ']';

    v->type = object ? JV_OBJ : JV_ARR;
    jp->p++;
    skip_ws(jp);
    if (jp->p < jp->end && *jp->p == close) {
        jp->p++;
        return 0;
    }
    for (;;) {
        char *key = NULL;

        skip_ws(jp);
        if (object) {
            if (jp->p >= jp->end || *jp->p != '"' || parse_string(jp, &key) < 0)
                return fail(jp, "a malformed object");
            skip_ws(jp);
            if (jp->p >= jp->end || *jp->p != ':') {
                free(key);
                return fail(jp, "a malformed object");
            }
            jp->p++;
        }
        DD_ALLOC_GROW(v->items, v->n + 1, v->alloc);
        if (object) {
            v->keys = dd_xrealloc(v->keys, v->alloc * sizeof(*v->keys));
            v->keys[v->n] = key;
        }
        memset(&v->items[v->n], 0, sizeof(v->items[v->n]));
        v->n++;
        if (parse_value(jp, &v->items[v->n - 1], depth + 1) < 0)
            return -1;
        skip_ws(jp);
        if (jp->p < jp->end && *jp->p == ',') {
            jp->p++;
            continue;
        }
        if (jp->p < jp->end && *jp->p == close) {
            jp->p++;
            return 0;
        }
        return fail(jp, object ? "a malformed object" : "a malformed array");
    }
}

static bool literal(struct jparse *jp, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n) != 0)
        return false;
    jp->p += n;
    return true;
}

static int parse_value(struct jparse *jp, struct jv *v, int depth)
{
    if (depth > JV_MAX_DEPTH)
        return fail(jp, "too deeply nested values");
    skip_ws(jp);
    if (jp->p >= jp->end)
        return fail(jp, "an unexpected end");
    switch (*jp->p) {
    case '{':
        return parse_container(jp, v, depth, true);
    case '[':
        return parse_container(jp, v, depth, false);
    case '"':
        v->type = JV_STR;
        return parse_string(jp, &v->s);
    case 't':
    case 'f':
        v->type = JV_BOOL;
        v->b = *jp->p == 't';
        return literal(jp, v->b ? "true" : "false") ? 0 : fail(jp, "an unknown word");
    case 'n':
        v->type = JV_NULL;
        return literal(jp, "null") ? 0 : fail(jp, "an unknown word");
    default:
        return parse_number(jp, v);
    }
}

static const struct jv *jv_get(const struct jv *obj, const char *key)
{
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return &obj->items[i];
    return NULL;
}

/* ---- mapping the document onto struct backup_manifest ------------------------------------- */

struct mctx {
    const char *what;
    struct dd_error *err;
};

static int bad_field(struct mctx *c, const char *field, const char *problem)
{
    return dd_error_set(c->err, DD_EINPUT, "%s: field '%s' %s", c->what, field, problem);
}

static int get_str(struct mctx *c, const struct jv *obj, const char *key, bool nullable, char **out)
{
    const struct jv *v = jv_get(obj, key);

    if (!v)
        return bad_field(c, key, "is missing");
    if (v->type == JV_NULL && nullable)
        return 0;
    if (v->type != JV_STR)
        return bad_field(c, key, nullable ? "is not a string or null" : "is not a string");
    *out = dd_xstrdup(v->s);
    return 0;
}

static int get_int(struct mctx *c, const struct jv *obj, const char *key, int64_t min, int64_t max, int64_t *out)
{
    const struct jv *v = jv_get(obj, key);

    if (!v)
        return bad_field(c, key, "is missing");
    if (v->type != JV_NUM || !v->is_int || v->i < min || v->i > max)
        return bad_field(c, key, "is not a whole number in range");
    *out = v->i;
    return 0;
}

static bool is_hex(const char *s, size_t len)
{
    if (strlen(s) != len)
        return false;
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
            return false;
    return true;
}

static int get_sha(struct mctx *c, const struct jv *obj, const char *key, char out[BACKUP_SHA256_HEX_LEN + 1])
{
    char *sha = NULL;
    bool ok;

    if (get_str(c, obj, key, false, &sha) < 0)
        return -1;
    ok = is_hex(sha, BACKUP_SHA256_HEX_LEN);
    if (ok)
        memcpy(out, sha, BACKUP_SHA256_HEX_LEN + 1);
    free(sha);
    return ok ? 0 : bad_field(c, key, "is not a SHA-256 in hex");
}

/* "2026-11-21T10:15:00Z", exactly as dd_time_iso8601 writes it */
static bool is_iso_time(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";

    if (strlen(s) != sizeof(shape) - 1)
        return false;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
            return false;
    return true;
}

static int map_dump(struct mctx *c, const struct jv *dump, struct backup_manifest *m)
{
    const struct jv *size = jv_get(dump, "size");
    int64_t v;

    if (get_int(c, dump, "level", 1, 22, &v) < 0)
        return -1;
    m->level = (uint32_t)v;
    if (get_int(c, dump, "part_size", 512, 1 << 30, &v) < 0)
        return -1;
    m->part_size = (uint32_t)v;
    if (!size)
        return bad_field(c, "dump.size", "is missing");
    m->complete = size->type != JV_NULL;
    if (!m->complete)
        return 0;
    if (get_int(c, dump, "size", 1, INT64_MAX, &v) < 0)
        return -1;
    m->dump_size = (uint64_t)v;
    if (get_int(c, dump, "parts", 1, UINT32_MAX, &v) < 0)
        return -1;
    m->parts = (uint32_t)v;
    if (get_sha(c, dump, "sha256", m->dump_sha256) < 0)
        return -1;
    return get_sha(c, dump, "header_sha256", m->header_sha256);
}

static int map_manifest(struct mctx *c, const struct jv *root, struct backup_manifest *m)
{
    const struct jv *arr, *dump;
    char *format = NULL;
    int64_t v;
    int rc = -1;

    if (root->type != JV_OBJ)
        return dd_error_set(c->err, DD_EINPUT, "%s is not a JSON object", c->what);
    if (get_str(c, root, "format", false, &format) < 0)
        goto cleanup;
    if (strcmp(format, BACKUP_FORMAT) != 0) {
        dd_error_set(c->err, DD_EINPUT, "%s: format '%s' is not '" BACKUP_FORMAT "'", c->what, format);
        goto cleanup;
    }
    if (get_int(c, root, "format_version", 1, INT32_MAX, &v) < 0)
        goto cleanup;
    if (v != BACKUP_FORMAT_VERSION) {
        dd_error_set(c->err, DD_EINPUT, "%s: format version %lld is not supported (this dbdeploy reads version %d)",
                     c->what, (long long)v, BACKUP_FORMAT_VERSION);
        dd_error_hint(c->err, "Restore it with the dbdeploy release that wrote it, or by hand (docs/backup.md).");
        goto cleanup;
    }
    if (get_str(c, root, "env", false, &m->env) < 0 || get_str(c, root, "database", false, &m->database) < 0 ||
        get_str(c, root, "server_version", false, &m->server_version) < 0 ||
        get_int(c, root, "server_version_num", 0, INT32_MAX, &v) < 0)
        goto cleanup;
    m->server_version_num = (int)v;
    if (get_str(c, root, "pg_dump_version", false, &m->pg_dump_version) < 0 ||
        get_str(c, root, "git_commit", true, &m->git_commit) < 0 ||
        get_str(c, root, "dbdeploy_version", false, &m->dbdeploy_version) < 0 ||
        get_str(c, root, "started_at", false, &m->started_at) < 0 ||
        get_str(c, root, "finished_at", true, &m->finished_at) < 0)
        goto cleanup;
    if (!is_iso_time(m->started_at) || (m->finished_at && !is_iso_time(m->finished_at))) {
        bad_field(c, is_iso_time(m->started_at) ? "finished_at" : "started_at", "is not a UTC time");
        goto cleanup;
    }
    if (m->finished_at && strcmp(m->finished_at, m->started_at) < 0) {
        bad_field(c, "finished_at", "is before started_at");
        goto cleanup;
    }
    if (m->git_commit && !is_hex(m->git_commit, 40)) {
        bad_field(c, "git_commit", "is not a commit id");
        goto cleanup;
    }
    arr = jv_get(root, "applied_versions");
    if (!arr || arr->type != JV_ARR) {
        bad_field(c, "applied_versions", arr ? "is not an array" : "is missing");
        goto cleanup;
    }
    m->applied = arr->n ? dd_xmalloc(arr->n * sizeof(*m->applied)) : NULL;
    for (size_t i = 0; i < arr->n; i++) {
        if (arr->items[i].type != JV_NUM || !arr->items[i].is_int) {
            bad_field(c, "applied_versions", "holds something other than whole numbers");
            goto cleanup;
        }
        m->applied[m->n_applied++] = arr->items[i].i;
    }
    dump = jv_get(root, "dump");
    if (!dump || dump->type != JV_OBJ) {
        bad_field(c, "dump", dump ? "is not an object" : "is missing");
        goto cleanup;
    }
    if (map_dump(c, dump, m) < 0)
        goto cleanup;
    if (m->complete && !m->finished_at) {
        bad_field(c, "finished_at", "is missing");
        goto cleanup;
    }
    rc = 0;
cleanup:
    free(format);
    return rc;
}

int bk_manifest_parse(struct backup_manifest *out, const char *json, size_t len, const char *what, struct dd_error *err)
{
    struct jparse jp = {json, json + len, NULL};
    struct jv root;
    struct mctx c = {what, err};
    int rc = -1;

    memset(&root, 0, sizeof(root));
    backup_manifest_release(out);
    if (parse_value(&jp, &root, 0) < 0) {
        dd_error_set(err, DD_EINPUT, "%s is not valid JSON: %s at byte %zu", what, jp.error, (size_t)(jp.p - json));
        goto cleanup;
    }
    skip_ws(&jp);
    if (jp.p != jp.end) {
        dd_error_set(err, DD_EINPUT, "%s is not valid JSON: trailing data at byte %zu", what, (size_t)(jp.p - json));
        goto cleanup;
    }
    rc = map_manifest(&c, &root, out);
cleanup:
    jv_release(&root);
    if (rc < 0)
        backup_manifest_release(out);
    return rc;
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || dd_streq(a, b);
}

int bk_manifest_match(const struct backup_manifest *h, const struct backup_manifest *m, const char *what,
                      struct dd_error *err)
{
    const char *field = NULL;

    if (!same_str(h->env, m->env))
        field = "env";
    else if (!same_str(h->database, m->database))
        field = "database";
    else if (!same_str(h->server_version, m->server_version) || h->server_version_num != m->server_version_num)
        field = "server_version";
    else if (!same_str(h->pg_dump_version, m->pg_dump_version))
        field = "pg_dump_version";
    else if (!same_str(h->git_commit, m->git_commit))
        field = "git_commit";
    else if (h->n_applied != m->n_applied ||
             (h->n_applied && memcmp(h->applied, m->applied, h->n_applied * sizeof(*h->applied)) != 0))
        field = "applied_versions";
    else if (!same_str(h->started_at, m->started_at))
        field = "started_at";
    else if (!same_str(h->dbdeploy_version, m->dbdeploy_version))
        field = "dbdeploy_version";
    else if (h->level != m->level)
        field = "dump.level";
    else if (h->part_size != m->part_size)
        field = "dump.part_size";
    if (!field)
        return 0;
    return dd_error_set(err, DD_EINPUT, "%s: " BACKUP_HEADER_ENTRY " and " BACKUP_MANIFEST_ENTRY " disagree on '%s'",
                        what, field);
}
