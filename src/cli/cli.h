#ifndef DBDEPLOY_CLI_CLI_H
#define DBDEPLOY_CLI_CLI_H

/*
 * Command-line plumbing: the option and spec types, the command table (cli/commands.c) that
 * parsing, help, the man page and completion all read, the table-driven parser (cli/opts.c),
 * and the per-run context every command receives.
 *
 * A command is `int cmd_x(struct cli_ctx *ctx, int argc, char **argv)` (argv[0] is the command
 * name). It returns 0 on success and -1 with ctx->err set; main() prints the error and picks
 * the exit status. Resources a command needs (config, repository, database) are prepared on
 * demand by the cli_need_* helpers in cli/context.c and released by cli_ctx_release(), which also
 * releases the deployment lock a command took.
 */
#include <stddef.h>

#include "engine/engine.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strv.h"

struct dd_config;
struct repo;
struct db_conn;

enum cli_opt_type { CLI_OPT_T_BOOL, CLI_OPT_T_STRING, CLI_OPT_T_U32, CLI_OPT_T_SET_INT };

/*
 * One option of a command. The table is static data (the command table, help, completion and the
 * man page read it), so an option names the member it fills by its offset in the command's own
 * option struct, which cli_parse receives.
 */
struct cli_opt {
    enum cli_opt_type type;
    char short_name;       /* 0 for none */
    const char *long_name; /* NULL ends the table */
    size_t offset;         /* of the bool, const char *, uint32_t or int member */
    const char *arg_name;  /* for --help: "N", "VERSION"; VERSION, ARCHIVE and DIR also steer completion */
    const char *help;
    int value;           /* CLI_OPT_T_SET_INT: stored into the int member */
    const char *choices; /* optional: the values completion offers, space-separated */
};

#define CLI_OPT_BOOL(s, l, type, member, help)                                                                         \
    {                                                                                                                  \
        CLI_OPT_T_BOOL, s, l, offsetof(type, member), NULL, help, 0, NULL                                              \
    }
#define CLI_OPT_STRING(s, l, type, member, arg, help)                                                                  \
    {                                                                                                                  \
        CLI_OPT_T_STRING, s, l, offsetof(type, member), arg, help, 0, NULL                                             \
    }
/* A string option whose usual values completion offers (the command still validates them). */
#define CLI_OPT_STRING_OF(s, l, type, member, arg, choices, help)                                                      \
    {                                                                                                                  \
        CLI_OPT_T_STRING, s, l, offsetof(type, member), arg, help, 0, choices                                          \
    }
#define CLI_OPT_U32(s, l, type, member, arg, help)                                                                     \
    {                                                                                                                  \
        CLI_OPT_T_U32, s, l, offsetof(type, member), arg, help, 0, NULL                                                \
    }
#define CLI_OPT_SET_INT(s, l, type, member, val, help)                                                                 \
    {                                                                                                                  \
        CLI_OPT_T_SET_INT, s, l, offsetof(type, member), NULL, help, val, NULL                                         \
    }
#define CLI_OPT_END                                                                                                    \
    {                                                                                                                  \
        CLI_OPT_T_BOOL, 0, NULL, 0, NULL, NULL, 0, NULL                                                                \
    }

/* What a command (or a subcommand such as "hook install") accepts; defined in its cmd_<name>.c. */
struct cli_spec {
    const char *brief;   /* one line for the command list and the man page's first line */
    const char *name;    /* "status", "hook install" */
    const char *usage;   /* "ENV [--all]" (after "dbdeploy <name> "); "" when it takes nothing */
    const char *summary; /* one sentence or two; wrapped by the help formatter */
    const char *details; /* optional paragraphs ("\n\n" between them) printed after the options */
    const struct cli_opt *opts;
    int min_args, max_args;             /* positional arguments; max -1 = unlimited */
    const struct cli_spec *const *subs; /* subcommands, NULL-terminated; NULL for none */
};

