#include "engine/engine.h"

#include <ctype.h>
#include <stdio.h>

#include "config/config.h"
#include "util/buf.h"

const char *engine_state_name(enum engine_state s)
{
    static const char *const names[] = {"applied", "pending", "dirty",       "modified",
                                        "renamed", "missing", "out-of-order"};

    return names[s];
}

void engine_opts_from_config(struct engine_opts *o, const struct dd_config *cfg)
{
    memset(o, 0, sizeof(*o));
    o->env = cfg->env;
    o->schema = cfg->ledger_schema;
    o->out_of_order = cfg->out_of_order;
    o->strict_transactions = cfg->strict_transactions;
    o->lock_retries = cfg->lock_retries;
    o->lock_timeout_ms = cfg->lock_timeout_ms;
    o->statement_timeout_ms = cfg->statement_timeout_ms;
    o->transaction = cfg->apply.transaction;
    o->guard_data_loss = cfg->guard.data_loss;
    o->guard_row_changes = cfg->guard.row_changes;
    o->guard_not_valid = cfg->guard.not_valid;
    o->guard_invalid_index = cfg->guard.invalid_index;
}

static const char *base(const char *path)
{
    const char *s = path ? strrchr(path, '/') : NULL;

    return s ? s + 1 : (path ? path : "");
}

void engine_status_build(struct engine_status *out, struct migration_set *set, const struct db_ledger *ledger)
{
    size_t i = 0, j = 0;

    memset(out, 0, sizeof(*out));
    out->newest_applied = -1;
    out->set = set;
    out->v = dd_xcalloc(set->n + ledger->n + 1, sizeof(*out->v));
    for (size_t k = 0; k < ledger->n; k++)
        if (ledger->rows[k].version > out->newest_applied)
            out->newest_applied = ledger->rows[k].version;
    /* both lists are sorted by version: merge them */
    while (i < set->n || j < ledger->n) {
        struct engine_item *it = &out->v[out->n++];
        const struct migration *m = i < set->n ? &set->v[i] : NULL;
        const struct db_ledger_row *r = j < ledger->n ? &ledger->rows[j] : NULL;

        if (m && (!r || m->version < r->version)) {
            it->version = m->version;
            it->m = m;
            it->state = m->version < out->newest_applied ? ENGINE_OUT_OF_ORDER : ENGINE_PENDING;
            i++;
        } else if (r && (!m || r->version < m->version)) {
            it->version = r->version;
            it->row = r;
            it->state = ENGINE_MISSING;
            j++;
        } else {
            it->version = m->version;
            it->m = m;
            it->row = r;
            if (r->state == DB_LEDGER_DIRTY)
                it->state = ENGINE_DIRTY;
            else if (strcmp(r->checksum, m->checksum) != 0)
                it->state = ENGINE_MODIFIED;
            else if (strcmp(base(r->file), migration_display(m)) != 0)
                it->state = ENGINE_RENAMED;
            else
                it->state = ENGINE_APPLIED;
            i++;
            j++;
        }
        out->count[it->state]++;
    }
    out->rep = dd_xcalloc(set->nrep + 1, sizeof(*out->rep));
    for (size_t k = 0; k < set->nrep; k++) {
        struct engine_rep_item *it = &out->rep[out->nrep++];
        it->m = &set->rep[k];
        it->row = db_ledger_find_repeatable(ledger, it->m->name);
        it->changed = !it->row || !it->row->checksum || strcmp(it->row->checksum, it->m->checksum) != 0;
        out->nrep_changed += it->changed;
    }
}

const char *engine_rep_state(const struct engine_rep_item *it)
{
    return !it->row ? "new" : it->changed ? "changed" : "unchanged";
}

void engine_status_release(struct engine_status *st)
{
    free(st->rep);
    free(st->v);
    memset(st, 0, sizeof(*st));
    st->newest_applied = -1;
}

/* Details for a dirty row: what ran, what stopped it. */
static void dirty_detail(struct dd_error *err, const struct engine_item *it)
{
    const struct db_ledger_row *r = it->row;

    dd_error_detail(err, "%s: %s stopped after statement %d of %d%s%s", r->file,
                    dd_streq(r->dirty_op, "rollback") ? "rollback" : "apply", r->statements_done, r->statements_total,
                    r->error ? ": " : "", r->error ? r->error : "");
}

static bool is_clash(const struct engine_opts *o, const struct engine_item *it, struct dd_buf *msg)
{
    return o->clash && o->clash(o->explain_arg, it, o->env, msg);
}

/* The error for applied files that changed; clashes between branches are named as such. */
static void changed_error(const struct engine_status *st, const struct engine_opts *o, size_t changed,
                          struct dd_error *err)
{
    size_t clashes = 0;

