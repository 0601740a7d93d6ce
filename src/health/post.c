/*
 * Webhook POSTs for notify/: every receiver at once through libcurl's multi interface, so one
 * overall limit bounds the lot. Kept in health/ because this folder is libcurl's one wrapper.
 */
#include "health/internal.h"

#include <limits.h>
#include <stdio.h>

#include <curl/curl.h>

#include "util/clock.h"
#include "version.h"

/* The answer's body is not needed: a webhook's status says it all. */
static size_t discard(char *data, size_t size, size_t nmemb, void *arg)
{
    (void)data, (void)arg;
    return size * nmemb;
}

static void lowercase_first(char *s)
{
    size_t len = strlen(s);

    while (len && (s[len - 1] == '\n' || s[len - 1] == '.'))
        s[--len] = '\0';
    if (s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'a' && s[1] <= 'z')
        s[0] = (char)(s[0] - 'A' + 'a');
}

/* One easy handle for p; NULL when libcurl refuses an option (the entry says so). */
static CURL *post_handle(struct health_post *p, struct curl_slist *headers, long timeout, const char *ca_file,
                         char *errbuf)
{
    CURL *e = curl_easy_init();
    CURLcode c = e ? CURLE_OK : CURLE_OUT_OF_MEMORY;

#define POST_OPT(opt, val)                                                                                             \
    if (c == CURLE_OK)                                                                                                 \
    c = curl_easy_setopt(e, opt, val)
    POST_OPT(CURLOPT_ERRORBUFFER, errbuf);
    POST_OPT(CURLOPT_URL, p->url);
    POST_OPT(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    POST_OPT(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    POST_OPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    POST_OPT(CURLOPT_SSL_VERIFYPEER, 1L);
    POST_OPT(CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca_file)
        POST_OPT(CURLOPT_CAINFO, ca_file);
    /* a webhook answers where it was asked: a redirect would carry the body (and any
     * credentials in the URL) somewhere nobody configured */
    POST_OPT(CURLOPT_FOLLOWLOCATION, 0L);
    POST_OPT(CURLOPT_USERAGENT, "dbdeploy/" DBDEPLOY_VERSION " notify");
    POST_OPT(CURLOPT_HTTPHEADER, headers);
    POST_OPT(CURLOPT_POSTFIELDSIZE, (long)p->body_len);
    POST_OPT(CURLOPT_POSTFIELDS, p->body);
    POST_OPT(CURLOPT_TIMEOUT_MS, timeout);
    POST_OPT(CURLOPT_CONNECTTIMEOUT_MS, timeout);
    POST_OPT(CURLOPT_WRITEFUNCTION, discard);
    POST_OPT(CURLOPT_PRIVATE, (void *)p);
#undef POST_OPT
    if (c != CURLE_OK) {
        p->net = HEALTH_NET_OTHER;
        snprintf(p->detail, sizeof(p->detail), "cannot prepare the request: %s", curl_easy_strerror(c));
        if (e)
            curl_easy_cleanup(e);
        return NULL;
    }
    return e;
}

static void post_done(CURL *e, CURLcode code, const char *errbuf, uint64_t start)
{
    struct health_post *p = NULL;

    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&p);
    if (!p)
        return;
    p->done = true;
    p->ms = dd_now_ms() - start;
    p->net = health_net_from_curl((int)code);
    if (code == CURLE_OK) {
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &p->status);
        return;
    }
    snprintf(p->detail, sizeof(p->detail), "%s", errbuf[0] ? errbuf : curl_easy_strerror(code));
    lowercase_first(p->detail);
}

void health_post_all(struct health_post *v, size_t n, uint64_t timeout_ms, const char *ca_file)
{
    /* when libcurl cannot start, the handles below fail and every entry says so */
    int started = health_lazy_init(NULL);
    CURLM *m = started == 0 ? curl_multi_init() : NULL;
    CURL **e = dd_xcalloc(n ? n : 1, sizeof(*e));
    char(*errbuf)[CURL_ERROR_SIZE] = dd_xcalloc(n ? n : 1, sizeof(*errbuf));
    struct curl_slist *headers = NULL;
    long timeout = timeout_ms > LONG_MAX ? LONG_MAX : (long)timeout_ms;
    uint64_t start = dd_now_ms();
    int running = 0, left;
    CURLMsg *msg;

    /* "Expect:" stops libcurl waiting a second for "100 Continue" before sending a larger body */
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    for (size_t i = 0; i < n; i++) {
        memset(&v[i].net, 0, sizeof(*v) - offsetof(struct health_post, net));
        v[i].net = HEALTH_NET_OTHER;
        if (!m || !headers) {
            snprintf(v[i].detail, sizeof(v[i].detail), "cannot start libcurl");
            continue;
        }
        e[i] = post_handle(&v[i], headers, timeout, ca_file, errbuf[i]);
        if (e[i] && curl_multi_add_handle(m, e[i]) != CURLM_OK) {
            snprintf(v[i].detail, sizeof(v[i].detail), "cannot start the request");
            curl_easy_cleanup(e[i]);
            e[i] = NULL;
        }
    }
    /* each handle's own timeout ends it; the clock check is a second fence against a stuck loop */
    do {
        if (curl_multi_perform(m, &running) != CURLM_OK)
            break;
        if (running && curl_multi_poll(m, NULL, 0, 100, NULL) != CURLM_OK)
            break;
    } while (running && dd_now_ms() - start <= timeout_ms + 1000);
    while (m && (msg = curl_multi_info_read(m, &left)))
        if (msg->msg == CURLMSG_DONE)
            for (size_t i = 0; i < n; i++)
                if (e[i] == msg->easy_handle)
                    post_done(e[i], msg->data.result, errbuf[i], start);
    for (size_t i = 0; i < n; i++) {
        if (e[i] && !v[i].done) {
            v[i].net = HEALTH_NET_TIMEOUT;
            snprintf(v[i].detail, sizeof(v[i].detail), "no answer in time");
        }
        if (e[i]) {
            curl_multi_remove_handle(m, e[i]);
            curl_easy_cleanup(e[i]);
        }
    }
    curl_multi_cleanup(m);
    curl_slist_free_all(headers);
    free(errbuf);
    free(e);
}
