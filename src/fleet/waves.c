/* The rollout plan: which targets each wave covers, when to stop, and which outcome is worst. */
#include "fleet/fleet.h"

size_t fleet_plan_waves(size_t ends[FLEET_WAVES_MAX], const struct config_waves *w, size_t n)
{
    size_t nw = 0, done = 0;

    for (size_t i = 0; i < w->n && done < n; i++) {
        /* a share rounds up: "10%" of 5 targets is one, never none */
        size_t c = w->v[i].percent ? (n * w->v[i].value + 99) / 100 : w->v[i].value;
        if (c > n)
            c = n;
        if (c <= done)
            continue; /* "1, 5%" on 20 targets: the second entry adds nobody */
        ends[nw++] = done = c;
    }
    if (done < n)
        ends[nw++] = n;
    return nw;
}

bool fleet_should_halt(size_t failures, uint32_t halt_failures)
{
    return halt_failures && failures >= halt_failures;
}

/* 1 ranks above 4 and 3: "failed" may have left changes behind, a restore or a refusal did not */
static int rank(int status)
{
    switch (status) {
    case 0:
        return 0;
    case 2:
        return 1;
    case 3:
        return 2;
    case 4:
        return 3;
    case 5:
        return 5;
    default:
        return 4; /* 1, and anything unexpected (a child killed by a signal) */
    }
}

int fleet_worse_status(int a, int b)
{
    return rank(b) > rank(a) ? b : a;
}
