#ifndef DBDEPLOY_BACKUP_BACKUP_H
#define DBDEPLOY_BACKUP_BACKUP_H

/*
 * Backups: pg_dump streamed into one compressed archive per backup, read back and verified, and
 * restored with pg_restore so that the database is exactly what was captured.
 *
 * Archive layout. <dir>/<env>/<UTC stamp>-<short commit>.tar.zst, e.g.
 * prod/20261121T101500Z-1a2b3c4.tar.zst ("nogit" instead of a commit outside a repository;
 * "-2", "-3"... before the extension when that name is taken). It is a POSIX tar stream
 * compressed with zstd, holding, in this order:
 *
 *   header.json        what is being backed up: env, database, versions, commit, applied
 *                      migrations, start time (written before the dump, so listing and restore
 *                      checks read only the first kilobytes of an archive)
 *   dump/part-000001   pg_dump's custom-format output, cut into BACKUP_PART_SIZE pieces; only
 *   dump/part-000002   the last one is shorter
 *   ...
 *   manifest.json      the same fields plus the dump's size and SHA-256, part count, end time
 *                      and the SHA-256 of header.json
 * Why tar and fixed-size parts: a tar header carries an entry's size before its data, and
 * pg_dump's output has no length until it ends. Spooling the whole dump to learn its size would
 * cost a full temporary copy; cutting it into fixed-size parts needs one part of memory, and
 * `tar -xOf ARCHIVE dump` joins the parts back in archive order, so a dump can be restored with
 * nothing but tar, zstd and pg_restore (docs/backup.md). Why zstd, once: pg_dump runs with -Z0
 * because its own zlib compression is slower than the dump itself; zstd (level 1 by default) is several
 * times faster at a similar ratio. Memory: a few parts in flight between the thread reading
 * pg_dump and the one compressing (about 32 MiB resident in all, whatever the database size). Every file is written
 * 0600 and the env directory is created 0700; nothing in an archive is secret (values pass through util/mask).
 *
 * Restore strategy. Checks first, on header.json alone: the archive must name the same
 * environment and database unless forced, and pg_restore must be able to read what pg_dump
 * wrote. pg_restore then loads the dump, streamed out of the archive through a pipe (no
 * temporary copy; a custom-format dump restores serially from a pipe), into a NEW database
 * created with the target's properties (owner, encoding, locale, tablespace, connection limit,
 * database-level settings, privileges and comment). While it streams, the archive is verified
 * exactly as backup_verify does (layout, manifest, SHA-256). Only when pg_restore and the
 * verification both succeed is the target switched: new connections to it are refused, its
 * sessions are terminated, and in one transaction it is renamed away and the new database
 * renamed into its place; the old one is then dropped. So a damaged archive or a failed
 * pg_restore never touches the original (the new database is dropped), and objects created
 * after the backup are gone because the database is a fresh one. Archives are trusted input:
 * the checksum catches damage, not forgery, which is why they are written 0600 in a 0700
 * directory.
 *
 * Errors: DD_ECHILD (pg_dump/pg_restore failed; the message quotes their stderr), DD_EIO
 * (filesystem), DD_EDB, DD_ECONFIG (a pg_dump older than the server), DD_EINPUT (a damaged
 * archive given to backup_verify), DD_EBLOCKED (a restore refused before any change),
 * DD_EINTERRUPTED. A failed backup leaves no file behind; a failed restore leaves the target
 * database as it was.
 */
#include <time.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/strv.h"

struct db_conn;

#define BACKUP_PART_SIZE      (4u << 20)
#define BACKUP_EXT            ".tar.zst"
#define BACKUP_FORMAT         "dbdeploy-backup"
#define BACKUP_FORMAT_VERSION 1
#define BACKUP_HEADER_ENTRY   "header.json"
#define BACKUP_MANIFEST_ENTRY "manifest.json"
#define BACKUP_DUMP_DIR       "dump"
#define BACKUP_NO_COMMIT      "nogit"
#define BACKUP_SHA256_HEX_LEN 64

/* What an archive says about itself: header.json, or manifest.json once complete. */
struct backup_manifest {
    char *env;              /* "prod" */
    char *database;         /* "app" */
    char *server_version;   /* "15.4" */
    int server_version_num; /* 150004 */
    char *pg_dump_version;  /* "15.4" */
    char *git_commit;       /* 40 hex digits, NULL outside a repository */
    int64_t *applied;       /* applied migration versions, ascending */
    size_t n_applied;
    char *dbdeploy_version;
    char *started_at;  /* "2026-11-21T10:15:00Z" */
    char *finished_at; /* NULL in a header */
    uint32_t level;    /* zstd level */
    uint32_t part_size;
    /* known once complete (manifest.json): */
    bool complete;
    uint32_t parts;
    uint64_t dump_size;
    char dump_sha256[BACKUP_SHA256_HEX_LEN + 1];   /* "" in a header */
    char header_sha256[BACKUP_SHA256_HEX_LEN + 1]; /* of header.json's bytes; "" in a header */
};

