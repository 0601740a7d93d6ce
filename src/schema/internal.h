#ifndef DBDEPLOY_SCHEMA_INTERNAL_H
#define DBDEPLOY_SCHEMA_INTERNAL_H

/* Shared inside schema/ only. */
#include "schema/schema.h"
#include "util/proc.h"

/* The superuser initdb creates in a temporary cluster. */
#define SCHEMA_CLUSTER_USER                                                                                            \
    "postgres" /* not "dbdeploy": "$user" in search_path would put tables in the ledger schema */

struct schema_cluster {
    char *dir;      /* private temporary directory: data/, the socket, server.log */
    char *data;     /* dir/data */
    char *conninfo; /* to its postgres database over the socket */
    struct dd_proc server;
};

/* initdb + postgres in a new temporary directory; on failure nothing is left behind. */
int schema_cluster_start(struct schema_cluster *c, struct dd_error *err);
/* Stop the server and remove the directory (safe on a cluster that never started). */
void schema_cluster_stop(struct schema_cluster *c);

/* The comment block that starts a schema file's applied-version lines. */
#define SCHEMA_TRAILER_HEAD "--\n-- dbdeploy: the migrations this schema contains"
/* Append the trailer: SCHEMA_TRAILER_HEAD, then one SCHEMA_APPLIED_PREFIX line per version. */
void schema_trailer(struct dd_buf *out, const int64_t *versions, const char *const *files, size_t n);

#endif
