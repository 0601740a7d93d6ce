/*
 * History: commit details, merge bases, and "which commits changed this file" walks.
 *
 * The path walk is our own rather than a git_revwalk because it prunes as it goes, the way
 * `git log -- path` simplifies history: a merge that left the file as one parent had it follows
 * that parent only, and a line stops where the file has the content we are looking for. Most
 * steps compare tree ids level by level and stop at the first equal one, so a commit that did
 * not touch the migrations directory costs two small tree lookups, not a read of a directory
 * with thousands of entries.
 */
#include "git/internal.h"

#include <time.h>

#include "util/buf.h"

static void fill_info(struct repo_commit_info *out, git_commit *c)
{
    const git_signature *author = git_commit_author(c);
    const char *subject = git_commit_summary(c);
    git_buf sb = {0};

    repo_oid_hex(out->id, git_commit_id(c));
    if (git_object_short_id(&sb, (const git_object *)c) == 0 && sb.size > 0 && sb.size < sizeof(out->short_id)) {
        memcpy(out->short_id, sb.ptr, sb.size);
        out->short_id[sb.size] = '\0';
    } else {
        git_error_clear();
        memcpy(out->short_id, out->id, 7);
        out->short_id[7] = '\0';
    }
    git_buf_dispose(&sb);
    out->author_name = dd_xstrdup(author && author->name ? author->name : "");
    out->author_email = dd_xstrdup(author && author->email ? author->email : "");
    out->time = author ? (int64_t)author->when.time : (int64_t)git_commit_time(c);
    out->tz_offset_min = author ? author->when.offset : git_commit_time_offset(c);
    out->subject = dd_xstrdup(subject ? subject : "");
}

void repo_commit_info_release(struct repo_commit_info *c)
{
    free(c->author_name);
    free(c->author_email);
    free(c->subject);
    c->author_name = c->author_email = c->subject = NULL;
    c->id[0] = c->short_id[0] = '\0';
}

void repo_commit_infos_release(struct repo_commit_infos *l)
{
    for (size_t i = 0; i < l->n; i++)
        repo_commit_info_release(&l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->alloc = 0;
    l->truncated = false;
}

int repo_commit_info(struct repo_commit_info *out, struct repo *r, const char *rev, struct dd_error *err)
{
    git_commit *c = NULL;

    if (repo_lookup_commit(&c, r, rev, err) < 0)
        return -1;
    fill_info(out, c);
    git_commit_free(c);
    return 0;
}

void repo_commit_date(char out[11], const struct repo_commit_info *c)
{
    time_t t = (time_t)(c->time + (int64_t)c->tz_offset_min * 60);
    struct tm tm;

    if (!gmtime_r(&t, &tm) || strftime(out, 11, "%Y-%m-%d", &tm) != 10) {
        memcpy(out, "0000-00-00", 11); /* unrepresentable date */
    }
}

int repo_merge_base(char out[REPO_OID_HEX_LEN + 1], struct repo *r, const char *a, const char *b, struct dd_error *err)
{
    git_commit *ca = NULL, *cb = NULL;
    git_oid base;
    int rc = -1, e;

    out[0] = '\0';
    if (repo_lookup_commit(&ca, r, a, err) < 0 || repo_lookup_commit(&cb, r, b, err) < 0)
        goto cleanup;
    e = git_merge_base(&base, r->git, git_commit_id(ca), git_commit_id(cb));
    if (e == GIT_ENOTFOUND) {
        git_error_clear();
        rc = 0;
        goto cleanup;
    }
    if (e < 0) {
        repo_git_error(err, "cannot find a merge base of '%s' and '%s'", a, b);
        goto cleanup;
    }
    repo_oid_hex(out, &base);
    rc = 0;
cleanup:
    git_commit_free(ca);
    git_commit_free(cb);
    return rc;
}

/* A set of object ids: open addressing, grown at half load. */
struct oidset {
    git_oid *v;
    bool *used;
    size_t cap, n;
};

static size_t oid_hash(const git_oid *id)
{
    size_t h;
    memcpy(&h, id->id, sizeof(h)); /* ids are SHA-1: already uniformly distributed */
    return h;
}

static bool oidset_contains(const struct oidset *s, const git_oid *id)
{
    if (!s->cap)
        return false;
    for (size_t i = oid_hash(id) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->used[i])
            return false;
        if (git_oid_equal(&s->v[i], id))
            return true;
    }
}

