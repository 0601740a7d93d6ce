#ifndef DBDEPLOY_CONFIG_CONFIG_H
#define DBDEPLOY_CONFIG_CONFIG_H

/*
 * Pipeline configuration: pipeline/dbdeploy.conf (shared defaults, optional) overridden by
 * pipeline/<env>.conf (required), both in git-config syntax and read through git/.
 * Values may use ${VAR} and ${VAR:-default} from the environment ("$${" is a literal "${").
 * When no [database] url is configured, DATABASE_URL is used.
 *
 * Unknown sections or keys and bad values are DD_ECONFIG errors naming the file, section and
 * key, with a hint. The result is immutable after config_load(); secrets (the database
 * password, health-check header values) are registered with util/mask and wiped on release.
 * Print db_url_masked, never db_url.
 */
#include "util/error.h"
#include "util/parse.h"
#include "util/strv.h"

#define CONFIG_DIR         "pipeline"
#define CONFIG_SHARED_FILE "pipeline/dbdeploy.conf"

/*
 * [rollout] waves: each entry says how many targets (value) or what share of them (percent,
 * value 1..100) have been deployed when that wave ends. Parsed by config_parse_waves; the
 * planner in src/fleet/ turns it into counts for a fleet of N.
 */
#define CONFIG_WAVES_MAX 32
struct config_waves {
    size_t n;
    struct {
        uint32_t value;
        bool percent;
    } v[CONFIG_WAVES_MAX];
};

struct dd_config {
    char *env;         /* "prod" */
    char *root;        /* absolute project root */
    char *env_file;    /* "pipeline/prod.conf" (relative to root, for messages) */
    char *shared_file; /* "pipeline/dbdeploy.conf", or NULL when absent */
    char *commit;      /* the commit the files were read from (config_load_committed), NULL = working tree */

    /* [database] */
    char *db_url;                  /* secret-bearing: pass to db/ only */
    char *db_url_masked;           /* for display */
    char *db_url_origin;           /* "pipeline/prod.conf [database] url" or "DATABASE_URL" */
    bool db_url_from_vars;         /* the url was written with ${VARS} (see config_check_db_url) */
    char *ledger_schema;           /* ledger-schema, default "dbdeploy" */
    uint64_t lock_wait_ms;         /* lock-wait: wait for another deploy, default 60s */
    uint64_t lock_timeout_ms;      /* lock-timeout: per migration, default 5s */
    uint32_t lock_retries;         /* lock-retries: after a lock timeout, default 3 */
    uint64_t statement_timeout_ms; /* statement-timeout: per statement, default 0 (none) */

    /* [migrations] */
    char *migrations_dir;     /* dir, relative to root, default "migrations" */
    bool out_of_order;        /* out-of-order: allow versions below the newest applied */
    bool strict_transactions; /* strict-transactions: refuse files that cannot run in a transaction */

    /* [git] */
    bool allow_dirty;       /* allow-dirty: read migrations from the working tree */
    char *protected_branch; /* protected-branch: NULL = origin/main if it exists, else main */

