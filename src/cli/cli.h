#ifndef DBDEPLOY_CLI_CLI_H
#define DBDEPLOY_CLI_CLI_H

/*
 * Command-line plumbing: the option table type, the table-driven parser that also prints
 * --help, and the per-run context every command receives.
 *
 * A command is `int cmd_x(struct cli_ctx *ctx, int argc, char **argv)` (argv[0] is the command
 * name). It returns 0 on success and -1 with ctx->err set; main() prints the error and picks
 * the exit status. Resources a command needs (config, repository, database) are prepared on
 * demand by the cli_need_* helpers in cli/context.c and released by cli_ctx_release(), which also
 * releases the deployment lock a command took.
 */
#include "engine/engine.h"
#include "util/error.h"
#include "util/strv.h"

struct dd_config;
struct repo;
struct db_conn;

enum cli_opt_type { CLI_OPT_T_BOOL, CLI_OPT_T_STRING, CLI_OPT_T_U32, CLI_OPT_T_SET_INT };

struct cli_opt {
    enum cli_opt_type type;
    char short_name;       /* 0 for none */
    const char *long_name; /* NULL ends the table */
    void *dst;             /* bool *, const char **, uint32_t *, int * */
    const char *arg_name;  /* for --help: "N", "VERSION" */
    const char *help;
    int value; /* CLI_OPT_T_SET_INT: stored into *(int *)dst */
};

#define CLI_OPT_BOOL(s, l, dst, help)                                                                                  \
    {                                                                                                                  \
        CLI_OPT_T_BOOL, s, l, dst, NULL, help, 0                                                                       \
    }
#define CLI_OPT_STRING(s, l, dst, arg, help)                                                                           \
    {                                                                                                                  \
        CLI_OPT_T_STRING, s, l, dst, arg, help, 0                                                                      \
    }
#define CLI_OPT_U32(s, l, dst, arg, help)                                                                              \
    {                                                                                                                  \
        CLI_OPT_T_U32, s, l, dst, arg, help, 0                                                                         \
    }
#define CLI_OPT_SET_INT(s, l, dst, val, help)                                                                          \
    {                                                                                                                  \
        CLI_OPT_T_SET_INT, s, l, dst, NULL, help, val                                                                  \
    }
#define CLI_OPT_END                                                                                                    \
    {                                                                                                                  \
        CLI_OPT_T_BOOL, 0, NULL, NULL, NULL, NULL, 0                                                                   \
    }

struct cli_spec {
    const char *name;    /* "status" */
    const char *usage;   /* "ENV [--all]" (after "dbdeploy <name> ") */
    const char *summary; /* one line */
    const char *details; /* optional paragraph(s) printed after the options */
    const struct cli_opt *opts;
    int min_args, max_args; /* positional arguments; max -1 = unlimited */
};

struct cli_ctx {
    char *root;          /* project directory (absolute): -C or cwd */
    struct dd_error err; /* filled by the command on failure */
    char *env;           /* environment named on the command line, once known */
    struct dd_config *cfg;
    struct repo *repo;
    struct db_conn *db;
    bool db_restored; /* set when a failure was followed by a successful restore */
};

#define CLI_CTX_INIT                                                                                                   \
    {                                                                                                                  \
        NULL, DD_ERROR_INIT, NULL, NULL, NULL, NULL, false                                                             \
    }

/*
 * Parse options and positionals. Returns 0 when the command should run (positionals in *args,
 * borrowed from argv), 1 when --help was printed (the command returns 0), -1 on a usage error
 * (ctx->err set, DD_EUSAGE, with a hint naming --help).
 */
int cli_parse(struct cli_ctx *ctx, const struct cli_spec *spec, int argc, char **argv, struct dd_strv *args);
void cli_print_help(const struct cli_spec *spec);

/* Load pipeline/<env>.conf (once). */
int cli_need_config(struct cli_ctx *ctx, const char *env);
/* Open the git repository at ctx->root (once); missing repository is an error. */
int cli_need_repo(struct cli_ctx *ctx);
/* Open the repository if there is one; a missing repository is not an error (ctx->repo stays NULL). */
void cli_want_repo(struct cli_ctx *ctx);
/*
 * The repository an environment deploys from: required, unless the environment has [git]
 * allow-dirty (then only wanted: it adds blob ids and authors). Needs the config.
 */
int cli_need_env_repo(struct cli_ctx *ctx);
/* Connect to the environment's database (once); needs the config. */
int cli_need_db(struct cli_ctx *ctx);
void cli_ctx_release(struct cli_ctx *ctx);

/*
 * Everything a database command needs about one environment: its migrations (from the
 * committed tree, or the working tree for allow-dirty environments), its ledger and the joined
 * status. cli_env_load prepares config, repository and connection on the way.
 */
struct cli_env {
    struct migration_set set;
    struct db_ledger ledger;
    struct engine_status st;
    struct engine_opts opts;
    char *whoami;
};

#define CLI_ENV_INIT                                                                                                   \
    {                                                                                                                  \
        MIGRATION_SET_INIT, DB_LEDGER_INIT, ENGINE_STATUS_INIT, {0}, NULL                                              \
    }

int cli_env_load(struct cli_env *e, struct cli_ctx *ctx, const char *env);
/* Re-read the ledger and rebuild the status (after taking the lock). */
int cli_env_reload(struct cli_env *e, struct cli_ctx *ctx);
/* Read the migration files the environment deploys (no database needed). */
int cli_load_migrations(struct migration_set *out, struct cli_ctx *ctx);
/* The migration files of a commit (any revision), whatever the environment allows. */
int cli_load_migrations_at(struct migration_set *out, struct cli_ctx *ctx, const char *rev);
void cli_env_release(struct cli_env *e);

struct cli_command {
    const char *name;
    int (*run)(struct cli_ctx *ctx, int argc, char **argv);
    const char *summary;
};

/* The command table, alphabetical, defined in main.c. */
extern const struct cli_command cli_commands[];

int cmd_adopt(struct cli_ctx *ctx, int argc, char **argv);
int cmd_apply(struct cli_ctx *ctx, int argc, char **argv);
int cmd_backup(struct cli_ctx *ctx, int argc, char **argv);
int cmd_backups(struct cli_ctx *ctx, int argc, char **argv);
int cmd_changelog(struct cli_ctx *ctx, int argc, char **argv);
int cmd_deploy(struct cli_ctx *ctx, int argc, char **argv);
int cmd_gate(struct cli_ctx *ctx, int argc, char **argv);
int cmd_health(struct cli_ctx *ctx, int argc, char **argv);
int cmd_hook(struct cli_ctx *ctx, int argc, char **argv);
int cmd_init(struct cli_ctx *ctx, int argc, char **argv);
int cmd_lint(struct cli_ctx *ctx, int argc, char **argv);
int cmd_mark(struct cli_ctx *ctx, int argc, char **argv);
int cmd_new(struct cli_ctx *ctx, int argc, char **argv);
int cmd_plan(struct cli_ctx *ctx, int argc, char **argv);
int cmd_restore(struct cli_ctx *ctx, int argc, char **argv);
int cmd_rollback(struct cli_ctx *ctx, int argc, char **argv);
int cmd_status(struct cli_ctx *ctx, int argc, char **argv);
int cmd_verify(struct cli_ctx *ctx, int argc, char **argv);

#endif
