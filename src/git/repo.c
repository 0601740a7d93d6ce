#include "git/internal.h"

#include <errno.h>
#include <stdarg.h>

#include "util/buf.h"
#include "util/fs.h"

/*
 * libgit2 starts on the first repo_ call that needs it, not in main(): Debian's libgit2 parses
 * the whole system CA bundle when it starts (about a third of `dbdeploy --version`'s time), which
 * a command that reads no repository (`lint FILE...`, `help`) need not pay.
 */
static bool repo_global_ready;

int repo_lazy_init(struct dd_error *err)
{
    if (repo_global_ready)
        return 0;
    if (git_libgit2_init() < 0) {
        if (err)
            repo_git_error(err, "cannot initialise libgit2");
        return -1;
    }
    repo_global_ready = true;
    return 0;
}

void repo_global_shutdown(void)
{
    if (repo_global_ready)
        git_libgit2_shutdown();
    repo_global_ready = false;
}

int repo_git_error(struct dd_error *err, const char *fmt, ...)
{
    const git_error *ge = git_error_last();
    struct dd_buf b = DD_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    dd_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    dd_buf_addf(&b, ": %s", ge && ge->message ? ge->message : "unknown libgit2 error");
    dd_error_set(err, DD_EGIT, "%s", b.buf);
    dd_buf_release(&b);
    return -1;
}

char *repo_clean_path(const char *path, struct dd_error *err)
{
    struct dd_buf b = DD_BUF_INIT;
    const char *p = path;

    if (path[0] == '/') {
        dd_error_set(err, DD_EINPUT, "path '%s' is absolute; a path inside the project is needed", path);
        return NULL;
    }
    while (*p) {
        size_t len = strcspn(p, "/");
        if (len == 2 && p[0] == '.' && p[1] == '.') {
            dd_error_set(err, DD_EINPUT, "path '%s' leaves the project directory", path);
            dd_buf_release(&b);
            return NULL;
        }
        if (len && !(len == 1 && p[0] == '.')) {
            if (b.len)
                dd_buf_addch(&b, '/');
            dd_buf_add(&b, p, len);
        }
        p += len;
        if (*p == '/')
            p++;
    }
    return dd_buf_detach(&b, NULL);
}

char *repo_join(const char *dir, const char *name)
{
    /* not dd_xasprintf: status joins every file of a 10,000-migration tree, and printf dominated */
    size_t dl = strlen(dir), nl = strlen(name);
    char *p;

    if (!dl)
        return dd_xstrdup(name);
    p = dd_xmalloc(dl + 1 + nl + 1);
    memcpy(p, dir, dl);
    p[dl] = '/';
    memcpy(p + dl + 1, name, nl + 1);
    return p;
}

char *repo_full_path(const struct repo *r, const char *clean)
{
    if (!*r->prefix)
        return dd_xstrdup(clean);
    return *clean ? dd_xasprintf("%s/%s", r->prefix, clean) : dd_xstrdup(r->prefix);
}

void repo_oid_hex(char out[REPO_OID_HEX_LEN + 1], const git_oid *oid)
{
    git_oid_tostr(out, REPO_OID_HEX_LEN + 1, oid);
}

int repo_parse_oid(git_oid *out, const char *hex, struct dd_error *err)
{
    if (strlen(hex) != REPO_OID_HEX_LEN || git_oid_fromstr(out, hex) < 0)
        return dd_error_set(err, DD_EGIT, "'%s' is not an object id", hex);
    return 0;
}

/* The first path component of `root` that is not in `workdir`; both are canonical. */
static int compute_prefix(char **out, const char *root, const char *workdir, struct dd_error *err)
{
    size_t wl = strlen(workdir);

    if (strcmp(root, workdir) == 0) {
        *out = dd_xstrdup("");
        return 0;
    }
    /* workdir "/" only happens for a repository at the file-system root */
    if (wl == 1 && workdir[0] == '/') {
        *out = dd_xstrdup(root + 1);
        return 0;
    }
    if (strncmp(root, workdir, wl) == 0 && root[wl] == '/') {
        *out = dd_xstrdup(root + wl + 1);
        return 0;
    }
    dd_error_set(err, DD_EGIT, "'%s' is not inside the work tree '%s'", root, workdir);
    dd_error_hint(err, "Run dbdeploy in the project directory, not inside .git.");
    return -1;
}

