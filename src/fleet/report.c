/* Summaries of fleet runs: one line, or one JSON object, per target. */
#include "fleet/fleet.h"

#include "util/json.h"
#include "util/mask.h"

/* The last "error: ..." line of a child's stderr (a child that died before its JSON). */
static char *stderr_error(const struct dd_buf *errs)
{
    const char *p = errs->buf, *hit = NULL;

    while ((p = strstr(p, "error: "))) {
        if (p == errs->buf || p[-1] == '\n')
            hit = p + 7;
        p += 7;
    }
    return hit ? dd_xstrndup(hit, strcspn(hit, "\n")) : NULL;
}

void fleet_line_read(struct fleet_line *l, const struct fleet_outcome *o)
{
    const char *doc = o->out.buf, *e;

    memset(l, 0, sizeof(*l));
    l->pending = l->applied = -1;
    if (o->state == FLEET_SKIPPED) {
        l->result = "skipped";
        return;
    }
    l->result_owned = fleet_json_string(fleet_json_member(doc, "result"));
    l->pending = fleet_json_array_len(fleet_json_member(doc, "pending"));
    l->applied = fleet_json_array_len(fleet_json_member(doc, "applied"));
    e = fleet_json_member(doc, "error");
    if (e && *e == '{')
        l->error = fleet_json_string(fleet_json_member(e, "message"));
    if (!l->error && o->exit_status)
        l->error = stderr_error(&o->errs);
    if (!l->error && o->exit_status)
        l->error = dd_xasprintf("dbdeploy exited with status %d", o->exit_status);
    l->result = l->result_owned ? l->result_owned : o->exit_status ? "failed" : "done";
}

void fleet_line_release(struct fleet_line *l)
{
    free(l->error);
    free(l->result_owned);
    l->error = l->result_owned = NULL;
}

/* The outcome that speaks for target i: its deploy, else its plan, else nothing (skipped). */
static const struct fleet_outcome *speaks(const struct fleet_summary *s, size_t i, const char **phase)
{
    if (s->rollout && s->rollout[i].state == FLEET_DONE) {
        *phase = "deploy";
        return &s->rollout[i];
    }
    if (s->plan && s->plan[i].state == FLEET_DONE && (s->dry_run || !s->rollout || s->plan[i].exit_status)) {
        *phase = "plan";
        return &s->plan[i];
    }
    *phase = NULL;
    return s->rollout ? &s->rollout[i] : s->plan ? &s->plan[i] : NULL;
}

static void waves_text(struct dd_buf *b, const struct fleet_summary *s)
{
    for (size_t w = 0; w < s->nwaves; w++)
        dd_buf_addf(b, "%s%zu", w ? ", " : "", s->wave_ends[w]);
}

static void line_text(struct dd_buf *b, const struct fleet_summary *s, size_t i, size_t width)
{
    const char *phase;
    const struct fleet_outcome *o = speaks(s, i, &phase);
    struct fleet_line l;
    struct fleet_outcome none = {FLEET_SKIPPED, 0, 0, 0, DD_BUF_INIT, DD_BUF_INIT};

    fleet_line_read(&l, o && phase ? o : &none);
    dd_buf_addf(b, "  %-*s  wave %-2u %-15s", (int)width, s->targets->v[i].name, s->rollout ? s->rollout[i].wave : 0,
                l.result);
    if (phase && !strcmp(phase, "deploy") && l.applied >= 0)
        dd_buf_addf(b, " %ld applied", l.applied);
    else if (phase && l.pending >= 0)
        dd_buf_addf(b, " %ld pending", l.pending);
    if (phase)
        dd_buf_addf(b, "  exit %d  %.1fs", o->exit_status, (double)o->ms / 1000.0);
    if (phase && !strcmp(phase, "plan") && !s->dry_run)
        dd_buf_adds(b, "  (plan)");
    if (l.error) {
        dd_buf_adds(b, "  ");
        dd_mask_add(b, l.error, strcspn(l.error, "\n"));
    }
    dd_buf_addch(b, '\n');
    fleet_line_release(&l);
}

static int worst_of(const struct fleet_summary *s, size_t *failed, size_t *skipped)
{
    int worst = 0;

    *failed = *skipped = 0;
    for (size_t i = 0; i < s->targets->n; i++) {
        const char *phase;
        const struct fleet_outcome *o = speaks(s, i, &phase);
        if (!phase) {
            (*skipped)++;
            continue;
        }
        *failed += o->exit_status != 0;
        worst = fleet_worse_status(worst, o->exit_status);
    }
    return worst;
}

static void verdict_text(struct dd_buf *b, const struct fleet_summary *s, int worst, size_t failed, size_t skipped)
{
    size_t n = s->targets->n;

    if (s->dry_run)
        dd_buf_addf(b, "planned %zu target%s of %s: %zu failed their plan\n", n, n == 1 ? "" : "s", s->env, failed);
    else if (!s->rollout)
        dd_buf_addf(b, "rollout of %s not started: %zu of %zu targets failed their plan; nothing was changed\n", s->env,
                    failed, n);
    else if (failed && !skipped)
        dd_buf_addf(b,
                    "rollout of %s finished with failures: %zu of %zu targets failed, below the halt rule (exit %d)\n",
                    s->env, failed, n, worst);
    else if (failed)
        dd_buf_addf(b, "rollout of %s stopped after wave %zu of %zu: %zu target%s failed, %zu not touched (exit %d)\n",
                    s->env, s->waves_started, s->nwaves, failed, failed == 1 ? "" : "s", skipped, worst);
    else
        dd_buf_addf(b, "rollout of %s done: %zu target%s in %zu wave%s\n", s->env, n, n == 1 ? "" : "s",
                    s->waves_started, s->waves_started == 1 ? "" : "s");
}

