/*
 * Database URLs are checked when the configuration is loaded, before libpq sees them. libpq
 * reads anything without a postgres:// or postgresql:// prefix as key=value conninfo (so
 * "mysql://host/db" ends as a database that does not exist), ends a URL's user name and
 * password at the first '@' and its host at the first ':', '/' or '?', and its error messages
 * then quote the pieces ("could not translate host name "ss@127.0.0.1""), which are password
 * fragments no masking can recognise. So every check below refuses what libpq would split
 * inside a password, and no message quotes any part of the value.
 */
#include "config/config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define HINT_FORMS                                                                                                     \
    "Write it as postgres://user@host:5432/dbname (postgresql:// works too; a password follows the user name "         \
    "after a colon, percent-encoded) or as key=value conninfo "                                                        \
    "such as 'host=db1 dbname=app user=deploy'."
#define HINT_ENCODE                                                                                                    \
    "Percent-encode the reserved characters in the user name, password and database name: '@' as %40, ':' as %3A, "    \
    "'/' as %2F, '?' as %3F, '#' as %23 (a password a@b:c is written a%40b%3Ac)."

static int url_error(struct dd_error *err, const char *where, const char *what, const char *hint)
{
    dd_error_set(err, DD_ECONFIG, "%s: %s", where, what);
    dd_error_hint(err, "%s", hint);
    return -1;
}

/* user[:password] before the '@' libpq splits at: no other reserved character may be in it. */
static int check_userinfo(const char *where, const char *s, size_t len, bool from_vars, struct dd_error *err)
{
    const char *colon = memchr(s, ':', len);

    for (size_t i = 0; i < len && !from_vars; i++) {
        if (s[i] == '?' || s[i] == '#' || (s[i] == ':' && s + i != colon)) {
            char what[96];
            snprintf(what, sizeof(what), "the user name or password contains an unencoded '%c'", s[i]);
            return url_error(err, where, what, HINT_ENCODE);
        }
    }
    return 0;
}

/* host[:port][,host[:port]...] as libpq reads it: a port that is not a number is a split password. */
static int check_hosts(const char *where, const char **pp, struct dd_error *err)
{
    const char *p = *pp;

    while (*p && *p != '/' && *p != '?') {
        if (*p == '[') {
            const char *close = strchr(p, ']');
            if (!close)
                return url_error(err, where, "an IPv6 host has no closing ']'", HINT_FORMS);
            p = close + 1;
        } else {
            while (*p && !strchr(":/?,", *p))
                p++;
        }
        if (*p == ':') {
            for (p++; isdigit((unsigned char)*p); p++)
                ;
            if (*p && !strchr("/?,", *p))
                return url_error(err, where,
                                 "the port after the host is not a number (a password with an unencoded "
                                 "'/', '?' or '#' is read as host and port)",
                                 HINT_ENCODE);
        }
        if (*p == ',')
            p++;
        else if (*p && !strchr("/?", *p))
            return url_error(err, where, "the host part cannot be read", HINT_FORMS);
    }
    *pp = p;
    return 0;
}

static int check_uri(const char *where, const char *rest, bool from_vars, struct dd_error *err)
{
    size_t slash = strcspn(rest, "/");
    const char *at = NULL, *p;

    for (size_t i = 0; i < slash; i++) {
        if (rest[i] != '@')
            continue;
        if (at)
            return url_error(err, where, "the user name or password contains an unencoded '@'", HINT_ENCODE);
        at = rest + i;
    }
    if (at && check_userinfo(where, rest, (size_t)(at - rest), from_vars, err) < 0)
        return -1;
    p = at ? at + 1 : rest;
    if (check_hosts(where, &p, err) < 0)
        return -1;
    if (*p == '/') {
        size_t n = strcspn(p, "?");
        if (memchr(p, '@', n))
            return url_error(err, where,
                             "an unencoded '@' follows the host (a password with an unencoded '/' ends the host early)",
                             HINT_ENCODE);
        p += n;
    }
    if (*p == '?') {
        /* every parameter is key=value; libpq quotes anything else, a password fragment included */
        for (p++; *p; p += *p == '&') {
            size_t n = strcspn(p, "&");
            const char *eq = memchr(p, '=', n);
            if (n && (!eq || eq == p))
                return url_error(err, where, "a query parameter is not key=value", HINT_ENCODE);
            p += n;
        }
    }
    return 0;
}

/* key = value pairs, values bare (to the next blank) or single-quoted with backslash escapes. */
static int check_conninfo(const char *where, const char *s, struct dd_error *err)
{
    const char *p = s;
    size_t pairs = 0;

    for (;;) {
        const char *key;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        for (key = p; isalnum((unsigned char)*p) || *p == '_'; p++)
            ;
        if (p == key || (*p != '=' && !isspace((unsigned char)*p)))
            goto bad;
        while (isspace((unsigned char)*p))
            p++;
        if (*p++ != '=')
            goto bad;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\'') {
            for (p++; *p && *p != '\''; p++)
                if (*p == '\\' && p[1])
                    p++;
            if (!*p)
                return url_error(err, where, "a quoted conninfo value has no closing quote", HINT_FORMS);
            p++;
        } else {
            for (; *p && !isspace((unsigned char)*p); p++)
                if (*p == '\\' && p[1])
                    p++;
        }
        pairs++;
    }
    if (pairs)
        return 0;
bad:
    if (pairs)
        return url_error(err, where,
                         "conninfo is key=value pairs separated by blanks (a value with blanks needs single quotes)",
                         HINT_FORMS);
    return url_error(err, where, "not a postgres:// or postgresql:// URL, nor key=value conninfo", HINT_FORMS);
}

int config_check_db_url(const char *where, const char *url, bool from_vars, struct dd_error *err)
{
    static const char *const prefixes[] = {"postgresql://", "postgres://"};
    const char *sep;

    for (size_t i = 0; i < DD_ARRAY_SIZE(prefixes); i++)
        if (strncmp(url, prefixes[i], strlen(prefixes[i])) == 0)
            return check_uri(where, url + strlen(prefixes[i]), from_vars, err);
    sep = strstr(url, "://");
    if (sep && !memchr(url, '=', (size_t)(sep - url))) {
        char what[96];
        size_t n = (size_t)(sep - url);
        bool word = n > 0 && n <= 20;
        for (size_t i = 0; word && i < n; i++)
            word = isalnum((unsigned char)url[i]) || strchr("+-.", url[i]);
        /* the scheme is safe to name; anything longer might be a pasted secret */
        if (word)
            snprintf(what, sizeof(what), "'%.*s://' is not a PostgreSQL URL", (int)n, url);
        else
            snprintf(what, sizeof(what), "not a postgres:// or postgresql:// URL");
        return url_error(err, where, what, HINT_FORMS);
    }
    return check_conninfo(where, url, err);
}
