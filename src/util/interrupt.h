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
/* For tests and for code that wants to stop as if interrupted. */
void dd_interrupt_raise(int sig);
void dd_interrupt_clear(void);

#endif
