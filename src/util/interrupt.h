#ifndef DBDEPLOY_UTIL_INTERRUPT_H
#define DBDEPLOY_UTIL_INTERRUPT_H

/*
 * SIGINT/SIGTERM only set a flag (main installs the handler); long operations poll it at safe
 * points and stop cleanly. dd_interrupt_signal() tells which signal arrived (0 if none).
 */
#include "util/common.h"

void dd_interrupt_install(void);
bool dd_interrupt_pending(void);
int dd_interrupt_signal(void);
/*
 * A function the signal handler calls after setting the flag, so a blocking operation can be
 * cancelled (db/ registers PQcancel, which is async-signal-safe, while a migration runs).
 * It must be async-signal-safe itself. NULL removes it.
 */
void dd_interrupt_set_hook(void (*fn)(void *arg), void *arg);

/*
 * While blocked, dd_interrupt_pending() answers false (the signal is still remembered and the
 * hook is not called): a restore that has started must finish, whatever arrives meanwhile.
 */
void dd_interrupt_block(bool blocked);

/* For tests and for code that wants to stop as if interrupted. */
void dd_interrupt_raise(int sig);
void dd_interrupt_clear(void);

#endif
