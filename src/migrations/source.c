#include "migrations/migrations.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "util/fs.h"

void migration_source_init(struct migration_source *src, const char *dir, const char *commit)
{
    memset(src, 0, sizeof(*src));
    src->dir = dd_xstrdup(dir);
    src->commit = commit ? dd_xstrdup(commit) : NULL;
}

void migration_source_add(struct migration_source *src, const char *name, const void *data, size_t len,
                          const char *blob_id)
{
    struct migration_source_file *f;

    DD_ALLOC_GROW(src->v, src->n + 1, src->alloc);
    f = &src->v[src->n++];
    f->name = dd_xstrdup(name);
    dd_buf_init(&f->data);
    dd_buf_add(&f->data, data, len);
    {
        /* not snprintf: this runs for every listed file of every status */
        size_t n = blob_id ? strnlen(blob_id, sizeof(f->blob_id) - 1) : 0;
        memcpy(f->blob_id, blob_id ? blob_id : "", n);
        f->blob_id[n] = '\0';
    }
    f->unread = false;
}

void migration_source_add_unread(struct migration_source *src, const char *name, const char *blob_id)
{
    migration_source_add(src, name, "", 0, blob_id);
    src->v[src->n - 1].unread = true;
}

/* The regular .sql files directly inside abs, added as "<prefix><name>". */
static int add_dir_files(struct migration_source *out, DIR *d, const char *abs, const char *prefix,
                         struct dd_error *err)
{
    struct dirent *e;

    while ((e = readdir(d))) {
        struct dd_buf data = DD_BUF_INIT;
        size_t len = strlen(e->d_name);
        char *path, *name;
        struct stat st;

        if (e->d_name[0] == '.' || len < 4 || strcmp(e->d_name + len - 4, ".sql") != 0)
            continue;
        path = dd_path_join(abs, e->d_name);
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        if (dd_read_file(&data, path, err) < 0) {
            free(path);
            return -1;
        }
        name = dd_xasprintf("%s%s", prefix, e->d_name);
        migration_source_add(out, name, data.buf, data.len, NULL);
        free(name);
        dd_buf_release(&data);
        free(path);
    }
    return 0;
}

/* The repeatable/ subdirectory, when there is one. */
static int add_repeatable_dir(struct migration_source *out, const char *abs, struct dd_error *err)
{
    char *sub = dd_path_join(abs, MIGRATION_REPEATABLE_DIR);
    DIR *d = opendir(sub);
    int rc = 0;

    if (d)
        rc = add_dir_files(out, d, sub, MIGRATION_REPEATABLE_DIR "/", err);
    else if (errno != ENOENT && errno != ENOTDIR)
        rc = dd_error_errno(err, DD_EIO, "cannot read '%s/%s'", out->dir, MIGRATION_REPEATABLE_DIR);
    if (d)
        closedir(d);
    free(sub);
    return rc;
}

int migration_source_read_fs(struct migration_source *out, const char *root, const char *dir, struct dd_error *err)
{
    char *abs = dd_path_join(root, dir);
    DIR *d = NULL;
    int rc = -1;

    migration_source_init(out, dir, NULL);
    d = opendir(abs);
    if (!d) {
        if (errno == ENOENT) {
            dd_error_set(err, DD_ECONFIG, "migrations directory '%s' does not exist", dir);
            dd_error_hint(err, "Create it with 'dbdeploy init', or set [migrations] dir in pipeline/dbdeploy.conf.");
        } else {
            dd_error_errno(err, DD_EIO, "cannot read migrations directory '%s'", dir);
        }
        goto cleanup;
    }
    if (add_dir_files(out, d, abs, "", err) < 0 || add_repeatable_dir(out, abs, err) < 0)
        goto cleanup;
    rc = 0;
cleanup:
    if (d)
        closedir(d);
    free(abs);
    if (rc < 0)
        migration_source_release(out);
    return rc;
}

void migration_source_release(struct migration_source *src)
{
    for (size_t i = 0; i < src->n; i++) {
        free(src->v[i].name);
        dd_buf_release(&src->v[i].data);
    }
    free(src->v);
    free(src->dir);
    free(src->commit);
    memset(src, 0, sizeof(*src));
}
