#ifndef DBDEPLOY_MIGRATIONS_MIGRATIONS_H
#define DBDEPLOY_MIGRATIONS_MIGRATIONS_H

/*
 * Migration files: discovery, name parsing, ordering, checksums, directives and preparing a
 * file for execution. No database and no git here: files arrive as a struct migration_source
 * (read from the working tree by migration_source_read_fs, or from a commit by engine/load.c
 * through git/). A committed file may also arrive listed only, by name and blob id, and be
 * read later through the set's reader (see "unread" below), so that commands which only
 * compare applied migrations with the ledger never read their bytes.
 *
 * Formats, chosen per file so teams can switch tools without renaming anything:
 *   <version>_<name>.sql                 plain, up only
 *   <version>_<name>.up.sql / .down.sql  golang-migrate
 *   <version>_<name>.sql with "-- migrate:up" / "-- migrate:down" lines   dbmate (one file)
 *   V<version>__<name>.sql / U<version>__<name>.sql   Flyway (versioned + undo; whole numbers only)
 * The version is the leading digits, compared as a number (9 < 10; 00034 pairs with 000034).
 * Other files (README.md, sub-directories, dotfiles) are ignored. Malformed .sql names,
 * duplicate versions and down files without an up are DD_EINPUT errors listing every offender.
 *
 * Checksums are "sha256:<hex>" of the exact bytes of the up file (dbmate: the whole file):
 * line endings and whitespace count.
 *
 * Repeatable migrations (RLS policies, views, functions, grants: files meant to change) are
 * every .sql file in the directory's repeatable/ subdirectory and Flyway's R__<name>.sql in the
 * directory itself. They have no version: each is identified by its name relative to the
 * directory ("repeatable/rls.sql", "R__views.sql"), kept in the set's `rep`, ordered by that
 * name, and runs again whenever its checksum differs from the ledger's (engine/).
 */
#include "migrations/sql.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/hash.h"

#define MIGRATION_MAX_VERSION_DIGITS 18
#define MIGRATION_BLOB_ID_LEN        40

enum migration_format { MIGRATION_PLAIN, MIGRATION_GOLANG, MIGRATION_DBMATE, MIGRATION_FLYWAY };

/* --- names --- */

enum migration_file_kind { MIGRATION_FILE_SINGLE, MIGRATION_FILE_UP, MIGRATION_FILE_DOWN };

struct migration_name {
    int64_t version;
    char *version_text; /* digits as written ("000034") */
    char *name;         /* description ("external_users") */
    enum migration_file_kind kind;
    bool flyway; /* V<version>__<name>.sql (up) or U<version>__<name>.sql (down) */
};

#define MIGRATION_REPEATABLE_DIR "repeatable" /* subdirectory of the migrations directory */

/*
 * Whether `name` (relative to the migrations directory) is a repeatable migration:
 * "repeatable/<anything>.sql" or "R__<name>.sql". migration_name_parse returns 1 (not a
 * versioned migration) for an R__ base name.
 */
bool migration_is_repeatable(const char *name);

/*
 * Parse a file name. Returns 0 for a migration name, 1 for a file that is not a migration at
 * all (ignored), -1 for a malformed migration name (why[] says what is wrong).
 */
int migration_name_parse(struct migration_name *out, const char *basename, char *why, size_t whylen);
void migration_name_release(struct migration_name *n);

/* --- sources --- */

struct migration_source_file {
    char *name;                              /* basename */
    struct dd_buf data;                      /* exact bytes (empty when unread) */
    char blob_id[MIGRATION_BLOB_ID_LEN + 1]; /* git blob id, "" when not from git */
    bool unread;                             /* listed by name and blob id only */
};

struct migration_source {
    char *dir;    /* directory relative to the project root ("migrations") */
    char *commit; /* commit the files were read from, NULL for the working tree */
    struct migration_source_file *v;
    size_t n, alloc;
    bool no_checksums; /* lint: the bytes are parsed, never compared with a ledger (checksums left "") */
};

#define MIGRATION_SOURCE_INIT                                                                                          \
    {                                                                                                                  \
        NULL, NULL, NULL, 0, 0, false                                                                                  \
    }

void migration_source_init(struct migration_source *src, const char *dir, const char *commit);
/* Copy one file into the source. blob_id may be NULL. */
void migration_source_add(struct migration_source *src, const char *name, const void *data, size_t len,
                          const char *blob_id);
/* List one file by name and blob id without its bytes (read later through the set's reader). */
void migration_source_add_unread(struct migration_source *src, const char *name, const char *blob_id);
/*
 * Regular .sql files directly inside root/dir (a missing dir is an error naming it), and those of
 * its repeatable/ subdirectory, named "repeatable/<name>".
 */
int migration_source_read_fs(struct migration_source *out, const char *root, const char *dir, struct dd_error *err);
void migration_source_release(struct migration_source *src);

/* --- formats --- */

/* "plain", "golang-migrate", "dbmate", "flyway". */
const char *migration_format_name(enum migration_format f);
/*
 * The format a directory's files are written in (for `dbdeploy init` to configure an existing
 * directory): the most common of Flyway names, .up/.down pairs and dbmate markers; plain when
 * none. Returns the number of files with a migration name (0: not a migrations directory).
 */
size_t migration_detect_format(enum migration_format *out, const struct migration_source *src);

/* --- migrations --- */

struct migration_directives {
    bool no_transaction;        /* -- dbdeploy:no-transaction, or dbmate transaction:false */
    bool has_statement_timeout; /* -- dbdeploy:statement-timeout=DURATION */
    uint64_t statement_timeout_ms;
    bool has_lock_timeout; /* -- dbdeploy:lock-timeout=DURATION */
    uint64_t lock_timeout_ms;
    bool allow_empty; /* -- dbdeploy:allow empty: a file without statements is applied as a no-op */
};

