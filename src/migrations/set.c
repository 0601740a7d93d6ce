#include "migrations/migrations.h"

#include <ctype.h>
#include <stdio.h>

#include "util/parse.h"

struct named_file {
    struct migration_name n;
    const struct migration_source_file *f;
};

static int cmp_named(const void *a, const void *b)
{
    const struct named_file *x = a, *y = b;

    if (x->n.version != y->n.version)
        return x->n.version < y->n.version ? -1 : 1;
    if (x->n.kind != y->n.kind)
        return (int)x->n.kind - (int)y->n.kind;
    return strcmp(x->f->name, y->f->name);
}

/* One line of text: [start, end) without the line terminator ("\n" or "\r\n"). */
struct line {
    const char *start;
    size_t len;
    size_t next; /* offset of the following line */
};

static bool next_line(const char *text, size_t len, size_t at, struct line *l)
{
    const char *nl;

    if (at >= len)
        return false;
    nl = memchr(text + at, '\n', len - at);
    l->start = text + at;
    l->next = nl ? (size_t)(nl - text) + 1 : len;
    l->len = (nl ? (size_t)(nl - text) : len) - at;
    if (l->len && l->start[l->len - 1] == '\r')
        l->len--;
    return true;
}

/* "-- migrate:up [options]" -> 'u' / 'd' with *opts pointing at the options; 0 otherwise. */
static char dbmate_marker(const struct line *l, const char **opts, size_t *optlen)
{
    const char *p = l->start, *end = l->start + l->len;

    if (l->len < 2 || p[0] != '-' || p[1] != '-')
        return 0;
    p += 2;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if ((size_t)(end - p) >= 10 && strncmp(p, "migrate:up", 10) == 0 &&
        (p + 10 == end || isspace((unsigned char)p[10]))) {
        *opts = p + 10;
        *optlen = (size_t)(end - p - 10);
        return 'u';
    }
    if ((size_t)(end - p) >= 12 && strncmp(p, "migrate:down", 12) == 0 &&
        (p + 12 == end || isspace((unsigned char)p[12]))) {
        *opts = p + 12;
        *optlen = (size_t)(end - p - 12);
        return 'd';
    }
    return 0;
}

static bool is_dbmate(const struct dd_buf *data)
{
    struct line l;
    const char *o;
    size_t ol;

    for (size_t at = sql_bom_len(data->buf, data->len); next_line(data->buf, data->len, at, &l); at = l.next)
        if (dbmate_marker(&l, &o, &ol) == 'u')
            return true;
    return false;
}

static bool has_option(const char *opts, size_t len, const char *want)
{
    size_t wl = strlen(want);

    for (size_t i = 0; i + wl <= len; i++)
        if ((i == 0 || isspace((unsigned char)opts[i - 1])) && strncmp(opts + i, want, wl) == 0 &&
            (i + wl == len || isspace((unsigned char)opts[i + wl])))
            return true;
    return false;
}

/*
 * dbmate: copy one section, blanking every other line (markers included) so that line numbers
 * in server errors still match the file, as dbmate users expect.
 */
static int dbmate_split(struct migration *m, const struct migration_source_file *f, const char *path,
                        struct dd_error *err)
{
    struct line l;
    char cur = 0;
    unsigned lineno = 0, up_markers = 0, down_markers = 0;

    for (size_t at = sql_bom_len(f->data.buf, f->data.len); next_line(f->data.buf, f->data.len, at, &l); at = l.next) {
        const char *opts;
        size_t optlen, full;
        char mk = dbmate_marker(&l, &opts, &optlen);

        lineno++;
        if (mk) {
            if ((mk == 'u' && ++up_markers > 1) || (mk == 'd' && ++down_markers > 1)) {
                dd_error_set(err, DD_EINPUT, "%s:%u: second '-- migrate:%s' marker", path, lineno,
                             mk == 'u' ? "up" : "down");
                dd_error_hint(err, "A dbmate file has one '-- migrate:up' section and at most one '-- migrate:down'.");
                return -1;
            }
            cur = mk;
            if (has_option(opts, optlen, "transaction:false"))
                (mk == 'u' ? &m->up : &m->down)->directives.no_transaction = true;
            if (mk == 'd')
                m->down.present = true;
        }
        /* the whole line with its terminator goes to its own section; the other gets an empty line */
        full = l.next - (size_t)(l.start - f->data.buf);
        if (!mk && cur == 'u')
            dd_buf_add(&m->up.sql, l.start, full);
        else
            dd_buf_addch(&m->up.sql, '\n');
        if (!mk && cur == 'd')
            dd_buf_add(&m->down.sql, l.start, full);
        else
            dd_buf_addch(&m->down.sql, '\n');
    }
    return 0;
}

