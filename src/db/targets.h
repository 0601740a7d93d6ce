#ifndef DBDEPLOY_DB_TARGETS_H
#define DBDEPLOY_DB_TARGETS_H

/*
 * What src/fleet/ needs from libpq to list a fleet: a catalog query's rows, and the database
 * name inside a connection string (a target's default name).
 */
#include "util/error.h"
#include "util/strv.h"

struct db_conn;

/*
 * Run sql (no parameters) and push the first two columns of every row onto names and urls (a
 * NULL name becomes ""). A result with fewer than two columns is a DD_ECONFIG error.
 */
int db_query_pairs(struct dd_strv *names, struct dd_strv *urls, struct db_conn *c, const char *sql,
                   struct dd_error *err);
/* The dbname of a postgres:// URL or key=value conninfo (caller frees); NULL when it has none or does not parse. */
char *db_url_dbname(const char *url);

#endif
