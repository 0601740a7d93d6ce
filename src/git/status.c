/* Uncommitted changes: what `git status` would list under a directory. */
#include "git/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"

static const char *state_word(unsigned int s)
{
    if (s & GIT_STATUS_CONFLICTED)
        return "conflicted";
    if (s & GIT_STATUS_INDEX_NEW)
        return "added";
    if (s & (GIT_STATUS_INDEX_DELETED | GIT_STATUS_WT_DELETED))
        return "deleted";
    if (s & (GIT_STATUS_INDEX_TYPECHANGE | GIT_STATUS_WT_TYPECHANGE))
        return "typechange";
    if (s & (GIT_STATUS_INDEX_MODIFIED | GIT_STATUS_WT_MODIFIED | GIT_STATUS_INDEX_RENAMED | GIT_STATUS_WT_RENAMED))
        return "modified";
    if (s & GIT_STATUS_WT_NEW)
        return "untracked";
    return NULL;
}

static const char *entry_path(const git_status_entry *e)
{
    const git_diff_delta *d = e->index_to_workdir ? e->index_to_workdir : e->head_to_index;

    if (!d)
        return NULL;
    return d->new_file.path ? d->new_file.path : d->old_file.path;
}

static int cmp_after_colon(const void *a, const void *b)
{
    const char *x = strchr(*(char *const *)a, ':'), *y = strchr(*(char *const *)b, ':');
    return strcmp(x, y);
}

/* What the index recorded for a regular file still matches lstat, and the entry is not racily clean. */
static bool stat_matches(const struct repo_index_entry *e, const struct stat *st, const struct timespec *index_mtime)
{
    bool exec = e->mode == GIT_FILEMODE_BLOB_EXECUTABLE;

    if (!S_ISREG(st->st_mode) || exec != ((st->st_mode & S_IXUSR) != 0) || e->size != (uint32_t)st->st_size ||
        e->ino != (uint32_t)st->st_ino || e->mtime_s != (uint32_t)st->st_mtim.tv_sec ||
        e->mtime_ns != (uint32_t)st->st_mtim.tv_nsec || e->ctime_s != (uint32_t)st->st_ctim.tv_sec ||
        e->ctime_ns != (uint32_t)st->st_ctim.tv_nsec)
        return false;
    /* written in the same instant as the index (or after): only the contents can tell */
    return (time_t)e->mtime_s < index_mtime->tv_sec ||
           ((time_t)e->mtime_s == index_mtime->tv_sec && (long)e->mtime_ns < index_mtime->tv_nsec);
}

/* An index entry that matched HEAD, waiting for its lstat; name is an offset into clean_walk.names. */
struct pending_stat {
    struct repo_index_entry e; /* e.path unused */
    size_t name;
};

struct clean_walk {
    const git_tree *head;
    int dfd;
    struct timespec index_mtime; /* set by the walk before the first entry */
    size_t count;
    struct pending_stat *v;
    size_t n, alloc;
    struct dd_buf names; /* NUL-separated */
};

/* One index entry under the directory: a stage-0 regular file with HEAD's id and mode (lstat comes later). */
static bool entry_matches_head(const struct repo_index_entry *e, const char *name, void *arg)
{
    struct clean_walk *w = arg;
    const git_tree_entry *te;

    w->count++;
    if (strchr(name, '/') || ((e->flags >> 12) & 3) != 0 ||
        (e->flags_ext & (GIT_INDEX_ENTRY_INTENT_TO_ADD | GIT_INDEX_ENTRY_SKIP_WORKTREE)) ||
        (e->mode != GIT_FILEMODE_BLOB && e->mode != GIT_FILEMODE_BLOB_EXECUTABLE))
        return false;
    te = w->head ? git_tree_entry_byname(w->head, name) : NULL;
    if (!te || memcmp(git_tree_entry_id(te)->id, e->oid, REPO_OID_RAW) != 0 ||
        (unsigned)git_tree_entry_filemode(te) != e->mode)
        return false;
    DD_ALLOC_GROW(w->v, w->n + 1, w->alloc);
    w->v[w->n].e = *e;
    w->v[w->n].e.path = NULL;
    w->v[w->n++].name = w->names.len;
    dd_buf_add(&w->names, name, strlen(name) + 1);
    return true;
}

