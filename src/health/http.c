#include "health/health.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <strings.h>

#include <curl/curl.h>

#include "health/internal.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/interrupt.h"
#include "version.h"

/*
 * The libcurl transport: one easy handle per probe, one fresh connection per attempt (a reused
 * connection would not show that the server still accepts new ones).
 */
struct health_http {
    CURL *curl;
    struct curl_slist *headers; /* holds secret header values: wiped before it is freed */
    char errbuf[CURL_ERROR_SIZE];
    /* body matching: a sliding window searched as data arrives, so memory stays bounded */
    struct dd_buf window;
    const char *needle; /* borrowed from the options; NULL when any body passes */
    size_t needle_len;
    bool matched;
};

static bool health_global_ready;

/*
 * libcurl starts (and with it OpenSSL's TLS) on the first request, not in main(): most commands
 * never make one. dbdeploy is single-threaded where requests are made (a fleet runs processes).
 */
int health_lazy_init(struct dd_error *err)
{
    CURLcode rc;

    if (health_global_ready)
        return 0;
    rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        if (err) {
            dd_error_set(err, DD_EHTTP, "cannot initialise libcurl: %s", curl_easy_strerror(rc));
            dd_error_hint(err, "libcurl or its TLS library is broken on this system; check 'curl --version'.");
        }
        return -1;
    }
    health_global_ready = true;
    return 0;
}

void health_global_cleanup(void)
{
    if (health_global_ready)
        curl_global_cleanup();
    health_global_ready = false;
}

enum health_net health_net_from_curl(int code)
{
    switch ((CURLcode)code) {
    case CURLE_OK:
        return HEALTH_NET_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return HEALTH_NET_TIMEOUT;
    case CURLE_COULDNT_CONNECT:
        return HEALTH_NET_CONNECT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return HEALTH_NET_RESOLVE;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return HEALTH_NET_TLS;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return HEALTH_NET_BAD_URL;
    case CURLE_TOO_MANY_REDIRECTS:
        return HEALTH_NET_REDIRECTS;
    case CURLE_ABORTED_BY_CALLBACK:
        return HEALTH_NET_INTERRUPTED;
    default:
        return HEALTH_NET_OTHER;
    }
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct health_http *h = arg;
    size_t len = size * nmemb;

    if (!h->needle || h->matched)
        return len;
    /*
     * Feed the window in slices no longer than (cap - needle length), searching after each, so
     * a match across two slices (or two callbacks) is always still in the window.
     */
    for (size_t off = 0; off < len && !h->matched;) {
        size_t slice = len - off, room = h->window.cap - h->needle_len;
        if (slice > room)
            slice = room;
        dd_buf_add(&h->window, data + off, slice);
        off += slice;
        h->matched = memmem(h->window.buf, h->window.len, h->needle, h->needle_len) != NULL;
    }
    return len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)arg, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    /* non-zero aborts the transfer with CURLE_ABORTED_BY_CALLBACK */
    return dd_interrupt_pending() ? 1 : 0;
}

static void wipe_headers(struct curl_slist *l)
{
    for (; l; l = l->next)
        for (volatile char *p = l->data; p && *p; p++)
            *p = 0;
}

/* curl sends "Name:" as "remove this header"; "Name;" is its spelling of an empty value */
static int add_header(struct health_http *h, const char *line, struct dd_error *err)
{
    size_t name_len;
    const char *value;
    char *item;
    struct curl_slist *l;

    if (health_header_split(line, &name_len, &value) < 0)
        DD_BUG("header line passed health_opts_check but does not split");
    item = *value ? dd_xasprintf("%.*s: %s", (int)name_len, line, value) : dd_xasprintf("%.*s;", (int)name_len, line);
    l = curl_slist_append(h->headers, item);
    dd_free_secret(item);
    if (!l)
        return dd_error_set(err, DD_EIO, "cannot prepare the health-check request: out of memory in libcurl");
    h->headers = l;
    return 0;
}

