#ifndef DBDEPLOY_UTIL_TEST_HOOK_H
#define DBDEPLOY_UTIL_TEST_HOOK_H

/*
 * Test hooks, for the integration tests only. dd_test_hook_pause(point): when the environment
 * variable DBDEPLOY_TEST_PAUSE_AT equals `point` (e.g. "switch-disabled"), print
 * "dbdeploy: test hook: paused at <point>" on stderr and sleep for a minute, so a test can kill
 * the process at exactly that point. Without the variable it does nothing. With
 * DBDEPLOY_TEST_RESUME_FILE set too, it waits instead until that file exists (at most two
 * minutes), then goes on.
 */
void dd_test_hook_pause(const char *point);

#endif
