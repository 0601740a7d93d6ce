/*
 * Drift: changes to the schema that no dbdeploy run made (a hotfix index, a column added during
 * an incident). Every run that changes the schema records the schema it leaves (its catalog
 * lines and their fingerprint, db/catalog.c) in the ledger, provided it started from the
 * recorded schema; the next run compares the live fingerprint with the recorded one and, only
 * when they differ, reads the lines and names each object that differs.
 */
#include "engine/engine.h"

#include <string.h>

#include "db/db.h"
#include "util/out.h"

void engine_drift_release(struct engine_drift *d)
{
    free(d->recorded_fingerprint);
    free(d->live_fingerprint);
    dd_strv_release(&d->changes);
    memset(d, 0, sizeof(*d));
}

/* "<kind> <name>" of a line, its identity; the definition follows the tab. */
static size_t identity_len(const char *line)
{
    const char *tab = strchr(line, '\t');

    return tab ? (size_t)(tab - line) : strlen(line);
}

static int identity_cmp(const char *a, const char *b)
{
    size_t la = identity_len(a), lb = identity_len(b);
    int c = memcmp(a, b, la < lb ? la : lb);

    return c ? c : (la > lb) - (la < lb);
}

static const char *definition(const char *line)
{
    const char *tab = strchr(line, '\t');

    return tab ? tab + 1 : "";
}

/* Both lists sorted by byte order (COLLATE "C"), which orders identities too: a merge walk. */
void engine_drift_diff(struct dd_strv *changes, const struct dd_strv *recorded, const struct dd_strv *live)
{
    size_t i = 0, j = 0;

    while (i < recorded->n || j < live->n) {
        int c = i == recorded->n ? 1 : j == live->n ? -1 : identity_cmp(recorded->v[i], live->v[j]);
        if (c < 0) {
            dd_strv_pushf(changes, "%.*s dropped", (int)identity_len(recorded->v[i]), recorded->v[i]);
            i++;
        } else if (c > 0) {
            const char *def = definition(live->v[j]);
            bool shown = strncmp(live->v[j], "column ", 7) == 0 || strncmp(live->v[j], "index ", 6) == 0 ||
                         strncmp(live->v[j], "constraint ", 11) == 0;
            dd_strv_pushf(changes, "%.*s added%s%s%s", (int)identity_len(live->v[j]), live->v[j], shown ? " (" : "",
                          shown ? def : "", shown ? ")" : "");
            j++;
        } else {
            if (strcmp(recorded->v[i], live->v[j]) != 0) {
                const char *was = definition(recorded->v[i]), *now = definition(live->v[j]);
                /* md5 bodies say nothing to a reader: just "changed" */
                bool hashed = strlen(was) == 32 && strlen(now) == 32 && strspn(was, "0123456789abcdef") == 32;
                if (hashed)
                    dd_strv_pushf(changes, "%.*s changed", (int)identity_len(live->v[j]), live->v[j]);
                else
                    dd_strv_pushf(changes, "%.*s changed: %s -> %s", (int)identity_len(live->v[j]), live->v[j], was,
                                  now);
            }
            i++;
            j++;
        }
    }
}

/* Split the recorded catalog text (lines joined by newlines) back into lines. */
static void split_lines(struct dd_strv *out, const char *text)
{
    const char *p = text;

    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *line = dd_xstrndup(p, n);
        dd_strv_push_owned(out, line);
        p = nl ? nl + 1 : NULL;
    }
}

int engine_drift_check(struct engine_drift *out, struct db_conn *db, const char *ledger_schema, struct dd_error *err)
{
    struct dd_strv recorded = DD_STRV_INIT, live = DD_STRV_INIT;
    char *catalog = NULL;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (db_schema_state_read(db, ledger_schema, &out->recorded_fingerprint, NULL, err) < 0 ||
        db_schema_catalog(db, ledger_schema, &out->live_fingerprint, NULL, err) < 0)
        goto cleanup;
    out->recorded = out->recorded_fingerprint != NULL;
    if (!out->recorded || strcmp(out->recorded_fingerprint, out->live_fingerprint) == 0) {
        rc = 0;
        goto cleanup;
    }
    out->drifted = true;
    free(out->recorded_fingerprint);
    if (db_schema_state_read(db, ledger_schema, &out->recorded_fingerprint, &catalog, err) < 0 ||
        db_schema_catalog(db, ledger_schema, NULL, &live, err) < 0)
        goto cleanup;
    split_lines(&recorded, catalog);
    engine_drift_diff(&out->changes, &recorded, &live);
    rc = 0;
cleanup:
    free(catalog);
    dd_strv_release(&recorded);
    dd_strv_release(&live);
    return rc;
}

int engine_schema_record(struct db_conn *db, const char *ledger_schema, struct dd_error *err)
{
    struct dd_strv lines = DD_STRV_INIT;
    char *fingerprint = NULL, *text = NULL;
    int rc = -1;

    if (db_schema_catalog(db, ledger_schema, &fingerprint, &lines, err) < 0)
        goto cleanup;
    text = dd_strv_join(&lines, "\n");
    rc = db_schema_state_write(db, ledger_schema, fingerprint, text, err);
cleanup:
    free(text);
    free(fingerprint);
    dd_strv_release(&lines);
    return rc;
}

int engine_schema_unchanged(bool *out, struct db_conn *db, const char *ledger_schema, struct dd_error *err)
{
    char *recorded = NULL, *live = NULL;
    int rc = -1;

    *out = false;
    if (db_schema_state_read(db, ledger_schema, &recorded, NULL, err) < 0)
        goto cleanup;
    if (recorded && db_schema_catalog(db, ledger_schema, &live, NULL, err) < 0)
        goto cleanup;
    *out = !recorded || strcmp(recorded, live) == 0;
    rc = 0;
cleanup:
    free(recorded);
    free(live);
    return rc;
}
