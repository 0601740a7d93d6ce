/*
 * dbdeploy hook: the git pre-push check that keeps published migrations immutable, and its
 * installer.
 *
 *   dbdeploy hook pre-push REMOTE URL       run by git (through hooks/pre-push), refs on stdin
 *   dbdeploy hook install [--force|--chain]
 *
 * The check needs no database and no network: everything it compares is in the local
 * repository. For each pushed ref it diffs the migrations directory between what the remote
 * has (or, for a new branch, the merge base with the protected branch) and what is pushed; any
 * *.sql file directly in that directory that was modified, deleted or renamed blocks the push.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "changelog/changelog.h"
#include "config/config.h"
#include "engine/immutable.h"
#include "git/git.h"
#include "hook_pre_push.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/out.h"

#define HOOK_FILE     "pre-push"
#define HOOK_CHAINED  "pre-push.chained"
#define HOOK_MARKER   "dbdeploy-hook: pre-push" /* on the script's second line */
#define HOOK_PROJECTS "dbdeploy-projects"       /* next to the hook: the project dirs it checks */

static const char hook_details[] =
    "The hook refuses a push that modifies, deletes or renames a *.sql file directly in the\n"
    "migrations directory when the remote already has it (for a new branch: when the merge base\n"
    "with the protected branch has it). Adding migrations is fine. No database is needed.";

/* ---- hook pre-push ---------------------------------------------------------------------- */

struct push_check {
    struct cli_ctx *ctx;
    struct repo *repo;
    const char *dir;                       /* migrations dir, relative to the project root (borrowed from the config) */
    bool base_known;                       /* protected branch looked up */
    char *protected_name;                  /* its name, NULL when there is none */
    struct dd_strv problems;               /* one detail line per offending file */
    struct dd_strv problem_refs;           /* the ref of each problem */
    struct dd_strv refs;                   /* short names of refs with problems */
    char first_base[REPO_OID_HEX_LEN + 1]; /* for the hint: where the first file can be restored from */
    char *hint_path;
};

static bool is_hex_id(const char *s)
{
    size_t n = strspn(s, "0123456789abcdef");
    return n == REPO_OID_HEX_LEN && s[n] == '\0';
}

