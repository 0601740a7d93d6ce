#include "util/interrupt.h"

#include <signal.h>

static volatile sig_atomic_t pending_signal;
static volatile sig_atomic_t blocked;
static void (*volatile hook_fn)(void *);
static void *volatile hook_arg;

static void on_signal(int sig)
{
    void (*fn)(void *) = hook_fn;

    pending_signal = sig;
    if (fn && !blocked)
        fn(hook_arg);
}

void dd_interrupt_block(bool b)
{
    blocked = b;
}

void dd_interrupt_set_hook(void (*fn)(void *arg), void *arg)
{
    /* clear first so the handler never sees a new function with an old argument */
    hook_fn = NULL;
    hook_arg = arg;
    hook_fn = fn;
}

void dd_interrupt_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* no SA_RESTART: blocking calls return EINTR so the flag is seen promptly */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

bool dd_interrupt_pending(void)
{
    return pending_signal != 0 && !blocked;
}

int dd_interrupt_signal(void)
{
    return (int)pending_signal;
}

void dd_interrupt_raise(int sig)
{
    pending_signal = sig;
}

void dd_interrupt_clear(void)
{
    pending_signal = 0;
}
