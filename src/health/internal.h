#ifndef DBDEPLOY_HEALTH_INTERNAL_H
#define DBDEPLOY_HEALTH_INTERNAL_H

/*
 * Inside health/: the seam between the retry loop (probe.c) and the HTTP transfer (http.c), so
 * unit tests can drive the loop with a fake transport and a fake clock, without a network.
 */
#include "health/health.h"

/* Start libcurl if it has not started yet (see health.h); err may be NULL. */
int health_lazy_init(struct dd_error *err);

/* What one request produced. */
struct health_response {
    enum health_net net;
    long status;                    /* 0 when no response arrived */
    bool body_matched;              /* expect_body seen (true when none is expected) */
    bool refused;                   /* HEALTH_NET_CONNECT because the peer refused */
    char detail[HEALTH_REASON_MAX]; /* libcurl's message for failed transfers, "" otherwise */
};

/*
 * Send one request with the given timeout (0 = none) and describe the outcome. It never fails as
 * such: every problem is an outcome.
 */
struct health_transport {
    void (*send)(void *arg, const struct health_opts *o, uint64_t timeout_ms, struct health_response *out);
    void *arg;
};

/* Check options that could never work; DD_ECONFIG naming o->source and the [health] key. */
int health_opts_check(const struct health_opts *o, struct dd_error *err);

/* The retry loop of health_probe() over any transport; clock may be NULL (the real one). */
int health_run(struct health_result *out, const struct health_opts *o, const struct health_clock *clock,
               const struct health_transport *t, struct dd_error *err);

/*
 * Where a redirect from `from` to `to` may go: the same origin (scheme, host, port) keeps the
 * configured headers, another origin loses them, and another protocol or https -> http is
 * refused (why says so in words).
 */
enum health_redirect { HEALTH_REDIRECT_SAME_ORIGIN, HEALTH_REDIRECT_CROSS_ORIGIN, HEALTH_REDIRECT_REFUSED };
enum health_redirect health_redirect_check(const char *from, const char *to, char *why, size_t whysz);

/* The libcurl transport (http.c). */
struct health_http;
int health_http_new(struct health_http **out, const struct health_opts *o, struct dd_error *err);
void health_http_send(void *h, const struct health_opts *o, uint64_t timeout_ms, struct health_response *out);
void health_http_free(struct health_http *h);

#endif
