#ifndef DBDEPLOY_UTIL_IDENTITY_H
#define DBDEPLOY_UTIL_IDENTITY_H

/* Who is running dbdeploy, for ledger rows and changelogs. */
#include "util/common.h"

/* "user@host"; $DBDEPLOY_USER replaces it (CI runners set it to the person who triggered the job). */
char *dd_whoami(void);

#endif
