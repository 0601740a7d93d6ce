#ifndef DBDEPLOY_BACKUP_INTERNAL_H
#define DBDEPLOY_BACKUP_INTERNAL_H

/*
 * Shared inside backup/ only. archive.c is the one file that includes libarchive; everything
 * else sees struct bk_writer / struct bk_reader.
 */
#include <sys/types.h>

#include "backup/backup.h"
#include "util/buf.h"
#include "util/proc.h"

/* Largest JSON entry we accept from an archive (a manifest with many thousand versions fits). */
#define BK_JSON_MAX (4u << 20)

/* ---- name.c: archive names ---------------------------------------------------------------- */

struct bk_name {
    time_t time;
    char commit[41]; /* 7..40 hex digits, or BACKUP_NO_COMMIT */
    unsigned seq;    /* 0 = no suffix; else 2, 3, ... */
};

/* "20261121T101500Z-1a2b3c4.tar.zst"; seq >= 2 adds "-<seq>". commit NULL: BACKUP_NO_COMMIT. */
char *bk_name_format(time_t t, const char *commit, unsigned seq);
/* 0 when name is an archive name, -1 otherwise (temporary files, other files). */
int bk_name_parse(struct bk_name *out, const char *name);
/* Order of archives: time, then seq, then name. */
int bk_entry_cmp(const struct backup_entry *a, const struct backup_entry *b);
/* Indexes (into l, oldest first) of the archives to delete so that keep remain. */
void bk_prune_select(const struct backup_list *l, uint32_t keep, const char *protect, size_t *out_idx, size_t *out_n);

/* "dump/part-000001" for index 1. */
void bk_part_name(char *out, size_t outsz, uint32_t index);
/* Index of a part entry name, 0 when name is not one. */
uint32_t bk_part_index(const char *name);

/*
 * The entry sequence of an archive, checked one entry at a time: header.json, then parts
 * numbered from 1, all of part_size bytes except a last shorter non-empty one, then
 * manifest.json and nothing else.
 */
enum bk_layout_state { BK_LAYOUT_START, BK_LAYOUT_PARTS, BK_LAYOUT_END };
struct bk_layout {
    enum bk_layout_state state;
    uint32_t part_size; /* from the header */
    uint32_t parts;
    uint64_t size;   /* sum of part sizes */
    bool short_seen; /* a part shorter than part_size was seen (it must be the last) */
};
#define BK_LAYOUT_INIT                                                                                                 \
    {                                                                                                                  \
        BK_LAYOUT_START, 0, 0, 0, false                                                                                \
    }
/* What the entry is: BK_ENTRY_HEADER, BK_ENTRY_PART, BK_ENTRY_MANIFEST; -1 with err (DD_EINPUT). */
enum bk_entry_kind { BK_ENTRY_HEADER, BK_ENTRY_PART, BK_ENTRY_MANIFEST };
int bk_layout_entry(struct bk_layout *l, const char *name, int64_t size, struct dd_error *err);
/* Call once the part size is known (after header.json was parsed). */
void bk_layout_set_part_size(struct bk_layout *l, uint32_t part_size);
/* At the end of the archive: -1 unless manifest.json was the last entry. */
int bk_layout_finish(const struct bk_layout *l, struct dd_error *err);

/* ---- manifest.c: header.json / manifest.json ---------------------------------------------- */

/* JSON for header.json (complete == false) or manifest.json; strings are masked. */
void bk_manifest_json(struct dd_buf *out, const struct backup_manifest *m);
/* Parse either file; what names it in errors ("'x.tar.zst': header.json"). DD_EINPUT. */
int bk_manifest_parse(struct backup_manifest *out, const char *json, size_t len, const char *what,
                      struct dd_error *err);
/* -1 (DD_EINPUT naming the field) when a header and a manifest disagree on what was backed up. */
int bk_manifest_match(const struct backup_manifest *header, const struct backup_manifest *manifest, const char *what,
                      struct dd_error *err);