/* Names in the directory other than "." and "..", or SIZE_MAX when it cannot be read. */
static size_t count_names(int dfd)
{
    int fd = dup(dfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *de;
    size_t n = 0;

    if (!d) {
        if (fd >= 0)
            close(fd);
        return SIZE_MAX;
    }
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

struct stat_share {
    const struct clean_walk *w;
    size_t from, to;
    bool count; /* also check that the directory holds nothing but the index's files */
    bool clean;
};

static void *stat_range(void *arg)
{
    struct stat_share *sh = arg;
    const struct clean_walk *w = sh->w;
    struct stat st;

    sh->clean = !sh->count || w->dfd < 0 || count_names(w->dfd) == w->count;
    for (size_t i = sh->from; i < sh->to && sh->clean; i++)
        sh->clean = fstatat(w->dfd, w->names.buf + w->v[i].name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    stat_matches(&w->v[i].e, &st, &w->index_mtime);
    return NULL;
}

/*
 * lstat every pending entry and count the directory's names. With thousands of files the
 * calls dominate (2-3 us each on a VM), so half of them run on a second thread, as git's
 * core.preloadIndex does.
 */
#define STAT_THREAD_MIN 2000
static bool stats_unchanged(const struct clean_walk *w)
{
    struct stat_share a = {w, 0, w->n, true, true}, b = {w, w->n / 2, w->n, true, true};
    pthread_t t;
    bool threaded = w->n >= STAT_THREAD_MIN && pthread_create(&t, NULL, stat_range, &b) == 0;

    if (threaded) { /* the second thread also reads the directory */
        a.to = b.from;
        a.count = false;
    }
    stat_range(&a);
    if (threaded)
        pthread_join(t, NULL);
    return a.clean && b.clean;
}

/*
 * The common case, answered without git_status_list_new: every index entry under the directory
 * is a stage-0 regular file with HEAD's id and mode, lstat matches what the index recorded
 * (and it is not racily clean), HEAD has no other file there, and the directory holds no other
 * name (so nothing untracked or ignored, no subdirectory). Then git status lists nothing. Any
 * doubt returns false and the full status decides. This costs one lstat per file; libgit2's
 * status also sorts, filters and diffs every entry, several times slower with 10,000 files.
 */
static bool fast_clean(struct repo *r, const char *full)
{
    struct dd_error ignored = DD_ERROR_INIT;
    struct clean_walk w = {.dfd = -1, .names = DD_BUF_INIT};
    git_commit *c = NULL;
    git_tree *head = NULL;
    char *prefix = NULL, *abs = NULL, *index_path = NULL;
    size_t head_files = 0;
    bool clean = false;

    /*
     * The directory's tree is parsed here and again when the caller lists it; libgit2 caches
     * trees up to 4 KiB only, and a migrations tree takes ~40 bytes per file.
     */
    git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, (int)GIT_OBJECT_TREE, (size_t)64 << 20);
    if (!*full || repo_lookup_commit(&c, r, "HEAD", &ignored) < 0 || repo_subtree(&head, r, c, full, &ignored) < 0)
        goto cleanup;
    for (size_t i = 0, n = head ? git_tree_entrycount(head) : 0; i < n; i++, head_files++)
        if (git_tree_entry_type(git_tree_entry_byindex(head, i)) != GIT_OBJECT_BLOB)
            goto cleanup;
    w.head = head;
    abs = dd_path_join(r->workdir, full);
    prefix = dd_xasprintf("%s/", full);
    index_path = dd_path_join(git_repository_path(r->git), "index");
    w.dfd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    /* no directory: clean when neither HEAD nor the index has files there (any entry fails fstatat) */
    if (w.dfd < 0 && (errno != ENOENT || head_files))
        goto cleanup;
    clean = repo_index_walk(index_path, prefix, entry_matches_head, &w, &w.index_mtime) == REPO_INDEX_DONE &&
            w.count == head_files && stats_unchanged(&w);
cleanup:
    if (w.dfd >= 0)
        close(w.dfd);
    free(w.v);
    dd_buf_release(&w.names);
    free(index_path);
    free(abs);
    free(prefix);
    git_tree_free(head);
    git_commit_free(c);
    dd_error_release(&ignored);
    git_error_clear();
    return clean;
}

int repo_dirty_paths(struct dd_strv *out, struct repo *r, const char *dir, struct dd_error *err)
{
    git_status_options opts;
    git_status_list *list = NULL;
    char *clean = NULL, *full = NULL;
    size_t full_len, plen = strlen(r->prefix);
    int rc = -1;

    clean = repo_clean_path(dir, err);
    if (!clean)
        goto cleanup;
    full = repo_full_path(r, clean);
    full_len = strlen(full);
    if (fast_clean(r, full)) {
        rc = 0;
        goto cleanup;
    }
    git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
    opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    /* untracked files one by one (not "dir/"), ignored ones never; literal paths, no globbing */
    opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
                 GIT_STATUS_OPT_EXCLUDE_SUBMODULES | GIT_STATUS_OPT_DISABLE_PATHSPEC_MATCH;
    if (full_len) {
        opts.pathspec.strings = &full;
        opts.pathspec.count = 1;
    }
    if (git_status_list_new(&list, r->git, &opts) < 0) {
        repo_git_error(err, "cannot read the status of '%s'", *clean ? clean : ".");
        goto cleanup;
    }
    for (size_t i = 0, n = git_status_list_entrycount(list); i < n; i++) {
        const git_status_entry *e = git_status_byindex(list, i);
        const char *word = state_word(e->status), *path = entry_path(e);

        if (!word || !path)
            continue;
        /* the pathspec also matches "migrations2/..." for "migrations"; keep the directory only */
        if (full_len && !(strncmp(path, full, full_len) == 0 && (path[full_len] == '/' || !path[full_len])))
            continue;
        dd_strv_pushf(out, "%s: %s", word, path + (plen ? plen + 1 : 0));
    }
    qsort(out->v, out->n, sizeof(*out->v), cmp_after_colon);
    rc = 0;
cleanup:
    git_status_list_free(list);
    free(full);
    free(clean);
    if (rc < 0)
        dd_strv_clear(out);
    return rc;
}
