#ifndef DBDEPLOY_UTIL_FS_H
#define DBDEPLOY_UTIL_FS_H

/*
 * Filesystem helpers. Every descriptor is opened O_CLOEXEC. Errors name the path and carry
 * strerror(errno); the category is DD_EIO.
 */
#include <sys/types.h>

#include "util/buf.h"
#include "util/error.h"

/* Append the whole file to out. */
int dd_read_file(struct dd_buf *out, const char *path, struct dd_error *err);
/* The same for a file we also write (changelogs): a symlink or anything but a regular file is
 * an error naming the path, with a hint. */
int dd_read_regular_file(struct dd_buf *out, const char *path, struct dd_error *err);
/*
 * Write data to path atomically: a temporary file in the same directory, fsync, rename, fsync
 * of the directory. The file gets `mode`. On failure nothing is left behind. A path that is a
 * symbolic link (or not a regular file) is refused with an error naming it; the temporary file
 * comes from mkstemp, so no planted name can redirect the write.
 */
int dd_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, struct dd_error *err);
/* Create path and its missing parents with `mode` (existing directories are left as they are). */
int dd_mkdir_p(const char *path, mode_t mode, struct dd_error *err);
int dd_fsync_dir(const char *dir, struct dd_error *err);
bool dd_is_dir(const char *path);
bool dd_path_exists(const char *path);
/* path itself is a symbolic link (not followed). */
bool dd_is_symlink(const char *path);
/* "a/b" from "a" and "b"; b absolute returns a copy of b. Caller frees. */
char *dd_path_join(const char *a, const char *b);
/* Directory part of path ("." when none). Caller frees. */
char *dd_dirname(const char *path);
/* Final component of path (borrowed pointer into path). */
const char *dd_basename(const char *path);
/* A new private (0700) directory under $TMPDIR or /tmp; *out is the path, caller frees. */
int dd_mkdtemp(char **out, const char *prefix, struct dd_error *err);
/* Remove a tree (best effort, for our own temporary directories). */
void dd_rm_rf(const char *path);

#endif