struct cli_ctx {
    char *root;          /* project directory (absolute): -C or cwd */
    struct dd_error err; /* filled by the command on failure */
    char *env;           /* environment named on the command line, once known */
    struct dd_config *cfg;
    struct repo *repo;
    struct db_conn *db;
    bool db_restored; /* set when a failure was followed by a successful restore */
    /* set by cli_parse from the command table and the command's --yes / --dry-run (cli/protect.c) */
    const struct cli_command *cmd;
    bool yes, dry_run, confirmed;
    uint64_t wait_ms;   /* --wait: how long cli_need_db waits for the server to accept connections */
    const char *target; /* --target NAME of a fleet (borrowed from argv), applied when the config loads */
};

#define CLI_CTX_INIT                                                                                                   \
    {                                                                                                                  \
        NULL, DD_ERROR_INIT, NULL, NULL, NULL, NULL, false, NULL, false, false, false, 0, NULL                         \
    }

/*
 * Parse options and positionals. Returns 0 when the command should run (positionals in *args,
 * borrowed from argv), 1 when --help was printed (the command returns 0), -1 on a usage error
 * (ctx->err set, DD_EUSAGE, with a hint naming --help). Each option is stored into the member
 * of *opts (the command's option struct) at the option's offset.
 */
int cli_parse(struct cli_ctx *ctx, const struct cli_spec *spec, void *opts, int argc, char **argv,
              struct dd_strv *args);
void cli_print_help(const struct cli_spec *spec);

/* Load pipeline/<env>.conf (once). */
int cli_need_config(struct cli_ctx *ctx, const char *env);
/* The same as committed in HEAD, for deploy, plan and gate (config_load_committed); opens the repository. */
int cli_need_committed_config(struct cli_ctx *ctx, const char *env);
/* Open the git repository at ctx->root (once); missing repository is an error. */
int cli_need_repo(struct cli_ctx *ctx);
/* Open the repository if there is one; a missing repository is not an error (ctx->repo stays NULL). */
void cli_want_repo(struct cli_ctx *ctx);
/*
 * Ask to type env's name on a terminal (verb: "restore"); elsewhere fail with no_tty_code. Passes
 * without asking when the command's --yes was given or the run was already confirmed (once per run).
 */
int cli_confirm(struct cli_ctx *ctx, const char *verb, const char *env, enum dd_errcode no_tty_code);
/*
 * Protected environments ([environment] protected = true): a command flagged CLI_CHANGES_DB in the
 * table, other than the pipeline (CLI_PIPELINE) and dry runs, must be confirmed (cli_confirm, exit 2
 * without a terminal and without --yes). cli_need_db calls it before connecting.
 */
int cli_guard_protected(struct cli_ctx *ctx);
/* Whether cli_guard_protected would ask (or refuse) for this command. */
bool cli_will_confirm(const struct cli_ctx *ctx);
/* Note, after parsing, which command runs and its --yes / --dry-run (read by the option's long name). */
void cli_note_command(struct cli_ctx *ctx, const struct cli_spec *spec, const void *opts);
/* [deploy] branches: HEAD's commit must be contained in one of them (exit 3 naming them). */
int cli_check_branches(struct cli_ctx *ctx);

/*
 * The record of a change made outside the pipeline (cli/record.c, pipeline/event.h): kind is the
 * running command. cli_event_record writes it after success; cli_event_failed after a failure
 * that may have changed something (ctx->err is the event's error and stays the command's error;
 * a failure to record is only warned about).
 */
struct event;
void cli_event_init(struct event *ev, struct cli_ctx *ctx, const char *commit, const char *who);
int cli_event_record(struct event *ev, struct cli_ctx *ctx, const char *result, const char *archive);
void cli_event_failed(struct event *ev, struct cli_ctx *ctx);
/*
 * After engine_execute returned rc: record what ran (each step with status, the failed one as
 * failed; result, or "failed"). Nothing is recorded for a dry run, an empty plan or a refusal
 * before the first step. Returns rc, or -1 when recording a success failed.
 */
int cli_event_after_execute(struct event *ev, struct cli_ctx *ctx, int rc, bool dry_run, const struct engine_plan *plan,
                            const struct engine_result *res, const char *status, const char *result);
/*
 * The repository an environment deploys from: required, unless the environment has [git]
 * allow-dirty (then only wanted: it adds blob ids and authors). Needs the config.
 */
int cli_need_env_repo(struct cli_ctx *ctx);
/* Connect to the environment's database (once); needs the config. With --wait, wait for the server first. */
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