#define SETOPT(opt, val)                                                                                               \
    do {                                                                                                               \
        CURLcode c_ = curl_easy_setopt(h->curl, opt, val);                                                             \
        if (c_ != CURLE_OK) {                                                                                          \
            dd_error_set(err, DD_EIO, "cannot set libcurl option '%s': %s", #opt, curl_easy_strerror(c_));             \
            goto cleanup;                                                                                              \
        }                                                                                                              \
    } while (0)

int health_http_new(struct health_http **out, const struct health_opts *o, struct dd_error *err)
{
    struct health_http *h = dd_xcalloc(1, sizeof(*h));
    bool head = o->method && strcmp(o->method, "HEAD") == 0;
    int rc = -1;

    *out = NULL;
    h->window = (struct dd_buf)DD_BUF_INIT;
    if (o->expect_body && *o->expect_body) {
        h->needle = o->expect_body;
        h->needle_len = strlen(o->expect_body);
        /* an expected text longer than half the window gets a window that can still hold it */
        dd_buf_init_capped(&h->window, h->needle_len * 2 > HEALTH_BODY_MAX ? h->needle_len * 2 : HEALTH_BODY_MAX);
    }
    if (health_lazy_init(err) < 0)
        goto cleanup;
    h->curl = curl_easy_init();
    if (!h->curl) {
        dd_error_set(err, DD_EIO, "cannot start libcurl for the health check");
        goto cleanup;
    }
    for (size_t i = 0; o->headers && i < o->headers->n; i++)
        if (add_header(h, o->headers->v[i], err) < 0)
            goto cleanup;

    SETOPT(CURLOPT_ERRORBUFFER, h->errbuf);
    SETOPT(CURLOPT_URL, o->url);
    /* NOSIGNAL: libcurl must not use SIGALRM for DNS timeouts; our handlers own the signals */
    SETOPT(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    SETOPT(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file)
        SETOPT(CURLOPT_CAINFO, o->ca_file);
    /* redirects are followed by hand (health_http_send), so each hop's origin is checked */
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_FRESH_CONNECT, 1L);
    SETOPT(CURLOPT_FORBID_REUSE, 1L);
    SETOPT(CURLOPT_USERAGENT, "dbdeploy/" DBDEPLOY_VERSION " health-check");
    if (h->headers)
        SETOPT(CURLOPT_HTTPHEADER, h->headers);
    if (head)
        SETOPT(CURLOPT_NOBODY, 1L);
    else
        SETOPT(CURLOPT_HTTPGET, 1L);
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, h);
    SETOPT(CURLOPT_XFERINFOFUNCTION, on_progress);
    SETOPT(CURLOPT_XFERINFODATA, h);
    SETOPT(CURLOPT_NOPROGRESS, 0L);
    *out = h;
    h = NULL;
    rc = 0;
cleanup:
    health_http_free(h);
    return rc;
}

/* libcurl's messages start with a capital ("Failed to connect..."); ours start lowercase */
static void copy_detail(char *out, size_t outsz, const char *msg)
{
    size_t len;

    len = strnlen(msg, outsz - 1); /* a longer message is cut: reasons are one short line */
    memcpy(out, msg, len);
    out[len] = '\0';
    while (len && (out[len - 1] == '\n' || out[len - 1] == '.'))
        out[--len] = '\0';
    if (isupper((unsigned char)out[0]) && islower((unsigned char)out[1]))
        out[0] = (char)tolower((unsigned char)out[0]);
}

/* scheme, host and port of url (the port defaulted from the scheme); -1 when it does not parse */
static int url_origin(const char *url, char **scheme, char **host, char **port)
{
    CURLU *u = curl_url();
    int rc = -1;

    *scheme = *host = *port = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        rc = 0;
    curl_url_cleanup(u);
    return rc;
}

enum health_redirect health_redirect_check(const char *from, const char *to, char *why, size_t whysz)
{
    char *fs, *fh, *fp, *ts, *th, *tp;
    enum health_redirect r;

