/*
 * The table-driven option parser: a command's options, the global options (accepted before or
 * after the command) and the "did you mean" suggestion for a mistyped command.
 */
#include "cli/cli.h"

#include <stdio.h>

#include "util/buf.h"
#include "util/out.h"
#include "util/parse.h"

static const struct cli_opt *find_long(const struct cli_opt *opts, const char *name, size_t len)
{
    for (; opts && opts->long_name; opts++)
        if (strlen(opts->long_name) == len && strncmp(opts->long_name, name, len) == 0)
            return opts;
    return NULL;
}

static const struct cli_opt *find_short(const struct cli_opt *opts, char c)
{
    for (; opts && opts->long_name; opts++)
        if (opts->short_name && opts->short_name == c)
            return opts;
    return NULL;
}

static bool takes_arg(const struct cli_opt *o)
{
    return o->type == CLI_OPT_T_STRING || o->type == CLI_OPT_T_U32;
}

static int usage_error(struct cli_ctx *ctx, const struct cli_spec *spec, const char *fmt, const char *what)
{
    dd_error_set(&ctx->err, DD_EUSAGE, fmt, what);
    dd_error_hint(&ctx->err, "Run 'dbdeploy %s --help' for usage.", spec->name);
    return -1;
}

static int store(struct cli_ctx *ctx, const struct cli_spec *spec, const struct cli_opt *o, void *opts, const char *val)
{
    char *dst = (char *)opts + o->offset;

    if (!opts)
        DD_BUG("command '%s' has options but passed no option struct", spec->name);
    switch (o->type) {
    case CLI_OPT_T_BOOL:
        *(bool *)dst = true;
        return 0;
    case CLI_OPT_T_SET_INT:
        *(int *)dst = o->value;
        return 0;
    case CLI_OPT_T_STRING:
        *(const char **)dst = val;
        return 0;
    case CLI_OPT_T_U32:
        if (dd_parse_u32(val, (uint32_t *)dst) < 0) {
            dd_error_set(&ctx->err, DD_EUSAGE, "option '--%s' expects a non-negative number, not '%s'", o->long_name,
                         val);
            dd_error_hint(&ctx->err, "Run 'dbdeploy %s --help' for usage.", spec->name);
            return -1;
        }
        return 0;
    }
    return 0;
}

static int parse_long(struct cli_ctx *ctx, const struct cli_spec *spec, void *opts, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *name = a + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const char *val = eq ? eq + 1 : NULL;
    const struct cli_opt *o = find_long(spec->opts, name, len);

    if (!o)
        return usage_error(ctx, spec, "unknown option '%s'", a);
    if (takes_arg(o) && !val) {
        if (*i + 1 >= argc)
            return usage_error(ctx, spec, "option '%s' needs a value", a);
        val = argv[++*i];
    } else if (!takes_arg(o) && val) {
        return usage_error(ctx, spec, "option '--%s' takes no value", o->long_name);
    }
    return store(ctx, spec, o, opts, val);
}

/* short options, possibly bundled (-ny) or with an attached value (-n3) */
static int parse_short(struct cli_ctx *ctx, const struct cli_spec *spec, void *opts, int argc, char **argv, int *i)
{
    for (const char *c = argv[*i] + 1; *c; c++) {
        char name[3] = {'-', *c, '\0'};
        const struct cli_opt *o = find_short(spec->opts, *c);
        if (!o)
            return usage_error(ctx, spec, "unknown option '%s'", name);
        if (takes_arg(o)) {
            const char *val = c[1] ? c + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
            if (!val)
                return usage_error(ctx, spec, "option '%s' needs a value", name);
            return store(ctx, spec, o, opts, val);
        }
        if (store(ctx, spec, o, opts, NULL) < 0)
            return -1;
    }
    return 0;
}

int cli_parse(struct cli_ctx *ctx, const struct cli_spec *spec, void *opts, int argc, char **argv, struct dd_strv *args)
{
    bool only_args = false;
    int nargs;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (only_args || a[0] != '-' || a[1] == '\0') {
            dd_strv_push(args, a);
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_args = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cli_print_help(spec);
            return 1;
        }
        if ((a[1] == '-' ? parse_long : parse_short)(ctx, spec, opts, argc, argv, &i) < 0)
            return -1;
    }
    nargs = (int)args->n;
    if (nargs < spec->min_args) {
        dd_error_set(&ctx->err, DD_EUSAGE, "'%s' needs %s", spec->name, spec->usage);
        dd_error_hint(&ctx->err, "Run 'dbdeploy %s --help' for usage.", spec->name);
        return -1;
    }
    if (spec->max_args >= 0 && nargs > spec->max_args)
        return usage_error(ctx, spec, "unexpected argument '%s'", args->v[spec->max_args]);
    cli_note_command(ctx, spec, opts);
    return 0;
}

void cli_print_help(const struct cli_spec *spec)
{
    struct dd_buf b = DD_BUF_INIT;
    const struct cli_command *cmd = NULL;

    for (const struct cli_command *c = cli_commands; c->spec && !cmd; c++)
        if (c->spec == spec)
            cmd = c;
    cli_help_command(&b, spec, cmd);
    out_result_buf(&b);
    dd_buf_release(&b);
}

/* ---- global options --------------------------------------------------------------------- */

static int set_color(struct cli_globals *g, const char *a, struct dd_error *err)
{
    const char *w = a[7] == '=' ? a + 8 : (a[7] == '\0' ? "always" : NULL);

    if (dd_streq(w, "auto"))
        g->color = OUT_COLOR_AUTO;
    else if (dd_streq(w, "always"))
        g->color = OUT_COLOR_ALWAYS;
    else if (dd_streq(w, "never"))
        g->color = OUT_COLOR_NEVER;
    else
        return dd_error_set(err, DD_EUSAGE, "'%s': --color takes auto, always or never", a);
    return 1;
}

