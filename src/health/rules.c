#include "health/health.h"

#include <ctype.h>

/*
 * The retry schedule and the other decisions, kept free of libcurl and of the clock so unit
 * tests can walk through them attempt by attempt.
 */

uint64_t health_backoff_ms(uint32_t attempt, const struct health_opts *o)
{
    uint64_t wait = o->backoff_ms;

    /* double per earlier failure, saturating instead of wrapping for absurd settings */
    for (uint32_t i = 1; i < attempt && wait; i++) {
        if ((o->max_backoff_ms && wait >= o->max_backoff_ms) || wait > UINT64_MAX / 2) {
            wait = wait > UINT64_MAX / 2 ? UINT64_MAX : wait;
            break;
        }
        wait *= 2;
    }
    if (o->max_backoff_ms && wait > o->max_backoff_ms)
        wait = o->max_backoff_ms;
    return wait;
}

bool health_should_retry(enum health_net net, long status)
{
    switch (net) {
    case HEALTH_NET_TIMEOUT:
    case HEALTH_NET_CONNECT:
        return true;
    case HEALTH_NET_OK:
        /* the server exists but is not ready (yet): busy, rate-limited or failing */
        return status == 408 || status == 429 || (status >= 500 && status <= 599);
    case HEALTH_NET_RESOLVE:
    case HEALTH_NET_TLS:
    case HEALTH_NET_BAD_URL:
    case HEALTH_NET_REDIRECTS:
    case HEALTH_NET_INTERRUPTED:
    case HEALTH_NET_OTHER:
        return false;
    }
    return false;
}

uint64_t health_time_left(const struct health_opts *o, uint64_t elapsed_ms)
{
    if (!o->deadline_ms)
        return UINT64_MAX;
    return elapsed_ms >= o->deadline_ms ? 0 : o->deadline_ms - elapsed_ms;
}

uint64_t health_request_timeout_ms(const struct health_opts *o, uint64_t left_ms)
{
    if (left_ms == UINT64_MAX)
        return o->timeout_ms;
    if (!o->timeout_ms || o->timeout_ms > left_ms)
        return left_ms ? left_ms : 1; /* 0 would mean "no limit" to libcurl */
    return o->timeout_ms;
}

int health_next(uint64_t *wait_ms, enum health_stop *stop, const struct health_opts *o, uint32_t attempt,
                bool retryable, uint64_t elapsed_ms)
{
    uint64_t left = health_time_left(o, elapsed_ms), wait;

    *wait_ms = 0;
    if (!retryable) {
        *stop = HEALTH_STOP_FATAL;
        return 0;
    }
    if (attempt > o->retries) {
        *stop = HEALTH_STOP_RETRIES;
        return 0;
    }
    /* at most HEALTH_MIN_ATTEMPT_MS left: the last attempt (the one a shortened wait made room for) is done */
    if (left <= HEALTH_MIN_ATTEMPT_MS) {
        *stop = HEALTH_STOP_DEADLINE;
        return 0;
    }
    wait = health_backoff_ms(attempt, o);
    /* a full backoff would leave no room: shorten it so one last attempt still fits */
    if (left != UINT64_MAX && wait > left - HEALTH_MIN_ATTEMPT_MS)
        wait = left - HEALTH_MIN_ATTEMPT_MS;
    *wait_ms = wait;
    return 1;
}

static bool is_token_char(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

int health_header_split(const char *line, size_t *name_len, const char **value)
{
    const char *colon = strchr(line, ':');
    const char *v;

    if (!colon || colon == line)
        return -1;
    for (const char *c = line; c < colon; c++)
        if (!is_token_char((unsigned char)*c))
            return -1;
    v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    for (const char *c = v; *c; c++)
        if ((iscntrl((unsigned char)*c) && *c != '\t'))
            return -1;
    *name_len = (size_t)(colon - line);
    *value = v;
    return 0;
}

const char *health_net_name(enum health_net net)
{
    switch (net) {
    case HEALTH_NET_OK:
        return "ok";
    case HEALTH_NET_TIMEOUT:
        return "timeout";
    case HEALTH_NET_CONNECT:
        return "connect";
    case HEALTH_NET_RESOLVE:
        return "resolve";
    case HEALTH_NET_TLS:
        return "tls";
    case HEALTH_NET_BAD_URL:
        return "bad-url";
    case HEALTH_NET_REDIRECTS:
        return "redirects";
    case HEALTH_NET_INTERRUPTED:
        return "interrupted";
    case HEALTH_NET_OTHER:
        return "other";
    }
    return "other";
}

const char *health_stop_name(enum health_stop stop)
{
    switch (stop) {
    case HEALTH_STOP_HEALTHY:
        return "healthy";
    case HEALTH_STOP_FATAL:
        return "fatal";
    case HEALTH_STOP_RETRIES:
        return "retries";
    case HEALTH_STOP_DEADLINE:
        return "deadline";
    case HEALTH_STOP_INTERRUPTED:
        return "interrupted";
    }
    return "fatal";
}
