#ifndef DBDEPLOY_TESTS_UNIT_H
#define DBDEPLOY_TESTS_UNIT_H

/* Common includes for cmocka unit tests (cmocka needs these before its header). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define UNIT_TEST(f) cmocka_unit_test(f)

#endif
