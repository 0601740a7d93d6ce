/* backup_sweep: the leftovers of killed runs (see backup.h). */
#include "backup/internal.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "util/fs.h"

/* A pid that no longer exists (EPERM: it exists, as another user's process). */
static bool dead(long pid)
{
    return pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* The pid in "pg-<pid>.XXXXXX", or 0. */
static long passfile_pid(const char *name)
{
    char *end;
    long pid;

    if (strncmp(name, "pg-", 3) != 0)
        return 0;
    pid = strtol(name + 3, &end, 10);
    return *end == '.' ? pid : 0;
}

/* The pid in ".<archive>.tmp-<pid>", or 0. */
static long partial_pid(const char *name)
{
    const char *t = strstr(name, ".tmp-");
    char *end;
    long pid;

    if (name[0] != '.' || !t)
        return 0;
    pid = strtol(t + 5, &end, 10);
    return *end == '\0' ? pid : 0;
}

static void sweep_passfiles(struct dd_strv *removed, const char *dir)
{
    char *root = dd_path_join(dir, BK_TMP_DIR);
    DIR *d = opendir(root);
    struct dirent *e;

    while (d && (e = readdir(d))) {
        long pid = passfile_pid(e->d_name);
        struct bk_passfile pf = BK_PASSFILE_INIT;
        if (!dead(pid))
            continue;
        pf.dir = dd_path_join(root, e->d_name);
        pf.path = dd_path_join(pf.dir, "pgpass");
        bk_passfile_release(&pf); /* wipes the password, then removes the directory */
        dd_strv_pushf(removed, "removed the password file of a killed dbdeploy (pid %ld) from %s/%s", pid, root,
                      e->d_name);
    }
    if (d)
        closedir(d);
    free(root);
}

static void sweep_partials(struct dd_strv *removed, const char *dir, const char *env)
{
    char *envdir = dd_path_join(dir, env);
    DIR *d = opendir(envdir);
    struct dirent *e;

    while (d && (e = readdir(d))) {
        long pid = partial_pid(e->d_name);
        char *path;
        if (!dead(pid))
            continue;
        path = dd_path_join(envdir, e->d_name);
        if (unlink(path) == 0)
            dd_strv_pushf(removed, "removed the partial archive %s of a killed dbdeploy (pid %ld)", path, pid);
        free(path);
    }
    if (d)
        closedir(d);
    free(envdir);
}

void backup_sweep(struct dd_strv *removed, const char *dir, const char *env)
{
    if (!dir)
        return;
    sweep_passfiles(removed, dir);
    if (env)
        sweep_partials(removed, dir, env);
}
