#ifndef DBDEPLOY_UTIL_BANNED_H
#define DBDEPLOY_UTIL_BANNED_H

/*
 * Functions that are too easy to misuse: unbounded copies, hidden global state, silent parse
 * failures and shells. Using one is a compile error; util/buf.h and util/parse.h have the
 * replacements.
 */
#define DD_BANNED(func) sorry_##func##_is_banned_in_dbdeploy

#undef strcpy
#define strcpy(x, y) DD_BANNED(strcpy)
#undef strcat
#define strcat(x, y) DD_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) DD_BANNED(strncpy)
#undef sprintf
#define sprintf(...) DD_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) DD_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) DD_BANNED(strtok)
#undef gets
#define gets(x) DD_BANNED(gets)
#undef atoi
#define atoi(x) DD_BANNED(atoi)
#undef system
#define system(x) DD_BANNED(system)
#undef popen
#define popen(x, y) DD_BANNED(popen)

#endif