    for (size_t i = 0; i < st->n; i++)
        clashes += is_clash(o, &st->v[i], NULL);
    if (clashes == changed)
        dd_error_set(err, DD_EBLOCKED, "%zu migration version%s here %s already taken on %s by another branch", clashes,
                     DD_PLURAL(clashes), clashes == 1 ? "is" : "are", o->env);
    else
        dd_error_set(err, DD_EBLOCKED, "%zu migration%s applied to %s %s changed since", changed,
                     changed == 1 ? "" : "s", o->env, changed == 1 ? "was" : "were");
    for (size_t i = 0; i < st->n; i++) {
        const struct engine_item *it = &st->v[i];
        struct dd_buf c = DD_BUF_INIT;
        if (is_clash(o, it, &c)) {
            dd_error_detail(err, "%s", c.buf);
        } else if (it->state == ENGINE_MODIFIED) {
            dd_error_detail(err,
                            "modified: %s (applied %.15s, file now %.15s; checksums cover every byte, "
                            "line endings and whitespace included)",
                            it->m->up.path, it->row->checksum, it->m->checksum);
            if (o->explain)
                o->explain(o->explain_arg, it, err);
        } else if (it->state == ENGINE_RENAMED) {
            dd_error_detail(err, "renamed: %s is now %s", it->row->file, it->m->up.path);
        } else if (it->state == ENGINE_MISSING) {
            dd_error_detail(err, "missing: %s (version %lld) is applied but no file has that version", it->row->file,
                            (long long)it->version);
            if (o->explain)
                o->explain(o->explain_arg, it, err);
        }
        dd_buf_release(&c);
    }
    if (clashes == changed)
        dd_error_hint(err,
                      "Give your file a version above %lld, the newest applied to %s ('dbdeploy new NAME' picks "
                      "one, then move your SQL there); the other branch's migration stays applied.",
                      (long long)st->newest_applied, o->env);
    else
        dd_error_hint(err,
                      "Applied migrations are immutable: restore the original files (for example with "
                      "'git checkout') and make the change in a new migration ('dbdeploy new NAME').%s",
                      clashes ? " A version taken by another branch needs a new version above the newest applied."
                              : "");
}

int engine_check(const struct engine_status *st, const struct engine_opts *o, int64_t to_version, struct dd_error *err)
{
    size_t changed = 0, dirty, ooo = 0;
    const struct engine_item *first_dirty = NULL;

    for (size_t i = 0; i < st->n; i++) {
        const struct engine_item *it = &st->v[i];
        if (it->state == ENGINE_MODIFIED || it->state == ENGINE_RENAMED || it->state == ENGINE_MISSING)
            changed++;
        if (it->state == ENGINE_DIRTY && !first_dirty)
            first_dirty = it;
        if (it->state == ENGINE_OUT_OF_ORDER && !o->out_of_order && to_version != ENGINE_CHECK_APPLIED_ONLY &&
            (to_version < 0 || it->version <= to_version))
            ooo++;
    }
    dirty = st->count[ENGINE_DIRTY];
    if (dirty) {
        dd_error_set(err, DD_EBLOCKED, "%s is in a dirty state: %zu migration%s stopped part-way", o->env, dirty,
                     dirty == 1 ? "" : "s");
        for (size_t i = 0; i < st->n; i++)
            if (st->v[i].state == ENGINE_DIRTY)
                dirty_detail(err, &st->v[i]);
        dd_error_hint(err,
                      "Check the database, finish or undo the remaining statements by hand, then record the "
                      "outcome with 'dbdeploy mark %s %s --applied' or '--pending'.",
                      o->env, first_dirty->m ? first_dirty->m->version_text : "VERSION");
        return -1;
    }
    if (changed) {
        changed_error(st, o, changed, err);
        return -1;
    }
    if (ooo) {
        dd_error_set(err, DD_EBLOCKED, "%zu pending migration%s %s older than the newest version applied to %s (%lld)",
                     ooo, ooo == 1 ? "" : "s", ooo == 1 ? "is" : "are", o->env, (long long)st->newest_applied);
        for (size_t i = 0; i < st->n; i++)
            if (st->v[i].state == ENGINE_OUT_OF_ORDER && (to_version < 0 || st->v[i].version <= to_version))
                dd_error_detail(err, "out of order: %s", st->v[i].m->up.path);
        dd_error_hint(err,
                      "Give the file a version above %lld ('dbdeploy new NAME' picks one), or allow it with "
                      "out-of-order = true in [migrations] of pipeline/%s.conf.",
                      (long long)st->newest_applied, o->env);
        return -1;
    }
    return 0;
}

int engine_parse_version(int64_t *out, const char *arg, struct dd_error *err)
{
    int64_t v = 0;
    size_t n = 0;

    for (const char *p = arg; *p; p++, n++) {
        if (!isdigit((unsigned char)*p) || n >= MIGRATION_MAX_VERSION_DIGITS) {
            dd_error_set(err, DD_EUSAGE, "'%s' is not a migration version", arg);
            dd_error_hint(err, "Give the leading number of a migration file name, for example 0003 or 20240101120000.");
            return -1;
        }
        v = v * 10 + (*p - '0');
    }
    if (!n) {
        dd_error_set(err, DD_EUSAGE, "empty migration version");
        return -1;
    }
    *out = v;
    return 0;
}