static int directive_error(struct dd_error *err, const char *path, unsigned line, const char *fmt, const char *what)
{
    struct dd_buf b = DD_BUF_INIT;

    dd_buf_addf(&b, "%s:%u: ", path, line);
    dd_buf_addf(&b, fmt, what);
    dd_error_set(err, DD_EINPUT, "%s", b.buf);
    dd_error_hint(err, "Directives are comment lines before the first statement: -- dbdeploy:no-transaction, "
                       "-- dbdeploy:statement-timeout=30s, -- dbdeploy:lock-timeout=10s.");
    dd_buf_release(&b);
    return -1;
}

/* " empty" or " empty <reason>" after "allow". */
static bool is_allow_empty(const char *rest)
{
    while (isspace((unsigned char)*rest))
        rest++;
    return strncmp(rest, "empty", 5) == 0 && (!rest[5] || isspace((unsigned char)rest[5]));
}

/* "-- dbdeploy:NAME[=VALUE]" lines before the first statement. */
static int parse_directives(struct migration_script *sc, struct dd_error *err)
{
    const struct dd_buf *t = &sc->sql;
    struct line l;
    bool in_body = false;
    unsigned lineno = 0;

    for (size_t at = 0; next_line(t->buf, t->len, at, &l); at = l.next) {
        const char *p = l.start, *end = l.start + l.len;
        char item[128];
        char *eq;

        lineno++;
        while (p < end && isspace((unsigned char)*p))
            p++;
        if (p == end)
            continue;
        if (end - p < 2 || p[0] != '-' || p[1] != '-') {
            in_body = true;
            continue;
        }
        p += 2;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if ((size_t)(end - p) < 9 || strncmp(p, "dbdeploy:", 9) != 0)
            continue;
        p += 9;
        snprintf(item, sizeof(item), "%.*s", (int)(end - p), p);
        for (size_t k = strlen(item); k && isspace((unsigned char)item[k - 1]); k--)
            item[k - 1] = '\0';
        if (strncmp(item, "allow", 5) == 0 && (!item[5] || isspace((unsigned char)item[5]))) {
            /* "allow empty" is ours; the others are lint suppressions (lint/); allowed anywhere */
            if (is_allow_empty(item + 5))
                sc->directives.allow_empty = true;
            continue;
        }
        if (in_body)
            return directive_error(err, sc->path, lineno,
                                   "directive 'dbdeploy:%s' must come before the first statement", item);
        eq = strchr(item, '=');
        if (eq)
            *eq++ = '\0';
        if (strcmp(item, "no-transaction") == 0 && !eq) {
            sc->directives.no_transaction = true;
        } else if (strcmp(item, "statement-timeout") == 0 && eq) {
            if (dd_parse_duration_ms(eq, &sc->directives.statement_timeout_ms) < 0)
                return directive_error(err, sc->path, lineno, "'%s' is not a duration (use 30s, 500ms, 5m or 0)", eq);
            sc->directives.has_statement_timeout = true;
        } else if (strcmp(item, "lock-timeout") == 0 && eq) {
            if (dd_parse_duration_ms(eq, &sc->directives.lock_timeout_ms) < 0)
                return directive_error(err, sc->path, lineno, "'%s' is not a duration (use 30s, 500ms, 5m or 0)", eq);
            sc->directives.has_lock_timeout = true;
        } else {
            return directive_error(err, sc->path, lineno, "unknown directive 'dbdeploy:%s'", item);
        }
    }
    return 0;
}

/* "dir/name" without a printf: this runs for every file of every status. */
static char *file_path(const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    char *p = dd_xmalloc(dl + nl + 2);

    memcpy(p, dir, dl);
    p[dl] = '/';
    memcpy(p + dl + 1, name, nl + 1);
    return p;
}

