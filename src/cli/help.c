/*
 * Everything a reader sees about the commands, generated from the command table: --help texts
 * (one formatter, wrapped to 79 columns), the man page's COMMANDS section and the bash and zsh
 * completion scripts. A new command or option shows up in all of them by being in the table.
 */
#include "cli/cli.h"

#include <ctype.h>
#include <stdio.h>

#include "util/out.h"

#define HELP_WIDTH   79
#define HELP_OPT_COL 29 /* where an option's help starts */
#define HELP_CMD_COL 13 /* where a command's summary starts in the list */

struct global_opt {
    const char *left, *help;
};

static const struct global_opt global_opts[] = {
    {"-C DIR", "run as if started in DIR (the project root)"},
    {"--json", "print one JSON document on stdout (it always carries \"exit_status\")"},
    {"-q, --quiet", "print errors only"},
    {"-v, --verbose", "print details (files, timings, child commands)"},
    {"--color=WHEN", "auto (default), always or never; NO_COLOR disables colour"},
    {"--wait DURATION", "wait up to DURATION (60s, 2m) for the database to accept connections"},
    {"--target NAME", "one database of a fleet ([targets]; 'dbdeploy targets ENV' lists them)"},
    {"--version", "print the version (same as 'dbdeploy version')"},
    {"-h, --help", "show this help ('dbdeploy help COMMAND' for a command)"},
};

static void add_spaces(struct dd_buf *b, size_t n)
{
    while (n--)
        dd_buf_addch(b, ' ');
}

void cli_wrap(struct dd_buf *b, const char *text, size_t col, size_t indent)
{
    const char *p = text ? text : "";
    bool first = true;

    while (*p) {
        size_t newlines = 0, len;

        while (*p == ' ' || *p == '\n' || *p == '\t')
            newlines += *p++ == '\n';
        if (!*p)
            break;
        len = strcspn(p, " \n\t");
        if (newlines >= 2) { /* a paragraph break */
            dd_buf_adds(b, "\n\n");
            add_spaces(b, indent);
            col = indent;
        } else if (!first && col + 1 + len > HELP_WIDTH && col > indent) {
            dd_buf_addch(b, '\n');
            add_spaces(b, indent);
            col = indent;
        } else if (!first) {
            dd_buf_addch(b, ' ');
            col++;
        }
        dd_buf_add(b, p, len);
        col += len;
        p += len;
        first = false;
    }
}

/* "  left   help..." with the help wrapped under itself. */
static void add_row(struct dd_buf *b, const char *left, const char *help, size_t help_col)
{
    size_t col = 2 + strlen(left);

    dd_buf_addf(b, "  %s", left);
    if (col + 1 > help_col) {
        dd_buf_addch(b, '\n');
        col = 0;
    }
    add_spaces(b, help_col - col);
    cli_wrap(b, help, help_col, help_col);
    dd_buf_addch(b, '\n');
}

static void opt_left(struct dd_buf *b, const struct cli_opt *o)
{
    if (o->short_name)
        dd_buf_addf(b, "-%c, ", o->short_name);
    else
        dd_buf_adds(b, "    ");
    dd_buf_addf(b, "--%s", o->long_name);
    if (o->arg_name)
        dd_buf_addf(b, " %s", o->arg_name);
}

void cli_help_main(struct dd_buf *b)
{
    dd_buf_adds(b, "usage: dbdeploy [-C DIR] [--json] [-q|-v] [--color=WHEN] COMMAND [ARGS]\n\n"
                   "Git-aware PostgreSQL schema deployments.\n\ncommands:\n");
    for (const struct cli_command *c = cli_commands; c->spec; c++)
        if (!(c->flags & CLI_HIDDEN))
            add_row(b, c->spec->name, c->spec->brief, HELP_CMD_COL);
    dd_buf_adds(b, "\nglobal options (before or after the command):\n");
    for (size_t i = 0; i < DD_ARRAY_SIZE(global_opts); i++)
        add_row(b, global_opts[i].left, global_opts[i].help, 17);
    dd_buf_adds(b, "\n");
    cli_wrap(b,
             "exit status: 0 success or nothing to do, 1 operation failed, 2 usage/config/input error, 3 blocked "
             "before any change, 4 failed and database restored, 5 failed and restore failed",
             0, 0);
    dd_buf_adds(b, "\n");
}

