#include "db/guard.h"

#include <stdio.h>

#include "db/internal.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"

#define STATS_POLL_MS 500

static const char stats_sql[] =
    "SELECT s.relid::bigint, s.schemaname || '.' || s.relname, s.n_tup_ins, s.n_tup_upd, s.n_tup_del, s.schemaname, "
    "c.relfilenode::bigint, c.xmin::text::bigint FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
    "ORDER BY s.relid";

static void tables_release(struct db_table_writes *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(t[i].name);
    free(t);
}

/* Every user table's write counters; rows of skip_schema (may be NULL) are left out. */
static int read_stats(struct db_table_writes **out, size_t *n, struct db_conn *c, const char *skip_schema,
                      struct dd_error *err)
{
    PGresult *res = db_exec(c, stats_sql, 0, NULL, "cannot read the table statistics", err);
    size_t k = 0;

    *out = NULL;
    *n = 0;
    if (!res)
        return -1;
    *out = dd_xcalloc((size_t)PQntuples(res) + 1, sizeof(**out));
    for (int i = 0; i < PQntuples(res); i++) {
        struct db_table_writes *t = &(*out)[k];
        if (skip_schema && strcmp(PQgetvalue(res, i, 5), skip_schema) == 0)
            continue;
        t->relid = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        t->name = dd_xstrdup(PQgetvalue(res, i, 1));
        t->ins = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        t->upd = strtoll(PQgetvalue(res, i, 3), NULL, 10);
        t->del = strtoll(PQgetvalue(res, i, 4), NULL, 10);
        t->filenode = strtoll(PQgetvalue(res, i, 6), NULL, 10);
        t->cls_xmin = strtoll(PQgetvalue(res, i, 7), NULL, 10);
        k++;
    }
    *n = k;
    PQclear(res);
    return 0;
}

static void parse_ids(int64_t **out, size_t *n, const char *list)
{
    const char *p = list;

    *out = dd_xcalloc(strlen(list) / 2 + 1, sizeof(**out));
    *n = 0;
    while (*p) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p)
            break;
        (*out)[(*n)++] = v;
        p = *end == ',' ? end + 1 : end;
    }
}

int db_write_mark_take(struct db_write_mark *out, struct db_conn *c, struct dd_error *err)
{
    PGresult *res;

    db_write_mark_release(out);
    /* counters first: a write between the two shows as a (harmless) extra table later */
    if (read_stats(&out->t, &out->n, c, NULL, err) < 0)
        return -1;
    res = db_exec_one_row(c,
                          "SELECT txid_snapshot_xmax(s), coalesce(array_to_string(array(SELECT "
                          "txid_snapshot_xip(s)), ','), '') FROM txid_current_snapshot() s",
                          0, NULL, "cannot read the transaction snapshot", err);
    if (!res) {
        db_write_mark_release(out);
        return -1;
    }
    out->xmax = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    parse_ids(&out->xip, &out->n_xip, PQgetvalue(res, 0, 1));
    PQclear(res);
    return 0;
}

static void ids_json(struct dd_buf *b, const char *key, const int64_t *a, size_t na, const int64_t *c, size_t nc)
{
    dd_buf_addf(b, ",\"%s\":[", key);
    for (size_t i = 0; i < na + nc; i++)
        dd_buf_addf(b, "%s%lld", i ? "," : "", (long long)(i < na ? a[i] : c[i - na]));
    dd_buf_addch(b, ']');
}

char *db_write_mark_json(const struct db_write_mark *m, const struct db_conn *c)
{
    struct dd_buf b = DD_BUF_INIT;

    dd_buf_addf(&b, "{\"xmax\":%lld", (long long)m->xmax);
    ids_json(&b, "xip", m->xip, m->n_xip, NULL, 0);
    ids_json(&b, "own", m->own, m->n_own, c->own_xids, c->n_own_xids);
    dd_buf_adds(&b, ",\"tables\":[");
    for (size_t i = 0; i < m->n; i++) {
        dd_buf_addf(&b, "%s{\"relid\":%lld,\"name\":", i ? "," : "", (long long)m->t[i].relid);
        dd_json_escape(&b, m->t[i].name);
        dd_buf_addf(&b, ",\"ins\":%lld,\"upd\":%lld,\"del\":%lld}", (long long)m->t[i].ins, (long long)m->t[i].upd,
                    (long long)m->t[i].del);
    }
    dd_buf_adds(&b, "]}");
    return dd_buf_detach(&b, NULL);
}

