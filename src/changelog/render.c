#include "changelog/changelog.h"

#include <stdio.h>
#include <time.h>

#include "util/fs.h"
#include "util/mask.h"

char *changelog_path(const char *env)
{
    return dd_xasprintf("%s/%s/%s", CHANGELOG_DIR, env, CHANGELOG_FILE);
}

/* Text for a table cell: pipes escaped, line breaks flattened, masked. */
static void cell(struct dd_buf *out, const char *s)
{
    struct dd_buf raw = DD_BUF_INIT;

    if (!s || !*s) {
        dd_buf_adds(out, "—");
        return;
    }
    for (const char *p = s; *p; p++) {
        if (*p == '|')
            dd_buf_adds(&raw, "\\|");
        else if (*p == '\n' || *p == '\r')
            dd_buf_addch(&raw, ' ');
        else
            dd_buf_addch(&raw, *p);
    }
    dd_mask_add(out, raw.buf, raw.len);
    dd_buf_release(&raw);
}

/* "2026-11-21T10:15:00Z" or "...:00.123Z" -> milliseconds; -1 if unparsable. */
static long long parse_iso_ms(const char *s)
{
    struct tm tm;
    int ms = 0;

    memset(&tm, 0, sizeof(tm));
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                     &tm.tm_sec) != 6)
        return -1;
    if (strlen(s) > 20 && s[19] == '.')
        sscanf(s + 20, "%3d", &ms);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long)timegm(&tm) * 1000 + ms;
}

static void duration(struct dd_buf *out, long long ms)
{
    if (ms < 1000)
        dd_buf_addf(out, "%lld ms", ms);
    else if (ms < 120000)
        dd_buf_addf(out, "%.1f s", (double)ms / 1000.0);
    else
        dd_buf_addf(out, "%lld min %lld s", ms / 60000, (ms % 60000) / 1000);
}

/* The recovery method as a sentence; unknown names (a newer dbdeploy) as they are. */
static const char *recovery_text(const char *method)
{
    static const char *const known[][2] = {
        {"transaction", "the deployment's transaction was rolled back"},
        {"unchanged", "nothing had been committed"},
        {"down", "the down files of the committed migrations ran"},
        {"backup", "the backup was restored"},
        {"refused", "NOT restored: other sessions had written since the backup"},
        {"off", "none ([restore] strategy = none)"},
        {"failed", "the recovery failed"},
    };

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(method, known[i][0]) == 0)
            return known[i][1];
    return method;
}

/* The lint suppressions the deployment used: "- Lint allowed: `rule` at file:line (reason); ...". */
static void allowed(struct dd_buf *out, const struct changelog_entry *e)
{
    if (!e->nallow)
        return;
    dd_buf_adds(out, "- Lint allowed: ");
    for (size_t i = 0; i < e->nallow; i++) {
        dd_buf_addf(out, "%s`%s` at ", i ? "; " : "", e->allow[i].rule);
        cell(out, e->allow[i].file);
        dd_buf_addf(out, ":%lld (", (long long)e->allow[i].line);
        cell(out, e->allow[i].reason);
        dd_buf_addch(out, ')');
    }
    dd_buf_addch(out, '\n');
}

/* What each migration changed in the schema, under the table, only when any did (older entries have none). */
static void schema_changes(struct dd_buf *out, const struct changelog_entry *e)
{
    bool any = false;

    for (size_t i = 0; i < e->n; i++) {
        if (!e->m[i].changes || !*e->m[i].changes)
            continue;
        if (!any)
            dd_buf_adds(out, "Schema changes:\n\n");
        any = true;
        dd_buf_addf(out, "- %lld ", (long long)e->m[i].version);
        cell(out, e->m[i].name);
        dd_buf_adds(out, ": ");
        cell(out, e->m[i].changes);
        dd_buf_addch(out, '\n');
    }
    if (any)
        dd_buf_addch(out, '\n');
}

void changelog_render_entry(struct dd_buf *out, const struct changelog_entry *e)
{
    long long a = parse_iso_ms(e->started_at), b = parse_iso_ms(e->finished_at);
    char date[32] = "unknown date";

    if (e->started_at && strlen(e->started_at) >= 19)
        snprintf(date, sizeof(date), "%.10s %.8s UTC", e->started_at, e->started_at + 11);
    if (e->id)
        dd_buf_addf(out, "## %s — %s — %s\n\n", date, e->env, e->result);
    else
        dd_buf_addf(out, "## Applied outside a deployment — %s\n\n", e->env);
    if (e->commit)
        dd_buf_addf(out, "- Commit: `%.7s`\n", e->commit);
    else
        dd_buf_adds(out, "- Commit: none (working tree)\n");
    dd_buf_adds(out, "- Deployed by: ");
    cell(out, e->who);
    dd_buf_addch(out, '\n');
    if (e->archive)
        dd_buf_addf(out, "- Backup: `%s`\n", e->archive);
    if (a >= 0 && b >= a) {
        dd_buf_adds(out, "- Duration: ");
        duration(out, b - a);
        dd_buf_addch(out, '\n');
    }
    if (e->error) {
        dd_buf_adds(out, "- Error: ");
        cell(out, e->error);
        dd_buf_addch(out, '\n');
    }
    if (e->recovery)
        dd_buf_addf(out, "- Recovery: %s\n", recovery_text(e->recovery));
    if (e->drift) {
        dd_buf_adds(out, "- Drift accepted: ");
        cell(out, e->drift);
        dd_buf_addch(out, '\n');
    }
    if (e->id)
        dd_buf_addf(out, "- Deployment: #%lld\n", (long long)e->id);
    allowed(out, e);
    /* appended fields, present only when known, so entries written before them render as they did */
    if (e->kind && strcmp(e->kind, "deploy") != 0)
        dd_buf_addf(out, "- Command: `dbdeploy %s`\n", e->kind);
    if (e->git_user) {
        dd_buf_adds(out, "- Git user: ");
        cell(out, e->git_user);
        dd_buf_addch(out, '\n');
    }
    dd_buf_addch(out, '\n');
    if (e->n) {
        dd_buf_adds(out, "| Version | Name | Author | Introduced by | Checksum | Duration | Status |\n"
                         "|---:|---|---|---|---|---:|---|\n");
        for (size_t i = 0; i < e->n; i++) {
            const struct changelog_migration *m = &e->m[i];
            dd_buf_addf(out, "| %lld | ", (long long)m->version);
            cell(out, m->name);
            dd_buf_adds(out, " | ");
            cell(out, m->author);
            dd_buf_adds(out, " | ");
            cell(out, m->subject);
            dd_buf_addf(out, " | `%.19s` | ", m->checksum);
            duration(out, m->duration_ms);
            dd_buf_addf(out, " | %s |\n", m->status);
        }
        dd_buf_addch(out, '\n');
        schema_changes(out, e);
    } else {
        dd_buf_adds(out, "No migrations.\n\n");
    }
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->m[i].status, "applied") == 0)
            dd_buf_addf(out, "<!-- dbdeploy:applied env=%s version=%lld checksum=%s file=%s -->\n", e->env,
                        (long long)e->m[i].version, e->m[i].checksum, e->m[i].file);
    dd_buf_addch(out, '\n');
}

