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
#include "util/strv.h"

#define CONFIG_DIR         "pipeline"
#define CONFIG_SHARED_FILE "pipeline/dbdeploy.conf"

struct dd_config {
    char *env;         /* "prod" */
    char *root;        /* absolute project root */
    char *env_file;    /* "pipeline/prod.conf" (relative to root, for messages) */
    char *shared_file; /* "pipeline/dbdeploy.conf", or NULL when absent */

    /* [database] */
    char *db_url;                  /* secret-bearing: pass to db/ only */
    char *db_url_masked;           /* for display */
    char *db_url_origin;           /* "pipeline/prod.conf [database] url" or "DATABASE_URL" */
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
};

/* Environment names: [A-Za-z0-9][A-Za-z0-9_-]*, so they are safe in paths. */
bool config_env_name_valid(const char *env);
/* Names of the environments defined under root/pipeline (sorted); for hints and completion. */
void config_list_envs(struct dd_strv *out, const char *root);

int config_load(struct dd_config **out, const char *root, const char *env, struct dd_error *err);
void config_free(struct dd_config *cfg);

#endif