/* Returns false when id was already there. */
static bool oidset_add(struct oidset *s, const git_oid *id)
{
    size_t i;

    if (oidset_contains(s, id))
        return false;
    if ((s->n + 1) * 2 > s->cap) {
        struct oidset bigger = {NULL, NULL, s->cap ? s->cap * 2 : 64, 0};
        bigger.v = dd_xcalloc(bigger.cap, sizeof(*bigger.v));
        bigger.used = dd_xcalloc(bigger.cap, sizeof(*bigger.used));
        for (size_t k = 0; k < s->cap; k++)
            if (s->used[k])
                oidset_add(&bigger, &s->v[k]);
        free(s->v);
        free(s->used);
        *s = bigger;
    }
    for (i = oid_hash(id) & (s->cap - 1); s->used[i]; i = (i + 1) & (s->cap - 1))
        ;
    git_oid_cpy(&s->v[i], id);
    s->used[i] = true;
    s->n++;
    return true;
}

static void oidset_release(struct oidset *s)
{
    free(s->v);
    free(s->used);
    memset(s, 0, sizeof(*s));
}

/* Commits waiting in the walk, newest first (like git log). Every one is known not to hold the target. */
struct heap {
    git_commit **v;
    size_t n, alloc;
};

static bool newer(const git_commit *a, const git_commit *b)
{
    return git_commit_time(a) > git_commit_time(b);
}

