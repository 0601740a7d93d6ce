#include "notify/notify.h"

#include <stdio.h>

#include "config/config.h"
#include "util/json.h"

const char *notify_kind_name(enum notify_kind kind)
{
    static const char *const names[] = {"start", "success", "failure", "restored"};

    return names[kind];
}

static void where(struct dd_buf *out, const struct notify_event *ev)
{
    dd_buf_addf(out, "%s", ev->env);
    if (ev->commit)
        dd_buf_addf(out, " at %.7s", ev->commit);
}

/* apply, rollback, mark, restore, adopt: the command's result rather than the pipeline's words */
static void command_summary(struct dd_buf *out, const struct notify_event *ev, double s)
{
    dd_buf_addf(out, "%s on ", ev->command);
    where(out, ev);
    if (ev->kind == NOTIFY_SUCCESS || ev->kind == NOTIFY_START) {
        dd_buf_addf(out, ": %s (%zu migration%s) in %.1fs", ev->result ? ev->result : "started", ev->n_versions,
                    ev->n_versions == 1 ? "" : "s", s);
        return;
    }
    dd_buf_addf(out, " failed after %.1fs", s);
    if (ev->error)
        dd_buf_addf(out, ": %s", ev->error);
}

void notify_summary(struct dd_buf *out, const struct notify_event *ev)
{
    double s = (double)ev->duration_ms / 1000.0;

    if (ev->command && strcmp(ev->command, "deploy") != 0) {
        command_summary(out, ev, s);
        if (ev->who)
            dd_buf_addf(out, " (by %s)", ev->who);
        return;
    }
    switch (ev->kind) {
    case NOTIFY_START:
        dd_buf_addf(out, "deploying %zu migration%s to ", ev->n_versions, ev->n_versions == 1 ? "" : "s");
        where(out, ev);
        break;
    case NOTIFY_SUCCESS:
        dd_buf_addf(out, "deployed %zu migration%s to ", ev->n_applied, ev->n_applied == 1 ? "" : "s");
        where(out, ev);
        dd_buf_addf(out, " in %.1fs", s);
        break;
    case NOTIFY_FAILURE:
    case NOTIFY_RESTORED:
        dd_buf_adds(out, "deployment to ");
        where(out, ev);
        dd_buf_addf(out, " failed after %.1fs%s", s,
                    ev->kind == NOTIFY_RESTORED ? "; the database is back to its state before it" : "");
        if (ev->result && ev->kind == NOTIFY_FAILURE && strcmp(ev->result, "failed") != 0)
            dd_buf_addf(out, " (%s)", ev->result);
        if (ev->error)
            dd_buf_addf(out, ": %s", ev->error);
        break;
    }
    if (ev->who)
        dd_buf_addf(out, " (by %s)", ev->who);
}

void notify_slack_escape(struct dd_buf *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '&')
            dd_buf_adds(out, "&amp;");
        else if (*s == '<')
            dd_buf_adds(out, "&lt;");
        else if (*s == '>')
            dd_buf_adds(out, "&gt;");
        else
            dd_buf_addch(out, *s);
    }
}

void notify_payload(struct dd_buf *out, const struct notify_event *ev, unsigned format)
{
    struct dd_buf summary = DD_BUF_INIT, text = DD_BUF_INIT;
    struct dd_json j;

    dd_buf_adds(&summary, "dbdeploy: ");
    notify_summary(&summary, ev);
    dd_json_init(&j, out); /* masking on: no string leaves unmasked */
    dd_json_obj_begin(&j, NULL);
    if (format == CONFIG_NOTIFY_SLACK) {
        notify_slack_escape(&text, summary.buf);
        dd_json_str(&j, "text", text.buf);
    } else {
        dd_json_str(&j, "event", notify_kind_name(ev->kind));
        dd_json_str(&j, "command", ev->command ? ev->command : "deploy");
        dd_json_str(&j, "environment", ev->env);
        dd_json_str(&j, "commit", ev->commit);
        dd_json_arr_begin(&j, "versions");
        for (size_t i = 0; i < ev->n_versions; i++)
            dd_json_int(&j, NULL, ev->versions[i]);
        dd_json_arr_end(&j);
        dd_json_str(&j, "result", ev->result);
        if (ev->kind == NOTIFY_START) {
            dd_json_null(&j, "applied");
            dd_json_null(&j, "duration_ms");
        } else {
            dd_json_uint(&j, "applied", ev->n_applied);
            dd_json_uint(&j, "duration_ms", ev->duration_ms);
        }
        dd_json_str(&j, "error", ev->error);
        dd_json_str(&j, "who", ev->who);
        dd_json_str(&j, "text", summary.buf);
    }
    dd_json_obj_end(&j);
    dd_buf_release(&text);
    dd_buf_release(&summary);
}

char *notify_origin(const char *url)
{
    const char *scheme = strstr(url, "://"), *host, *end, *at;

    if (!scheme)
        return dd_xstrdup("a webhook");
    host = scheme + 3;
    end = host + strcspn(host, "/?#");
    /* user:password@ is dropped: the last '@' before the path ends it */
    for (at = end; at > host && at[-1] != '@'; at--)
        ;
    if (at > host)
        host = at;
    return dd_xasprintf("%.*s%.*s", (int)(scheme + 3 - url), url, (int)(end - host), host);
}
