#include "notify/notify.h"

#include <stdio.h>

#include "config/config.h"
#include "health/health.h"
#include "util/clock.h"
#include "util/out.h"

static void warn_failed(const char *url, const struct health_post *p, const char *event, uint64_t timeout_ms)
{
    char *origin = notify_origin(url);

    if (p->net == HEALTH_NET_OK)
        log_warn("notify: %s answered %ld to the %s notification; the deployment goes on", origin, p->status, event);
    else if (p->net == HEALTH_NET_TIMEOUT)
        log_warn("notify: %s did not answer the %s notification within %.1fs ([notify] timeout); the deployment "
                 "goes on",
                 origin, event, (double)timeout_ms / 1000.0);
    else
        log_warn("notify: cannot send the %s notification to %s: %s; the deployment goes on", event, origin, p->detail);
    free(origin);
}

size_t notify_send(const struct dd_config *cfg, const struct notify_event *ev)
{
    const struct dd_strv *urls = &cfg->notify.urls;
    struct health_post *posts;
    struct dd_buf body = DD_BUF_INIT;
    size_t failed = 0;
    uint64_t t0;

    if (!urls->n || !(cfg->notify.on & (1u << ev->kind)))
        return 0;
    notify_payload(&body, ev, cfg->notify.format);
    posts = dd_xcalloc(urls->n, sizeof(*posts));
    for (size_t i = 0; i < urls->n; i++) {
        posts[i].url = urls->v[i];
        posts[i].body = body.buf;
        posts[i].body_len = body.len;
    }
    t0 = dd_now_ms();
    health_post_all(posts, urls->n, cfg->notify.timeout_ms, NULL);
    for (size_t i = 0; i < urls->n; i++) {
        if (posts[i].net == HEALTH_NET_OK && posts[i].status >= 200 && posts[i].status < 300)
            continue;
        warn_failed(urls->v[i], &posts[i], notify_kind_name(ev->kind), cfg->notify.timeout_ms);
        failed++;
    }
    log_detail("notify: %s sent to %zu webhook%s in %llums, %zu failed", notify_kind_name(ev->kind), urls->n,
               urls->n == 1 ? "" : "s", (unsigned long long)(dd_now_ms() - t0), failed);
    free(posts);
    dd_buf_release(&body);
    return failed;
}