#define BACKUP_MANIFEST_INIT                                                                                           \
    {                                                                                                                  \
        NULL, NULL, NULL, 0, NULL, NULL, NULL, 0, NULL, NULL, NULL, 0, 0, false, 0, 0, "", ""                          \
    }

void backup_manifest_release(struct backup_manifest *m);

/* Everything the caller knows about the database to back up; all pointers borrowed. */
struct backup_request {
    const char *env;
    const char *dir;        /* [backup] dir; the archive goes to <dir>/<env>/ */
    const char *pg_dump;    /* [backup] pg-dump: a path, or a name looked up in PATH */
    uint32_t level;         /* zstd level 1..19 */
    uint32_t keep;          /* keep this many archives of env after success; 0 = all */
    const char *conninfo;   /* libpq conninfo without the password (db_child_conninfo) */
    const char *password;   /* secret, NULL when none; handed to pg_dump in a 0600 passfile */
    const char *database;   /* the database's name, for the manifest */
    int server_version;     /* db_server_version(), e.g. 150004 */
    const char *git_commit; /* 40 hex digits, NULL when unknown */
    const int64_t *applied; /* applied migration versions (any order) */
    size_t n_applied;
};

struct backup_result {
    char *path; /* the archive: <dir>/<env>/<name> */
    struct backup_manifest manifest;
    uint64_t archive_size; /* bytes on disk */
    uint64_t ms;           /* wall time, including the read-back */
    struct dd_strv pruned; /* archives removed because of keep */
};

#define BACKUP_RESULT_INIT                                                                                             \
    {                                                                                                                  \
        NULL, BACKUP_MANIFEST_INIT, 0, 0, DD_STRV_INIT                                                                 \
    }

void backup_result_release(struct backup_result *r);

/*
 * Dump the database into a new archive, read it back and check its SHA-256 (the read-back runs on
 * its own thread while the file is written), then rename it into place and prune old archives (a
 * pruning failure is a warning). Before the dump, pg_dump's major version is compared with the
 * server's (older: DD_ECONFIG naming both). On any failure the partial file is removed and
 * pg_dump is stopped. On a TTY stderr a progress line shows bytes, rate and elapsed time.
 */
int backup_create(struct backup_result *out, const struct backup_request *req, struct dd_error *err);

/*
 * Read an archive completely: entry order and sizes, the dump's size and SHA-256 against
 * manifest.json, and header.json against manifest.json. A damaged, truncated or foreign file is
 * DD_EINPUT. *out receives the manifest (complete) on success.
 */
int backup_verify(struct backup_manifest *out, const char *path, struct dd_error *err);

/* Read only header.json (cheap: the first few kilobytes). out->complete is false. */
int backup_read_header(struct backup_manifest *out, const char *path, struct dd_error *err);

/* One archive of an environment's directory. */
struct backup_entry {
    char *path;       /* <dir>/<env>/<name> */
    char *name;       /* file name */
    time_t time;      /* from the name (UTC) */
    char commit[41];  /* short commit from the name, or BACKUP_NO_COMMIT */
    unsigned seq;     /* 0, or the -N suffix */
    uint64_t size;    /* bytes on disk */
    bool have_header; /* header read (BACKUP_LIST_HEADERS) */
    struct backup_manifest header;
    char *header_error; /* why the header could not be read, else NULL */
};

struct backup_list {
    struct backup_entry *v; /* oldest first */
    size_t n, alloc;
};

#define BACKUP_LIST_INIT                                                                                               \
    {                                                                                                                  \
        NULL, 0, 0                                                                                                     \
    }

enum backup_list_flags {
    BACKUP_LIST_HEADERS = 1 << 0, /* also read each archive's header.json */
};

/*
 * The archives in <dir>/<env>/, oldest first (files not named like archives, and temporary
 * files, are ignored). A missing directory is an empty list.
 */
int backup_list(struct backup_list *out, const char *dir, const char *env, unsigned flags, struct dd_error *err);
void backup_list_release(struct backup_list *l);

/*
 * Delete the oldest archives of env so that `keep` remain (0 keeps all); `protect` (the archive
 * just made, may be NULL) is never deleted. Deleted paths are added to *deleted.
 */
int backup_prune(struct dd_strv *deleted, const char *dir, const char *env, uint32_t keep, const char *protect,
                 struct dd_error *err);

/*
 * Whether an archive may be restored into env's database: the manifest must name the same
 * environment and database, unless force. Otherwise DD_EBLOCKED with a hint naming --force.
 */
int backup_check_target(const struct backup_manifest *m, const char *env, const char *database, bool force,
                        struct dd_error *err);

/*
 * Preflight of a restore that has not happened yet (the way back must exist before the first
 * change): pg_restore runs and reads what this pg_dump writes (its major version at least
 * pg_dump's), and the backup directory (or its nearest existing parent) has `need` bytes free.
 * DD_EBLOCKED naming the problem, with a hint.
 */
