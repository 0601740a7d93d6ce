/* Output formats of a lint run: text for people, GitHub workflow annotations, --json. */
#include "lint/internal.h"

#include "util/json.h"

void lint_render_text(struct dd_buf *out, const struct lint_run *r)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct lint_finding *x = &r->v[i];
        dd_buf_addf(out, "%s:%u:%u: %s: %s: %s\n  hint: %s\n", x->file, x->line, x->col,
                    lint_severity_name(x->severity), lint_rules[x->rule].id, x->message, lint_rules[x->rule].hint);
    }
}

/* Workflow commands: '%', CR and LF are escaped everywhere, ':' and ',' in properties too. */
static void gh_escape(struct dd_buf *out, const char *s, bool property)
{
    for (; *s; s++) {
        if (*s == '%')
            dd_buf_adds(out, "%25");
        else if (*s == '\r')
            dd_buf_adds(out, "%0D");
        else if (*s == '\n')
            dd_buf_adds(out, "%0A");
        else if (property && *s == ':')
            dd_buf_adds(out, "%3A");
        else if (property && *s == ',')
            dd_buf_adds(out, "%2C");
        else
            dd_buf_addch(out, *s);
    }
}

void lint_render_github(struct dd_buf *out, const struct lint_run *r)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct lint_finding *x = &r->v[i];
        dd_buf_addf(out, "::%s file=", x->severity == LINT_ERROR ? "error" : "warning");
        gh_escape(out, x->file, true);
        dd_buf_addf(out, ",line=%u,col=%u,title=", x->line, x->col);
        gh_escape(out, lint_rules[x->rule].id, true);
        dd_buf_adds(out, "::");
        gh_escape(out, x->message, false);
        dd_buf_adds(out, "%0Ahint: "); /* one annotation: message, then the hint on its own line */
        gh_escape(out, lint_rules[x->rule].hint, false);
        dd_buf_addch(out, '\n');
    }
}

void lint_render_allowed(struct dd_buf *out, const struct lint_run *r)
{
    for (size_t i = 0; i < r->nsup; i++) {
        const struct lint_suppression *s = &r->sup[i];
        if (s->used && s->reason)
            dd_buf_addf(out, "allowed: %s at %s:%u (%u finding%s): %s\n", s->rule, s->file, s->line, s->used,
                        s->used == 1 ? "" : "s", s->reason);
    }
}

void lint_json_members(struct dd_json *j, const struct lint_run *r)
{
    dd_json_uint(j, "files", r->files);
    dd_json_uint(j, "statements", r->statements);
    dd_json_uint(j, "errors", r->errors);
    dd_json_uint(j, "warnings", r->warnings);
    dd_json_arr_begin(j, "findings");
    for (size_t i = 0; i < r->n; i++) {
        const struct lint_finding *x = &r->v[i];
        dd_json_obj_begin(j, NULL);
        dd_json_str(j, "file", x->file);
        dd_json_uint(j, "line", x->line);
        dd_json_uint(j, "col", x->col);
        dd_json_str(j, "severity", lint_severity_name(x->severity));
        dd_json_str(j, "rule", lint_rules[x->rule].id);
        dd_json_str(j, "message", x->message);
        dd_json_str(j, "hint", lint_rules[x->rule].hint);
        dd_json_obj_end(j);
    }
    dd_json_arr_end(j);
    dd_json_arr_begin(j, "suppressions");
    for (size_t i = 0; i < r->nsup; i++) {
        const struct lint_suppression *s = &r->sup[i];
        dd_json_obj_begin(j, NULL);
        dd_json_str(j, "file", s->file);
        dd_json_uint(j, "line", s->line);
        dd_json_str(j, "rule", s->rule);
        dd_json_str(j, "reason", s->reason);
        dd_json_uint(j, "used", s->used);
        dd_json_obj_end(j);
    }
    dd_json_arr_end(j);
}

void lint_render_json(struct dd_buf *out, const struct lint_run *r)
{
    struct dd_json j;

    dd_json_document_begin(&j, out, "lint");
    lint_json_members(&j, r);
    dd_json_obj_end(&j);
}