static void heap_push(struct heap *h, git_commit *c)
{
    size_t i;

    DD_ALLOC_GROW(h->v, h->n + 1, h->alloc);
    i = h->n++;
    h->v[i] = c;
    while (i && newer(h->v[i], h->v[(i - 1) / 2])) {
        git_commit *t = h->v[i];
        h->v[i] = h->v[(i - 1) / 2];
        h->v[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static git_commit *heap_pop(struct heap *h)
{
    git_commit *top = h->v[0];
    size_t i = 0;

    h->v[0] = h->v[--h->n];
    for (;;) {
        size_t l = 2 * i + 1, rr = l + 1, m = i;
        git_commit *t;
        if (l < h->n && newer(h->v[l], h->v[m]))
            m = l;
        if (rr < h->n && newer(h->v[rr], h->v[m]))
            m = rr;
        if (m == i)
            break;
        t = h->v[i];
        h->v[i] = h->v[m];
        h->v[m] = t;
        i = m;
    }
    return top;
}

struct walk {
    struct repo *r;
    struct dd_strv parts; /* the work-tree-relative path, split at '/' */
    const char *path;     /* as the caller gave it, for messages */
    bool has_target;
    git_oid target;
    bool use_range;
    struct oidset range; /* with `until`: the commits not reachable from it */
    struct oidset seen;
    struct heap heap;
    struct repo_commit_infos *out;
    bool *introduced; /* per out entry: no parent had the file */
    size_t introduced_alloc;
};

/*
 * Step from tree *id to its entry `name`, which must have type `want`: true and *id updated
 * when it does. *hold keeps the tree alive between steps (libgit2 does not cache big trees).
 */
static int step(struct walk *w, git_oid *id, const char *name, git_object_t want, git_tree **hold, bool *present,
                struct dd_error *err)
{
    const git_tree_entry *e;

    git_tree_free(*hold);
    *hold = NULL;
    if (git_tree_lookup(hold, w->r->git, id) < 0)
        return repo_git_error(err, "cannot read a tree while looking for '%s'", w->path);
    e = git_tree_entry_byname(*hold, name);
    *present = e && git_tree_entry_type(e) == want;
    if (*present)
        git_oid_cpy(id, git_tree_entry_id(e));
    return 0;
}

/* The blob at the walk's path in commit c: 0 found (*out set), 1 absent, -1 error. */
static int blob_at(struct walk *w, const git_commit *c, git_oid *out, struct dd_error *err)
{
    git_tree *hold = NULL;
    bool present = true;
    int rc = 0;

    git_oid_cpy(out, git_commit_tree_id(c));
    for (size_t i = 0; i < w->parts.n && present; i++) {
        git_object_t want = i + 1 == w->parts.n ? GIT_OBJECT_BLOB : GIT_OBJECT_TREE;
        if (step(w, out, w->parts.v[i], want, &hold, &present, err) < 0) {
            rc = -1;
            break;
        }
    }
    git_tree_free(hold);
    return rc < 0 ? -1 : present ? 0 : 1;
}

/*
 * Whether the path has the same content in commits a and b (absent in both counts as the
 * same): 1 same, 0 different, -1 error. Equal ids at any level answer without reading deeper,
 * which is what keeps walks through commits that did not touch the directory cheap.
 */
static int same_at(struct walk *w, const git_commit *a, const git_commit *b, struct dd_error *err)
{
    git_tree *ha = NULL, *hb = NULL;
    git_oid ia, ib;
    bool pa = true, pb = true;
    int rc = 0;

    git_oid_cpy(&ia, git_commit_tree_id(a));
    git_oid_cpy(&ib, git_commit_tree_id(b));
    if (git_oid_equal(&ia, &ib))
        return 1;
    for (size_t i = 0; i < w->parts.n; i++) {
        git_object_t want = i + 1 == w->parts.n ? GIT_OBJECT_BLOB : GIT_OBJECT_TREE;
        if ((pa && step(w, &ia, w->parts.v[i], want, &ha, &pa, err) < 0) ||
            (pb && step(w, &ib, w->parts.v[i], want, &hb, &pb, err) < 0)) {
            rc = -1;
            break;
        }
        if ((!pa && !pb) || (pa && pb && git_oid_equal(&ia, &ib))) {
            rc = 1;
            break;
        }
    }
    git_tree_free(ha);
    git_tree_free(hb);
    return rc;
}

/* Does commit c hold what the walk looks for (the target blob; with no target, no file)? */
static int at_target(struct walk *w, const git_commit *c, bool *has_file, bool *yes, struct dd_error *err)
{
    git_oid id;
    int found = blob_at(w, c, &id, err);

    if (found < 0)
        return -1;
    *has_file = found == 0;
    *yes = w->has_target ? (found == 0 && git_oid_equal(&id, &w->target)) : found == 1;
    return 0;
}

static void push(struct walk *w, git_commit *c)
{
    if ((w->use_range && !oidset_contains(&w->range, git_commit_id(c))) || !oidset_add(&w->seen, git_commit_id(c))) {
        git_commit_free(c);
        return;
    }
    heap_push(&w->heap, c);
}

static void record(struct walk *w, git_commit *c, bool introduced)
{
    DD_ALLOC_GROW(w->out->v, w->out->n + 1, w->out->alloc);
    DD_ALLOC_GROW(w->introduced, w->out->n + 1, w->introduced_alloc);
    memset(&w->out->v[w->out->n], 0, sizeof(w->out->v[0]));
    fill_info(&w->out->v[w->out->n], c);
    w->introduced[w->out->n] = introduced;
    w->out->n++;
}

/* The commits reachable from start but not from `until` (up to the walk limit). */
static int load_range(struct walk *w, const git_commit *start, const char *until, struct dd_error *err)
{
    git_revwalk *rw = NULL;
    git_commit *u = NULL;
    git_oid id;
    int rc = -1, e;

    if (repo_lookup_commit(&u, w->r, until, err) < 0)
        goto cleanup;
    if (git_revwalk_new(&rw, w->r->git) < 0 || git_revwalk_push(rw, git_commit_id(start)) < 0 ||
        git_revwalk_hide(rw, git_commit_id(u)) < 0) {
        repo_git_error(err, "cannot walk the history after '%s'", until);
        goto cleanup;
    }
    while (w->range.n <= REPO_WALK_MAX && (e = git_revwalk_next(&id, rw)) == 0)
        oidset_add(&w->range, &id);
    if (w->range.n <= REPO_WALK_MAX && e != GIT_ITEROVER) {
        repo_git_error(err, "cannot walk the history after '%s'", until);
        goto cleanup;
    }
    git_error_clear();
    w->use_range = true;
    rc = 0;
cleanup:
    git_commit_free(u);
    git_revwalk_free(rw);
    return rc;
}

/*
 * One commit of the walk (known not to hold the target): follow an unchanged parent if there
 * is one, else record the commit as a change and continue into every parent that does not hold
 * the target. Takes ownership of c.
 */
static int visit(struct walk *w, git_commit *c, struct dd_error *err)
{
    unsigned nparents = git_commit_parentcount(c);
    git_commit *parent = NULL;
    bool any_parent_has_file = false, has_file, done;
    int rc = -1, same;

    if (!nparents) {
        /* a root commit: it added the file, unless it does not have it (nothing changed) */
        if (at_target(w, c, &has_file, &done, err) < 0)
            goto cleanup;
        if (has_file)
            record(w, c, true);
        rc = 0;
        goto cleanup;
    }
    for (unsigned i = 0; i < nparents; i++) {
        if (git_commit_parent(&parent, c, i) < 0) {
            repo_git_error(err, "cannot read a parent while looking for '%s'", w->path);
            goto cleanup;
        }
        same = same_at(w, c, parent, err);
        if (same < 0)
            goto cleanup;
        if (same) {
            push(w, parent); /* same file as c, so not the target either */
            parent = NULL;
            rc = 0;
            goto cleanup;
        }
        git_commit_free(parent);
        parent = NULL;
    }
    for (unsigned i = 0; i < nparents; i++) {
        if (git_commit_parent(&parent, c, i) < 0) {
            repo_git_error(err, "cannot read a parent while looking for '%s'", w->path);
            goto cleanup;
        }
        if (at_target(w, parent, &has_file, &done, err) < 0)
            goto cleanup;
        any_parent_has_file |= has_file;
        if (!done)
            push(w, parent);
        else
            git_commit_free(parent);
        parent = NULL;
    }
    record(w, c, !any_parent_has_file);
    rc = 0;
cleanup:
    git_commit_free(parent);
    git_commit_free(c);
    return rc;
}

/* The core of repo_path_changes_since and repo_path_origin; see git.h for the rules. */
static int walk_path(struct walk *w, const char *rev, const char *until, struct dd_error *err)
{
    git_commit *start = NULL;
    size_t examined = 0;
    bool has_file, done;
    int rc = -1;

    if (repo_lookup_commit(&start, w->r, rev, err) < 0)
        goto cleanup;
    if (until && load_range(w, start, until, err) < 0)
        goto cleanup;
    if (at_target(w, start, &has_file, &done, err) < 0)
        goto cleanup;
    if (!done) {
        push(w, start);
        start = NULL;
    }
    while (w->heap.n) {
        if (++examined > REPO_WALK_MAX) {
            w->out->truncated = true;
            break;
        }
        if (visit(w, heap_pop(&w->heap), err) < 0)
            goto cleanup;
    }
    rc = 0;
cleanup:
    git_commit_free(start);
    while (w->heap.n)
        git_commit_free(heap_pop(&w->heap));
    return rc;
}

static int walk_init(struct walk *w, struct repo *r, const char *path, const char *blob_id,
                     struct repo_commit_infos *out, struct dd_error *err)
{
    char *clean = NULL, *full = NULL;
    const char *p;

    memset(w, 0, sizeof(*w));
    dd_strv_init(&w->parts);
    w->r = r;
    w->path = path;
    w->out = out;
    if (blob_id) {
        if (repo_parse_oid(&w->target, blob_id, err) < 0)
            return -1;
        w->has_target = true;
    }
    clean = repo_clean_path(path, err);
    if (!clean)
        return -1;
    if (!*clean) {
        free(clean);
        return dd_error_set(err, DD_EINPUT, "'%s' names the project directory, not a file", path);
    }
    full = repo_full_path(r, clean);
    for (p = full; *p;) {
        size_t len = strcspn(p, "/");
        dd_strv_push_owned(&w->parts, dd_xstrndup(p, len));
        p += len;
        if (*p)
            p++;
    }
    free(full);
    free(clean);
    return 0;
}

static void walk_release(struct walk *w)
{
    dd_strv_release(&w->parts);
    oidset_release(&w->range);
    oidset_release(&w->seen);
    free(w->heap.v);
    free(w->introduced);
}

int repo_path_changes_since(struct repo_commit_infos *out, struct repo *r, const char *rev, const char *path,
                            const char *blob_id, const char *until, struct dd_error *err)
{
    struct walk w;
    int rc = -1;

    if (walk_init(&w, r, path, blob_id, out, err) == 0 && walk_path(&w, rev, until, err) == 0)
        rc = 0;
    walk_release(&w);
    if (rc < 0)
        repo_commit_infos_release(out);
    return rc;
}

int repo_path_origin(struct repo_commit_info *out, struct repo *r, const char *rev, const char *path,
                     struct dd_error *err)
{
    struct repo_commit_infos found = REPO_COMMIT_INFOS_INIT;
    struct walk w;
    size_t pick;
    int rc = -1;

    if (walk_init(&w, r, path, NULL, &found, err) < 0 || walk_path(&w, rev, NULL, err) < 0)
        goto cleanup;
    if (!found.n && found.truncated) {
        dd_error_set(err, DD_EGIT, "cannot find the commit that added '%s' within %d commits of '%s'", path,
                     REPO_WALK_MAX, rev);
        goto cleanup;
    }
    if (!found.n) {
        dd_error_set(err, DD_EGIT, "'%s' does not exist at '%s'", path, rev);
        goto cleanup;
    }
    /* the oldest commit that added the file; when the walk was cut short, the oldest seen */
    pick = found.n - 1;
    for (size_t i = found.n; i-- > 0;) {
        if (w.introduced[i]) {
            pick = i;
            break;
        }
    }
    *out = found.v[pick];
    memset(&found.v[pick], 0, sizeof(found.v[pick]));
    rc = 0;
cleanup:
    walk_release(&w);
    repo_commit_infos_release(&found);
    return rc;
}
