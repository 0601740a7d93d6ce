#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static int symlink_error(struct dd_error *err, const char *path)
{
    dd_error_set(err, DD_EIO, "refusing to use '%s': it is a symbolic link", path);
    dd_error_hint(err,
                  "dbdeploy never reads or writes its files through a link (it could point at any file); "
                  "replace '%s' with a regular file.",
                  path);
    return -1;
}

static int read_fd(struct dd_buf *out, int fd, const char *path, struct dd_error *err);

int dd_read_file(struct dd_buf *out, const char *path, struct dd_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return dd_error_errno(err, DD_EIO, "cannot open '%s'", path);
    return read_fd(out, fd, path, err);
}

int dd_read_regular_file(struct dd_buf *out, const char *path, struct dd_error *err)
{
    /* O_NONBLOCK: a planted FIFO must not hang us before the S_ISREG check */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    struct stat st;

    if (fd < 0 && errno == ELOOP)
        return symlink_error(err, path);
    if (fd < 0)
        return dd_error_errno(err, DD_EIO, "cannot open '%s'", path);
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        dd_error_set(err, DD_EIO, "refusing to read '%s': it is not a regular file", path);
        dd_error_hint(err, "Replace '%s' with a regular file.", path);
        return -1;
    }
    return read_fd(out, fd, path, err);
}

/* Reads fd to the end and closes it. */
static int read_fd(struct dd_buf *out, int fd, const char *path, struct dd_error *err)
{
    int rc = -1;
    struct stat stbuf;

    if (fstat(fd, &stbuf) == 0 && stbuf.st_size > 0)
        dd_buf_grow(out, (size_t)stbuf.st_size);
    for (;;) {
        ssize_t n;
        dd_buf_grow(out, 65536);
        n = read(fd, out->buf + out->len, out->alloc - out->len - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            dd_error_errno(err, DD_EIO, "cannot read '%s'", path);
            goto cleanup;
        }
        if (n == 0)
            break;
        out->len += (size_t)n;
        out->buf[out->len] = '\0';
    }
    rc = 0;
cleanup:
    close(fd);
    return rc;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int dd_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, struct dd_error *err)
{
    char *dir = dd_dirname(path);
    char *tmp = NULL;
    int fd = -1, rc = -1;
    struct stat st;

    /* a link could point anywhere (/proc/self/environ, another user's file): never write through one */
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        symlink_error(err, path);
        goto cleanup;
    }
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        dd_error_set(err, DD_EIO, "refusing to replace '%s': it is not a regular file", path);
        dd_error_hint(err, "Move '%s' out of the way and run again.", path);
        goto cleanup;
    }
    /* mkstemp: an unpredictable name created with O_EXCL, so nothing planted can redirect it */
    tmp = dd_xasprintf("%s/.%s.XXXXXX", dir, dd_basename(path));
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        dd_error_errno(err, DD_EIO, "cannot create a temporary file in '%s'", dir);
        free(tmp);
        tmp = NULL;
        goto cleanup;
    }
    if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        dd_error_errno(err, DD_EIO, "cannot write '%s'", tmp);
        goto cleanup;
    }
    if (close(fd) < 0) {
        fd = -1;
        dd_error_errno(err, DD_EIO, "cannot write '%s'", tmp);
        goto cleanup;
    }
    fd = -1;
    /* rename replaces a link planted at path since the check; it never follows it */
    if (rename(tmp, path) < 0) {
        dd_error_errno(err, DD_EIO, "cannot rename '%s' to '%s'", tmp, path);
        goto cleanup;
    }
    rc = dd_fsync_dir(dir, err);
cleanup:
    if (fd >= 0)
        close(fd);
    if (rc < 0 && tmp)
        unlink(tmp);
    free(tmp);
    free(dir);
    return rc;
}

int dd_mkdir_p(const char *path, mode_t mode, struct dd_error *err)
{
    char *p = dd_xstrdup(path);
    int rc = -1;

    for (char *s = p + 1;; s++) {
        char c = *s;
        if (c != '/' && c != '\0')
            continue;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST) {
            dd_error_errno(err, DD_EIO, "cannot create directory '%s'", p);
            goto cleanup;
        }
        if (!dd_is_dir(p)) {
            dd_error_set(err, DD_EIO, "cannot create directory '%s': a file is in the way", p);
            goto cleanup;
        }
        *s = c;
        if (!c)
            break;
    }
    rc = 0;
cleanup:
    free(p);
    return rc;
}

int dd_fsync_dir(const char *dir, struct dd_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return dd_error_errno(err, DD_EIO, "cannot open directory '%s'", dir);
    if (fsync(fd) < 0 && errno != EINVAL) {
        close(fd);
        return dd_error_errno(err, DD_EIO, "cannot sync directory '%s'", dir);
    }
    close(fd);
    return 0;
}

bool dd_is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool dd_is_symlink(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

bool dd_path_exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

char *dd_path_join(const char *a, const char *b)
{
    size_t al;

    if (b[0] == '/' || !a || !*a || strcmp(a, ".") == 0)
        return dd_xstrdup(b);
    al = strlen(a);
    return dd_xasprintf("%s%s%s", a, a[al - 1] == '/' ? "" : "/", b);
}

char *dd_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (!slash)
        return dd_xstrdup(".");
    if (slash == path)
        return dd_xstrdup("/");
    return dd_xstrndup(path, (size_t)(slash - path));
}

const char *dd_basename(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

int dd_mkdtemp(char **out, const char *prefix, struct dd_error *err)
{
    const char *base = getenv("TMPDIR");
    char *tmpl;

    *out = NULL;
    if (!base || !*base)
        base = "/tmp";
    tmpl = dd_xasprintf("%s/%s.XXXXXX", base, prefix);
    if (!mkdtemp(tmpl)) {
        dd_error_errno(err, DD_EIO, "cannot create a temporary directory under '%s'", base);
        free(tmpl);
        return -1;
    }
    *out = tmpl;
    return 0;
}

void dd_rm_rf(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;

    if (!d) {
        unlink(path);
        return;
    }
    while ((e = readdir(d))) {
        char *child;
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        child = dd_path_join(path, e->d_name);
        if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
            dd_rm_rf(child);
        else
            unlink(child);
        free(child);
    }
    closedir(d);
    rmdir(path);
}