static const char *short_ref(const char *ref)
{
    static const char *const prefixes[] = {"refs/heads/", "refs/tags/", "refs/"};

    for (size_t i = 0; i < DD_ARRAY_SIZE(prefixes); i++)
        if (strncmp(ref, prefixes[i], strlen(prefixes[i])) == 0)
            return ref + strlen(prefixes[i]);
    return ref;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* The protected branch (engine_protected_branch); a configured one must exist. */
static int protected_branch(struct push_check *pc, const char **out)
{
    const char *configured = pc->ctx->cfg->protected_branch;

    if (!pc->base_known) {
        char *name = engine_protected_branch(pc->repo, configured);
        pc->base_known = true;
        if (configured && !repo_rev_exists(pc->repo, configured)) {
            free(name);
            dd_error_set(&pc->ctx->err, DD_ECONFIG, "[git] protected-branch '%s' is not in this repository",
                         configured);
            dd_error_hint(&pc->ctx->err, "Fetch it (git fetch) or correct protected-branch in %s.", CONFIG_SHARED_FILE);
            return -1;
        }
        pc->protected_name = name;
    }
    *out = pc->protected_name;
    return 0;
}

/* One detail line: status, path, the commit that first changed the file in the pushed range. */
static int describe(struct push_check *pc, const struct repo_change *c, const char *local, const char *base,
                    const char *ref)
{
    struct engine_change_origin origin = ENGINE_CHANGE_ORIGIN_INIT;
    struct dd_buf line = DD_BUF_INIT;

    /* only commits not reachable from the base are being pushed, so only they can be blamed */
    if (engine_change_origin(&origin, pc->repo, local, c->old_path, c->old_blob, base, &pc->ctx->err) < 0) {
        dd_error_wrap(&pc->ctx->err, "looking for the commit that changed '%s'", c->old_path);
        return -1;
    }
    dd_buf_addf(&line, "%c %s", c->status, c->old_path);
    if (c->status == 'R')
        dd_buf_addf(&line, " -> %s", c->new_path);
    if (origin.first.id[0]) {
        const struct repo_commit_info *first = &origin.first;
        char date[11];
        repo_commit_date(date, first);
        dd_buf_addf(&line, "  in %s '%s' (%s, %s)", first->short_id, first->subject, first->author_name, date);
        if (origin.later)
            dd_buf_addf(&line, " and %zu later commit%s", origin.later, origin.later > 1 ? "s" : "");
    } else {
        /* the remote's commits are simply not in what is pushed: a force push moving the branch back */
        dd_buf_adds(&line, "  (no pushed commit changed it: the push rewinds the branch)");
    }
    if (c->status == 'M' && engine_edit_kind(pc->repo, c->old_blob, c->new_blob) != ENGINE_EDIT_CONTENT)
        dd_buf_adds(&line, "; only whitespace or line endings differ, which still changes its checksum");
    dd_strv_push_owned(&pc->problems, dd_buf_detach(&line, NULL));
    dd_strv_push(&pc->problem_refs, ref);
    if (!pc->hint_path) {
        pc->hint_path = dd_xstrdup(c->old_path);
        memcpy(pc->first_base, base, sizeof(pc->first_base));
    }
    engine_change_origin_release(&origin);
    return 0;
}

/*
 * A migration the push adds may already be applied somewhere: deployed from this branch, with
 * the deployment recorded in changelog/<env>/CHANGELOG.md. The changelogs of the pushed commit
 * are the offline record, so a file they record as applied must still have the recorded bytes.
 */
static int check_recorded(struct push_check *pc, const struct repo_changes *changes, const char *local, const char *ref)
{
    struct changelog_records recs = CHANGELOG_RECORDS_INIT;
    int rc = -1;

    if (engine_changelog_records(&recs, pc->repo, pc->ctx->root, local, &pc->ctx->err) < 0)
        goto cleanup;
    for (size_t i = 0; i < changes->n && recs.n; i++) {
        const struct repo_change *c = &changes->v[i];
        if (c->status != 'A')
            continue; /* changes to published files are reported above */
        for (size_t k = 0; k < recs.n; k++) {
            struct dd_buf data = DD_BUF_INIT;
            char sum[DD_CHECKSUM_LEN + 1];
            if (strcmp(recs.v[k].file, c->new_path) != 0)
                continue;
            if (repo_read_blob(&data, pc->repo, c->new_blob, &pc->ctx->err) < 0) {
                dd_buf_release(&data);
                goto cleanup;
            }
            dd_checksum(data.buf, data.len, sum);
            dd_buf_release(&data);
            if (strcmp(sum, recs.v[k].checksum) != 0) {
                dd_strv_pushf(
                    &pc->problems, "M %s: %s/%s/%s records it as applied to %s with other content (%.15s, now %.15s)",
                    c->new_path, CHANGELOG_DIR, recs.v[k].env, CHANGELOG_FILE, recs.v[k].env, recs.v[k].checksum, sum);
                dd_strv_push(&pc->problem_refs, ref);
                if (!pc->hint_path)
                    pc->hint_path = dd_xstrdup(c->new_path);
                if (!pc->first_base[0])
                    snprintf(pc->first_base, sizeof(pc->first_base), "%s", local);
            }
            break;
        }
    }
    rc = 0;
cleanup:
    changelog_records_release(&recs);
    return rc;
}

/* Check one "<local ref> <local sha> <remote ref> <remote sha>" line. */
static int check_ref(struct push_check *pc, const char *local_ref, const char *local, const char *remote_ref,
                     const char *remote, const char *remote_name)
{
    struct repo_changes changes = REPO_CHANGES_INIT;
    char local_commit[REPO_OID_HEX_LEN + 1], base[REPO_OID_HEX_LEN + 1];
    const char *protected_name = NULL, *ref = short_ref(remote_ref);
    size_t before = pc->problems.n, added = 0;
    int rc = -1;

    if (strcmp(local, REPO_ZERO_OID) == 0) {
        log_detail("pre-push: '%s' is being deleted; nothing to check", remote_ref);
        return 0;
    }
    if (repo_resolve(pc->repo, local, local_commit, &pc->ctx->err) < 0) {
        if (strncmp(remote_ref, "refs/tags/", 10) == 0) {
            /* a tag of a tree or blob carries no migrations history */
            dd_error_release(&pc->ctx->err);
            return 0;
        }
        return dd_error_wrap(&pc->ctx->err, "checking the push of '%s'", local_ref);
    }
    if (strcmp(remote, REPO_ZERO_OID) == 0) {
        if (protected_branch(pc, &protected_name) < 0)
            return -1;
        if (!protected_name) {
            log_detail("pre-push: new '%s' and no protected branch (origin/main or main); nothing to check", ref);
            return 0;
        }
        if (repo_merge_base(base, pc->repo, protected_name, local_commit, &pc->ctx->err) < 0)
            return dd_error_wrap(&pc->ctx->err, "checking the push of '%s'", local_ref);
        if (!*base) {
            log_detail("pre-push: new '%s' shares no history with '%s'; nothing to check", ref, protected_name);
            return 0;
        }
    } else {
        if (!repo_rev_exists(pc->repo, remote)) {
            dd_error_set(&pc->ctx->err, DD_EBLOCKED,
                         "cannot check the push to '%s': the remote's commit '%.7s' is not in this repository", ref,
                         remote);
            dd_error_hint(&pc->ctx->err,
                          "The remote has commits you have not fetched; run 'git fetch %s', look at what changed, "
                          "and push again.",
                          remote_name);
            return -1;
        }
        if (repo_resolve(pc->repo, remote, base, &pc->ctx->err) < 0)
            return dd_error_wrap(&pc->ctx->err, "checking the push to '%s'", ref);
    }
    if (repo_diff_dir(&changes, pc->repo, base, local_commit, pc->dir, &pc->ctx->err) < 0) {
        dd_error_wrap(&pc->ctx->err, "checking the push to '%s'", ref);
        goto cleanup;
    }
    for (size_t i = 0; i < changes.n; i++) {
        const struct repo_change *c = &changes.v[i];
        /* new files are fine, and so is renaming a non-migration into a migration; repeatable
         * migrations (R__*.sql) are meant to change */
        if (c->status == 'A' || !ends_with(c->old_path, ".sql") || migration_is_repeatable(dd_basename(c->old_path))) {
            added += c->status == 'A' || c->status == 'R';
            continue;
        }
        if (describe(pc, c, local_commit, base, ref) < 0)
            goto cleanup;
    }
    if (check_recorded(pc, &changes, local_commit, ref) < 0)
        goto cleanup;
    if (pc->problems.n > before)
        dd_strv_push(&pc->refs, ref);
    log_detail("pre-push: '%s' %.7s..%.7s: %zu new file%s in %s, %zu published migration%s changed", ref, base,
               local_commit, added, added == 1 ? "" : "s", pc->dir, pc->problems.n - before,
               pc->problems.n - before == 1 ? "" : "s");
    rc = 0;
cleanup:
    repo_changes_release(&changes);
    return rc;
}

/* Git's lines: "<local ref> SP <local sha> SP <remote ref> SP <remote sha>". */
static int check_line(struct push_check *pc, char *line, size_t lineno, const char *remote_name)
{
    char *f[4];
    size_t n = 0;

    for (char *p = line; n < 4;) {
        f[n++] = p;
        p = strchr(p, ' ');
        if (!p)
            break;
        *p++ = '\0';
    }
    if (n != 4 || strchr(f[3], ' ') || !is_hex_id(f[1]) || !is_hex_id(f[3])) {
        dd_error_set(&pc->ctx->err, DD_EINPUT,
                     "stdin line %zu: expected '<local ref> <local sha> <remote ref> <remote sha>'", lineno);
        dd_error_hint(&pc->ctx->err, "This command reads what git gives a pre-push hook; install it with 'dbdeploy "
                                     "hook install' and let git run it.");
        return -1;
    }
    return check_ref(pc, f[0], f[1], f[2], f[3], remote_name);
}

static void blocked_error(struct push_check *pc, const char *remote_name)
{
    struct dd_error *err = &pc->ctx->err;
    char *refs = dd_strv_join(&pc->refs, "', '");
    const char *prefix = repo_path_prefix(pc->repo);
    char *project = *prefix ? dd_xasprintf(" of project '%s'", prefix) : dd_xstrdup("");

    /* paths are relative to the project; in a repository holding several, say which one */
    dd_error_set(err, DD_EBLOCKED, "push to '%s' changes %zu published migration%s%s on '%s'", remote_name,
                 pc->problems.n, pc->problems.n == 1 ? "" : "s", project, refs);
    for (size_t i = 0; i < pc->problems.n; i++) {
        if (pc->refs.n > 1)
            dd_error_detail(err, "%s  [%s]", pc->problems.v[i], pc->problem_refs.v[i]);
        else
            dd_error_detail(err, "%s", pc->problems.v[i]);
    }
    dd_error_hint(err,
                  "A pushed migration may already have run somewhere, so it must stay as it is: restore it (for "
                  "example 'git checkout %.7s -- %s' and commit), put the change in a new migration made with "
                  "'dbdeploy new NAME', and push again.",
                  pc->first_base, pc->hint_path);
    free(project);
    free(refs);
}

const struct cli_spec cli_spec_hook_pre_push = {
    .brief = "check a push; git runs it through the hook with the refs on stdin",
    .name = "hook pre-push",
    .usage = "REMOTE URL",
    .summary = "check a push for changed published migrations (git runs this through the hook)",
    .details = "Reads git's pre-push lines from stdin: '<local ref> <local sha> <remote ref> <remote sha>'.\n"
               "Exits 3 when a migration the remote already has was modified, deleted or renamed.",
    .min_args = 2,
    .max_args = 2,
};

static int hook_pre_push(struct cli_ctx *ctx, int argc, char **argv)
{
    struct push_check pc = {ctx, NULL, NULL, false, NULL, DD_STRV_INIT, DD_STRV_INIT, DD_STRV_INIT, "", NULL};
    struct dd_strv args = DD_STRV_INIT;
    struct dd_buf in = DD_BUF_INIT;
    size_t lineno = 0;
    int rc = -1, p;

    p = cli_parse(ctx, &cli_spec_hook_pre_push, NULL, argc, argv, &args);
    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    if (isatty(STDIN_FILENO)) {
        dd_error_set(&ctx->err, DD_EUSAGE, "'hook pre-push' reads the pushed refs from stdin, which is a terminal");
        dd_error_hint(&ctx->err, "Install the hook with 'dbdeploy hook install'; git runs it on 'git push'.");
        goto cleanup;
    }
    if (cli_need_config(ctx, NULL) < 0 || repo_open(&pc.repo, ctx->root, &ctx->err) < 0)
        goto cleanup;
    pc.dir = ctx->cfg->migrations_dir;
    if (dd_read_file(&in, "/dev/stdin", &ctx->err) < 0)
        goto cleanup;
    for (char *line = in.buf, *next; line < in.buf + in.len; line = next) {
        char *nl = memchr(line, '\n', (size_t)(in.buf + in.len - line));
        next = nl ? nl + 1 : in.buf + in.len;
        if (nl)
            *nl = '\0';
        if (nl && nl > line && nl[-1] == '\r')
            nl[-1] = '\0'; /* git for Windows */
        lineno++;
        if (!*line)
            continue;
        if (check_line(&pc, line, lineno, args.v[0]) < 0)
            goto cleanup;
    }
    if (pc.problems.n) {
        blocked_error(&pc, args.v[0]);
        goto cleanup;
    }
    rc = 0;
cleanup:
    repo_free(pc.repo);
    free(pc.protected_name);
    free(pc.hint_path);
    dd_strv_release(&pc.problems);
    dd_strv_release(&pc.problem_refs);
    dd_strv_release(&pc.refs);
    dd_strv_release(&args);
    dd_buf_release(&in);
    return rc;
}

/* ---- hook install ----------------------------------------------------------------------- */

/* A path for messages: relative to the top of the work tree when inside it. */
static const char *shown_path(const struct repo *r, const char *abs)
{
    size_t n = strlen(repo_workdir(r));
    if (strncmp(abs, repo_workdir(r), n) == 0 && abs[n] == '/')
        return abs + n + 1;
    return abs;
}

/* Whether `line` is one of the lines of b. */
static bool has_line(const struct dd_buf *b, const char *line)
{
    size_t n = strlen(line);

    for (const char *p = b->buf; p < b->buf + b->len;) {
        const char *nl = memchr(p, '\n', (size_t)(b->buf + b->len - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(b->buf + b->len - p);
        if (len == n && memcmp(p, line, n) == 0)
            return true;
        p += len + 1;
    }
    return false;
}

struct hook_install_opts {
    bool force, chain;
};

static const struct cli_opt hook_install_options[] = {
    CLI_OPT_BOOL('f', "force", struct hook_install_opts, force, "replace a different pre-push hook"),
    CLI_OPT_BOOL(0, "chain", struct hook_install_opts, chain,
                 "keep a different pre-push hook as pre-push.chained and run it first"),
    CLI_OPT_END,
};

const struct cli_spec cli_spec_hook_install = {
    .brief = "install the pre-push hook into this repository",
    .name = "hook install",
    .usage = "[--force | --chain]",
    .summary = "install the pre-push hook that refuses pushes changing published migrations",
    .details = "Installs into the repository's hooks directory (core.hooksPath when set) and adds the\n"
               "project directory to dbdeploy-projects next to it, so one repository can hold several\n"
               "projects. The hook finds dbdeploy through $DBDEPLOY, else PATH. Installing again is a no-op;\n"
               "an older dbdeploy hook is updated in place.",
    .opts = hook_install_options,
    .min_args = 0,
    .max_args = 0,
};

static int hook_install(struct cli_ctx *ctx, int argc, char **argv)
{
    struct hook_install_opts o = {false, false};
    const char *script = (const char *)hook_pre_push_script;
    size_t script_len = sizeof(hook_pre_push_script) - 1;
    struct dd_strv args = DD_STRV_INIT;
    struct dd_buf existing = DD_BUF_INIT, listed = DD_BUF_INIT;
    struct repo *repo = NULL;
    char *dir = NULL, *path = NULL, *chained = NULL, *projects_path = NULL;
    const char *project, *what = NULL;
    bool have_hook, registered;
    int rc = -1, p;

    p = cli_parse(ctx, &cli_spec_hook_install, &o, argc, argv, &args);
    if (p != 0) {
        rc = p > 0 ? 0 : -1;
        goto cleanup;
    }
    if (o.force && o.chain) {
        dd_error_set(&ctx->err, DD_EUSAGE, "'--force' and '--chain' cannot be used together");
        dd_error_hint(&ctx->err, "Use --chain to keep the existing hook running, or --force to replace it.");
        goto cleanup;
    }
    if (repo_open(&repo, ctx->root, &ctx->err) < 0 || repo_hooks_dir(&dir, repo, &ctx->err) < 0 ||
        dd_mkdir_p(dir, 0755, &ctx->err) < 0)
        goto cleanup;
    path = dd_path_join(dir, HOOK_FILE);
    chained = dd_path_join(dir, HOOK_CHAINED);
    have_hook = dd_path_exists(path);
    if (have_hook && dd_read_file(&existing, path, &ctx->err) < 0)
        goto cleanup;

    if (!have_hook) {
        what = "installed the pre-push hook in '%s'";
    } else if (existing.len == script_len && memcmp(existing.buf, script, script_len) == 0) {
        what = NULL; /* already there */
    } else if (strstr(existing.buf, HOOK_MARKER)) {
        what = "updated the dbdeploy pre-push hook in '%s'";
    } else if (o.force) {
        what = "replaced the existing pre-push hook in '%s' (--force)";
    } else if (o.chain) {
        if (dd_path_exists(chained)) {
            dd_error_set(&ctx->err, DD_EBLOCKED, "cannot chain the existing pre-push hook: '%s' already exists",
                         shown_path(repo, chained));
            dd_error_hint(&ctx->err, "Merge the two hooks by hand, or remove '%s' and run this again.",
                          shown_path(repo, chained));
            goto cleanup;
        }
        if (rename(path, chained) < 0) {
            dd_error_errno(&ctx->err, DD_EIO, "cannot rename '%s' to '%s'", path, chained);
            goto cleanup;
        }
        what = "installed the pre-push hook in '%s'; the previous hook runs first as pre-push.chained";
    } else {
        dd_error_set(&ctx->err, DD_EBLOCKED, "'%s' is a different pre-push hook", shown_path(repo, path));
        dd_error_hint(&ctx->err, "Run 'dbdeploy hook install --chain' to keep it and run it before dbdeploy's "
                                 "check, or 'dbdeploy hook install --force' to replace it.");
        goto cleanup;
    }
    if (what && dd_write_file_atomic(path, script, script_len, 0755, &ctx->err) < 0)
        goto cleanup;

    /* the hook runs dbdeploy once per project listed next to it */
    project = *repo_path_prefix(repo) ? repo_path_prefix(repo) : ".";
    projects_path = dd_path_join(dir, HOOK_PROJECTS);
    if (dd_path_exists(projects_path) && dd_read_file(&listed, projects_path, &ctx->err) < 0)
        goto cleanup;
    registered = has_line(&listed, project);
    if (!registered) {
        if (listed.len && listed.buf[listed.len - 1] != '\n')
            dd_buf_addch(&listed, '\n');
        dd_buf_addf(&listed, "%s\n", project);
        if (dd_write_file_atomic(projects_path, listed.buf, listed.len, 0644, &ctx->err) < 0)
            goto cleanup;
    }

    if (what)
        log_info(what, shown_path(repo, path));
    else if (!registered)
        log_info("the pre-push hook in '%s' now also checks project '%s'", shown_path(repo, path), project);
    else
        log_info("the pre-push hook is already installed in '%s'; nothing to do", shown_path(repo, path));
    rc = 0;
cleanup:
    repo_free(repo);
    free(dir);
    free(path);
    free(chained);
    free(projects_path);
    dd_buf_release(&existing);
    dd_buf_release(&listed);
    dd_strv_release(&args);
    return rc;
}

/* ---- dispatch --------------------------------------------------------------------------- */

static const struct cli_spec *const hook_subs[] = {&cli_spec_hook_install, &cli_spec_hook_pre_push, NULL};

const struct cli_spec cli_spec_hook = {
    .brief = "install or run the git pre-push hook that protects published migrations",
    .name = "hook",
    .usage = "install [--force | --chain] | pre-push REMOTE URL",
    .summary = "install or run the git pre-push hook that protects published migrations",
    .details = hook_details,
    .min_args = 1,
    .max_args = 1,
    .subs = hook_subs,
};

int cmd_hook(struct cli_ctx *ctx, int argc, char **argv)
{
    struct dd_strv args = DD_STRV_INIT;
    int p;

    if (argc >= 2 && strcmp(argv[1], "install") == 0)
        return hook_install(ctx, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "pre-push") == 0)
        return hook_pre_push(ctx, argc - 1, argv + 1);
    p = cli_parse(ctx, &cli_spec_hook, NULL, argc, argv, &args);
    if (p == 0) {
        dd_error_set(&ctx->err, DD_EUSAGE, "'%s' is not a hook subcommand", args.v[0]);
        dd_error_hint(&ctx->err, "Use 'dbdeploy hook install' or 'dbdeploy hook pre-push REMOTE URL'.");
        p = -1;
    }
    dd_strv_release(&args);
    return p < 0 ? -1 : 0;
}