int backup_check_restorable(const char *pg_dump, const char *pg_restore, const char *dir, uint64_t need,
                            struct dd_error *err);

struct backup_restore_request {
    const char *archive;
    const char *env;
    const char *pg_restore; /* [backup] pg-restore */
    struct db_conn *db;     /* a session on the target database; see below */
    const char *conninfo;   /* for pg_restore, without the password (its dbname is replaced) */
    const char *password;   /* secret or NULL; handed over in a 0600 passfile */
    bool force;             /* accept an archive of another environment or database */
    uint64_t wait_ms;       /* how long other sessions get to end at the switch; 0 = 10s */
    const char *dir;        /* [backup] dir: the password file goes under its .tmp/ (NULL: TMPDIR) */
    /*
     * The foreign-write guard's late check (db/guard.h), or NULL. Called on `db` when the copy
     * is loaded, before the switch (final = false, the target's other sessions still running),
     * and again inside the switch once every other session on the target has ended and before
     * the rename (final = true). Failing refuses the restore: the copy is dropped and the target
     * is left as it was (connections allowed again; the sessions the switch ended stay ended).
     */
    int (*late_check)(void *arg, struct db_conn *db, bool final, struct dd_error *err);
    void *late_check_arg;
};

struct backup_restore_result {
    struct backup_manifest manifest; /* of the archive restored */
    char *database;                  /* the target's name */
    uint64_t ms;
    unsigned terminated; /* sessions ended at the switch */
};

#define BACKUP_RESTORE_RESULT_INIT                                                                                     \
    {                                                                                                                  \
        BACKUP_MANIFEST_INIT, NULL, 0, 0                                                                               \
    }

void backup_restore_result_release(struct backup_restore_result *r);

/*
 * Replace the database behind req->db with the archive's contents, as described above. Needs
 * a role that may create databases and owns the target (in practice the owner with CREATEDB, or
 * a superuser when the dump holds objects of other roles), and may terminate the target's
 * sessions. Every other session on the target is ended at the switch; req->db's own session is
 * closed just before it and opened again afterwards on the restored database. The deployment
 * lock, when req->db holds it, stays held throughout (it lives on a maintenance-database
 * session, db/lock.c) and its per-database half is taken again. The side databases carry
 * markers (db_restore_marker) so that the next command can finish or revert the switch of a
 * killed run (db_restore_heal). Test hook points: "switch-ready", "switch-disabled",
 * "switch-renamed".
 * Refusals, which change nothing, are DD_EBLOCKED: wrong environment or database, pg_restore
 * too old for the dump, and a damaged archive (found while streaming, before the switch). Any
 * other failure leaves the target as it was too (DD_ECHILD, DD_EDB...).
 */
int backup_restore(struct backup_restore_result *out, const struct backup_restore_request *req, struct dd_error *err);

/*
 * Load the archive into `database`, an existing empty database on the server req->conninfo
 * reaches (a rehearsal's scratch copy, rehearse/): pg_restore's version is checked and the
 * archive verified while it streams, as for backup_restore, but there is no switch, and an
 * archive of any environment or database is accepted. req->db is not used. On failure the
 * database holds whatever pg_restore loaded; the caller drops it. *out: the archive's manifest.
 */
int backup_restore_into(struct backup_manifest *out, const struct backup_restore_request *req, const char *database,
                        struct dd_error *err);

/*
 * What killed runs left in the backup directory: password files under <dir>/.tmp/ of processes
 * that no longer exist (wiped, then removed) and partial archives <dir>/<env>/.<name>.tmp-<pid>
 * of such processes. A process that still exists keeps its files. One sentence per removal goes
 * to `removed`; nothing there is an error (a missing directory is fine). Pids are of this host:
 * a backup dir shared between hosts is not swept.
 */
void backup_sweep(struct dd_strv *removed, const char *dir, const char *env);

/* ---- schema.c: the schema as canonical text ------------------------------------------------- */

struct backup_schema_request {
    const char *pg_dump;        /* [backup] pg-dump */
    const char *conninfo;       /* db_child_conninfo, handed over in a private service file */
    const char *password;       /* secret, NULL when none */
    int server_version;         /* db_server_version() */
    const char *exclude_schema; /* the ledger's schema, NULL to keep every schema */
    bool owner;                 /* keep ALTER ... OWNER TO */
    bool privileges;            /* keep GRANT / REVOKE */
};

/*
 * pg_dump --schema-only of the database, canonical (backup_schema_canonical), appended to out.
 * DD_ECHILD quoting pg_dump's stderr, DD_ECONFIG for a pg_dump older than the server.
 */
int backup_schema_dump(struct dd_buf *out, const struct backup_schema_request *req, struct dd_error *err);
/*
 * Drop what differs between two dumps of the same schema: the version comments and the random
 * \restrict key of recent pg_dump releases; runs of blank lines left behind collapse to one.
 */
void backup_schema_canonical(struct dd_buf *out, const char *text, size_t len);

#endif
