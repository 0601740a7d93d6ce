#include "pipeline/deploy.h"

#include <stdio.h>

#include "changelog/changelog.h"
#include "config/config.h"
#include "db/db.h"
#include "git/git.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/mask.h"

/* "prod/20261121T101500Z-1a2b3c4.tar.zst": the archive relative to the backup dir. */
static char *archive_label(const char *path)
{
    char *dir, *label;

    if (!path)
        return NULL;
    dir = dd_dirname(path);
    label = dd_xasprintf("%s/%s", dd_basename(dir), dd_basename(path));
    free(dir);
    return label;
}

/*
 * The changelog entry of a recorded deployment, with the author and subject of the commit that
 * introduced each file (as of the deployed commit). Strings borrowed from `dep` or owned by
 * `hold`; the same function serves the entry appended after a deployment and regeneration, so
 * both render the same bytes.
 */
void deploy_changelog_entry(struct changelog_entry *out, struct changelog_migration *m, struct dd_strv *hold,
                            struct repo *repo, const struct db_deployment *dep)
{
    char *label = archive_label(dep->archive);

    memset(out, 0, sizeof(*out));
    out->id = dep->id;
    out->env = dep->env;
    out->started_at = dep->started_at;
    out->finished_at = dep->finished_at;
    out->commit = dep->git_commit;
    out->who = dep->deployed_by;
    out->result = dep->result;
    if (label) {
        dd_strv_push_owned(hold, label);
        out->archive = hold->v[hold->n - 1];
    }
    out->error = dep->error;
    out->recovery = dep->recovery;
    out->kind = dep->kind;
    out->git_user = dep->git_user;
    out->drift = dep->drift;
    for (size_t i = 0; i < dep->n; i++) {
        struct repo_commit_info ci = REPO_COMMIT_INFO_INIT;
        struct dd_error ignored = DD_ERROR_INIT;
        memset(&m[i], 0, sizeof(m[i]));
        m[i].version = dep->m[i].version;
        m[i].name = dep->m[i].name;
        m[i].file = dep->m[i].file;
        m[i].checksum = dep->m[i].checksum;
        m[i].duration_ms = dep->m[i].duration_ms;
        m[i].status = dep->m[i].status;
        m[i].changes = dep->m[i].changes;
        if (repo && dep->git_commit && repo_path_origin(&ci, repo, dep->git_commit, dep->m[i].file, &ignored) == 0) {
            dd_strv_push(hold, ci.author_name ? ci.author_name : "");
            m[i].author = hold->v[hold->n - 1];
            dd_strv_push(hold, ci.subject ? ci.subject : "");
            m[i].subject = hold->v[hold->n - 1];
        }
        repo_commit_info_release(&ci);
        dd_error_release(&ignored);
    }
    out->m = m;
    out->n = dep->n;
    if (dep->nallow) {
        /* the array is one more allocation that hold owns (freed with its strings) */
        struct changelog_allow *a = dd_xcalloc(dep->nallow, sizeof(*a));
        for (size_t i = 0; i < dep->nallow; i++) {
            a[i].rule = dep->allow[i].rule;
            a[i].file = dep->allow[i].file;
            a[i].line = dep->allow[i].line;
            a[i].reason = dep->allow[i].reason;
        }
        dd_strv_push_owned(hold, (char *)a);
        out->allow = a;
        out->nallow = dep->nallow;
    }
}

void deploy_record_migration(struct db_deployment *dep, const struct migration *m, int64_t ms, const char *status)
{
    struct db_deployment_migration *x;

    dep->m = dd_xrealloc(dep->m, (dep->n + 1) * sizeof(*dep->m));
    x = &dep->m[dep->n++];
    x->version = m->version;
    x->name = dd_xstrdup(m->name);
    x->file = dd_xstrdup(m->up.path);
    x->checksum = dd_xstrdup(m->checksum);
    x->duration_ms = ms;
    x->status = dd_xstrdup(status);
    x->changes = NULL; /* filled by db_deployment_insert from the ledger */
}

