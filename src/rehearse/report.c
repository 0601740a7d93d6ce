/* The rehearsal's report: what a reviewer needs before deploying, as text or --json. */
#include "rehearse/internal.h"

#include <stdio.h>

#include "pipeline/deploy.h"
#include "util/json.h"
#include "util/parse.h"

static void text_report(struct dd_buf *b, const struct rehearse_result *r)
{
    char d[32];

    if (r->lint_text)
        dd_buf_adds(b, r->lint_text);
    if (r->up_to_date) {
        dd_buf_addf(b, "nothing to rehearse: the copy of %s from %s has nothing pending\n", r->env, r->archive);
        return;
    }
    if (!r->ran)
        return;
    dd_buf_addf(b, "rehearsal of %zu migration%s for %s%s%.7s on a copy from %s:\n", r->n_migrations,
                DD_PLURAL(r->n_migrations), r->env, r->commit ? " at " : "", r->commit ? r->commit : "", r->archive);
    for (size_t i = 0; i < r->n_migrations; i++) {
        dd_format_duration(d, sizeof(d), (uint64_t)r->migrations[i].ms);
        dd_buf_addf(b, "  %-11s %8s  %s\n", r->migrations[i].status, d, r->migrations[i].file);
    }
    dd_format_duration(d, sizeof(d), r->apply_ms);
    dd_buf_addf(b, "predicted duration on %s: %s\n", r->env, d);
    if (!r->n_locks)
        dd_buf_adds(b, "no statement held an ACCESS EXCLUSIVE lock on an existing table\n");
    else
        dd_buf_adds(b, "ACCESS EXCLUSIVE locks (blocking every read and write of the table):\n");
    for (size_t i = 0; i < r->n_locks; i++) {
        const struct rehearse_statement *s = &r->statements[r->locks[i].statement];
        dd_format_duration(d, sizeof(d), rehearse_lock_ms(r, &r->locks[i]));
        dd_buf_addf(b, "  %-24s held %8s  from %s:%u: %s\n", r->locks[i].relation, d,
                    s->migration < r->n_migrations ? r->migrations[s->migration].file : "?", s->line, s->text);
    }
    if (r->passed)
        dd_buf_addf(b, "rehearsal passed%s", r->record_id ? "" : "\n");
    else
        dd_buf_addf(b, "rehearsal FAILED: %s\n", r->error ? r->error : "see the error");
    if (r->passed && r->record_id)
        dd_buf_addf(b, " (recorded as rehearsal #%lld in the ledger of %s)\n", (long long)r->record_id, r->env);
    if (r->kept)
        dd_buf_addf(b, "the copy is kept: database %s on %s\n", r->database, r->server);
}

static void json_statements(struct dd_json *j, const struct rehearse_result *r)
{
    dd_json_arr_begin(j, "statements");
    for (size_t i = 0; i < r->n_statements; i++) {
        const struct rehearse_statement *s = &r->statements[i];
        dd_json_obj_begin(j, NULL);
        dd_json_str(j, "file", s->migration < r->n_migrations ? r->migrations[s->migration].file : NULL);
        dd_json_uint(j, "index", s->index + 1);
        dd_json_uint(j, "line", s->line);
        dd_json_str(j, "statement", s->text);
        dd_json_uint(j, "duration_ms", s->ms);
        dd_json_bool(j, "ok", s->ok);
        dd_json_obj_end(j);
    }
    dd_json_arr_end(j);
}

static void json_report(struct dd_buf *b, const struct rehearse_result *r, const struct dd_error *err)
{
    struct dd_json j;

    dd_json_document_begin(&j, b, "rehearse");
    dd_json_str(&j, "env", r->env);
    dd_json_str(&j, "commit", r->commit);
    dd_json_str(&j, "archive", r->archive);
    dd_json_bool(&j, "fresh_backup", r->fresh);
    dd_json_str(&j, "server", r->server);
    dd_json_str(&j, "database", r->database);
    dd_json_bool(&j, "kept", r->kept);
    dd_json_str(&j, "result", r->up_to_date ? "up-to-date" : r->passed ? "passed" : r->ran ? "failed" : "not-run");
    dd_json_uint(&j, "restore_ms", r->restore_ms);
    dd_json_uint(&j, "predicted_ms", r->apply_ms);
    deploy_stages_json(&j, "stages", &r->run, false);
    rh_json_migrations(&j, "migrations", r);
    json_statements(&j, r);
    rh_json_locks(&j, "exclusive_locks", r);
    if (r->record_id)
        dd_json_int(&j, "rehearsal_id", r->record_id);
    else
        dd_json_null(&j, "rehearsal_id");
    dd_json_error(&j, "error", err);
    dd_json_obj_end(&j);
}

void rehearse_report(struct dd_buf *out, const struct rehearse_result *r, const struct dd_error *err, bool json)
{
    if (json)
        json_report(out, r, err);
    else
        text_report(out, r);
}
