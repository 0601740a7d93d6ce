/*
 * The list of a fleet's targets. Every source ends in the same check (add_target): a usable
 * name, unique, and a url libpq reads the way we do (config_check_db_url), whose credentials are
 * masked from then on.
 */
#include "fleet/fleet.h"

#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "db/targets.h"
#include "git/git.h"
#include "util/fs.h"
#include "util/mask.h"

/* where: "pipeline/prod.conf: [targets] url" or "tenants.txt:3", for messages */
static int add_target(struct fleet_targets *t, const char *name, const char *url, const char *where,
                      struct dd_error *err)
{
    char *derived = NULL;
    struct fleet_target *n;

    dd_mask_register_params(url);
    if (config_check_db_url(where, url, false, err) < 0)
        return -1;
    if (!*url) {
        dd_error_set(err, DD_ECONFIG, "%s: the target has no connection string", where);
        dd_error_hint(err, "Give each target a url such as postgres://deploy@db1/tenant_a.");
        return -1;
    }
    if (!name || !*name)
        name = derived = db_url_dbname(url);
    if (!name || !config_env_name_valid(name)) {
        dd_error_set(err, DD_ECONFIG, "%s: '%s' is not a usable target name", where, name ? name : "");
        dd_error_hint(err, "Name targets with letters, digits, '-' and '_' (they name backup and changelog "
                           "directories); give the name before the url when the database name does not fit.");
        free(derived);
        return -1;
    }
    if (fleet_targets_find(t, name)) {
        dd_error_set(err, DD_ECONFIG, "%s: target '%s' is listed twice", where, name);
        dd_error_hint(err, "Give every target its own name (the name before the url, else its database name).");
        free(derived);
        return -1;
    }
    t->v = dd_xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
    n = &t->v[t->n++];
    n->name = dd_xstrdup(name);
    n->url = dd_xstrdup(url);
    n->url_masked = dd_mask_str(url);
    free(derived);
    return 0;
}

/*
 * "NAME URL" or "URL": a first word without '=' or "://" followed by more text is a name
 * (key=value conninfo has spaces too, but its first word holds '=').
 */
static int add_line(struct fleet_targets *t, const char *line, const char *where, struct dd_error *err)
{
    size_t w = strcspn(line, " \t");
    const char *rest = line + w;
    char *name;
    int rc;

    while (*rest == ' ' || *rest == '\t')
        rest++;
    name = dd_xstrndup(line, w);
    if (*rest && !strchr(name, '=') && !strstr(name, "://"))
        rc = add_target(t, name, rest, where, err);
    else
        rc = add_target(t, NULL, line, where, err);
    free(name);
    return rc;
}

static int from_urls(struct fleet_targets *t, const struct dd_config *cfg, struct dd_error *err)
{
    char *where = dd_xasprintf("%s: [targets] url", cfg->env_file ? cfg->env_file : CONFIG_SHARED_FILE);
    int rc = 0;

    for (size_t i = 0; i < cfg->targets.urls.n && rc == 0; i++)
        rc = add_line(t, cfg->targets.urls.v[i], where, err);
    free(where);
    return rc;
}