static void script_from_file(struct migration_script *sc, const char *dir, const struct migration_source_file *f)
{
    size_t bom = sql_bom_len(f->data.buf, f->data.len); /* never executed; the checksum keeps it */

    sc->present = true;
    sc->path = file_path(dir, f->name);
    dd_buf_add(&sc->sql, f->data.buf + bom, f->data.len - bom);
    memcpy(sc->blob_id, f->blob_id, sizeof(sc->blob_id)); /* same size, NUL-terminated */
}

/* Names and blob ids only: the bytes are read later (migration_set_read). */
static void build_unread(struct migration *m, const char *dir, const struct named_file *up,
                         const struct named_file *down)
{
    m->unread = true;
    m->version = up->n.version;
    m->version_text = dd_xstrdup(up->n.version_text);
    m->name = dd_xstrdup(up->n.name);
    m->format = up->n.flyway ? MIGRATION_FLYWAY : up->n.kind == MIGRATION_FILE_UP ? MIGRATION_GOLANG : MIGRATION_PLAIN;
    script_from_file(&m->up, dir, up->f);
    if (down)
        script_from_file(&m->down, dir, down->f);
}

/*
 * A repeatable migration from its file: read (checksum, directives) or, for a listed file,
 * unread with its blob id until migration_set_read_repeatables.
 */
static int build_repeatable(struct migration *m, const char *dir, const struct migration_source_file *f, bool sum,
                            struct dd_error *err)
{
    memset(m, 0, sizeof(*m));
    dd_buf_init(&m->up.sql);
    dd_buf_init(&m->down.sql);
    m->repeatable = true;
    m->version = -1;
    m->version_text = dd_xstrdup("R");
    m->name = dd_xstrdup(f->name);
    m->format = MIGRATION_PLAIN;
    m->unread = f->unread;
    script_from_file(&m->up, dir, f);
    if (f->unread)
        return 0;
    if (sum)
        dd_checksum(f->data.buf, f->data.len, m->checksum);
    return parse_directives(&m->up, err);
}

static int cmp_repeatable(const void *a, const void *b)
{
    return strcmp(((const struct migration *)a)->name, ((const struct migration *)b)->name);
}

static int build_repeatables(struct migration_set *out, const struct migration_source *src, struct dd_error *err)
{
    for (size_t i = 0; i < src->n; i++) {
        if (!migration_is_repeatable(src->v[i].name))
            continue;
        DD_ALLOC_GROW(out->rep, out->nrep + 1, out->rep_alloc);
        if (build_repeatable(&out->rep[out->nrep++], src->dir, &src->v[i], !src->no_checksums, err) < 0)
            return -1;
    }
    if (out->nrep > 1)
        qsort(out->rep, out->nrep, sizeof(*out->rep), cmp_repeatable);
    return 0;
}

static void problem(struct dd_error *err, unsigned *count, const char *dir, const char *name, const char *why)
{
    (*count)++;
    dd_error_detail(err, "%s/%s: %s", dir, name, why);
}

/* Check the files of one version and build its migration; problems are collected as details. */
static int build_one(struct migration_set *out, const char *dir, bool sum, struct named_file *g, size_t ng,
                     struct dd_error *probs, unsigned *nprobs, struct dd_error *err)
{
    struct named_file *single = NULL, *up = NULL, *down = NULL;
    struct migration *m;

    for (size_t i = 0; i < ng; i++) {
        struct named_file **slot = g[i].n.kind == MIGRATION_FILE_SINGLE ? &single
                                   : g[i].n.kind == MIGRATION_FILE_UP   ? &up
                                                                        : &down;
        if (*slot || (g[i].n.kind != MIGRATION_FILE_DOWN && (single || up))) {
            char why[96];
            snprintf(why, sizeof(why), "version %lld is also used by '%s'", (long long)g[i].n.version,
                     (single ? single
                      : up   ? up
                             : down)
                         ->f->name);
            problem(probs, nprobs, dir, g[i].f->name, why);
            return 0;
        }
        *slot = &g[i];
    }
    if (down && !up) {
        problem(probs, nprobs, dir, down->f->name,
                single ? "a .down.sql file cannot pair with a single-file migration" : "down migration without its up");
        return 0;
    }
    if (*nprobs)
        return 0; /* keep collecting problems; build nothing more */

