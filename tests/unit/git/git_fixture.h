#ifndef DBDEPLOY_TESTS_UNIT_GIT_FIXTURE_H
#define DBDEPLOY_TESTS_UNIT_GIT_FIXTURE_H

/*
 * Real repositories for the git/ unit tests, built with the git CLI through dd_proc (an argv
 * array, never a shell) in a private temp dir. Every commit gets the next of a series of fixed
 * dates, so history order and dates are deterministic. Include after cmocka.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "git/git.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/proc.h"

#define FX_FIRST_DATE 1763640000 /* 2025-11-20T12:00:00Z */

struct fx {
    char *tmp;      /* private temp dir, removed at teardown */
    long next_date; /* author/committer date of the next commit */
};

static struct fx fx_state;

/* cmocka group setup: a temp dir, a HOME without a user config, libgit2 initialised. */
DD_UNUSED static int fx_setup(void **state)
{
    struct dd_error err = DD_ERROR_INIT;
    char *home;

    (void)state;
    if (dd_mkdtemp(&fx_state.tmp, "dbdeploy-gittest", &err) < 0) {
        fprintf(stderr, "%s\n", dd_error_msg(&err));
        dd_error_release(&err);
        return -1;
    }
    home = dd_path_join(fx_state.tmp, "home");
    mkdir(home, 0700);
    /* the same settings for the git CLI and for libgit2 (which reads HOME when initialised) */
    setenv("HOME", home, 1);
    setenv("XDG_CONFIG_HOME", home, 1);
    setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    setenv("GIT_CEILING_DIRECTORIES", fx_state.tmp, 1);
    setenv("GIT_AUTHOR_NAME", "Alice Author", 1);
    setenv("GIT_AUTHOR_EMAIL", "alice@example.com", 1);
    setenv("GIT_COMMITTER_NAME", "Carol Committer", 1);
    setenv("GIT_COMMITTER_EMAIL", "carol@example.com", 1);
    unsetenv("GIT_DIR");
    unsetenv("GIT_WORK_TREE");
    free(home);
    fx_state.next_date = FX_FIRST_DATE;
    git_libgit2_init();
    return 0;
}

DD_UNUSED static int fx_teardown(void **state)
{
    (void)state;
    git_libgit2_shutdown();
    if (fx_state.tmp)
        dd_rm_rf(fx_state.tmp);
    free(fx_state.tmp);
    fx_state.tmp = NULL;
    return 0;
}

/* A new empty directory under the temp dir (name made unique). Caller frees. */
DD_UNUSED static char *fx_dir(const char *name)
{
    static int seq;
    char *d = dd_xasprintf("%s/%s-%d", fx_state.tmp, name, ++seq);
    struct dd_error err = DD_ERROR_INIT;

    if (dd_mkdir_p(d, 0755, &err) < 0)
        fail_msg("%s", dd_error_msg(&err));
    return d;
}

/* Run git with the given arguments in dir; its stdout (trailing newline removed) in *out if asked. */
DD_UNUSED static int fx_git_v(const char *dir, char **out, bool must_succeed, const char *const *args)
{
    struct dd_proc p = DD_PROC_INIT;
    struct dd_error err = DD_ERROR_INIT;
    char date[64];
    int rc;

    dd_strv_push(&p.argv, "git");
    dd_strv_push(&p.argv, "-C");
    dd_strv_push(&p.argv, dir);
    dd_strv_pushv(&p.argv, args);
    snprintf(date, sizeof(date), "@%ld +0100", fx_state.next_date);
    dd_proc_env_set(&p, "GIT_AUTHOR_DATE", date);
    dd_proc_env_set(&p, "GIT_COMMITTER_DATE", date);
    p.stdout_mode = DD_PROC_CAPTURE;
    p.stderr_mode = DD_PROC_CAPTURE;
    rc = dd_proc_run(&p, &err);
    if (rc < 0 && must_succeed)
        fail_msg("git %s failed: %s", args[0], dd_error_msg(&err));
    if (out) {
        dd_buf_rtrim(&p.out_capture);
        *out = dd_buf_detach(&p.out_capture, NULL);
    }
    if (strcmp(args[0], "commit") == 0 || strcmp(args[0], "merge") == 0)
        fx_state.next_date += 3600;
    dd_error_release(&err);
    dd_proc_release(&p);
    return rc;
}

#define FX_ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
/* fx_git(dir, "commit", "-m", "x"): must succeed */
#define fx_git(dir, ...) fx_git_v(dir, NULL, true, FX_ARGS(__VA_ARGS__))
/* fx_git_out(dir, &s, "rev-parse", "HEAD"): must succeed; s is stdout, caller frees */
#define fx_git_out(dir, out, ...) fx_git_v(dir, out, true, FX_ARGS(__VA_ARGS__))

/* Write bytes to dir/rel, creating parent directories. */
DD_UNUSED static void fx_write_n(const char *dir, const char *rel, const void *data, size_t len)
{
    struct dd_error err = DD_ERROR_INIT;
    char *path = dd_path_join(dir, rel), *parent = dd_dirname(path);

    if (dd_mkdir_p(parent, 0755, &err) < 0 || dd_write_file_atomic(path, data, len, 0644, &err) < 0)
        fail_msg("%s", dd_error_msg(&err));
    free(parent);
    free(path);
}

DD_UNUSED static void fx_write(const char *dir, const char *rel, const char *text)
{
    fx_write_n(dir, rel, text, strlen(text));
}

DD_UNUSED static void fx_remove(const char *dir, const char *rel)
{
    char *path = dd_path_join(dir, rel);
    if (unlink(path) < 0)
        fail_msg("cannot remove %s", path);
    free(path);
}

/* A repository on branch main with one empty commit. Caller frees. */
DD_UNUSED static char *fx_repo(const char *name)
{
    char *d = fx_dir(name);
    fx_git(d, "init", "-q", "-b", "main");
    fx_git(d, "config", "core.autocrlf", "false");
    fx_git(d, "commit", "-q", "--allow-empty", "-m", "initial");
    return d;
}

/* git add -A and commit; returns the new commit id (caller frees). */
DD_UNUSED static char *fx_commit(const char *dir, const char *message)
{
    char *id = NULL;
    fx_git(dir, "add", "-A");
    fx_git(dir, "commit", "-q", "--allow-empty", "-m", message);
    fx_git_out(dir, &id, "rev-parse", "HEAD");
    return id;
}

/* git rev-parse ARG (caller frees). */
DD_UNUSED static char *fx_rev(const char *dir, const char *arg)
{
    char *id = NULL;
    fx_git_out(dir, &id, "rev-parse", arg);
    return id;
}

DD_UNUSED static struct repo *fx_open(const char *path)
{
    struct repo *r = NULL;
    struct dd_error err = DD_ERROR_INIT;

    if (repo_open(&r, path, &err) < 0)
        fail_msg("repo_open(%s): %s", path, dd_error_msg(&err));
    return r;
}

#endif
