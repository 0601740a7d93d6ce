#include "pipeline/event.h"

#include <stdio.h>

#include "changelog/changelog.h"
#include "config/config.h"
#include "db/db.h"
#include "git/git.h"
#include "notify/notify.h"
#include "pipeline/deploy.h"
#include "util/clock.h"
#include "util/mask.h"

void event_init(struct event *ev, const char *kind, const struct dd_config *cfg, struct db_conn *db, struct repo *repo,
                const char *commit, const char *who)
{
    memset(ev, 0, sizeof(*ev));
    ev->kind = kind;
    ev->cfg = cfg;
    ev->db = db;
    ev->repo = repo;
    ev->commit = commit;
    ev->who = who;
    ev->started_ms = dd_epoch_ms();
}

void event_add(struct event *ev, const struct migration *m, int64_t duration_ms, const char *status)
{
    deploy_record_migration(&ev->dep, m, duration_ms, status);
}

void event_add_row(struct event *ev, int64_t version, const char *name, const char *file, const char *checksum,
                   const char *status)
{
    struct db_deployment_migration *x;

    ev->dep.m = dd_xrealloc(ev->dep.m, (ev->dep.n + 1) * sizeof(*ev->dep.m));
    x = &ev->dep.m[ev->dep.n++];
    x->version = version;
    x->name = dd_xstrdup(name ? name : "");
    x->file = dd_xstrdup(file ? file : "");
    x->checksum = dd_xstrdup(checksum ? checksum : "");
    x->duration_ms = 0;
    x->status = dd_xstrdup(status);
    x->changes = NULL; /* filled by db_deployment_insert from the ledger */
}

/* Ascending by version, as the ledger reads them back: the changelog must regenerate the same bytes. */
static int by_version(const void *a, const void *b)
{
    const struct db_deployment_migration *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

/* [notify]: the result of a change made outside the pipeline (no start event: it is one step). */
static void event_notify(const struct event *ev, const char *result, const char *error)
{
    int64_t *versions = dd_xcalloc(ev->dep.n ? ev->dep.n : 1, sizeof(*versions));
    bool failed = strcmp(result, "failed") == 0;
    struct notify_event ne = {.kind = failed ? NOTIFY_FAILURE : NOTIFY_SUCCESS,
                              .env = ev->cfg->env,
                              .commit = ev->commit,
                              .who = ev->who,
                              .result = result,
                              .error = error,
                              .versions = versions,
                              .n_versions = ev->dep.n,
                              .duration_ms = dd_epoch_ms() - ev->started_ms,
                              .command = ev->kind};

    for (size_t i = 0; i < ev->dep.n; i++) {
        versions[i] = ev->dep.m[i].version;
        ne.n_applied += !failed && strcmp(ev->dep.m[i].status, "failed") != 0;
    }
    notify_send(ev->cfg, &ne);
    free(versions);
}

int event_record(struct event *ev, const char *result, const char *error, const char *archive, struct dd_error *err)
{
    struct db_deployment *dep = &ev->dep;
    struct changelog_entry e;
    struct changelog_migration *cm = NULL;
    struct dd_strv hold = DD_STRV_INIT;
    char started[32], finished[32];
    int rc = -1;

    dd_time_iso8601_ms(started, ev->started_ms);
    dd_time_iso8601_ms(finished, dd_epoch_ms());
    dep->env = dd_xstrdup(ev->cfg->env);
    dep->git_commit = ev->commit ? dd_xstrdup(ev->commit) : NULL;
    dep->deployed_by = dd_xstrdup(ev->who ? ev->who : "unknown");
    dep->started_at = dd_xstrdup(started);
    dep->finished_at = dd_xstrdup(finished);
    dep->result = dd_xstrdup(result);
    dep->stages_json = dd_xasprintf("[{\"name\":\"%s\",\"outcome\":\"%s\"}]", ev->kind,
                                    strcmp(result, "failed") == 0 ? "failed" : "ok");
    dep->archive = archive ? dd_xstrdup(archive) : NULL;
    dep->error = error ? dd_mask_str(error) : NULL;
    dep->kind = dd_xstrdup(ev->kind);
    dep->git_user = repo_identity(ev->repo);
    if (dep->n > 1)
        qsort(dep->m, dep->n, sizeof(*dep->m), by_version);
    if (db_ledger_ensure(ev->db, ev->cfg->ledger_schema, err) < 0 ||
        db_deployment_insert(ev->db, ev->cfg->ledger_schema, dep, err) < 0)
        goto cleanup;
    cm = dd_xcalloc(dep->n ? dep->n : 1, sizeof(*cm));
    deploy_changelog_entry(&e, cm, &hold, ev->repo, dep);
    free(ev->changelog_path);
    ev->changelog_path = NULL;
    {
        char *log_env = config_changelog_name(ev->cfg);
        rc = changelog_prepend(&ev->changelog_path, ev->cfg->root, log_env, &e, err);
        free(log_env);
    }
cleanup:
    event_notify(ev, result, error);
    free(cm);
    dd_strv_release(&hold);
    return rc;
}

void event_release(struct event *ev)
{
    db_deployment_release(&ev->dep);
    free(ev->changelog_path);
    ev->changelog_path = NULL;
}
