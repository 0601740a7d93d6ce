#include "util/test_hook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void dd_test_hook_pause(const char *point)
{
    const char *at = getenv("DBDEPLOY_TEST_PAUSE_AT");
    struct timespec ts = {60, 0};

    if (!at || strcmp(at, point) != 0)
        return;
    fprintf(stderr, "dbdeploy: test hook: paused at %s\n", point);
    fflush(stderr);
    if (getenv("DBDEPLOY_TEST_RESUME_FILE")) {
        /* the test does something at this point, then lets us go on by creating the file (or a
         * failed test's leftover goes on after two minutes rather than never) */
        struct timespec poll = {0, 50 * 1000 * 1000};
        for (int i = 0; i < 2400 && access(getenv("DBDEPLOY_TEST_RESUME_FILE"), F_OK) != 0; i++)
            nanosleep(&poll, NULL);
        return;
    }
    /* uninterruptible on purpose: the test ends us with SIGKILL */
    while (nanosleep(&ts, &ts) != 0)
        ;
}