    why[0] = '\0';
    if (url_origin(from, &fs, &fh, &fp) < 0 || url_origin(to, &ts, &th, &tp) < 0) {
        snprintf(why, whysz, "cannot parse the redirect target");
        r = HEALTH_REDIRECT_REFUSED;
    } else if (strcasecmp(ts, "http") != 0 && strcasecmp(ts, "https") != 0) {
        snprintf(why, whysz, "a redirect to another protocol (%s) is not followed", ts);
        r = HEALTH_REDIRECT_REFUSED;
    } else if (strcasecmp(fs, "https") == 0 && strcasecmp(ts, "http") == 0) {
        /* the request, its headers and the answer would travel in clear text */
        snprintf(why, whysz, "refusing a redirect from https to http (%s://%s:%s)", ts, th, tp);
        r = HEALTH_REDIRECT_REFUSED;
    } else if (strcasecmp(fs, ts) != 0 || strcasecmp(fh, th) != 0 || strcmp(fp, tp) != 0) {
        r = HEALTH_REDIRECT_CROSS_ORIGIN;
    } else {
        r = HEALTH_REDIRECT_SAME_ORIGIN;
    }
    curl_free(fs), curl_free(fh), curl_free(fp), curl_free(ts), curl_free(th), curl_free(tp);
    return r;
}

static bool is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* One request to the handle's current URL; true when it answered (out filled either way). */
static bool perform_once(struct health_http *h, uint64_t timeout_ms, struct health_response *out)
{
    long timeout = timeout_ms > LONG_MAX ? LONG_MAX : (long)timeout_ms;
    long status = 0, os_errno = 0;
    CURLcode code;

    memset(out, 0, sizeof(*out));
    h->errbuf[0] = '\0';
    h->matched = false;
    dd_buf_reset(&h->window);
    /* the connect limit is the request limit too: the deadline has already clipped it */
    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, timeout);
    code = curl_easy_perform(h->curl);
    out->net = health_net_from_curl((int)code);
    if (code == CURLE_OK) {
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
        out->status = status;
        out->body_matched = !h->needle || h->matched;
        return true;
    }
    if (code == CURLE_COULDNT_CONNECT) {
        curl_easy_getinfo(h->curl, CURLINFO_OS_ERRNO, &os_errno);
        out->refused = os_errno == ECONNREFUSED;
    }
    copy_detail(out->detail, sizeof(out->detail), h->errbuf[0] ? h->errbuf : curl_easy_strerror(code));
    return false;
}

/*
 * Redirects are followed here rather than by libcurl, which would carry custom headers (an API
 * key) to any host and follow https -> http: a hop to another origin drops the configured
 * headers, a downgrade is refused.
 */
void health_http_send(void *arg, const struct health_opts *o, uint64_t timeout_ms, struct health_response *out)
{
    struct health_http *h = arg;
    uint64_t start = dd_now_ms();
    char *url = dd_xstrdup(o->url), *next = NULL;

    curl_easy_setopt(h->curl, CURLOPT_URL, url);
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
    for (int hops = 0; perform_once(h, timeout_ms, out) && o->follow_redirects && is_redirect(out->status); hops++) {
        uint64_t used = dd_now_ms() - start;
        char why[HEALTH_REASON_MAX];
        if (curl_easy_getinfo(h->curl, CURLINFO_REDIRECT_URL, &next) != CURLE_OK || !next)
            break; /* no Location: the 3xx is the answer */
        if (hops == HEALTH_MAX_REDIRECTS) {
            out->net = HEALTH_NET_REDIRECTS;
            break;
        }
        switch (health_redirect_check(url, next, why, sizeof(why))) {
        case HEALTH_REDIRECT_REFUSED:
            memset(out, 0, sizeof(*out));
            out->net = HEALTH_NET_BAD_URL;
            snprintf(out->detail, sizeof(out->detail), "%s", why);
            goto done;
        case HEALTH_REDIRECT_CROSS_ORIGIN:
            curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
            break;
        case HEALTH_REDIRECT_SAME_ORIGIN:
            break;
        }
        free(url);
        url = dd_xstrdup(next);
        curl_easy_setopt(h->curl, CURLOPT_URL, url);
        if (timeout_ms) {
            if (used >= timeout_ms) {
                memset(out, 0, sizeof(*out));
                out->net = HEALTH_NET_TIMEOUT;
                goto done;
            }
            timeout_ms -= used;
            start += used;
        }
    }
done:
    free(url);
}

void health_http_free(struct health_http *h)
{
    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    wipe_headers(h->headers);
    curl_slist_free_all(h->headers);
    dd_buf_release(&h->window);
    free(h);
}