/* "needs an environment, the git repository and its database; takes the deployment lock; ..." */
static void flags_sentence(struct dd_buf *b, unsigned flags)
{
    struct dd_strv needs = DD_STRV_INIT, parts = DD_STRV_INIT;
    char *joined;

    if (flags & CLI_NEEDS_ENV)
        dd_strv_push(&needs, "an environment (pipeline/ENV.conf)");
    if (flags & CLI_NEEDS_REPO)
        dd_strv_push(&needs, "the git repository");
    else if (flags & CLI_MAYBE_REPO)
        dd_strv_push(&needs, "the git repository (not for allow-dirty environments)");
    if (flags & CLI_NEEDS_DB)
        dd_strv_push(&needs, "the database");
    if (needs.n) {
        joined = dd_strv_join(&needs, ", ");
        dd_strv_pushf(&parts, "needs %s", joined);
        free(joined);
    } else {
        dd_strv_push(&parts, "needs no database");
    }
    if (flags & CLI_TAKES_LOCK)
        dd_strv_push(&parts, "takes the deployment lock");
    dd_strv_push(&parts, flags & CLI_CHANGES_DB ? "may change the database" : "never changes the database");
    if ((flags & CLI_CHANGES_DB) && !(flags & CLI_PIPELINE))
        dd_strv_push(&parts, "on a protected environment asks to type its name (or --yes)");
    dd_strv_push(&parts, flags & CLI_JSON ? "--json prints its own document" : "--json prints a generic document");
    joined = dd_strv_join(&parts, "; ");
    dd_buf_adds(b, joined);
    free(joined);
    dd_strv_release(&parts);
    dd_strv_release(&needs);
}

void cli_help_command(struct dd_buf *b, const struct cli_spec *spec, const struct cli_command *cmd)
{
    size_t col = strlen("usage: dbdeploy ") + strlen(spec->name) + 1;

    /* long usages continue under the first argument, as git's do */
    dd_buf_addf(b, "usage: dbdeploy %s%s", spec->name, *spec->usage ? " " : "");
    cli_wrap(b, spec->usage, col, col);
    dd_buf_adds(b, "\n\n");
    cli_wrap(b, spec->summary, 0, 0);
    dd_buf_adds(b, "\n");
    if (spec->subs) {
        dd_buf_adds(b, "\ncommands:\n");
        for (const struct cli_spec *const *s = spec->subs; *s; s++)
            add_row(b, strchr((*s)->name, ' ') + 1, (*s)->brief, HELP_CMD_COL + 2);
    }
    dd_buf_adds(b, "\noptions:\n");
    for (const struct cli_opt *o = spec->opts; o && o->long_name; o++) {
        struct dd_buf left = DD_BUF_INIT;
        opt_left(&left, o);
        add_row(b, left.buf, o->help, HELP_OPT_COL);
        dd_buf_release(&left);
    }
    add_row(b, "-h, --help", "show this help", HELP_OPT_COL);
    if (spec->details) {
        dd_buf_adds(b, "\n");
        cli_wrap(b, spec->details, 0, 0);
        dd_buf_adds(b, "\n");
    }
    if (cmd) {
        struct dd_buf s = DD_BUF_INIT;
        dd_buf_adds(&s, "This command ");
        flags_sentence(&s, cmd->flags);
        dd_buf_adds(&s, ".");
        dd_buf_adds(b, "\n");
        cli_wrap(b, s.buf, 0, 0);
        dd_buf_adds(b, "\n");
        dd_buf_release(&s);
    }
    dd_buf_adds(b, "\n");
    cli_wrap(b,
             "global options (before or after the command): -C DIR, --json, -q, -v, --color=WHEN; see "
             "'dbdeploy --help'",
             0, 0);
    dd_buf_adds(b, "\n");
}

