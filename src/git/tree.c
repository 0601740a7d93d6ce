/*
 * Committed trees: one directory's files at a commit, and how a directory differs between two
 * commits. Both work on the directory's tree object directly instead of git_diff, because the
 * only question is "which blobs directly in this directory differ", and a migrations directory
 * can hold thousands of files that the pre-push hook must compare in a few milliseconds.
 */
#include "git/internal.h"

/* A regular file entry of a tree; name and id are borrowed from the git_tree. */
struct blob_entry {
    const char *name;
    const git_oid *id;
};

struct blob_entries {
    struct blob_entry *v;
    size_t n, alloc;
};

static int cmp_blob_entry(const void *a, const void *b)
{
    return strcmp(((const struct blob_entry *)a)->name, ((const struct blob_entry *)b)->name);
}

static bool is_regular_file(const git_tree_entry *e)
{
    git_filemode_t m = git_tree_entry_filemode(e);
    return m == GIT_FILEMODE_BLOB || m == GIT_FILEMODE_BLOB_EXECUTABLE;
}

/*
 * The regular files of a tree (NULL: none), sorted by name. Git orders a tree's entries as if
 * directory names ended in '/', which for files alone is plain byte order, so sorting is only a
 * safety net for trees written by other tools; checking is linear.
 */
static void collect_blobs(struct blob_entries *out, const git_tree *tree)
{
    size_t count = tree ? git_tree_entrycount(tree) : 0;
    bool sorted = true;

    for (size_t i = 0; i < count; i++) {
        const git_tree_entry *e = git_tree_entry_byindex(tree, i);
        if (!is_regular_file(e))
            continue;
        DD_ALLOC_GROW(out->v, out->n + 1, out->alloc);
        out->v[out->n].name = git_tree_entry_name(e);
        out->v[out->n].id = git_tree_entry_id(e);
        if (out->n && strcmp(out->v[out->n - 1].name, out->v[out->n].name) > 0)
            sorted = false;
        out->n++;
    }
    if (!sorted)
        qsort(out->v, out->n, sizeof(*out->v), cmp_blob_entry);
}

/* Tree of a project-relative (clean) dir at rev; *out NULL when the dir is not there. */
static int dir_tree_at(git_tree **out, struct repo *r, const char *rev, const char *clean_dir, struct dd_error *err)
{
    git_commit *c = NULL;
    char *full = NULL;
    int rc;

    *out = NULL;
    if (repo_lookup_commit(&c, r, rev, err) < 0)
        return -1;
    full = repo_full_path(r, clean_dir);
    rc = repo_subtree(out, r, c, full, err);
    if (rc < 0)
        dd_error_wrap(err, "reading '%s' at '%s'", *clean_dir ? clean_dir : ".", rev);
    free(full);
    git_commit_free(c);
    return rc < 0 ? -1 : 0;
}

int repo_read_dir(struct repo_files *out, struct repo *r, const char *rev, const char *dir, bool with_data,
                  struct dd_error *err)
{
    struct blob_entries blobs = {NULL, 0, 0};
    git_tree *tree = NULL;
    git_odb *odb = NULL;
    git_odb_object *obj = NULL;
    char *clean = NULL;
    int rc = -1;

    clean = repo_clean_path(dir, err);
    if (!clean)
        goto cleanup;
    if (dir_tree_at(&tree, r, rev, clean, err) < 0)
        goto cleanup;
    collect_blobs(&blobs, tree);
    if (with_data && blobs.n && git_repository_odb(&odb, r->git) < 0) {
        repo_git_error(err, "cannot open the object database");
        goto cleanup;
    }
    for (size_t i = 0; i < blobs.n; i++) {
        struct repo_file *f;

        DD_ALLOC_GROW(out->v, out->n + 1, out->alloc);
        f = &out->v[out->n++];
        memset(f, 0, sizeof(*f));
        f->path = repo_join(clean, blobs.v[i].name);
        f->name = f->path + strlen(f->path) - strlen(blobs.v[i].name);
        repo_oid_hex(f->blob_id, blobs.v[i].id);
        if (!with_data)
            continue;
        /* the object database directly: a git_blob wrapper would only add a lookup in the object cache */
        if (git_odb_read(&obj, odb, blobs.v[i].id) < 0) {
            repo_git_error(err, "cannot read '%s' at '%s'", f->path, rev);
            goto cleanup;
        }
        f->len = git_odb_object_size(obj);
        f->data = dd_xmalloc(f->len + 1);
        memcpy(f->data, git_odb_object_data(obj), f->len);
        f->data[f->len] = '\0';
        git_odb_object_free(obj);
        obj = NULL;
    }
    rc = 0;
cleanup:
    git_odb_object_free(obj);
    git_odb_free(odb);
    git_tree_free(tree);
    free(blobs.v);
    free(clean);
    if (rc < 0)
        repo_files_release(out);
    return rc;
}

int repo_read_subdirs(struct dd_strv *out, struct repo *r, const char *rev, const char *dir, struct dd_error *err)
{
    git_tree *tree = NULL;
    char *clean = repo_clean_path(dir, err);
    int rc = -1;

    if (!clean || dir_tree_at(&tree, r, rev, clean, err) < 0)
        goto cleanup;
    for (size_t i = 0; tree && i < git_tree_entrycount(tree); i++) {
        const git_tree_entry *e = git_tree_entry_byindex(tree, i);
        if (git_tree_entry_type(e) == GIT_OBJECT_TREE)
            dd_strv_push(out, git_tree_entry_name(e));
    }
    rc = 0;
cleanup:
    git_tree_free(tree);
    free(clean);
    return rc;
}

