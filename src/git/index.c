/*
 * A read-only walk over git's index file (Documentation/gitformat-index.txt), for the one
 * question status asks on every call: are the entries under a directory what HEAD has, with
 * the stat data the files still show?
 *
 * libgit2's git_repository_index() parses every entry into its own structures and checks the
 * SHA-1 trailer first (git itself skips that check when it reads); with 20,000 entries that
 * is most of a `status`. This walk maps the file and looks at each entry in place. It reads
 * versions 2 to 4 and stops with "cannot tell" at anything it does not understand: a split
 * or sparse index, an unknown required extension, a malformed or truncated file. The caller
 * then asks libgit2, so the walk may only ever be more cautious, never more permissive.
 */
#include "git/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define INDEX_HEADER_LEN    12
#define INDEX_ENTRY_FIXED   62 /* ctime..size (40) + SHA-1 (20) + flags (2) */
#define INDEX_FLAG_EXTENDED 0x4000
#define INDEX_FLAG_NAMEMASK 0x0fff

struct walk {
    const unsigned char *p, *end;
    unsigned version;
    struct dd_buf path; /* version 4 compresses each path against the previous one */
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const unsigned char *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* git's offset varint (varint.c): 7 bits a byte, each continuation adding one. */
static bool read_varint(struct walk *w, size_t *out)
{
    size_t v;
    unsigned char c;

    if (w->p >= w->end)
        return false;
    c = *w->p++;
    v = c & 0x7f;
    while (c & 0x80) {
        if (w->p >= w->end || v > (SIZE_MAX >> 8))
            return false;
        c = *w->p++;
        v = ((v + 1) << 7) | (c & 0x7f);
    }
    *out = v;
    return true;
}

/* The path of the entry whose fixed part ends at w->p; moves w->p past the entry. */
static bool read_path(struct walk *w, const unsigned char *entry, uint16_t flags)
{
    const unsigned char *nul;
    size_t len, strip, entry_len;

    if (w->version == 4) {
        if (!read_varint(w, &strip) || strip > w->path.len)
            return false;
        dd_buf_setlen(&w->path, w->path.len - strip);
        nul = memchr(w->p, '\0', (size_t)(w->end - w->p));
        if (!nul)
            return false;
        dd_buf_add(&w->path, w->p, (size_t)(nul - w->p));
        w->p = nul + 1;
        return true;
    }
    len = flags & INDEX_FLAG_NAMEMASK;
    if (len == INDEX_FLAG_NAMEMASK) { /* 4095 or longer: the name runs to its NUL */
        nul = memchr(w->p, '\0', (size_t)(w->end - w->p));
        if (!nul)
            return false;
        len = (size_t)(nul - w->p);
    } else if ((size_t)(w->end - w->p) <= len || w->p[len] != '\0') {
        return false;
    }
    dd_buf_reset(&w->path);
    dd_buf_add(&w->path, w->p, len);
    /* versions 2 and 3 pad each entry with 1 to 8 NULs to a multiple of 8 bytes */
    entry_len = ((size_t)(w->p - entry) + len + 8) & ~(size_t)7;
    if ((size_t)(w->end - entry) < entry_len)
        return false;
    w->p = entry + entry_len;
    return true;
}

static bool read_entry(struct walk *w, struct repo_index_entry *e)
{
    const unsigned char *entry = w->p;

    if ((size_t)(w->end - w->p) < INDEX_ENTRY_FIXED)
        return false;
    e->ctime_s = be32(w->p);
    e->ctime_ns = be32(w->p + 4);
    e->mtime_s = be32(w->p + 8);
    e->mtime_ns = be32(w->p + 12);
    e->dev = be32(w->p + 16);
    e->ino = be32(w->p + 20);
    e->mode = be32(w->p + 24);
    e->size = be32(w->p + 36);
    memcpy(e->oid, w->p + 40, sizeof(e->oid));
    e->flags = be16(w->p + 60);
    e->flags_ext = 0;
    w->p += INDEX_ENTRY_FIXED;
    if (e->flags & INDEX_FLAG_EXTENDED) {
        if (w->version < 3 || (size_t)(w->end - w->p) < 2)
            return false;
        e->flags_ext = be16(w->p);
        w->p += 2;
    }
    if (!read_path(w, entry, e->flags))
        return false;
    e->path = w->path.buf;
    return true;
}

/*
 * After the entries: extensions up to the trailing hash. Optional ones (an upper-case first
 * letter: TREE, REUC, UNTR, FSMN, EOIE, IEOT) change nothing here; any other, the split index's
 * "link" and the sparse index's "sdir" among them, means entries live elsewhere.
 */
static bool only_optional_extensions(struct walk *w)
{
    while ((size_t)(w->end - w->p) >= 8) {
        uint32_t size = be32(w->p + 4);

        if (w->p[0] < 'A' || w->p[0] > 'Z')
            return false;
        w->p += 8;
        if ((size_t)(w->end - w->p) < size)
            return false;
        w->p += size;
    }
    return w->p == w->end;
}

int repo_index_parse(const void *data, size_t size, const char *prefix, repo_index_fn fn, void *arg)
{
    struct walk w = {.path = DD_BUF_INIT};
    size_t plen = strlen(prefix), n;
    int rc = REPO_INDEX_UNKNOWN;

    if (size < INDEX_HEADER_LEN + REPO_OID_RAW)
        return REPO_INDEX_UNKNOWN;
    w.p = data;
    w.end = w.p + size - REPO_OID_RAW; /* the trailing hash is not read */
    w.version = be32(w.p + 4);
    if (memcmp(w.p, "DIRC", 4) != 0 || w.version < 2 || w.version > 4)
        return REPO_INDEX_UNKNOWN;
    n = be32(w.p + 8);
    w.p += INDEX_HEADER_LEN;
    for (size_t i = 0; i < n; i++) {
        struct repo_index_entry e;

        if (!read_entry(&w, &e))
            goto cleanup;
        if (strncmp(e.path, prefix, plen) == 0 && !fn(&e, e.path + plen, arg)) {
            rc = REPO_INDEX_STOPPED;
            goto cleanup;
        }
    }
    if (only_optional_extensions(&w))
        rc = REPO_INDEX_DONE;
cleanup:
    dd_buf_release(&w.path);
    return rc;
}

int repo_index_walk(const char *index_path, const char *prefix, repo_index_fn fn, void *arg,
                    struct timespec *index_mtime)
{
    struct stat st;
    void *map = MAP_FAILED;
    int fd, rc = REPO_INDEX_UNKNOWN;

    fd = open(index_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || (uintmax_t)st.st_size > SIZE_MAX)
        goto cleanup;
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED)
        goto cleanup;
    *index_mtime = st.st_mtim;
    rc = repo_index_parse(map, (size_t)st.st_size, prefix, fn, arg);
cleanup:
    if (map != MAP_FAILED)
        munmap(map, (size_t)st.st_size);
    if (fd >= 0)
        close(fd);
    return rc;
}