/* The lint stage's run for deployments.lint, and the suppressions it used for the changelog. */
static void lint_to_record(struct db_deployment *dep, const struct deploy *d)
{
    struct dd_buf b = DD_BUF_INIT;
    struct dd_json j;

    if (!d->linted)
        return;
    dd_json_init(&j, &b); /* masked, like every string of the record */
    dd_json_obj_begin(&j, NULL);
    lint_json_members(&j, &d->lint);
    dd_json_obj_end(&j);
    dep->lint_json = dd_buf_detach(&b, NULL);
    dep->allow = dd_xcalloc(d->lint.nsup ? d->lint.nsup : 1, sizeof(*dep->allow));
    for (size_t i = 0; i < d->lint.nsup; i++) {
        const struct lint_suppression *s = &d->lint.sup[i];
        struct db_deployment_allow *a = &dep->allow[dep->nallow];
        if (!s->used || !s->reason)
            continue;
        a->rule = dd_mask_str(s->rule);
        a->file = dd_mask_str(s->file);
        a->line = s->line;
        a->reason = dd_mask_str(s->reason);
        dep->nallow++;
    }
}

/* The in-memory deployment as the ledger will store it. */
void deploy_to_record(struct db_deployment *dep, const struct deploy *d, const char *stages_json)
{
    char started[32], finished[32];
    /* "restored": undone by any rung of the recovery ladder */
    const char *done_status = d->result == DEPLOY_RESTORED ? "restored" : "applied";

    memset(dep, 0, sizeof(*dep));
    dd_time_iso8601_ms(started, d->started_ms);
    dd_time_iso8601_ms(finished, d->finished_ms);
    dep->env = dd_xstrdup(d->cfg->env);
    dep->git_commit = d->set.commit ? dd_xstrdup(d->set.commit) : NULL;
    dep->deployed_by = dd_xstrdup(d->who);
    dep->started_at = dd_xstrdup(started);
    dep->finished_at = dd_xstrdup(finished);
    dep->result = dd_xstrdup(deploy_result_name(d->result));
    dep->stages_json = dd_xstrdup(stages_json);
    dep->archive = d->backup.path ? dd_xstrdup(d->backup.path) : NULL;
    dep->error = d->error ? dd_xstrdup(d->error) : NULL;
    dep->recovery = d->recovery != DEPLOY_RECOVERY_NONE ? dd_xstrdup(deploy_recovery_name(d->recovery)) : NULL;
    /* what a later 'undo' through the backup needs to find other sessions' writes since it */
    dep->guard_json = d->have_mark && d->backup.path ? db_write_mark_json(&d->mark, d->db) : NULL;
    dep->kind = dd_xstrdup("deploy");
    dep->git_user = repo_identity(d->repo);
    dep->drift = d->drift_accepted ? dd_xstrdup(d->drift_accepted) : NULL;
    for (size_t i = 0; i < d->applied.n; i++) {
        const struct migration *m = NULL;
        for (size_t k = 0; k < d->plan.n && !m; k++)
            if (d->plan.v[k].m->version == d->applied.v[i].version)
                m = d->plan.v[k].m;
        if (m)
            deploy_record_migration(dep, m, d->applied.v[i].duration_ms, done_status);
    }
    /* one transaction for the deployment: what ran before the failure was rolled back with it
     * ("restored", as every rung of the recovery ladder records it) */
    if (d->one_tx && !d->applied.n)
        for (size_t k = 0; k < d->applied.failed_index && k < d->plan.n; k++)
            deploy_record_migration(dep, d->plan.v[k].m, 0, "restored");
    if (d->applied.failed_index < d->plan.n)
        deploy_record_migration(dep, d->plan.v[d->applied.failed_index].m, 0, "failed");
    lint_to_record(dep, d);
}

int deploy_changelog(struct deploy *d, const struct db_deployment *dep, struct dd_error *err)
{
    struct changelog_entry e;
    struct changelog_migration *m = dd_xcalloc(dep->n ? dep->n : 1, sizeof(*m));
    struct dd_strv hold = DD_STRV_INIT;
    int rc;

    deploy_changelog_entry(&e, m, &hold, d->repo, dep);
    free(d->changelog_path);
    d->changelog_path = NULL;
    char *log_env = config_changelog_name(d->cfg);
    rc = changelog_prepend(&d->changelog_path, d->cfg->root, log_env, &e, err);
    free(log_env);
    free(m);
    dd_strv_release(&hold);
    return rc;
}