void repo_files_release(struct repo_files *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].path);
        free(f->v[i].data);
    }
    free(f->v);
    f->v = NULL;
    f->n = f->alloc = 0;
}

static struct repo_change *add_change(struct repo_changes *out, char status, const char *dir,
                                      const struct blob_entry *old, const struct blob_entry *new)
{
    struct repo_change *c;

    DD_ALLOC_GROW(out->v, out->n + 1, out->alloc);
    c = &out->v[out->n++];
    memset(c, 0, sizeof(*c));
    c->status = status;
    if (old) {
        c->old_path = repo_join(dir, old->name);
        repo_oid_hex(c->old_blob, old->id);
    }
    if (new) {
        c->new_path = repo_join(dir, new->name);
        repo_oid_hex(c->new_blob, new->id);
    }
    return c;
}

static const char *change_path(const struct repo_change *c)
{
    return c->new_path ? c->new_path : c->old_path;
}

static int cmp_change(const void *a, const void *b)
{
    return strcmp(change_path(a), change_path(b));
}

static int cmp_change_by_new_blob(const void *a, const void *b)
{
    const struct repo_change *x = *(struct repo_change *const *)a, *y = *(struct repo_change *const *)b;
    int c = strcmp(x->new_blob, y->new_blob);
    return c ? c : strcmp(x->new_path, y->new_path);
}

/*
 * Pair each deleted file with an added file of the same content (exact renames, as git's rename
 * detection at 100% similarity). Added files are sorted by blob id so a mass rename stays
 * n log n; among equal contents, deletions and additions pair up in path order.
 */
static void detect_renames(struct repo_changes *ch)
{
    struct repo_change **added = NULL;
    size_t nadded = 0, kept = 0;

    for (size_t i = 0; i < ch->n; i++)
        if (ch->v[i].status == 'A')
            nadded++;
    if (!nadded)
        return;
    added = dd_xcalloc(nadded, sizeof(*added));
    nadded = 0;
    for (size_t i = 0; i < ch->n; i++)
        if (ch->v[i].status == 'A')
            added[nadded++] = &ch->v[i];
    qsort(added, nadded, sizeof(*added), cmp_change_by_new_blob);
    for (size_t i = 0; i < ch->n; i++) {
        struct repo_change *d = &ch->v[i];
        size_t lo = 0, hi = nadded;

        if (d->status != 'D')
            continue;
        while (lo < hi) { /* first added entry with new_blob >= d->old_blob */
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(added[mid]->new_blob, d->old_blob) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < nadded && strcmp(added[lo]->new_blob, d->old_blob) == 0; lo++) {
            struct repo_change *a = added[lo];
            if (a->status != 'A')
                continue; /* already paired */
            d->status = 'R';
            d->new_path = a->new_path;
            a->new_path = NULL;
            memcpy(d->new_blob, a->new_blob, sizeof(d->new_blob));
            a->status = 0; /* dropped below */
            break;
        }
    }
    for (size_t i = 0; i < ch->n; i++) {
        if (ch->v[i].status)
            ch->v[kept++] = ch->v[i];
        else
            free(ch->v[i].new_path);
    }
    ch->n = kept;
    free(added);
}

int repo_diff_dir(struct repo_changes *out, struct repo *r, const char *old_rev, const char *new_rev, const char *dir,
                  struct dd_error *err)
{
    struct blob_entries a = {NULL, 0, 0}, b = {NULL, 0, 0};
    git_tree *old_tree = NULL, *new_tree = NULL;
    char *clean = NULL;
    size_t i = 0, j = 0;
    int rc = -1;

    clean = repo_clean_path(dir, err);
    if (!clean)
        goto cleanup;
    if ((old_rev && dir_tree_at(&old_tree, r, old_rev, clean, err) < 0) ||
        dir_tree_at(&new_tree, r, new_rev, clean, err) < 0)
        goto cleanup;
    /* an unchanged directory has the same tree id: no need to read its entries */
    if (old_tree && new_tree && git_oid_equal(git_tree_id(old_tree), git_tree_id(new_tree))) {
        rc = 0;
        goto cleanup;
    }
    collect_blobs(&a, old_tree);
    collect_blobs(&b, new_tree);
    while (i < a.n || j < b.n) {
        int c = i >= a.n ? 1 : j >= b.n ? -1 : strcmp(a.v[i].name, b.v[j].name);
        if (c < 0) {
            add_change(out, 'D', clean, &a.v[i++], NULL);
        } else if (c > 0) {
            add_change(out, 'A', clean, NULL, &b.v[j++]);
        } else {
            if (!git_oid_equal(a.v[i].id, b.v[j].id))
                add_change(out, 'M', clean, &a.v[i], &b.v[j]);
            i++;
            j++;
        }
    }
    detect_renames(out);
    qsort(out->v, out->n, sizeof(*out->v), cmp_change);
    rc = 0;
cleanup:
    free(a.v);
    free(b.v);
    git_tree_free(old_tree);
    git_tree_free(new_tree);
    free(clean);
    if (rc < 0)
        repo_changes_release(out);
    return rc;
}

void repo_changes_release(struct repo_changes *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].old_path);
        free(c->v[i].new_path);
    }
    free(c->v);
    c->v = NULL;
    c->n = c->alloc = 0;
}