int db_write_mark_load(struct db_write_mark *out, bool *found, struct db_conn *c, const char *schema, int64_t id,
                       struct dd_error *err)
{
    char *qs = db_quote_ident(c, schema), *sql = NULL, idtext[32];
    const char *params[] = {idtext};
    PGresult *res = NULL;
    int rc = -1;

    db_write_mark_release(out);
    *found = false;
    snprintf(idtext, sizeof(idtext), "%lld", (long long)id);
    /* to_jsonb(d): a ledger from before the guard column reads as no mark */
    sql =
        dd_xasprintf("SELECT g->>'xmax', coalesce((SELECT string_agg(x, ',') FROM jsonb_array_elements_text(g->'xip') "
                     "x), ''), concat_ws(',', (SELECT string_agg(x, ',') FROM jsonb_array_elements_text(g->'own') x), "
                     "g->>'record_xid', g->>'ledger_xid') FROM (SELECT to_jsonb(d)->'guard' g FROM %s.deployments d "
                     "WHERE id = $1) s "
                     "WHERE g IS NOT NULL AND jsonb_typeof(g) = 'object'",
                     qs);
    res = db_exec(c, sql, 1, params, "cannot read the deployment's foreign-write guard mark", err);
    if (!res)
        goto cleanup;
    rc = 0;
    if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
        goto cleanup;
    out->xmax = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    parse_ids(&out->xip, &out->n_xip, PQgetvalue(res, 0, 1));
    parse_ids(&out->own, &out->n_own, PQgetvalue(res, 0, 2));
    PQclear(res);
    free(sql);
    sql = dd_xasprintf("SELECT t.relid, t.name, t.ins, t.upd, t.del FROM %s.deployments d, "
                       "jsonb_to_recordset(to_jsonb(d)->'guard'->'tables') AS t(relid bigint, name text, ins bigint, "
                       "upd bigint, del bigint) WHERE d.id = $1",
                       qs);
    res = db_exec(c, sql, 1, params, "cannot read the deployment's foreign-write guard mark", err);
    if (!res) {
        rc = -1;
        db_write_mark_release(out);
        goto cleanup;
    }
    out->t = dd_xcalloc((size_t)PQntuples(res) + 1, sizeof(*out->t));
    for (int i = 0; i < PQntuples(res); i++) {
        struct db_table_writes *t = &out->t[out->n++];
        t->relid = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        t->name = dd_xstrdup(PQgetvalue(res, i, 1));
        t->ins = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        t->upd = strtoll(PQgetvalue(res, i, 3), NULL, 10);
        t->del = strtoll(PQgetvalue(res, i, 4), NULL, 10);
    }
    *found = true;
cleanup:
    PQclear(res);
    free(sql);
    free(qs);
    return rc;
}

void db_write_mark_release(struct db_write_mark *m)
{
    free(m->own);
    free(m->xip);
    tables_release(m->t, m->n);
    *m = (struct db_write_mark)DB_WRITE_MARK_INIT;
}

static void id_array(struct dd_buf *b, const int64_t *v, size_t n)
{
    dd_buf_addch(b, '{');
    for (size_t i = 0; i < n; i++)
        dd_buf_addf(b, "%s%lld", i ? "," : "", (long long)v[i]);
    dd_buf_addch(b, '}');
}

/* Committed transactions since the mark that are not dbdeploy's own. */
static int count_foreign_ids(struct db_foreign_writes *out, struct db_conn *c, const struct db_write_mark *m,
                             struct dd_error *err)
{
    struct dd_buf xip = DD_BUF_INIT, own = DD_BUF_INIT;
    char from[32], *now = NULL, *count = NULL;
    int rc = -1;