/* What main prepares and promises for a command; help, the man page and completion show them. */
enum cli_command_flags {
    CLI_NEEDS_ENV = 1 << 0,  /* the first positional argument is an environment (pipeline/ENV.conf) */
    CLI_NEEDS_REPO = 1 << 1, /* reads the git repository */
    CLI_NEEDS_DB = 1 << 2,   /* connects to the environment's database */
    CLI_TAKES_LOCK = 1 << 3, /* takes the deployment lock */
    CLI_CHANGES_DB = 1 << 4, /* may change the database */
    CLI_JSON = 1 << 5,       /* writes its own --json document (others get main's generic one) */
    CLI_HIDDEN = 1 << 6,     /* plumbing for completion and the build; not listed */
    CLI_MAYBE_REPO = 1 << 7, /* uses the repository when there is one (allow-dirty environments) */
    CLI_PIPELINE = 1 << 8,   /* the deployment pipeline: its own gate and record; no confirmation asked */
};

/* One row of the command table: the whole truth about a command. */
struct cli_command {
    const struct cli_spec *spec; /* name, usage, summary, options (in cmd_<name>.c) */
    int (*run)(struct cli_ctx *ctx, int argc, char **argv);
    unsigned flags;   /* enum cli_command_flags */
    const char *args; /* what each positional is, for completion: "ENV VERSION"; NULL for nothing */
};

/* The command table (cli/commands.c), alphabetical, ended by a NULL spec. */
extern const struct cli_command cli_commands[];
const struct cli_command *cli_command_find(const char *name);
/* The subcommand of cmd named by argv[1] ("hook install"), else cmd's own spec. */
const struct cli_spec *cli_command_spec(const struct cli_command *cmd, int argc, char **argv);

/* Global options, accepted before or after the command (cli/opts.c). */
struct cli_globals {
    const char *dir; /* -C DIR (borrowed from argv) */
    bool json, help, version;
    int verbosity;      /* enum out_verbosity */
    int color;          /* enum out_color_mode */
    uint64_t wait_ms;   /* --wait DURATION (0 = connect once) */
    const char *target; /* --target NAME: one database of a fleet (borrowed from argv) */
};

/*
 * If argv[i] is a global option, store it and return how many words it used (1 or 2); 0 when it
 * is not one; -1 on a bad value (err set, DD_EUSAGE). --help and --version count only when
 * `top` (before the command).
 */
int cli_global_opt(struct cli_globals *g, int argc, char **argv, int i, bool top, struct dd_error *err);
/*
 * Take the global options out of a command's arguments (argv[0] is the command), up to "--",
 * skipping the values of the command's own options; returns the new argc, or -1 (err set).
 */
int cli_take_globals(struct cli_globals *g, const struct cli_spec *spec, int argc, char **argv, struct dd_error *err);
/* Edit distance with adjacent transpositions (optimal string alignment). */
size_t cli_edit_distance(const char *a, const char *b);
/* The candidates closest to word (a likely typo of it), pushed onto out; returns how many. */
size_t cli_suggest(struct dd_strv *out, const char *word, const struct dd_strv *candidates);

/* Help, the man page and completion scripts, all from the table (cli/help.c, cli/completion.c). */
/* Append text word-wrapped to 79 columns: the first line continues at column col, the others
 * start with indent spaces. A blank line ("\n\n") starts a new paragraph at indent. */
void cli_wrap(struct dd_buf *b, const char *text, size_t col, size_t indent);
void cli_help_main(struct dd_buf *b);
void cli_help_command(struct dd_buf *b, const struct cli_spec *spec, const struct cli_command *cmd);
void cli_man_commands(struct dd_buf *b);
int cli_completion_script(struct dd_buf *b, const char *shell, struct dd_error *err);
/* Candidates for the completion scripts: "envs", "versions ENV", "archives ENV". */
int cli_complete_list(struct dd_strv *out, const char *root, const char *what, const char *env, struct dd_error *err);