    DD_ALLOC_GROW(out->v, out->n + 1, out->alloc);
    m = &out->v[out->n++];
    memset(m, 0, sizeof(*m));
    dd_buf_init(&m->up.sql);
    dd_buf_init(&m->down.sql);
    if ((single && single->f->unread) || (up && up->f->unread) || (down && down->f->unread)) {
        build_unread(m, dir, single ? single : up, down);
        return 0;
    }
    if (single) {
        m->version = single->n.version;
        m->version_text = dd_xstrdup(single->n.version_text);
        m->name = dd_xstrdup(single->n.name);
        if (sum)
            dd_checksum(single->f->data.buf, single->f->data.len, m->checksum);
        if (is_dbmate(&single->f->data)) {
            m->format = MIGRATION_DBMATE;
            m->up.present = true;
            m->up.path = dd_xasprintf("%s/%s", dir, single->f->name);
            snprintf(m->up.blob_id, sizeof(m->up.blob_id), "%s", single->f->blob_id);
            if (dbmate_split(m, single->f, m->up.path, err) < 0)
                return -1;
            if (m->down.present) {
                m->down.path = dd_xstrdup(m->up.path);
                snprintf(m->down.blob_id, sizeof(m->down.blob_id), "%s", single->f->blob_id);
            }
        } else {
            m->format = MIGRATION_PLAIN;
            script_from_file(&m->up, dir, single->f);
        }
    } else {
        m->version = up->n.version;
        m->version_text = dd_xstrdup(up->n.version_text);
        m->name = dd_xstrdup(up->n.name);
        m->format = up->n.flyway ? MIGRATION_FLYWAY : MIGRATION_GOLANG;
        if (sum)
            dd_checksum(up->f->data.buf, up->f->data.len, m->checksum);
        script_from_file(&m->up, dir, up->f);
        if (down)
            script_from_file(&m->down, dir, down->f);
    }
    if (parse_directives(&m->up, err) < 0 || (m->down.present && parse_directives(&m->down, err) < 0))
        return -1;
    return 0;
}

int migration_set_build(struct migration_set *out, const struct migration_source *src, struct dd_error *err)
{
    struct named_file *files = dd_xcalloc(src->n ? src->n : 1, sizeof(*files));
    struct dd_error probs = DD_ERROR_INIT;
    unsigned nprobs = 0, nmalformed = 0;
    size_t nf = 0;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    out->dir = dd_xstrdup(src->dir);
    out->commit = src->commit ? dd_xstrdup(src->commit) : NULL;
    for (size_t i = 0; i < src->n; i++) {
        char why[128];
        int r = migration_is_repeatable(src->v[i].name)
                    ? 1
                    : migration_name_parse(&files[nf].n, src->v[i].name, why, sizeof(why));
        if (r == 1)
            continue;
        if (r < 0) {
            problem(&probs, &nprobs, src->dir, src->v[i].name, why);
            nmalformed++;
            continue;
        }
        files[nf++].f = &src->v[i];
    }
    qsort(files, nf, sizeof(*files), cmp_named);
    DD_ALLOC_GROW(out->v, nf, out->alloc); /* at most one migration per file: no copying while growing */
    for (size_t i = 0; i < nf;) {
        size_t j = i;
        while (j < nf && files[j].n.version == files[i].n.version)
            j++;
        if (build_one(out, src->dir, !src->no_checksums, files + i, j - i, &probs, &nprobs, err) < 0)
            goto cleanup;
        i = j;
    }
    if (build_repeatables(out, src, err) < 0)
        goto cleanup;
    if (nprobs) {
        dd_error_set(err, DD_EINPUT, "%s: %u migration file%s %s", src->dir, nprobs, nprobs == 1 ? "" : "s",
                     nmalformed == nprobs ? (nprobs == 1 ? "has a malformed name" : "have malformed names")
                                          : "cannot be used");
        for (size_t i = 0; i < probs.details.n; i++)
            dd_error_detail(err, "%s", probs.details.v[i]);
        dd_error_hint(err, "Name migrations <version>_<name>.sql, <version>_<name>.up.sql with an optional .down.sql, "
                           "or Flyway's V<version>__<name>.sql with an optional U<version>__<name>.sql; each version "
                           "once (leading zeros do not make a new version).");
        goto cleanup;
    }
    rc = 0;
cleanup:
    for (size_t i = 0; i < nf; i++)
        migration_name_release(&files[i].n);
    free(files);
    dd_error_release(&probs);
    if (rc < 0)
        migration_set_release(out);
    return rc;
}