static char *trim(char *s)
{
    size_t n;

    while (*s == ' ' || *s == '\t')
        s++;
    n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/*
 * The file as committed in cfg->commit, appended to out: the targets are part of what was
 * reviewed, like the configuration naming them, and every child of a rollout reads the same list.
 */
static int read_committed(struct dd_buf *out, const struct dd_config *cfg, struct dd_error *err)
{
    struct repo *repo = NULL;
    struct repo_files files = REPO_FILES_INIT;
    const char *name = dd_basename(cfg->targets.file);
    char *dir = dd_xstrndup(cfg->targets.file, (size_t)(name - cfg->targets.file));
    bool found = false;
    int rc = -1;

    /* repo_read_dir wants "" for the top, "dir" (no trailing slash) below it */
    if (*dir)
        dir[strlen(dir) - 1] = '\0';
    if (repo_open(&repo, cfg->root, err) < 0 || repo_read_dir(&files, repo, cfg->commit, dir, true, err) < 0)
        goto cleanup;
    for (size_t i = 0; i < files.n && !found; i++)
        if ((found = strcmp(files.v[i].path, cfg->targets.file) == 0))
            dd_buf_add(out, files.v[i].data, files.v[i].len);
    if (!found) {
        dd_error_set(err, DD_ECONFIG, "%s: [targets] file %s is not in commit %.7s", cfg->env_file, cfg->targets.file,
                     cfg->commit);
        dd_error_hint(err, "Deploy and plan read the targets from the same commit as the migrations: commit the file, "
                           "or set [git] allow-dirty for an environment that deploys the working tree.");
        goto cleanup;
    }
    rc = 0;
cleanup:
    for (size_t i = 0; i < files.n; i++)
        if (files.v[i].data)
            memset(files.v[i].data, 0, files.v[i].len);
    repo_files_release(&files);
    repo_free(repo);
    free(dir);
    return rc;
}

/* One target a line; blank lines and lines starting with '#' are skipped. */
static int from_file(struct fleet_targets *t, const struct dd_config *cfg, struct dd_error *err)
{
    struct dd_buf text = DD_BUF_INIT;
    char *path = dd_path_join(cfg->root, cfg->targets.file);
    char *p, *next;
    unsigned lineno = 0;
    int rc = -1;

    if (cfg->commit) {
        if (read_committed(&text, cfg, err) < 0)
            goto cleanup;
    } else if (dd_read_regular_file(&text, path, err) < 0) {
        dd_error_hint(err, "%s names %s in [targets] file: create it with one 'NAME URL' a line.",
                      cfg->env_file ? cfg->env_file : CONFIG_SHARED_FILE, cfg->targets.file);
        goto cleanup;
    }
    for (p = text.buf; p; p = next) {
        char *line, where[512];
        next = strchr(p, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        line = trim(p);
        if (!*line || *line == '#')
            continue;
        snprintf(where, sizeof(where), "%s:%u", cfg->targets.file, lineno);
        if (add_line(t, line, where, err) < 0)
            goto cleanup;
    }
    rc = 0;
cleanup:
    /* the file holds connection strings: wipe our copy */
    if (text.buf)
        memset(text.buf, 0, text.len);
    dd_buf_release(&text);
    free(path);
    return rc;
}

/* The query runs on the environment's own database, the catalog of its targets. */
static int from_query(struct fleet_targets *t, const struct dd_config *cfg, struct dd_error *err)
{
    struct dd_strv names = DD_STRV_INIT, urls = DD_STRV_INIT;
    struct db_conn *db = NULL;
    const char *file = cfg->env_file ? cfg->env_file : CONFIG_SHARED_FILE;
    char *where = dd_xasprintf("%s: [targets] query", file);
    int rc = -1;

    if (!cfg->db_url) {
        dd_error_set(err, DD_ECONFIG, "%s: the query needs a catalog database, and [database] url is not set", where);
        dd_error_hint(err, "Set [database] url to the database the query lists the targets from.");
        goto cleanup;
    }
    if (db_connect(&db, cfg, err) < 0 || db_query_pairs(&names, &urls, db, cfg->targets.query, err) < 0) {
        dd_error_wrap(err, "listing the targets with %s", where);
        dd_error_hint(err, "The query must return a name (or NULL) and a connection string per row, for example "
                           "SELECT name, url FROM tenants.");
        goto cleanup;
    }
    for (size_t i = 0; i < names.n; i++) {
        char row[600];
        snprintf(row, sizeof(row), "%s: row %zu", where, i + 1);
        if (add_target(t, names.v[i], urls.v[i], row, err) < 0)
            goto cleanup;
    }
    rc = 0;
cleanup:
    for (size_t i = 0; i < urls.n; i++)
        memset(urls.v[i], 0, strlen(urls.v[i]));
    dd_strv_release(&names);
    dd_strv_release(&urls);
    db_free(db);
    free(where);
    return rc;
}

int fleet_targets_resolve(struct fleet_targets *out, const struct dd_config *cfg, struct dd_error *err)
{
    struct fleet_targets t = FLEET_TARGETS_INIT;

    if (from_urls(&t, cfg, err) < 0 || (cfg->targets.file && from_file(&t, cfg, err) < 0) ||
        (cfg->targets.query && from_query(&t, cfg, err) < 0)) {
        fleet_targets_release(&t);
        return -1;
    }
    *out = t;
    return 0;
}

void fleet_targets_release(struct fleet_targets *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].name);
        dd_free_secret(t->v[i].url);
        free(t->v[i].url_masked);
    }
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

const struct fleet_target *fleet_targets_find(const struct fleet_targets *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].name, name) == 0)
            return &t->v[i];
    return NULL;
}

int fleet_select(struct dd_config *cfg, const char *name, struct dd_error *err)
{
    struct fleet_targets t = FLEET_TARGETS_INIT;
    const struct fleet_target *hit;
    int rc = -1;

    if (!config_is_fleet(cfg)) {
        dd_error_set(err, DD_EUSAGE, "--target %s: environment '%s' has no [targets]", name, cfg->env);
        dd_error_hint(err, "--target picks one database of a fleet; %s deploys to its [database] url alone.", cfg->env);
        return -1;
    }
    if (fleet_targets_resolve(&t, cfg, err) < 0)
        return -1;
    hit = fleet_targets_find(&t, name);
    if (!hit) {
        struct dd_strv names = DD_STRV_INIT;
        char *list;
        for (size_t i = 0; i < t.n && i < 10; i++)
            dd_strv_push(&names, t.v[i].name);
        list = dd_strv_join(&names, ", ");
        dd_error_set(err, DD_EUSAGE, "--target %s: environment '%s' has no such target", name, cfg->env);
        dd_error_hint(err, "Its targets are %s%s ('dbdeploy targets %s' lists them).", t.n ? list : "none",
                      t.n > 10 ? ", ..." : "", cfg->env);
        free(list);
        dd_strv_release(&names);
        goto cleanup;
    }
    config_select_target(cfg, hit->name, hit->url);
    rc = 0;
cleanup:
    fleet_targets_release(&t);
    return rc;
}