int cmd_adopt(struct cli_ctx *ctx, int argc, char **argv);
int cmd_apply(struct cli_ctx *ctx, int argc, char **argv);
int cmd_backup(struct cli_ctx *ctx, int argc, char **argv);
int cmd_backups(struct cli_ctx *ctx, int argc, char **argv);
int cmd_changelog(struct cli_ctx *ctx, int argc, char **argv);
int cmd_deploy(struct cli_ctx *ctx, int argc, char **argv);
int cmd_envs(struct cli_ctx *ctx, int argc, char **argv);
int cmd_gate(struct cli_ctx *ctx, int argc, char **argv);
int cmd_health(struct cli_ctx *ctx, int argc, char **argv);
int cmd_hook(struct cli_ctx *ctx, int argc, char **argv);
int cmd_init(struct cli_ctx *ctx, int argc, char **argv);
int cmd_lint(struct cli_ctx *ctx, int argc, char **argv);
int cmd_log(struct cli_ctx *ctx, int argc, char **argv);
int cmd_mark(struct cli_ctx *ctx, int argc, char **argv);
int cmd_new(struct cli_ctx *ctx, int argc, char **argv);
int cmd_plan(struct cli_ctx *ctx, int argc, char **argv);
int cmd_restore(struct cli_ctx *ctx, int argc, char **argv);
int cmd_rollback(struct cli_ctx *ctx, int argc, char **argv);
int cmd_undo(struct cli_ctx *ctx, int argc, char **argv);
int cmd_schema(struct cli_ctx *ctx, int argc, char **argv);
int cmd_drift(struct cli_ctx *ctx, int argc, char **argv);
int cmd_setup(struct cli_ctx *ctx, int argc, char **argv);
int cmd_status(struct cli_ctx *ctx, int argc, char **argv);
int cmd_verify(struct cli_ctx *ctx, int argc, char **argv);
int cmd_help(struct cli_ctx *ctx, int argc, char **argv);
int cmd_version(struct cli_ctx *ctx, int argc, char **argv);
int cmd_completion(struct cli_ctx *ctx, int argc, char **argv);
int cmd_complete(struct cli_ctx *ctx, int argc, char **argv);
int cmd_man_commands(struct cli_ctx *ctx, int argc, char **argv);

/* Each command's spec, next to its code in cmd_<name>.c. */
extern const struct cli_spec cli_spec_adopt, cli_spec_apply, cli_spec_backup, cli_spec_backups, cli_spec_changelog,
    cli_spec_deploy, cli_spec_envs, cli_spec_gate, cli_spec_health, cli_spec_hook, cli_spec_hook_install,
    cli_spec_hook_pre_push, cli_spec_init, cli_spec_lint, cli_spec_log, cli_spec_mark, cli_spec_new, cli_spec_plan,
    cli_spec_restore, cli_spec_rollback, cli_spec_status, cli_spec_verify, cli_spec_help, cli_spec_version,
    cli_spec_completion, cli_spec_complete, cli_spec_man_commands;
extern const struct cli_spec cli_spec_undo;
int cmd_redo(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_spec cli_spec_redo;
int cmd_targets(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_spec cli_spec_targets;
/*
 * Fleets (cli/fleet.c): whether ctx's environment is a fleet and no --target was given (the
 * command then runs once per target), and `status`/`log` run per target and aggregated.
 */
bool cli_fleet_wide(const struct cli_ctx *ctx);
int cli_fleet_aggregate(struct cli_ctx *ctx, const char *command, const struct dd_strv *extra);
extern const struct cli_spec cli_spec_schema, cli_spec_schema_dump, cli_spec_schema_check, cli_spec_drift,
    cli_spec_setup;
int cmd_rehearse(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_spec cli_spec_rehearse;
/*
 * apply and rollback (cli/record.c): load env, run goal g with engine_execute on record
 * (cli_event_after_execute with status and result), then call report with the plan, the result
 * and the milliseconds since start_ms. Returns 0, or -1 with ctx->err set (nothing reported).
 */
struct engine_goal;
typedef void cli_execute_report_fn(const struct cli_ctx *ctx, const struct engine_plan *plan,
                                   const struct engine_result *res, bool dry_run, uint64_t ms);
int cli_execute_goal(struct cli_ctx *ctx, const char *env, const struct engine_goal *g, bool dry_run,
                     const char *status, const char *result, cli_execute_report_fn *report, uint64_t start_ms);

#endif