int repo_open(struct repo **out, const char *path, struct dd_error *err)
{
    struct repo *r = dd_xcalloc(1, sizeof(*r));
    char *root = NULL;
    const char *wd;
    int rc = -1, e;

    *out = NULL;
    if (repo_lazy_init(err) < 0) {
        free(r);
        return -1;
    }
    /*
     * libgit2 re-hashes every object it reads; git does not (zlib's checksum catches damage, and
     * git fsck the rest). For a 5,000-file migrations tree that is 0.3 ms per read, a third of
     * the pre-push check's own work. Process-wide and idempotent.
     */
    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
    root = realpath(path, NULL);
    if (!root) {
        dd_error_errno(err, DD_EGIT, "cannot open the project directory '%s'", path);
        goto cleanup;
    }
    /* GIT_CEILING_DIRECTORIES bounds the search the same way it does for git itself */
    e = git_repository_open_ext(&r->git, root, 0, getenv("GIT_CEILING_DIRECTORIES"));
    if (e == GIT_ENOTFOUND) {
        dd_error_set(err, DD_EGIT, "not a git repository: '%s'", path);
        dd_error_hint(err, "dbdeploy deploys committed migrations; run 'git init' in the project or point -C at "
                           "a directory inside a git work tree.");
        goto cleanup;
    }
    if (e < 0) {
        repo_git_error(err, "cannot open the git repository at '%s'", path);
        goto cleanup;
    }
    wd = git_repository_workdir(r->git);
    if (git_repository_is_bare(r->git) || !wd) {
        dd_error_set(err, DD_EGIT, "not a git repository: '%s' is inside a bare repository", path);
        dd_error_hint(err, "Run dbdeploy in a clone that has a work tree.");
        goto cleanup;
    }
    r->workdir = realpath(wd, NULL);
    if (!r->workdir) {
        dd_error_errno(err, DD_EGIT, "cannot open the work tree '%s'", wd);
        goto cleanup;
    }
    if (compute_prefix(&r->prefix, root, r->workdir, err) < 0)
        goto cleanup;
    *out = r;
    r = NULL;
    rc = 0;
cleanup:
    free(root);
    repo_free(r);
    return rc;
}

void repo_free(struct repo *r)
{
    if (!r)
        return;
    git_repository_free(r->git);
    free(r->workdir);
    free(r->prefix);
    free(r);
}

const char *repo_workdir(const struct repo *r)
{
    return r->workdir;
}

const char *repo_path_prefix(const struct repo *r)
{
    return r->prefix;
}

int repo_lookup_commit(git_commit **out, const struct repo *r, const char *rev, struct dd_error *err)
{
    git_object *obj = NULL, *peeled = NULL;
    int rc = -1, e;

    *out = NULL;
    if (strlen(rev) == REPO_OID_HEX_LEN && strspn(rev, "0123456789abcdefABCDEF") == REPO_OID_HEX_LEN) {
        /* a full id names an object before any ref (as in git); skips rev-parse's ref lookups */
        git_oid id;
        git_oid_fromstr(&id, rev);
        e = git_object_lookup(&obj, r->git, &id, GIT_OBJECT_ANY);
    } else {
        e = git_revparse_single(&obj, r->git, rev);
    }
    if (e == GIT_ENOTFOUND && strcmp(rev, "HEAD") == 0 && git_repository_head_unborn(r->git) == 1) {
        dd_error_set(err, DD_EGIT, "the repository has no commits yet, so 'HEAD' names nothing");
        dd_error_hint(err, "Commit the migrations first: dbdeploy works from what is committed.");
        goto cleanup;
    }
    if (e == GIT_ENOTFOUND) {
        dd_error_set(err, DD_EGIT, "unknown revision '%s'", rev);
        dd_error_hint(err, "Check the branch, tag or commit name; for a remote branch such as origin/main, run "
                           "'git fetch' first.");
        goto cleanup;
    }
    if (e < 0) {
        repo_git_error(err, "cannot resolve revision '%s'", rev);
        goto cleanup;
    }
    if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
        repo_git_error(err, "revision '%s' does not name a commit", rev);
        goto cleanup;
    }
    *out = (git_commit *)peeled;
    peeled = NULL;
    rc = 0;
cleanup:
    git_object_free(peeled);
    git_object_free(obj);
    return rc;
}

int repo_resolve(const struct repo *r, const char *rev, char out[REPO_OID_HEX_LEN + 1], struct dd_error *err)
{
    git_commit *c = NULL;

    out[0] = '\0';
    if (repo_lookup_commit(&c, r, rev, err) < 0)
        return -1;
    repo_oid_hex(out, git_commit_id(c));
    git_commit_free(c);
    return 0;
}