/* "15.4" from 150004, "9.6.24" from 90624. */
void bk_server_version_text(char *out, size_t outsz, int num);

/* ---- archive.c: the libarchive boundary --------------------------------------------------- */

/*
 * A file read back while it is written: the writer publishes each write, a reader opened with
 * bk_reader_open_tail waits for more until bk_tail_close (end of file) or bk_tail_abort (error).
 */
struct bk_tail;
struct bk_tail *bk_tail_new(void);
void bk_tail_close(struct bk_tail *t);
void bk_tail_abort(struct bk_tail *t);
void bk_tail_free(struct bk_tail *t);

struct bk_writer;
/* Write a tar.zst stream to fd (borrowed); path names it in errors; tail (may be NULL) hears of each write. */
int bk_writer_open(struct bk_writer **out, int fd, const char *path, uint32_t level, struct bk_tail *tail,
                   struct dd_error *err);
/* One whole entry (mode 0600). */
int bk_writer_add(struct bk_writer *w, const char *name, const void *data, size_t len, time_t mtime,
                  struct dd_error *err);
/* Finish the tar stream and the zstd frame. */
int bk_writer_close(struct bk_writer *w, struct dd_error *err);
void bk_writer_free(struct bk_writer *w);

struct bk_reader;
int bk_reader_open(struct bk_reader **out, const char *path, struct dd_error *err);
/* Read path while another thread writes it through a writer given the same tail. */
int bk_reader_open_tail(struct bk_reader **out, const char *path, struct bk_tail *tail, struct dd_error *err);
/* 1 with the next entry's name (valid until the next call) and size, 0 at the end, -1 on error. */
int bk_reader_next(struct bk_reader *r, const char **name, int64_t *size, struct dd_error *err);
/* The next block of the current entry's data (borrowed); *len 0 at its end. */
int bk_reader_data(struct bk_reader *r, const void **data, size_t *len, struct dd_error *err);
/* The whole current entry into out, refusing more than max bytes. */
int bk_reader_slurp(struct bk_reader *r, struct dd_buf *out, size_t max, struct dd_error *err);
void bk_reader_free(struct bk_reader *r);

/* ---- scan.c: reading an archive from end to end ------------------------------------------- */

/* Receives the dump's bytes in order while an archive is scanned. */
struct bk_sink {
    int (*write)(void *arg, const void *data, size_t len, struct dd_error *err);
    void *arg;
};

/*
 * Read the archive, checking its layout, the dump's size and SHA-256 against manifest.json,
 * and header.json against manifest.json; the dump goes to sink (may be NULL). `expect` (may be
 * NULL) is a complete manifest the archive must match (the one computed while writing, or the
 * one verified before a restore). Damage is DD_EINPUT; sink errors pass through unchanged.
 */
int bk_scan(struct backup_manifest *out, const char *path, const struct backup_manifest *expect,
            const struct bk_sink *sink, struct dd_error *err);
/* bk_scan of a file still being written (see bk_tail), without a progress line. */
int bk_scan_tail(struct backup_manifest *out, const char *path, struct bk_tail *tail, struct dd_error *err);
/* -1 (DD_EINPUT) unless the archive's manifest m is exactly the one computed while writing it. */
int bk_check_expected(const struct backup_manifest *m, const struct backup_manifest *expect, const char *path,
                      struct dd_error *err);

/* ---- relay.c: handing buffers to a worker thread ------------------------------------------ */

struct bk_relay;
/* Called on the worker thread for each buffer, in order; -1 (with err) stops the relay. */
typedef int (*bk_relay_fn)(void *arg, const void *data, size_t len, struct dd_error *err);
int bk_relay_start(struct bk_relay **out, size_t bufsize, unsigned nbuf, bk_relay_fn fn, void *arg,
                   struct dd_error *err);