static void line_json(struct dd_json *j, const struct fleet_summary *s, size_t i)
{
    const char *phase;
    const struct fleet_outcome *o = speaks(s, i, &phase);
    struct fleet_line l;
    struct fleet_outcome none = {FLEET_SKIPPED, 0, 0, 0, DD_BUF_INIT, DD_BUF_INIT};

    fleet_line_read(&l, o && phase ? o : &none);
    dd_json_obj_begin(j, NULL);
    dd_json_str(j, "name", s->targets->v[i].name);
    dd_json_str(j, "database", s->targets->v[i].url_masked);
    dd_json_int(j, "wave", s->rollout ? s->rollout[i].wave : 0);
    dd_json_str(j, "phase", phase);
    dd_json_str(j, "result", l.result);
    if (phase) {
        dd_json_int(j, "exit_status", o->exit_status);
        dd_json_int(j, "duration_ms", (int64_t)o->ms);
    } else {
        dd_json_null(j, "exit_status");
        dd_json_null(j, "duration_ms");
    }
    if (l.pending >= 0)
        dd_json_int(j, "pending", l.pending);
    else
        dd_json_null(j, "pending");
    if (l.applied >= 0)
        dd_json_int(j, "applied", l.applied);
    else
        dd_json_null(j, "applied");
    dd_json_str(j, "error", l.error);
    /* the child's own document, whole: it went through its masking already */
    if (phase && o->out.len && fleet_json_member(o->out.buf, "command"))
        dd_json_raw(j, "report", o->out.buf, o->out.len);
    else
        dd_json_null(j, "report");
    dd_json_obj_end(j);
    fleet_line_release(&l);
}

int fleet_summary_render(struct dd_buf *out, const struct fleet_summary *s, bool json)
{
    size_t failed, skipped, width = 4;
    int worst = worst_of(s, &failed, &skipped);
    const char *result = s->dry_run    ? (failed ? "plan-failed" : "planned")
                         : !s->rollout ? "not-started"
                         : !failed     ? "done"
                         : skipped     ? "halted"
                                       : "done-with-failures";

    if (json) {
        struct dd_json j;
        dd_json_document_begin(&j, out, s->command);
        dd_json_str(&j, "env", s->env);
        dd_json_bool(&j, "fleet", true);
        dd_json_bool(&j, "dry_run", s->dry_run);
        dd_json_str(&j, "result", result);
        dd_json_int(&j, "exit_status", worst);
        dd_json_arr_begin(&j, "waves");
        for (size_t w = 0; w < s->nwaves; w++)
            dd_json_uint(&j, NULL, s->wave_ends[w]);
        dd_json_arr_end(&j);
        dd_json_uint(&j, "waves_started", s->waves_started);
        dd_json_uint(&j, "failed", failed);
        dd_json_uint(&j, "skipped", skipped);
        dd_json_arr_begin(&j, "targets");
        for (size_t i = 0; i < s->targets->n; i++)
            line_json(&j, s, i);
        dd_json_arr_end(&j);
        dd_json_obj_end(&j);
        return worst;
    }
    for (size_t i = 0; i < s->targets->n; i++)
        if (strlen(s->targets->v[i].name) > width)
            width = strlen(s->targets->v[i].name);
    dd_buf_addf(out, "fleet %s: %zu target%s, waves ending at ", s->env, s->targets->n, s->targets->n == 1 ? "" : "s");
    waves_text(out, s);
    dd_buf_adds(out, "\n");
    for (size_t i = 0; i < s->targets->n; i++)
        line_text(out, s, i, width);
    verdict_text(out, s, worst, failed, skipped);
    return worst;
}

int fleet_aggregate_render(struct dd_buf *out, const char *command, const char *env, const struct fleet_targets *t,
                           const struct fleet_outcome *o, bool json)
{
    struct dd_json j;
    int worst = 0;

    if (json) {
        dd_json_document_begin(&j, out, command);
        dd_json_str(&j, "env", env);
        dd_json_bool(&j, "fleet", true);
        dd_json_arr_begin(&j, "targets");
    }
    for (size_t i = 0; i < t->n; i++) {
        worst = fleet_worse_status(worst, o[i].exit_status);
        if (!json) {
            dd_buf_addf(out, "%s== %s (%s)\n", i ? "\n" : "", t->v[i].name, t->v[i].url_masked);
            dd_buf_add(out, o[i].out.buf, o[i].out.len);
            if (o[i].exit_status) {
                char *e = stderr_error(&o[i].errs);
                dd_buf_addf(out, "error (exit %d): ", o[i].exit_status);
                dd_mask_add(out, e ? e : "", e ? strlen(e) : 0);
                dd_buf_addch(out, '\n');
                free(e);
            }
            continue;
        }
        dd_json_obj_begin(&j, NULL);
        dd_json_str(&j, "name", t->v[i].name);
        dd_json_str(&j, "database", t->v[i].url_masked);
        dd_json_int(&j, "exit_status", o[i].exit_status);
        if (o[i].out.len && fleet_json_member(o[i].out.buf, "command"))
            dd_json_raw(&j, "report", o[i].out.buf, o[i].out.len);
        else
            dd_json_null(&j, "report");
        dd_json_obj_end(&j);
    }
    if (json) {
        dd_json_arr_end(&j);
        dd_json_obj_end(&j);
    }
    return worst;
}