    struct {              /* [backup] */
        bool enabled;     /* enabled, default true */
        char *dir;        /* dir, absolute (configured relative to root), default <root>/.dbdeploy/backups */
        uint32_t keep;    /* keep: archives kept per env after a backup, 0 = all (default) */
        char *pg_dump;    /* pg-dump: program path or name, default "pg_dump" */
        char *pg_restore; /* pg-restore: default "pg_restore" */
        uint32_t level;   /* compression-level: zstd level 1..19, default 1 */
    } backup;
    struct {                        /* [restore] */
        bool on_failure;            /* on-failure: default = backup.enabled */
        unsigned strategy;          /* strategy: enum config_restore_strategy, default auto (the ladder) */
        unsigned on_foreign_writes; /* on-foreign-writes: enum config_foreign_writes, default refuse */
    } restore;
    struct {                                /* [health] */
        char *url;                          /* url, NULL = no health check; may hold secrets (registered for masking) */
        char *method;                       /* method: "GET" (default) or "HEAD" */
        struct dd_status_set expect_status; /* expect-status: default 2xx */
        char *expect_status_text;           /* as configured, for messages */
        char *expect_body;                  /* expect-body: substring the body must contain, NULL = any */
        struct dd_strv headers;             /* header (repeatable): "Name: value"; values are secrets */
        uint64_t timeout_ms;                /* timeout: per request, default 5s */
        uint64_t deadline_ms;               /* deadline: overall, default 60s */
        uint32_t retries;                   /* retries: further attempts after the first, default 10 */
        uint64_t backoff_ms;                /* backoff: first wait between attempts, default 500ms (doubles) */
        uint64_t max_backoff_ms;            /* max-backoff: cap on the wait, default 5s */
        char *ca_file;                      /* ca-file: CA bundle for TLS verification, NULL = system default */
        bool follow_redirects;              /* follow-redirects: default false */
    } health;
    struct {                           /* [gate] */
        char *requires;                /* requires: environment whose ledger must already have every migration */
        bool health;                   /* health: that environment's health check must pass too */
        unsigned rehearsal;            /* rehearsal: enum config_rehearsal_gate, default off */
        uint64_t rehearsal_max_age_ms; /* rehearsal-max-age: how old a passed rehearsal may be, 0 = any */
    } gate;
    struct {                  /* [apply] */
        unsigned transaction; /* transaction: enum config_transaction, default auto */
    } apply;
    struct {                  /* [lint] */
        struct dd_strv rules; /* RULE-ID = error|warning|off, kept as "RULE-ID=severity" */
        uint32_t small_table; /* small-table: rows below which lock rules stay silent, default 10000 */
    } lint;
    struct {                    /* [guard] (enum config_guard each, default error) */
        unsigned data_loss;     /* data-loss: rows or values destroyed without a declaration */
        unsigned row_changes;   /* row-changes: rows added or changed in tables that existed before */
        unsigned not_valid;     /* not-valid: a constraint left NOT VALID without a declaration */
        unsigned invalid_index; /* invalid-index: an index left invalid */
    } guard;
    struct {                /* [environment] */
        bool protected_env; /* protected: commands that change the database outside deploy need confirmation */
    } environment;
    struct {            /* [deploy] */
        char *branches; /* branches: space-separated glob patterns HEAD must be contained in; NULL = any */
    } deploy;
    struct {               /* [schema] */
        char *file;        /* file: the schema file, relative to root, default "schema.sql" */
        char *source;      /* source: environment whose successful deploys rewrite the file, NULL = none */
        char *scratch_url; /* scratch-url: server for `schema check`, NULL = a temporary cluster; secret */
        bool owner;        /* owner: keep OWNER TO statements, default false */
        bool privileges;   /* privileges: keep GRANT/REVOKE, default false */
        unsigned drift;    /* drift: enum config_drift, default block */
    } schema;
    struct {                 /* [notify] */
        struct dd_strv urls; /* url (repeatable): webhooks; secrets, registered for masking */
        unsigned on;         /* on: CONFIG_NOTIFY_* bits, default every event */
        unsigned format;     /* format: enum config_notify_format, default json */
        uint64_t timeout_ms; /* timeout: for one event, every webhook together, default 5s */
    } notify;
    struct {       /* [rehearsal] */
        char *url; /* url: server where `dbdeploy rehearse` makes its scratch copy; secret */
    } rehearsal;
    struct {                 /* [targets]: a fleet of databases (docs/fleets.md, src/fleet/) */
        struct dd_strv urls; /* url (repeatable): "URL" or "NAME URL"; secrets registered for masking */
        char *query;         /* query: SQL run on [database] url, rows of (name, url) */
        char *file;          /* file: relative to root, one "NAME URL" a line */
    } targets;
    struct {                       /* [rollout] */
        struct config_waves waves; /* waves: default "1, 100%" (a canary, then the rest) */
        uint32_t parallel;         /* parallel: targets at once, default 1 */
        uint32_t halt_failures;    /* halt: first-failure = 1 (default), N-failures = N */
    } rollout;
    char *target; /* the fleet target selected by config_select_target, NULL = none */
};

/*
 * The one rule for environment names, used wherever a name arrives (command line, `dbdeploy
 * ENV`, [gate] requires, the pipeline/<env>.conf listing, backup directories): ASCII
 * [A-Za-z0-9][A-Za-z0-9_-]*, at most CONFIG_ENV_NAME_MAX bytes, so they are safe in paths,
 * and never "dbdeploy", whose file pipeline/dbdeploy.conf holds the shared defaults.
 */
#define CONFIG_ENV_NAME_MAX  64
#define CONFIG_RESERVED_NAME "dbdeploy"