/* ---- man page --------------------------------------------------------------------------- */

/* Text for roff: escape backslashes and hyphens; a line may not start with '.' or '\''. */
static void roff(struct dd_buf *b, const char *text)
{
    bool bol = true;

    for (const char *p = text ? text : ""; *p; p++) {
        if (bol && (*p == '.' || *p == '\''))
            dd_buf_adds(b, "\\&");
        if (*p == '\\')
            dd_buf_adds(b, "\\e");
        else if (*p == '-')
            dd_buf_adds(b, "\\-");
        else
            dd_buf_addch(b, *p);
        bol = *p == '\n';
    }
}

/* Paragraphs as roff text: single newlines are spaces (roff fills), blank lines become .sp */
static void roff_paragraphs(struct dd_buf *b, const char *text)
{
    for (const char *p = text; *p;) {
        const char *end = strstr(p, "\n\n");
        size_t len = end ? (size_t)(end - p) : strlen(p);
        struct dd_buf para = DD_BUF_INIT;

        dd_buf_add(&para, p, len);
        for (char *q = para.buf; *q; q++)
            if (*q == '\n')
                *q = ' ';
        if (p != text)
            dd_buf_adds(b, ".IP\n");
        roff(b, para.buf);
        dd_buf_addch(b, '\n');
        dd_buf_release(&para);
        p += len;
        while (*p == '\n')
            p++;
    }
}

static void man_spec(struct dd_buf *b, const struct cli_spec *spec, const struct cli_command *cmd)
{
    dd_buf_addf(b, ".TP\n\\fB%s\\fR", spec->name);
    if (*spec->usage) {
        dd_buf_addch(b, ' ');
        roff(b, spec->usage);
    }
    dd_buf_addch(b, '\n');
    roff_paragraphs(b, spec->summary);
    if (spec->opts && spec->opts->long_name) {
        dd_buf_adds(b, ".RS\n");
        for (const struct cli_opt *o = spec->opts; o->long_name; o++) {
            struct dd_buf left = DD_BUF_INIT;
            opt_left(&left, o);
            dd_buf_adds(b, ".TP\n.B ");
            roff(b, left.buf + (o->short_name ? 0 : 4));
            dd_buf_addch(b, '\n');
            roff(b, o->help);
            dd_buf_addch(b, '\n');
            dd_buf_release(&left);
        }
        dd_buf_adds(b, ".RE\n");
    }
    if (spec->details) {
        dd_buf_adds(b, ".IP\n");
        roff_paragraphs(b, spec->details);
    }
    if (cmd) {
        struct dd_buf s = DD_BUF_INIT;
        dd_buf_adds(b, ".IP\n");
        flags_sentence(&s, cmd->flags);
        s.buf[0] = (char)toupper((unsigned char)s.buf[0]);
        dd_buf_adds(&s, ".");
        roff(b, s.buf);
        dd_buf_addch(b, '\n');
        dd_buf_release(&s);
    }
}

void cli_man_commands(struct dd_buf *b)
{
    dd_buf_adds(b, ".SH COMMANDS\n"
                   ".\\\" Generated from the command table by 'dbdeploy __man-commands' (scripts/gen-cli-docs.sh);\n"
                   ".\\\" edit src/cli/cmd_*.c and src/cli/commands.c, not this section.\n");
    for (const struct cli_command *c = cli_commands; c->spec; c++) {
        if (c->flags & CLI_HIDDEN)
            continue;
        man_spec(b, c->spec, c);
        for (const struct cli_spec *const *s = c->spec->subs; s && *s; s++)
            man_spec(b, *s, NULL);
    }
}
