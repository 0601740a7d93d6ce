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

static int store(struct cli_ctx *ctx, const struct cli_spec *spec, const struct cli_opt *o, const char *val)
{
    switch (o->type) {
    case CLI_OPT_T_BOOL:
        *(bool *)o->dst = true;
        return 0;
    case CLI_OPT_T_SET_INT:
        *(int *)o->dst = o->value;
        return 0;
    case CLI_OPT_T_STRING:
        *(const char **)o->dst = val;
        return 0;
    case CLI_OPT_T_U32:
        if (dd_parse_u32(val, (uint32_t *)o->dst) < 0) {
            dd_error_set(&ctx->err, DD_EUSAGE, "option '--%s' expects a non-negative number, not '%s'", o->long_name,
                         val);
            dd_error_hint(&ctx->err, "Run 'dbdeploy %s --help' for usage.", spec->name);
            return -1;
        }
        return 0;
    }
    return 0;
}

int cli_parse(struct cli_ctx *ctx, const struct cli_spec *spec, int argc, char **argv, struct dd_strv *args)
{
    bool only_args = false;
    int nargs;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const struct cli_opt *o;

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
        if (a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            const char *val = eq ? eq + 1 : NULL;

            o = find_long(spec->opts, name, len);
            if (!o)
                return usage_error(ctx, spec, "unknown option '%s'", a);
            if (takes_arg(o) && !val) {
                if (i + 1 >= argc)
                    return usage_error(ctx, spec, "option '%s' needs a value", a);
                val = argv[++i];
            } else if (!takes_arg(o) && val) {
                return usage_error(ctx, spec, "option '--%s' takes no value", o->long_name);
            }
            if (store(ctx, spec, o, val) < 0)
                return -1;
            continue;
        }
        /* short options, possibly bundled (-qv) or with an attached value (-n3) */
        for (const char *c = a + 1; *c; c++) {
            char name[3] = {'-', *c, '\0'};
            o = find_short(spec->opts, *c);
            if (!o)
                return usage_error(ctx, spec, "unknown option '%s'", name);
            if (takes_arg(o)) {
                const char *val = c[1] ? c + 1 : (i + 1 < argc ? argv[++i] : NULL);
                if (!val)
                    return usage_error(ctx, spec, "option '%s' needs a value", name);
                if (store(ctx, spec, o, val) < 0)
                    return -1;
                break;
            }
            if (store(ctx, spec, o, NULL) < 0)
                return -1;
        }
    }
    nargs = (int)args->n;
    if (nargs < spec->min_args) {
        dd_error_set(&ctx->err, DD_EUSAGE, "'%s' needs %s", spec->name, spec->usage);
        dd_error_hint(&ctx->err, "Run 'dbdeploy %s --help' for usage.", spec->name);
        return -1;
    }
    if (spec->max_args >= 0 && nargs > spec->max_args)
        return usage_error(ctx, spec, "unexpected argument '%s'", args->v[spec->max_args]);
    return 0;
}

void cli_print_help(const struct cli_spec *spec)
{
    struct dd_buf b = DD_BUF_INIT;

    dd_buf_addf(&b, "usage: dbdeploy %s %s\n\n%s\n", spec->name, spec->usage, spec->summary);
    dd_buf_adds(&b, "\noptions:\n");
    for (const struct cli_opt *o = spec->opts; o && o->long_name; o++) {
        struct dd_buf left = DD_BUF_INIT;
        if (o->short_name)
            dd_buf_addf(&left, "-%c, ", o->short_name);
        else
            dd_buf_adds(&left, "    ");
        dd_buf_addf(&left, "--%s", o->long_name);
        if (o->arg_name)
            dd_buf_addf(&left, " %s", o->arg_name);
        dd_buf_addf(&b, "  %-26s %s\n", left.buf, o->help);
        dd_buf_release(&left);
    }
    dd_buf_addf(&b, "  %-26s %s\n", "-h, --help", "show this help");
    if (spec->details)
        dd_buf_addf(&b, "\n%s\n", spec->details);
    dd_buf_adds(&b,
                "\nglobal options (before the command): -C DIR, --json, -q, -v, --color=WHEN; see 'dbdeploy --help'\n");
    out_result_buf(&b);
    dd_buf_release(&b);
}
