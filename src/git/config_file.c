#include "git/internal.h"

#include <git2.h>

#include <fcntl.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/fs.h"

struct collect {
    struct repo_config_entries *out;
};

static int collect_entry(const git_config_entry *e, void *payload)
{
    struct collect *c = payload;
    struct repo_config_entry *ent;
    const char *name = e->name, *first_dot = strchr(name, '.'), *last_dot = strrchr(name, '.');

    if (!first_dot)
        return 0;
    DD_ALLOC_GROW(c->out->v, c->out->n + 1, c->out->alloc);
    ent = &c->out->v[c->out->n++];
    ent->section = dd_xstrndup(name, (size_t)(first_dot - name));
    ent->subsection = last_dot > first_dot ? dd_xstrndup(first_dot + 1, (size_t)(last_dot - first_dot - 1)) : NULL;
    ent->key = dd_xstrdup(last_dot + 1);
    ent->value = e->value ? dd_xstrdup(e->value) : NULL;
    return 0;
}

/* libgit2 names the absolute path in its messages; show the path the user knows instead. */
static void set_git_error(struct dd_error *err, const char *path, const char *display_path)
{
    const git_error *ge = git_error_last();
    struct dd_buf b = DD_BUF_INIT;

    dd_buf_add_replaced(&b, ge && ge->message ? ge->message : "unknown libgit2 error", path, display_path);
    {
        /* "invalid escape at <rest of the line>": the line may hold a password; keep where, not what */
        char *at = strstr(b.buf, " at "), *in = at ? strstr(at, " (in ") : NULL;
        if (at)
            memmove(at, in ? in : "", strlen(in ? in : "") + 1);
    }
    dd_error_set(err, DD_ECONFIG, "%s: %s", display_path, b.buf);
    dd_error_hint(err, "The file uses git-config syntax: [section] headers and 'key = value' lines.");
    dd_buf_release(&b);
}

int repo_config_read_file(struct repo_config_entries *out, const char *path, const char *display_path,
                          struct dd_error *err)
{
    git_config *cfg = NULL;
    struct collect c = {out};
    int rc = -1;

    if (repo_lazy_init(err) < 0)
        return -1;
    if (git_config_new(&cfg) < 0 || git_config_add_file_ondisk(cfg, path, GIT_CONFIG_LEVEL_APP, NULL, 1) < 0) {
        set_git_error(err, path, display_path);
        goto cleanup;
    }
    if (git_config_foreach(cfg, collect_entry, &c) < 0) {
        set_git_error(err, path, display_path);
        goto cleanup;
    }
    rc = 0;
cleanup:
    git_config_free(cfg);
    if (rc < 0)
        repo_config_entries_release(out);
    return rc;
}

/*
 * libgit2 1.5 parses config only from files, so committed bytes go through a private (0700)
 * temporary directory that is removed at once; messages still name display_path.
 */
int repo_config_read_buf(struct repo_config_entries *out, const void *data, size_t len, const char *display_path,
                         struct dd_error *err)
{
    char *dir = NULL, *path = NULL;
    int fd = -1, rc = -1;

    if (dd_mkdtemp(&dir, "dbdeploy-conf", err) < 0)
        return -1;
    path = dd_path_join(dir, "committed.conf");
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
        dd_error_errno(err, DD_EIO, "cannot copy the committed %s to '%s'", display_path, dir);
        goto cleanup;
    }
    close(fd);
    fd = -1;
    rc = repo_config_read_file(out, path, display_path, err);
cleanup:
    if (fd >= 0)
        close(fd);
    dd_rm_rf(dir);
    free(path);
    free(dir);
    return rc;
}

void repo_config_entries_release(struct repo_config_entries *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].section);
        free(e->v[i].subsection);
        free(e->v[i].key);
        if (e->v[i].value) {
            /* values may hold expanded secrets later; wipe before freeing */
            dd_free_secret(e->v[i].value);
        }
    }
    free(e->v);
    e->v = NULL;
    e->n = e->alloc = 0;
}
