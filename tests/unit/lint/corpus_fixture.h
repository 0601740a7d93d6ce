#ifndef DBDEPLOY_TESTS_UNIT_LINT_CORPUS_FIXTURE_H
#define DBDEPLOY_TESTS_UNIT_LINT_CORPUS_FIXTURE_H

/* The real-world corpus the lint tests run over (../shared/corpus: six sets, 851 files). */
#include <stdlib.h>
#include <string.h>

#include "util/common.h"

static const char *const sets[] = {"openmeter", "pocket-id", "lakefs", "svix", "rauthy", "ftl"};

/* DBDEPLOY_CORPUS, else ../shared/corpus beside the source tree (this file is tests/unit/lint/). Caller frees. */
DD_UNUSED static char *corpus_dir(void)
{
    const char *env = getenv("DBDEPLOY_CORPUS");
    char *src, *dir;

    if (env && *env)
        return dd_xstrdup(env);
    src = dd_xstrdup(__FILE__);
    for (int i = 0; i < 4; i++)
        *strrchr(src, '/') = '\0';
    dir = dd_xasprintf("%s/../shared/corpus", src);
    free(src);
    return dir;
}

#endif