int repo_remote_head(char **out, const struct repo *r, const char *remote)
{
    git_reference *ref = NULL;
    char *name = dd_xasprintf("refs/remotes/%s/HEAD", remote);
    const char *target;

    *out = NULL;
    if (git_reference_lookup(&ref, r->git, name) == 0 && git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC &&
        (target = git_reference_symbolic_target(ref)) && strncmp(target, "refs/remotes/", 13) == 0)
        *out = dd_xstrdup(target + 13);
    git_error_clear();
    git_reference_free(ref);
    free(name);
    return 0;
}

bool repo_rev_exists(const struct repo *r, const char *rev)
{
    struct dd_error err = DD_ERROR_INIT;
    git_commit *c = NULL;
    bool ok = repo_lookup_commit(&c, r, rev, &err) == 0;

    git_commit_free(c);
    dd_error_release(&err);
    return ok;
}

int repo_subtree(git_tree **out, const struct repo *r, const git_commit *c, const char *full_dir, struct dd_error *err)
{
    git_tree *root = NULL;
    git_tree_entry *entry = NULL;
    char id[REPO_OID_HEX_LEN + 1];
    int rc = -1, e;

    *out = NULL;
    if (git_commit_tree(&root, c) < 0) {
        repo_oid_hex(id, git_commit_id(c));
        return repo_git_error(err, "cannot read the tree of commit '%.7s'", id);
    }
    if (!*full_dir) {
        *out = root;
        return 0;
    }
    e = git_tree_entry_bypath(&entry, root, full_dir);
    if (e == GIT_ENOTFOUND) {
        git_error_clear();
        rc = 1;
        goto cleanup;
    }
    if (e < 0) {
        repo_git_error(err, "cannot look up '%s'", full_dir);
        goto cleanup;
    }
    if (git_tree_entry_type(entry) != GIT_OBJECT_TREE) {
        repo_oid_hex(id, git_commit_id(c));
        dd_error_set(err, DD_EGIT, "'%s' is not a directory in commit '%.7s'", full_dir, id);
        goto cleanup;
    }
    if (git_tree_lookup(out, r->git, git_tree_entry_id(entry)) < 0) {
        repo_git_error(err, "cannot read directory '%s'", full_dir);
        goto cleanup;
    }
    rc = 0;
cleanup:
    git_tree_entry_free(entry);
    git_tree_free(root);
    return rc;
}

void repo_blob_id(char out[REPO_OID_HEX_LEN + 1], const void *data, size_t len)
{
    git_oid oid;

    if (repo_lazy_init(NULL) < 0 || git_odb_hash(&oid, data, len, GIT_OBJECT_BLOB) < 0)
        DD_BUG("cannot hash %zu bytes", len);
    repo_oid_hex(out, &oid);
}

int repo_read_blob(struct dd_buf *out, struct repo *r, const char *blob_id, struct dd_error *err)
{
    git_oid oid;
    git_blob *blob = NULL;

    if (repo_parse_oid(&oid, blob_id, err) < 0)
        return -1;
    if (git_blob_lookup(&blob, r->git, &oid) < 0)
        return repo_git_error(err, "cannot read blob '%s'", blob_id);
    dd_buf_add(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
    git_blob_free(blob);
    return 0;
}

int repo_hooks_dir(char **out, struct repo *r, struct dd_error *err)
{
    git_config *cfg = NULL;
    git_buf buf = {0};
    int rc = -1, e;

    *out = NULL;
    if (git_repository_config_snapshot(&cfg, r->git) < 0) {
        repo_git_error(err, "cannot read the repository configuration");
        goto cleanup;
    }
    /* get_path expands "~/" like git does for core.hooksPath */
    e = git_config_get_path(&buf, cfg, "core.hooksPath");
    if (e == 0 && buf.size) {
        *out = dd_path_join(r->workdir, buf.ptr); /* relative: to the top of the work tree, where hooks run */
    } else if (e < 0 && e != GIT_ENOTFOUND) {
        repo_git_error(err, "cannot read core.hooksPath");
        goto cleanup;
    } else {
        git_error_clear();
        git_buf_dispose(&buf);
        if (git_repository_item_path(&buf, r->git, GIT_REPOSITORY_ITEM_HOOKS) < 0) {
            repo_git_error(err, "cannot find the hooks directory");
            goto cleanup;
        }
        *out = dd_xstrdup(buf.ptr);
    }
    {
        size_t n = strlen(*out);
        while (n > 1 && (*out)[n - 1] == '/')
            (*out)[--n] = '\0';
    }
    rc = 0;
cleanup:
    git_buf_dispose(&buf);
    git_config_free(cfg);
    return rc;
}
