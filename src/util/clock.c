#include "util/clock.h"

#include <errno.h>
#include <stdio.h>

#include "util/interrupt.h"

uint64_t dd_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int dd_sleep_ms(uint64_t ms)
{
    uint64_t end = dd_now_ms() + ms;

    /* sleep in short slices so a signal that does not interrupt nanosleep is still noticed */
    for (;;) {
        uint64_t now = dd_now_ms(), slice;
        struct timespec ts;

        if (dd_interrupt_pending())
            return -1;
        if (now >= end)
            return 0;
        slice = end - now > 100 ? 100 : end - now;
        ts.tv_sec = (time_t)(slice / 1000);
        ts.tv_nsec = (long)(slice % 1000) * 1000000L;
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !dd_interrupt_pending())
            ;
    }
}

void dd_time_iso8601(char out[32], time_t t)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

uint64_t dd_epoch_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void dd_time_iso8601_ms(char out[32], uint64_t epoch_ms)
{
    time_t t = (time_t)(epoch_ms / 1000);
    struct tm tm;
    char base[24];

    gmtime_r(&t, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03uZ", base, (unsigned)(epoch_ms % 1000));
}

void dd_time_compact(char out[32], time_t t)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y%m%dT%H%M%SZ", &tm);
}