/* A free buffer to fill (waits while all are queued); -1 with the worker's error once it failed. */
int bk_relay_buffer(struct bk_relay *r, unsigned char **buf, size_t *size, struct dd_error *err);
/* Hand the buffer from bk_relay_buffer, holding len bytes, to the worker. */
int bk_relay_put(struct bk_relay *r, size_t len, struct dd_error *err);
/* Copy bytes in, handing over each buffer as it fills (not mixed with bk_relay_buffer). */
int bk_relay_write(struct bk_relay *r, const void *data, size_t len, struct dd_error *err);
/* Hand over what bk_relay_write left, wait for the worker to finish everything, stop it. */
int bk_relay_finish(struct bk_relay *r, struct dd_error *err);
/* Stop the worker (dropping what is queued) and free everything; NULL is fine. */
void bk_relay_free(struct bk_relay *r);

/* ---- tool.c: pg_dump / pg_restore ----------------------------------------------------------- */

struct bk_tool_version {
    char text[32]; /* "15.4" */
    int major;     /* comparable: 15 -> 1500, 9.6 -> 906 */
};

/* Run `program --version` and parse it; setting names the config key for hints. */
int bk_tool_version(struct bk_tool_version *out, const char *program, const char *setting, struct dd_error *err);
/* Parse "pg_dump (PostgreSQL) 15.4 (Debian ...)"; -1 when there is no version in it. */
int bk_parse_tool_version(struct bk_tool_version *out, const char *text);
/* The major version of a server_version_num, comparable with bk_tool_version's (150004 -> 1500). */
int bk_server_major(int num);
/* "15" or "9.6" from 1500 or 906. */
void bk_major_text(char *out, size_t outsz, int major);

/*
 * A private directory with the child's connection settings: a 0600 pg_service.conf holding every
 * setting (sslpassword included) and, when there is a password, a 0600 password file. The child
 * is then run with --dbname=service=BK_SERVICE_NAME, so no secret is on its argv (readable by
 * anyone in /proc) or in its environment.
 * The directory is "<[backup] dir>/.tmp/pg-<pid>.XXXXXX" (.tmp is 0700), so that backup_sweep
 * can remove the files of a run that was killed.
 */
#define BK_SERVICE_NAME "dbdeploy"
struct bk_passfile {
    char *dir;
    char *path;    /* pgpass, NULL when there is no password */
    char *service; /* pg_service.conf, NULL when no conninfo was given */
};
#define BK_PASSFILE_INIT                                                                                               \
    {                                                                                                                  \
        NULL, NULL, NULL                                                                                               \
    }
/* conninfo: db_child_conninfo's string (may be NULL); password may be NULL; dir: the [backup] dir,
 * whose .tmp/ holds the files (NULL: a directory under TMPDIR). */
int bk_passfile_create(struct bk_passfile *pf, const char *conninfo, const char *password, const char *dir,
                       struct dd_error *err);
/* Under the [backup] dir: private directories of password and service files, "pg-<pid>.XXXXXX". */
#define BK_TMP_DIR ".tmp"
/* PGSERVICEFILE=<service> (PGSERVICE unset), PGPASSFILE=<path> and PGPASSWORD unset, for the files there are. */
void bk_passfile_apply(const struct bk_passfile *pf, struct dd_proc *p);
/* Wipe and remove. */
void bk_passfile_release(struct bk_passfile *pf);
/* The passfile line for a password: "*:*:*:*:" with ':' and '\' escaped. -1 on a newline. */
int bk_passfile_line(struct dd_buf *out, const char *password);

/* ---- progress ------------------------------------------------------------------------------ */

struct bk_progress {
    const char *verb; /* "backup", "verify", "restore"; NULL shows nothing */
    uint64_t start_ms, last_ms;
    uint64_t total; /* 0 = unknown */
};
void bk_progress_start(struct bk_progress *p, const char *verb, uint64_t total);
void bk_progress_update(struct bk_progress *p, uint64_t done);
void bk_progress_end(struct bk_progress *p);

#endif