    if (db_query_value(c, &now, "SELECT txid_snapshot_xmax(txid_current_snapshot())", 0, NULL, err) < 0 || !now)
        goto cleanup;
    if (strtoll(now, NULL, 10) - m->xmax > DB_GUARD_MAX_IDS) {
        out->capped = true;
        out->n_xids = strtoll(now, NULL, 10) - m->xmax;
        rc = 0;
        goto cleanup;
    }
    snprintf(from, sizeof(from), "%lld", (long long)m->xmax);
    id_array(&xip, m->xip, m->n_xip);
    id_array(&own, c->own_xids, c->n_own_xids);
    if (m->n_own) {
        /* both lists: the ids recorded with the mark, then this session's own */
        dd_buf_release(&own);
        id_array(&own, m->own, m->n_own);
        if (c->n_own_xids) {
            struct dd_buf more = DD_BUF_INIT;
            id_array(&more, c->own_xids, c->n_own_xids);
            own.buf[own.len - 1] = ',';
            dd_buf_adds(&own, more.buf + 1);
            dd_buf_release(&more);
        }
    }
    {
        const char *params[] = {xip.buf, from, now, own.buf};
        if (db_query_value(c, &count,
                           "SELECT count(*) FROM (SELECT unnest($1::bigint[]) UNION ALL SELECT "
                           "generate_series($2::bigint, $3::bigint - 1)) s(x) WHERE x <> ALL ($4::bigint[]) AND "
                           "coalesce(txid_status(x), 'committed') = 'committed'",
                           4, params, err) < 0)
            goto cleanup;
    }
    out->n_xids = count ? strtoll(count, NULL, 10) : 0;
    rc = 0;
cleanup:
    free(now);
    free(count);
    dd_buf_release(&xip);
    dd_buf_release(&own);
    return rc;
}