struct migration_script {
    bool present;
    char *path;        /* file relative to the project root */
    struct dd_buf sql; /* text to execute (dbmate: lines outside the section blanked, so lines match) */
    char blob_id[MIGRATION_BLOB_ID_LEN + 1];
    struct migration_directives directives;
};

/*
 * An unread migration was built from listed files: version, name, paths and blob ids are set
 * (a golang down file shows as down.present), but the SQL is empty, directives are not parsed,
 * a single .sql file counts as MIGRATION_PLAIN until read (it may turn out to be dbmate, with a
 * down section), and the checksum is "" until whoever listed it fills it in from a trusted
 * record of the same blob id. migration_set_read makes it an ordinary migration.
 */
struct migration {
    int64_t version;
    char *version_text;
    char *name;
    enum migration_format format;
    struct migration_script up, down;
    char checksum[DD_CHECKSUM_LEN + 1];
    bool unread;
    /*
     * A repeatable migration (in the set's `rep`): version -1, version_text "R", name its name
     * relative to the directory ("repeatable/rls.sql"), only an up script.
     */
    bool repeatable;
};

/* Where the bytes of unread files come from: read appends the blob's bytes to out. */
struct migration_reader {
    int (*read)(void *arg, const char *blob_id, struct dd_buf *out, struct dd_error *err);
    void *arg; /* borrowed */
};

struct migration_set {
    struct migration *v; /* ordered by version */
    size_t n, alloc;
    char *dir;                      /* relative to the project root */
    char *commit;                   /* NULL for the working tree */
    struct migration_reader reader; /* for unread migrations; set by whoever listed the files */
    struct migration *rep;          /* repeatable migrations, ordered by name (strcmp) */
    size_t nrep, rep_alloc;
};

#define MIGRATION_SET_INIT                                                                                             \
    {                                                                                                                  \
        NULL, 0, 0, NULL, NULL, {NULL, NULL}, NULL, 0, 0                                                               \
    }

/*
 * Build the ordered set from a source; directives are parsed here (bad ones are errors). Name
 * problems (malformed, duplicate versions, down without up) are found for listed files too; a
 * version with any unread file becomes an unread migration.
 */
int migration_set_build(struct migration_set *out, const struct migration_source *src, struct dd_error *err);
/*
 * Read the files of the unread migration s->v[i] through s->reader and build it as
 * migration_set_build would (the checksum is then computed from the bytes). A no-op for a
 * migration already read. The migration stays at the same address. Errors: the reader's,
 * wrapped with the file's path, or DD_EINPUT for bad directives.
 */
int migration_set_read(struct migration_set *s, size_t i, struct dd_error *err);
/* Read every unread repeatable migration through s->reader (they are few, and always compared). */
int migration_set_read_repeatables(struct migration_set *s, struct dd_error *err);
const struct migration *migration_set_find(const struct migration_set *s, int64_t version);
void migration_set_release(struct migration_set *s);
/* "0003_add_users.up.sql" style display name of the up file. */
const char *migration_display(const struct migration *m);

/*
 * The next version for `dbdeploy new`: a UTC timestamp when the set uses 14-digit timestamps,
 * otherwise the highest version + 1, zero-padded to the width in use (default width 4).
 */
void migration_next_version(char *out, size_t outsz, const struct migration_set *s, time_t now, bool timestamps);

/* --- execution --- */

enum migration_exec_mode {
    MIGRATION_EXEC_TX,    /* the whole text in one transaction with its ledger row */
    MIGRATION_EXEC_NO_TX, /* statement by statement, progress recorded */
};

struct migration_exec {
    enum migration_exec_mode mode;
    struct dd_buf text;      /* what to send: the file's own outer BEGIN/COMMIT blanked out */
    struct sql_script stmts; /* statements of `text` */
    bool unwrapped;          /* the file wrapped itself in BEGIN ... COMMIT; we removed that */
    const char *why_no_tx;   /* NULL, "annotation", or the statement kind that forced it */
    bool own_transactions;   /* forced by the file's own transaction control (why_no_tx names it) */
    unsigned why_line;       /* line of that statement */
    struct migration_directives directives;
};

#define MIGRATION_EXEC_INIT                                                                                            \
    {                                                                                                                  \
        MIGRATION_EXEC_TX, DD_BUF_INIT, SQL_SCRIPT_INIT, false, NULL, false, 0,                                        \
        {                                                                                                              \
            0                                                                                                          \
        }                                                                                                              \
    }

/*
 * Lex a script and decide how to run it. Files with psql meta-commands or unterminated
 * quotes are DD_EINPUT errors naming file:line:col. A statement that cannot run in a
 * transaction switches the file to no-transaction mode (why_no_tx says so), unless `strict`,
 * which makes it a DD_EINPUT error. Transaction control inside the file other than one outer
 * BEGIN ... COMMIT pair also means no-transaction mode (the file manages its own transactions).
 */
int migration_exec_prepare(struct migration_exec *out, const struct migration_script *sc, bool strict,
                           struct dd_error *err);
void migration_exec_release(struct migration_exec *x);

/*
 * Refuse (DD_EINPUT, naming the file) a prepared up script that has no statement (empty, only
 * comments, or only BEGIN/COMMIT) unless it carries -- dbdeploy:allow empty. Called by every
 * plan that would apply it, so a file `dbdeploy new` wrote is never applied unedited.
 */
int migration_exec_check_empty(const struct migration_exec *x, const struct migration_script *sc, struct dd_error *err);

#endif
