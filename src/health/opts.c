#include "health/health.h"

#include <stdio.h>
#include <strings.h>
#include <unistd.h>

#include "config/config.h"
#include "health/internal.h"

void health_opts_init(struct health_opts *out)
{
    memset(out, 0, sizeof(*out));
    out->method = "GET";
    dd_parse_status_set("2xx", &out->expect_status);
    out->expect_status_text = "2xx";
    out->timeout_ms = 5000;
    out->deadline_ms = 60000;
    out->retries = 10;
    out->backoff_ms = 500;
    out->max_backoff_ms = 5000;
}

void health_opts_from_config(struct health_opts *out, const struct dd_config *cfg)
{
    health_opts_init(out);
    out->url = cfg->health.url;
    out->method = cfg->health.method;
    out->expect_status = cfg->health.expect_status;
    out->expect_status_text = cfg->health.expect_status_text;
    out->expect_body = cfg->health.expect_body;
    out->headers = &cfg->health.headers;
    out->timeout_ms = cfg->health.timeout_ms;
    out->deadline_ms = cfg->health.deadline_ms;
    out->retries = cfg->health.retries;
    out->backoff_ms = cfg->health.backoff_ms;
    out->max_backoff_ms = cfg->health.max_backoff_ms;
    out->ca_file = cfg->health.ca_file;
    out->follow_redirects = cfg->health.follow_redirects;
    out->source = cfg->env_file;
}

/* "pipeline/prod.conf: [health] url: ..." or "[health] url: ..."; sep is ": " or " " */
static int opts_error(struct dd_error *err, const struct health_opts *o, const char *key, const char *sep,
                      const char *what)
{
    if (o->source)
        return dd_error_set(err, DD_ECONFIG, "%s: [health] %s%s%s", o->source, key, sep, what);
    return dd_error_set(err, DD_ECONFIG, "[health] %s%s%s", key, sep, what);
}

int health_opts_check(const struct health_opts *o, struct dd_error *err)
{
    const char *method = o->method ? o->method : "GET";
    char *msg = NULL;
    int rc = -1;

    if (!o->url || !*o->url) {
        opts_error(err, o, "url", " ", "is not set");
        dd_error_hint(err, "Set url = https://app.example.com/healthz in the [health] section.");
        goto cleanup;
    }
    if (strncasecmp(o->url, "http://", 7) != 0 && strncasecmp(o->url, "https://", 8) != 0) {
        msg = dd_xasprintf("'%s' is not an http:// or https:// URL", o->url);
        opts_error(err, o, "url", ": ", msg);
        dd_error_hint(err, "Health checks speak HTTP only, for example url = https://app.example.com/healthz.");
        goto cleanup;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        msg = dd_xasprintf("'%s' is not a supported method", method);
        opts_error(err, o, "method", ": ", msg);
        dd_error_hint(err, "Use GET or HEAD.");
        goto cleanup;
    }
    if (o->expect_body && strcmp(method, "HEAD") == 0) {
        opts_error(err, o, "expect-body", ": ", "cannot be checked with method HEAD, which receives no body");
        dd_error_hint(err, "Remove expect-body, or use method = GET.");
        goto cleanup;
    }
    /* a missing bundle would otherwise surface as a TLS failure on the first attempt */
    if (o->ca_file && access(o->ca_file, R_OK) < 0) {
        dd_error_errno(err, DD_ECONFIG, "%s%s[health] ca-file: cannot read '%s'", o->source ? o->source : "",
                       o->source ? ": " : "", o->ca_file);
        dd_error_hint(err, "Point ca-file at the PEM bundle of the CA that signed the server's certificate.");
        goto cleanup;
    }
    for (size_t i = 0; o->headers && i < o->headers->n; i++) {
        size_t name_len;
        const char *value, *line = o->headers->v[i];

        if (health_header_split(line, &name_len, &value) < 0) {
            /* quote at most the name: whatever follows ':' (or a line without one) may be a secret */
            const char *colon = strchr(line, ':');
            int shown = colon ? (int)((colon - line) > 64 ? 64 : (colon - line)) : 0;
            char *name_only = colon ? dd_xstrndup(line, (size_t)(colon - line) + 1) : NULL;
            char key[32];

            snprintf(key, sizeof(key), "header #%zu", i + 1);
            if (!colon)
                msg = dd_xstrdup("no ':' between the name and the value");
            else if (health_header_split(name_only, &name_len, &value) == 0)
                msg = dd_xasprintf("the value of '%.*s' holds a line break or control character", shown, line);
            else
                msg = dd_xasprintf("'%.*s' is not a valid header name", shown, line);
            free(name_only);
            opts_error(err, o, key, ": ", msg);
            dd_error_hint(err, "Write header = Name: value, for example 'Authorization: Bearer ${HEALTH_TOKEN}'; "
                               "names use letters, digits and '-'.");
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    free(msg);
    return rc;
}