/* [apply] transaction: one transaction for the whole deployment whenever every file allows it (auto). */
enum config_transaction { CONFIG_TX_AUTO, CONFIG_TX_PER_DEPLOY, CONFIG_TX_PER_MIGRATION };
/* [guard] KEY: what the apply-time data-loss guard does about what it finds (docs/guard.md). */
enum config_guard { CONFIG_GUARD_ERROR, CONFIG_GUARD_WARNING, CONFIG_GUARD_OFF };
/* [restore] strategy: how a failed deployment is undone (auto = the least destructive that works). */
enum config_restore_strategy { CONFIG_RESTORE_AUTO, CONFIG_RESTORE_DOWN, CONFIG_RESTORE_BACKUP, CONFIG_RESTORE_NONE };
/* [schema] drift: what a deploy does when the schema changed outside dbdeploy since its last run. */
enum config_drift { CONFIG_DRIFT_BLOCK, CONFIG_DRIFT_WARN, CONFIG_DRIFT_OFF };
/* [notify] on: the events that are sent, as bits (CONFIG_NOTIFY_START << enum notify_kind). */
enum config_notify_events {
    CONFIG_NOTIFY_START = 1 << 0,
    CONFIG_NOTIFY_SUCCESS = 1 << 1,
    CONFIG_NOTIFY_FAILURE = 1 << 2,
    CONFIG_NOTIFY_RESTORED = 1 << 3,
};
/* [notify] format: the body of each POST. */
enum config_notify_format { CONFIG_NOTIFY_JSON, CONFIG_NOTIFY_SLACK };
/* [gate] rehearsal: whether deploy needs a passed `dbdeploy rehearse` of the same plan first. */
enum config_rehearsal_gate { CONFIG_REHEARSAL_OFF, CONFIG_REHEARSAL_REQUIRED };
/* [restore] on-foreign-writes: what a backup restore does when other sessions wrote since the backup. */
enum config_foreign_writes { CONFIG_FOREIGN_REFUSE, CONFIG_FOREIGN_RESTORE };

bool config_env_name_valid(const char *env);
/*
 * Names of the environments defined under root/pipeline (sorted). No pipeline/ directory is an
 * empty list; any other failure to read it is a DD_ECONFIG error (callers that check every
 * environment must not pass on an unreadable directory).
 */
int config_list_envs(struct dd_strv *out, const char *root, struct dd_error *err);

/*
 * Load the configuration of `env` from root/pipeline. With env == NULL only the shared file is
 * read (for commands that need no database, such as the pre-push hook) and no url is required.
 */
int config_load(struct dd_config **out, const char *root, const char *env, struct dd_error *err);
void config_free(struct dd_config *cfg);

struct repo;
enum config_committed_flags {
    /* an environment whose committed config sets [git] allow-dirty is read from the working tree */
    CONFIG_FOLLOW_ALLOW_DIRTY = 1 << 0,
};

/*
 * Load the configuration of `env` as committed in `rev` (deploy, plan and gate: the files are
 * the truth from the same commit as the migrations, cfg->commit says which). Uncommitted
 * changes to the files read (pipeline/<env>.conf, pipeline/dbdeploy.conf) are DD_EBLOCKED,
 * listed, as for migrations. With CONFIG_FOLLOW_ALLOW_DIRTY, an environment whose committed
 * files set allow-dirty, or whose file is not committed but sets allow-dirty in the working
 * tree, is loaded from the working tree (cfg->commit NULL) like config_load.
 */
int config_load_committed(struct dd_config **out, struct repo *repo, const char *root, const char *env, const char *rev,
                          unsigned flags, struct dd_error *err);
/*
 * Point cfg at another database (a scratch database for `schema check`): replaces db_url,
 * db_url_masked and db_url_origin; url's credentials are registered for masking.
 */
void config_set_url(struct dd_config *cfg, const char *url, const char *origin);
/*
 * A database URL as libpq will read it: postgres:// or postgresql:// URLs whose user name and
 * password hold no unencoded '@', ':', '/', '?' or '#' (libpq would split there and quote the
 * pieces in its errors), or key=value conninfo. An empty url is fine (DATABASE_URL is used).
 * Otherwise a DD_ECONFIG error "<where>: ..." with a hint; no message quotes the value.
 * from_vars: the url was assembled from ${VARS}, whose values cannot be percent-encoded in
 * place; then '?', '#' and a second ':' in the user name or password pass (libpq reads them
 * as part of the password, and masking hides it whole), while '@' and '/', which libpq splits
 * at, are still refused. config_load checks [database] url and DATABASE_URL with it.
 */
int config_check_db_url(const char *where, const char *url, bool from_vars, struct dd_error *err);

/*
 * "1, 10%, 100%": entries separated by commas, each a whole number above zero or a percentage
 * 1%..100%, strictly growing within each kind. -1 on anything else (the caller names the key).
 */
int config_parse_waves(struct config_waves *out, const char *text);
/* "first-failure" (1) or "N-failures" with N >= 1. -1 on anything else. */
int config_parse_halt(uint32_t *out, const char *text);
/*
 * Point cfg at one target of its fleet (`--target NAME`): its url replaces db_url (credentials
 * registered for masking), cfg->target names it, and backups go under <backup dir>/<name> so
 * targets never share archives.
 */
void config_select_target(struct dd_config *cfg, const char *name, const char *url);
/*
 * The changelog an environment writes under changelog/: "<env>", or "<env>/<target>" for a
 * fleet target, whose runs go on at once and would lose entries in one shared file. Caller frees.
 */
char *config_changelog_name(const struct dd_config *cfg);
/* Whether the environment names a fleet ([targets] url, query or file). */
bool config_is_fleet(const struct dd_config *cfg);

#endif