/* Tables whose counters grew since the mark, as deltas. */
static int table_deltas(struct db_foreign_writes *out, struct db_conn *c, const struct db_write_mark *m,
                        const char *skip_schema, struct dd_error *err)
{
    struct db_table_writes *now = NULL;
    size_t n = 0, k = 0;

    tables_release(out->t, out->n);
    out->t = NULL;
    out->n = 0;
    if (read_stats(&now, &n, c, skip_schema, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const struct db_table_writes *was = NULL;
        for (size_t j = 0; j < m->n && !was; j++)
            if (m->t[j].relid == now[i].relid)
                was = &m->t[j];
        if (was) {
            now[i].ins -= was->ins;
            now[i].upd -= was->upd;
            now[i].del -= was->del;
        } else {
            now[i].is_new = true;
        }
        if (now[i].ins <= 0 && now[i].upd <= 0 && now[i].del <= 0) {
            free(now[i].name);
            continue;
        }
        now[k++] = now[i];
    }
    out->t = now;
    out->n = k;
    return 0;
}

int db_foreign_writes_find(struct db_foreign_writes *out, struct db_conn *c, const struct db_write_mark *m,
                           const char *skip_schema, uint64_t stats_wait_ms, struct dd_error *err)
{
    uint64_t until = dd_now_ms() + stats_wait_ms;

    db_foreign_writes_release(out);
    if (count_foreign_ids(out, c, m, err) < 0 || table_deltas(out, c, m, skip_schema, err) < 0)
        return -1;
    while (out->n_xids && !out->n && dd_now_ms() < until) {
        if (dd_sleep_ms(STATS_POLL_MS) < 0)
            break;
        if (table_deltas(out, c, m, skip_schema, err) < 0)
            return -1;
    }
    return 0;
}

void db_foreign_writes_release(struct db_foreign_writes *f)
{
    tables_release(f->t, f->n);
    *f = (struct db_foreign_writes)DB_FOREIGN_WRITES_INIT;
}

/* A statement whose result does not matter. */
static int run(struct db_conn *c, const char *sql, struct dd_error *err)
{
    char *v = NULL;
    int rc = db_query_value(c, &v, sql, 0, NULL, err);

    free(v);
    return rc;
}

/* "schema.table" is in schema `skip` (may be NULL). */
static bool in_schema(const char *name, const char *skip)
{
    size_t n = skip ? strlen(skip) : 0;

    return skip && strncmp(name, skip, n) == 0 && name[n] == '.';
}

int db_write_recheck_begin(struct db_write_mark *out, struct db_conn *c, struct dd_error *err)
{
    /*
     * Our own writes since the session's last statistics flush would otherwise be flushed after
     * the baseline and look like someone else's. pg_stat_force_next_flush (15+) makes the flush
     * happen as this statement ends, before the next one reads the counters.
     */
    if (c->server_version >= 150000 && run(c, "SELECT pg_stat_force_next_flush()", err) < 0)
        return -1;
    db_write_mark_release(out);
    return read_stats(&out->t, &out->n, c, NULL, err);
}

static void add_change(struct db_foreign_writes *out, const struct db_table_writes *t, bool altered)
{
    struct db_table_writes *dst;

    out->t = dd_xrealloc(out->t, (out->n + 1) * sizeof(*out->t));
    dst = &out->t[out->n++];
    *dst = *t;
    dst->name = dd_xstrdup(t->name);
    dst->altered = altered;
}

int db_foreign_writes_recheck(struct db_foreign_writes *out, struct db_conn *c, const struct db_write_mark *base,
                              const char *skip_schema, struct dd_error *err)
{
    struct db_table_writes *now = NULL;
    size_t n = 0;

    db_foreign_writes_release(out);
    out->late = true;
    /* stats_fetch_consistency may cache: counters as of now, not of this session's first read */
    if (run(c, "SELECT pg_stat_clear_snapshot()", err) < 0 || read_stats(&now, &n, c, skip_schema, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct db_table_writes d = now[i];
        const struct db_table_writes *was = NULL;
        for (size_t j = 0; j < base->n && !was; j++)
            if (base->t[j].relid == now[i].relid)
                was = &base->t[j];
        if (was) {
            d.ins -= was->ins;
            d.upd -= was->upd;
            d.del -= was->del;
        }
        d.is_new = !was;
        if (!was || d.ins > 0 || d.upd > 0 || d.del > 0 || was->filenode != d.filenode || was->cls_xmin != d.cls_xmin)
            add_change(out, &d, was && (was->filenode != d.filenode || was->cls_xmin != d.cls_xmin));
    }
    for (size_t j = 0; j < base->n; j++) {
        bool gone = !in_schema(base->t[j].name, skip_schema);
        for (size_t i = 0; i < n && gone; i++)
            gone = now[i].relid != base->t[j].relid;
        if (gone) {
            struct db_table_writes d = base->t[j];
            d.ins = d.upd = d.del = 0;
            add_change(out, &d, true);
        }
    }
    tables_release(now, n);
    return 0;
}

int db_restore_rights_read(struct db_restore_rights *out, struct db_conn *c, struct dd_error *err)
{
    PGresult *res = db_exec_one_row(c,
                                    "SELECT r.rolsuper, r.rolcreatedb, pg_has_role(current_user, d.datdba, 'MEMBER'), "
                                    "r.rolsuper OR pg_has_role(current_user, 'pg_signal_backend', 'MEMBER'), "
                                    "pg_database_size(d.oid), current_user FROM pg_roles r, pg_database d "
                                    "WHERE r.rolname = current_user AND d.datname = current_database()",
                                    0, NULL, "cannot read the deploying role's privileges", err);
    int rc = res ? 0 : -1;

    memset(out, 0, sizeof(*out));
    if (res) {
        out->superuser = PQgetvalue(res, 0, 0)[0] == 't';
        out->createdb = PQgetvalue(res, 0, 1)[0] == 't';
        out->owner = PQgetvalue(res, 0, 2)[0] == 't';
        out->signal = PQgetvalue(res, 0, 3)[0] == 't';
        out->db_size = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
        snprintf(out->role, sizeof(out->role), "%s", PQgetvalue(res, 0, 5));
    }
    PQclear(res);
    return rc;
}
