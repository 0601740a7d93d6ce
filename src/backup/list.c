/* Listing and pruning an environment's archives, and the check that an archive fits a target. */
#include "backup/internal.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"

void backup_list_release(struct backup_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].name);
        free(l->v[i].header_error);
        backup_manifest_release(&l->v[i].header);
    }
    free(l->v);
    *l = (struct backup_list)BACKUP_LIST_INIT;
}

static int cmp_entries(const void *a, const void *b)
{
    return bk_entry_cmp(a, b);
}

int backup_list(struct backup_list *out, const char *dir, const char *env, unsigned flags, struct dd_error *err)
{
    char *envdir = dd_path_join(dir, env);
    DIR *d = opendir(envdir);
    struct dirent *de;
    int rc = -1;

    if (!d) {
        if (errno == ENOENT) {
            rc = 0;
            goto cleanup;
        }
        dd_error_errno(err, DD_EIO, "cannot open directory '%s'", envdir);
        goto cleanup;
    }
    while ((de = readdir(d))) {
        struct bk_name nm;
        struct backup_entry *e;
        struct stat st;
        char *path;

        if (de->d_name[0] == '.' || bk_name_parse(&nm, de->d_name) < 0)
            continue;
        path = dd_path_join(envdir, de->d_name);
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        DD_ALLOC_GROW(out->v, out->n + 1, out->alloc);
        e = &out->v[out->n++];
        memset(e, 0, sizeof(*e));
        e->header = (struct backup_manifest)BACKUP_MANIFEST_INIT;
        e->path = path;
        e->name = dd_xstrdup(de->d_name);
        e->time = nm.time;
        memcpy(e->commit, nm.commit, sizeof(e->commit));
        e->seq = nm.seq;
        e->size = (uint64_t)st.st_size;
    }
    if (out->n)
        qsort(out->v, out->n, sizeof(*out->v), cmp_entries);
    for (size_t i = 0; (flags & BACKUP_LIST_HEADERS) && i < out->n; i++) {
        struct dd_error herr = DD_ERROR_INIT;
        if (backup_read_header(&out->v[i].header, out->v[i].path, &herr) == 0)
            out->v[i].have_header = true;
        else
            out->v[i].header_error = dd_xstrdup(dd_error_msg(&herr));
        dd_error_release(&herr);
    }
    rc = 0;
cleanup:
    if (d)
        closedir(d);
    free(envdir);
    if (rc < 0)
        backup_list_release(out);
    return rc;
}

int backup_prune(struct dd_strv *deleted, const char *dir, const char *env, uint32_t keep, const char *protect,
                 struct dd_error *err)
{
    struct backup_list l = BACKUP_LIST_INIT;
    size_t *idx = NULL, n = 0;
    char *envdir = NULL;
    int rc = -1;

    if (!keep)
        return 0;
    if (backup_list(&l, dir, env, 0, err) < 0)
        goto cleanup;
    idx = dd_xcalloc(l.n + 1, sizeof(*idx));
    bk_prune_select(&l, keep, protect, idx, &n);
    for (size_t i = 0; i < n; i++) {
        const char *path = l.v[idx[i]].path;
        if (unlink(path) < 0 && errno != ENOENT) {
            dd_error_errno(err, DD_EIO, "cannot delete old archive '%s'", path);
            goto cleanup;
        }
        dd_strv_push(deleted, path);
    }
    envdir = dd_path_join(dir, env);
    if (n && dd_fsync_dir(envdir, err) < 0)
        goto cleanup;
    rc = 0;
cleanup:
    free(envdir);
    free(idx);
    backup_list_release(&l);
    return rc;
}

int backup_check_target(const struct backup_manifest *m, const char *env, const char *database, bool force,
                        struct dd_error *err)
{
    if (force)
        return 0;
    if (!dd_streq(m->env, env)) {
        dd_error_set(err, DD_EBLOCKED, "the archive is a backup of environment '%s', not '%s'", m->env, env);
        dd_error_hint(err, "Pass --force to restore it into %s anyway.", env);
        return -1;
    }
    if (!dd_streq(m->database, database)) {
        dd_error_set(err, DD_EBLOCKED, "the archive is a backup of database '%s', but %s uses database '%s'",
                     m->database, env, database);
        dd_error_hint(err, "Pass --force to restore it into '%s' anyway.", database);
        return -1;
    }
    return 0;
}
