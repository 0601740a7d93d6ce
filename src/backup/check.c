/* backup_check_restorable: what a future restore needs, checked before anything changes. */
#include "backup/internal.h"

#include <stdio.h>
#include <sys/statvfs.h>

#include "util/fs.h"
#include "util/parse.h"

/* Free bytes where dir is, or would be created. */
static int free_bytes(uint64_t *out, const char *dir, struct dd_error *err)
{
    char *p = dd_xstrdup(dir);
    struct statvfs sv;

    while (!dd_path_exists(p) && strcmp(p, "/") != 0 && strcmp(p, ".") != 0) {
        char *up = dd_dirname(p);
        free(p);
        p = up;
    }
    if (statvfs(p, &sv) < 0) {
        dd_error_errno(err, DD_EIO, "cannot tell the free space of '%s'", p);
        free(p);
        return -1;
    }
    free(p);
    *out = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
    return 0;
}

int backup_check_restorable(const char *pg_dump, const char *pg_restore, const char *dir, uint64_t need,
                            struct dd_error *err)
{
    struct bk_tool_version d, r;
    uint64_t avail;
    char a[32], n[32];

    if (bk_tool_version(&r, pg_restore, "[backup] pg-restore", err) < 0 ||
        bk_tool_version(&d, pg_dump, "[backup] pg-dump", err) < 0) {
        dd_error_recode(err, DD_EBLOCKED);
        return -1;
    }
    if (r.major < d.major) {
        dd_error_set(err, DD_EBLOCKED, "pg_restore %s ('%s') cannot read what pg_dump %s ('%s') writes", r.text,
                     pg_restore, d.text, pg_dump);
        dd_error_hint(err, "Install pg_restore %s or newer and set [backup] pg-restore to its path.", d.text);
        return -1;
    }
    if (free_bytes(&avail, dir, err) < 0)
        return -1;
    if (avail < need) {
        dd_format_bytes(a, sizeof(a), avail);
        dd_format_bytes(n, sizeof(n), need);
        dd_error_set(err, DD_EBLOCKED, "the backup directory '%s' has %s free, less than the database's %s", dir, a, n);
        dd_error_hint(err, "Free space there, or point [backup] dir at a larger disk.");
        return -1;
    }
    return 0;
}