/* --wait DURATION or --wait=DURATION */
static int set_wait(struct cli_globals *g, int argc, char **argv, int i, struct dd_error *err)
{
    const char *a = argv[i], *v = a[6] == '=' ? a + 7 : (i + 1 < argc ? argv[i + 1] : NULL);

    if (!v)
        return dd_error_set(err, DD_EUSAGE, "option '--wait' needs a duration");
    if (dd_parse_duration_ms(v, &g->wait_ms) < 0) {
        dd_error_set(err, DD_EUSAGE, "option '--wait' expects a duration, not '%s'", v);
        dd_error_hint(err, "Use a number with a unit, for example --wait 60s or --wait 2m.");
        return -1;
    }
    return a[6] == '=' ? 1 : 2;
}

int cli_global_opt(struct cli_globals *g, int argc, char **argv, int i, bool top, struct dd_error *err)
{
    const char *a = argv[i];

    if (strcmp(a, "-C") == 0) {
        if (i + 1 >= argc)
            return dd_error_set(err, DD_EUSAGE, "option '-C' needs a directory");
        g->dir = argv[i + 1];
        return 2;
    }
    if (strncmp(a, "-C", 2) == 0) {
        g->dir = a + 2;
        return 1;
    }
    if (strcmp(a, "--target") == 0 || strncmp(a, "--target=", 9) == 0) {
        if (a[8] == '=' ? !a[9] : i + 1 >= argc)
            return dd_error_set(err, DD_EUSAGE, "option '--target' needs the name of a fleet's target");
        g->target = a[8] == '=' ? a + 9 : argv[i + 1];
        return a[8] == '=' ? 1 : 2;
    }
    if (strcmp(a, "--json") == 0)
        g->json = true;
    else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
        g->verbosity = OUT_QUIET;
    else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
        g->verbosity = OUT_VERBOSE;
    else if (strncmp(a, "--color", 7) == 0 && (a[7] == '\0' || a[7] == '='))
        return set_color(g, a, err);
    else if (strncmp(a, "--wait", 6) == 0 && (a[6] == '\0' || a[6] == '='))
        return set_wait(g, argc, argv, i, err);
    else if (top && strcmp(a, "--version") == 0)
        g->version = true;
    else if (top && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0))
        g->help = true;
    else
        return 0;
    return 1;
}

/* Whether argv[i] is a command option that takes its value from the next word. */
static bool option_eats_next(const struct cli_spec *spec, const char *a)
{
    const struct cli_opt *o;

    if (a[1] == '-') {
        if (strchr(a, '='))
            return false;
        o = find_long(spec->opts, a + 2, strlen(a + 2));
        return o && takes_arg(o);
    }
    /* the last of bundled short options may take the next word (-n3 carries its own) */
    for (const char *c = a + 1; *c; c++) {
        o = find_short(spec->opts, *c);
        if (o && takes_arg(o))
            return c[1] == '\0';
        if (!o)
            return false;
    }
    return false;
}

int cli_take_globals(struct cli_globals *g, const struct cli_spec *spec, int argc, char **argv, struct dd_error *err)
{
    int out = 1, i = 1;

    while (i < argc) {
        const char *a = argv[i];
        int used;

        if (strcmp(a, "--") == 0)
            break;
        if (a[0] != '-' || a[1] == '\0') {
            argv[out++] = argv[i++];
            continue;
        }
        used = cli_global_opt(g, argc, argv, i, false, err);
        if (used < 0)
            return -1;
        if (used > 0) {
            i += used;
            continue;
        }
        argv[out++] = argv[i++];
        if (option_eats_next(spec, a) && i < argc)
            argv[out++] = argv[i++];
    }
    while (i < argc)
        argv[out++] = argv[i++];
    argv[out] = NULL;
    return out;
}

/* ---- did you mean ----------------------------------------------------------------------- */

size_t cli_edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b), *d, result;

    /* (n+1) x (m+1) table; row i, column j at d[i * (m + 1) + j] */
    d = dd_xmalloc((n + 1) * (m + 1) * sizeof(*d));
    for (size_t i = 0; i <= n; i++)
        d[i * (m + 1)] = i;
    for (size_t j = 0; j <= m; j++)
        d[j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = d[(i - 1) * (m + 1) + j] + 1;
            if (d[i * (m + 1) + j - 1] + 1 < best)
                best = d[i * (m + 1) + j - 1] + 1;
            if (d[(i - 1) * (m + 1) + j - 1] + cost < best)
                best = d[(i - 1) * (m + 1) + j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[(i - 2) * (m + 1) + j - 2] + 1 < best)
                best = d[(i - 2) * (m + 1) + j - 2] + 1;
            d[i * (m + 1) + j] = best;
        }
    result = d[n * (m + 1) + m];
    free(d);
    return result;
}

size_t cli_suggest(struct dd_strv *out, const char *word, const struct dd_strv *candidates)
{
    /* a third of the word may be wrong (at least one edit, at most two), as git's threshold does */
    size_t len = strlen(word), limit = len / 3 ? (len / 3 < 2 ? len / 3 : 2) : 1, best = limit + 1, n = 0;

    for (size_t i = 0; i < candidates->n; i++) {
        size_t d = cli_edit_distance(word, candidates->v[i]);
        if (d < best)
            best = d;
    }
    if (best > limit || best == 0)
        return 0;
    for (size_t i = 0; i < candidates->n; i++)
        if (cli_edit_distance(word, candidates->v[i]) == best && !dd_strv_contains(out, candidates->v[i])) {
            dd_strv_push(out, candidates->v[i]);
            n++;
        }
    return n;
}
