#ifndef DBDEPLOY_NOTIFY_NOTIFY_H
#define DBDEPLOY_NOTIFY_NOTIFY_H

/*
 * Deployment notifications ([notify] in pipeline/<env>.conf): a POST to every configured
 * webhook for each event listed in [notify] on, with a JSON body (format = json) or a Slack
 * message (format = slack).
 *
 * A notification must never change how a deployment goes: notify_send sends to every webhook at
 * once within [notify] timeout (health_post_all), and a webhook that fails, answers an error or
 * hangs is one warning line on stderr naming its origin (scheme, host and port only: the rest of
 * a webhook URL is its secret). Every string in a body passes through util/mask (util/json), so
 * a failure message carrying a database URL shows no password.
 */
#include "util/buf.h"

struct dd_config;

enum notify_kind { NOTIFY_START, NOTIFY_SUCCESS, NOTIFY_FAILURE, NOTIFY_RESTORED };

/* What happened; every pointer is borrowed. */
struct notify_event {
    enum notify_kind kind;
    const char *env;
    const char *commit;      /* NULL when deployed from the working tree */
    const char *who;         /* user@host */
    const char *result;      /* deploy_result_name(): "applied", "restored"...; NULL for start */
    const char *error;       /* first line of a failure; NULL otherwise */
    const int64_t *versions; /* the migrations the deployment is about (its plan) */
    size_t n_versions;
    size_t n_applied;     /* how many were applied (result events) */
    uint64_t duration_ms; /* since the deployment started (result events) */
    const char *command;  /* "deploy" (the pipeline), or the command that changed the database ("apply"...) */
};

/* "start", "success", "failure", "restored" (the words of [notify] on). */
const char *notify_kind_name(enum notify_kind kind);
/*
 * One line for people: "deployed 2 migrations to prod at 1a2b3c4 in 1.2s (by ann@ci)"; for another
 * command, "apply on prod at 1a2b3c4: applied (2 migrations) in 0.3s (by ann@ci)".
 */
void notify_summary(struct dd_buf *out, const struct notify_event *ev);
/*
 * The body for format (enum config_notify_format): json is a document with the event's fields
 * and the summary as "text"; slack is {"text": ...} with the summary escaped for Slack's markup
 * (&, <, >). Strings are masked (util/mask) and JSON-escaped.
 */
void notify_payload(struct dd_buf *out, const struct notify_event *ev, unsigned format);
/* Append s with Slack's three control characters escaped (&amp; &lt; &gt;). */
void notify_slack_escape(struct dd_buf *out, const char *s);
/* "https://hooks.slack.com" from a webhook URL: what warnings may name (no user, path or query). */
char *notify_origin(const char *url);
/*
 * Send ev to cfg's webhooks when [notify] on includes it; returns how many failed (each one
 * warned about). Nothing is sent when no url is configured.
 */
size_t notify_send(const struct dd_config *cfg, const struct notify_event *ev);

#endif