const struct migration *migration_set_find(const struct migration_set *s, int64_t version)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid].version == version)
            return &s->v[mid];
        if (s->v[mid].version < version)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *migration_display(const struct migration *m)
{
    const char *slash = strrchr(m->up.path, '/');

    return slash ? slash + 1 : m->up.path;
}

static void script_release(struct migration_script *sc)
{
    free(sc->path);
    sc->path = NULL;
    dd_buf_release(&sc->sql);
    sc->present = false;
}

static void migration_release(struct migration *m)
{
    free(m->version_text);
    free(m->name);
    script_release(&m->up);
    script_release(&m->down);
}

/* Read one script's file through the reader into src, under its own base name. */
static int read_file(struct migration_source *src, const struct migration_reader *r, const struct migration_script *sc,
                     struct dd_error *err)
{
    struct dd_buf data = DD_BUF_INIT;
    const char *slash = strrchr(sc->path, '/');
    int rc = r->read(r->arg, sc->blob_id, &data, err);

    if (rc < 0)
        dd_error_wrap(err, "reading '%s'", sc->path);
    else
        migration_source_add(src, slash ? slash + 1 : sc->path, data.buf, data.len, sc->blob_id);
    dd_buf_release(&data);
    return rc;
}

int migration_set_read(struct migration_set *s, size_t i, struct dd_error *err)
{
    struct migration *m = &s->v[i];
    struct migration_source src = MIGRATION_SOURCE_INIT;
    struct migration_set one = MIGRATION_SET_INIT;
    int rc = -1;

    if (!m->unread)
        return 0;
    if (!s->reader.read)
        DD_BUG("migration_set_read: an unread migration without a reader");
    migration_source_init(&src, s->dir, s->commit);
    /* an unread migration has its down script only as a golang .down.sql file */
    if (read_file(&src, &s->reader, &m->up, err) < 0 ||
        (m->down.present && read_file(&src, &s->reader, &m->down, err) < 0) || migration_set_build(&one, &src, err) < 0)
        goto cleanup;
    if (one.n != 1 || one.v[0].version != m->version)
        DD_BUG("migration_set_read: the files of one version built %zu migrations", one.n);
    migration_release(m);
    *m = one.v[0];
    one.n = 0;
    rc = 0;
cleanup:
    migration_set_release(&one);
    migration_source_release(&src);
    return rc;
}

int migration_set_read_repeatables(struct migration_set *s, struct dd_error *err)
{
    for (size_t i = 0; i < s->nrep; i++) {
        struct migration *m = &s->rep[i];
        struct migration_source src = MIGRATION_SOURCE_INIT;
        char *name;
        int rc;

        if (!m->unread)
            continue;
        if (!s->reader.read)
            DD_BUG("migration_set_read_repeatables: an unread repeatable migration without a reader");
        migration_source_init(&src, s->dir, s->commit);
        rc = read_file(&src, &s->reader, &m->up, err);
        if (rc == 0) {
            name = m->name;
            m->name = NULL;
            free(src.v[0].name);
            src.v[0].name = name; /* under its name relative to the directory, as listed */
            migration_release(m);
            rc = build_repeatable(m, s->dir, &src.v[0], true, err);
        }
        migration_source_release(&src);
        if (rc < 0)
            return -1;
    }
    return 0;
}

void migration_set_release(struct migration_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        migration_release(&s->v[i]);
    for (size_t i = 0; i < s->nrep; i++)
        migration_release(&s->rep[i]);
    free(s->rep);
    free(s->v);
    free(s->dir);
    free(s->commit);
    memset(s, 0, sizeof(*s));
}