static void header(struct dd_buf *out, const char *env)
{
    dd_buf_addf(out,
                "# Deployments to %s\n\n"
                "Newest first. Written by dbdeploy after every deployment; regenerate it with\n"
                "`dbdeploy changelog %s`. The `dbdeploy:applied` comments are read by `dbdeploy verify`\n"
                "and the pre-push hook: do not edit them.\n\n",
                env, env);
}

void changelog_render_file(struct dd_buf *out, const char *env, const struct changelog_entry *entries, size_t n)
{
    header(out, env);
    for (size_t i = 0; i < n; i++)
        changelog_render_entry(out, &entries[i]);
}

/* changelog/ and changelog/<env>/ must be real directories: a committed link would send the write elsewhere. */
static int refuse_linked_dirs(const char *root, const char *env, struct dd_error *err)
{
    char *top = dd_path_join(root, CHANGELOG_DIR);
    char *sub = dd_xasprintf("%s/%s", top, env);
    int rc = 0;

    if (dd_is_symlink(top) || dd_is_symlink(sub)) {
        const char *which = dd_is_symlink(top) ? top : sub;
        rc = dd_error_set(err, DD_EIO, "refusing to use '%s': it is a symbolic link", which);
        dd_error_hint(err, "dbdeploy writes changelogs only into real directories; replace '%s' with a directory.",
                      which);
    }
    free(top);
    free(sub);
    return rc;
}

int changelog_replace(char **out_path, const char *root, const char *env, const struct dd_buf *content, bool *changed,
                      struct dd_error *err)
{
    char *rel = changelog_path(env);
    char *abs = dd_path_join(root, rel);
    char *dir = dd_dirname(abs);
    struct dd_buf cur = DD_BUF_INIT;
    int rc = -1;

    if (out_path)
        *out_path = NULL;
    if (changed)
        *changed = true;
    if (refuse_linked_dirs(root, env, err) < 0)
        goto cleanup;
    if (dd_path_exists(abs)) {
        if (dd_read_regular_file(&cur, abs, err) < 0)
            goto cleanup;
        if (cur.len == content->len && memcmp(cur.buf, content->buf, cur.len) == 0) {
            if (changed)
                *changed = false;
            rc = 0;
            goto done;
        }
    }
    if (dd_mkdir_p(dir, 0755, err) < 0 || dd_write_file_atomic(abs, content->buf, content->len, 0644, err) < 0)
        goto cleanup;
    rc = 0;
done:
    if (out_path) {
        *out_path = rel;
        rel = NULL;
    }
cleanup:
    dd_buf_release(&cur);
    free(rel);
    free(abs);
    free(dir);
    return rc;
}

int changelog_prepend(char **out_path, const char *root, const char *env, const struct changelog_entry *e,
                      struct dd_error *err)
{
    char *rel = changelog_path(env);
    char *abs = dd_path_join(root, rel);
    struct dd_buf cur = DD_BUF_INIT, next = DD_BUF_INIT;
    const char *first;
    int rc = -1;

    if (refuse_linked_dirs(root, env, err) < 0 || (dd_path_exists(abs) && dd_read_regular_file(&cur, abs, err) < 0))
        goto cleanup;
    /* keep whatever header the file has; the new entry goes before the first existing one */
    first = cur.len ? strstr(cur.buf, "\n## ") : NULL;
    if (cur.len && first) {
        dd_buf_add(&next, cur.buf, (size_t)(first - cur.buf) + 1);
        changelog_render_entry(&next, e);
        dd_buf_adds(&next, first + 1);
    } else {
        if (cur.len)
            dd_buf_add(&next, cur.buf, cur.len);
        else
            header(&next, env);
        changelog_render_entry(&next, e);
    }
    rc = changelog_replace(out_path, root, env, &next, NULL, err);
cleanup:
    dd_buf_release(&cur);
    dd_buf_release(&next);
    free(rel);
    free(abs);
    return rc;
}
