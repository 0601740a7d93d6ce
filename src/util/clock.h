#ifndef DBDEPLOY_UTIL_CLOCK_H
#define DBDEPLOY_UTIL_CLOCK_H

/* Time helpers: a monotonic clock for durations and deadlines, UTC wall-clock strings. */
#include <time.h>

#include "util/common.h"

/* Milliseconds on the monotonic clock (never jumps with wall-clock changes). */
uint64_t dd_now_ms(void);
/* Sleep, returning early (with -1) when an interrupt is pending. */
int dd_sleep_ms(uint64_t ms);
/* "2026-11-21T10:15:00Z" */
void dd_time_iso8601(char out[32], time_t t);
/* Milliseconds since the epoch (wall clock), for timestamps that need sub-second precision. */
uint64_t dd_epoch_ms(void);
/* "2026-11-21T10:15:00.123Z" */
void dd_time_iso8601_ms(char out[32], uint64_t epoch_ms);
/* "20261121T101500Z" (file-name safe) */
void dd_time_compact(char out[32], time_t t);

#endif
