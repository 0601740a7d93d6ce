#include "config/config.h"
#include "config/internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <strings.h>

#include "git/git.h"
#include "lint/lint.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/mask.h"

/*
 * Settings are described by a table so that validation, defaults and error messages stay in
 * one place. Each entry points into struct dd_config by offset.
 */
enum setting_type {
    SET_STRING,   /* char * */
    SET_SECRET,   /* char *, registered with util/mask after expansion */
    SET_BOOL,     /* bool */
    SET_U32,      /* uint32_t */
    SET_DURATION, /* uint64_t milliseconds */
    SET_POSITIVE, /* uint64_t milliseconds, more than 0 */
    SET_STATUS,   /* struct dd_status_set, text kept in health.expect_status_text */
    SET_HEADERS,  /* struct dd_strv of "Name: value", repeatable, values secret */
    SET_METHOD,   /* char *, GET or HEAD */
    SET_SCHEMA,   /* char *, a plain SQL identifier */
    SET_RELDIR,   /* char *, a relative directory inside the project */
    SET_RELFILE,  /* char *, a relative file path inside the project */
    SET_ENVNAME,  /* char *, an environment name */
    SET_LEVEL,    /* uint32_t, zstd level 1..19 */
    SET_CHOICE,   /* unsigned: the index of the value in the setting's choices */
    SET_LINTRULE, /* struct dd_strv of "RULE-ID=severity"; key "*" matches any rule id */
    SET_WEBHOOK,  /* struct dd_strv of http(s) URLs, repeatable; each URL and its ${VARS} are secrets */
    SET_EVENTS,   /* unsigned: CONFIG_NOTIFY_* bits from a list of the choices (by index) */
    SET_URLS,     /* struct dd_strv of "URL" or "NAME URL", repeatable, credentials masked */
    SET_WAVES,    /* struct config_waves */
    SET_HALT,     /* uint32_t failures that halt a rollout */
};

struct setting {
    const char *section;
    const char *key;
    enum setting_type type;
    size_t offset;
    const char *const *choices; /* SET_CHOICE: the allowed values, NULL-terminated */
};

#define CFG(field) offsetof(struct dd_config, field)

/* Same order as the enums in config.h. */
static const char *const transaction_choices[] = {"auto", "per-deploy", "per-migration", NULL};
static const char *const strategy_choices[] = {"auto", "down", "backup", "none", NULL};
static const char *const foreign_choices[] = {"refuse", "restore", NULL};
static const char *const guard_choices[] = {"error", "warning", "off", NULL};
static const char *const drift_choices[] = {"block", "warn", "off", NULL};
static const char *const notify_event_choices[] = {"start", "success", "failure", "restored", NULL};
static const char *const notify_format_choices[] = {"json", "slack", NULL};
static const char *const rehearsal_choices[] = {"off", "required", NULL};

static const struct setting settings[] = {
    {"database", "url", SET_SECRET, CFG(db_url), NULL},
    {"database", "ledger-schema", SET_SCHEMA, CFG(ledger_schema), NULL},
    {"database", "lock-wait", SET_DURATION, CFG(lock_wait_ms), NULL},
    {"database", "lock-timeout", SET_DURATION, CFG(lock_timeout_ms), NULL},
    {"database", "lock-retries", SET_U32, CFG(lock_retries), NULL},
    {"database", "statement-timeout", SET_DURATION, CFG(statement_timeout_ms), NULL},
    {"migrations", "dir", SET_RELDIR, CFG(migrations_dir), NULL},
    {"migrations", "out-of-order", SET_BOOL, CFG(out_of_order), NULL},
    {"migrations", "strict-transactions", SET_BOOL, CFG(strict_transactions), NULL},
    {"git", "allow-dirty", SET_BOOL, CFG(allow_dirty), NULL},
    {"git", "protected-branch", SET_STRING, CFG(protected_branch), NULL},
    {"backup", "enabled", SET_BOOL, CFG(backup.enabled), NULL},
    {"backup", "dir", SET_STRING, CFG(backup.dir), NULL},
    {"backup", "keep", SET_U32, CFG(backup.keep), NULL},
    {"backup", "pg-dump", SET_STRING, CFG(backup.pg_dump), NULL},
    {"backup", "pg-restore", SET_STRING, CFG(backup.pg_restore), NULL},
    {"backup", "compression-level", SET_LEVEL, CFG(backup.level), NULL},
    {"restore", "on-failure", SET_BOOL, CFG(restore.on_failure), NULL},
    {"restore", "strategy", SET_CHOICE, CFG(restore.strategy), strategy_choices},
    {"restore", "on-foreign-writes", SET_CHOICE, CFG(restore.on_foreign_writes), foreign_choices},
    {"health", "url", SET_SECRET, CFG(health.url), NULL},
    {"health", "method", SET_METHOD, CFG(health.method), NULL},
    {"health", "expect-status", SET_STATUS, CFG(health.expect_status), NULL},
    {"health", "expect-body", SET_STRING, CFG(health.expect_body), NULL},
    {"health", "header", SET_HEADERS, CFG(health.headers), NULL},
    {"health", "timeout", SET_POSITIVE, CFG(health.timeout_ms), NULL},
    {"health", "deadline", SET_POSITIVE, CFG(health.deadline_ms), NULL},
    {"health", "retries", SET_U32, CFG(health.retries), NULL},
    {"health", "backoff", SET_DURATION, CFG(health.backoff_ms), NULL},
    {"health", "max-backoff", SET_DURATION, CFG(health.max_backoff_ms), NULL},
    {"health", "ca-file", SET_STRING, CFG(health.ca_file), NULL},
    {"health", "follow-redirects", SET_BOOL, CFG(health.follow_redirects), NULL},
    {"gate", "requires", SET_ENVNAME, CFG(gate.requires), NULL},
    {"gate", "health", SET_BOOL, CFG(gate.health), NULL},
    {"gate", "rehearsal", SET_CHOICE, CFG(gate.rehearsal), rehearsal_choices},
    {"gate", "rehearsal-max-age", SET_DURATION, CFG(gate.rehearsal_max_age_ms), NULL},
    {"apply", "transaction", SET_CHOICE, CFG(apply.transaction), transaction_choices},
    {"lint", "small-table", SET_U32, CFG(lint.small_table), NULL},
    {"lint", "*", SET_LINTRULE, CFG(lint.rules), NULL},
    {"guard", "data-loss", SET_CHOICE, CFG(guard.data_loss), guard_choices},
    {"guard", "row-changes", SET_CHOICE, CFG(guard.row_changes), guard_choices},
    {"guard", "not-valid", SET_CHOICE, CFG(guard.not_valid), guard_choices},
    {"guard", "invalid-index", SET_CHOICE, CFG(guard.invalid_index), guard_choices},
    {"environment", "protected", SET_BOOL, CFG(environment.protected_env), NULL},
    {"deploy", "branches", SET_STRING, CFG(deploy.branches), NULL},
    {"schema", "file", SET_RELFILE, CFG(schema.file), NULL},
    {"schema", "source", SET_ENVNAME, CFG(schema.source), NULL},
    {"schema", "scratch-url", SET_SECRET, CFG(schema.scratch_url), NULL},
    {"schema", "owner", SET_BOOL, CFG(schema.owner), NULL},
    {"schema", "privileges", SET_BOOL, CFG(schema.privileges), NULL},
    {"schema", "drift", SET_CHOICE, CFG(schema.drift), drift_choices},
    {"notify", "url", SET_WEBHOOK, CFG(notify.urls), NULL},
    {"notify", "on", SET_EVENTS, CFG(notify.on), notify_event_choices},
    {"notify", "format", SET_CHOICE, CFG(notify.format), notify_format_choices},
    {"notify", "timeout", SET_POSITIVE, CFG(notify.timeout_ms), NULL},
    {"rehearsal", "url", SET_SECRET, CFG(rehearsal.url), NULL},
    {"targets", "url", SET_URLS, CFG(targets.urls), NULL},
    {"targets", "query", SET_STRING, CFG(targets.query), NULL},
    {"targets", "file", SET_RELFILE, CFG(targets.file), NULL},
    {"rollout", "waves", SET_WAVES, CFG(rollout.waves), NULL},
    {"rollout", "parallel", SET_U32, CFG(rollout.parallel), NULL},
    {"rollout", "halt", SET_HALT, CFG(rollout.halt_failures), NULL},
};

/* Where a value came from, for messages: "pipeline/prod.conf: [health] timeout". */
struct origin {
    const char *file;
    const char *section;
    const char *key;
};

/*
 * A rejected value as an error quotes it ("'%s' is not a boolean"): at most its first 60
 * bytes, control bytes as '?'. A value with an '@' is not quoted at all: a URL pasted into the
 * wrong setting would show its password, which only the database URL's masking knows.
 */
static void add_shown_value(struct dd_buf *b, const char *fmt, const char *value)
{
    const char *rest = fmt + 4;

    if (strncmp(fmt, "'%s'", 4) != 0) {
        dd_buf_addf(b, fmt, value);
        return;
    }
    if (strchr(value, '@')) {
        dd_buf_addf(b, "the value (not shown: it has an '@', as a URL with a password does)%s", rest);
        return;
    }
    dd_buf_addch(b, '\'');
    for (size_t i = 0; value[i] && i < 60; i++)
        dd_buf_addch(b, (unsigned char)value[i] < 0x20 || value[i] == 0x7f ? '?' : value[i]);
    dd_buf_adds(b, strlen(value) > 60 ? "...'" : "'");
    dd_buf_adds(b, rest);
}

static int config_error(struct dd_error *err, const struct origin *o, const char *fmt, const char *value)
{
    struct dd_buf b = DD_BUF_INIT;

    dd_buf_addf(&b, "%s: [%s] %s: ", o->file, o->section, o->key);
    add_shown_value(&b, fmt, value);
    dd_error_set(err, DD_ECONFIG, "%s", b.buf);
    dd_buf_release(&b);
    return -1;
}

/* ASCII only, not isalnum: the locale must not decide which files name environments. */
static bool env_name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (!first && (c == '-' || c == '_'));
}

bool config_env_name_valid(const char *env)
{
    if (!env || !*env || strlen(env) > CONFIG_ENV_NAME_MAX || strcmp(env, CONFIG_RESERVED_NAME) == 0)
        return false;
    for (const char *p = env; *p; p++)
        if (!env_name_char(*p, p == env))
            return false;
    return true;
}

int config_list_envs(struct dd_strv *out, const char *root, struct dd_error *err)
{
    char *dir = dd_path_join(root, CONFIG_DIR);
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!d) {
        /* no pipeline/ at all: a project with no environments, so nothing was deployed from it */
        if (errno == ENOENT) {
            free(dir);
            return 0;
        }
        /* anything else would silently skip every environment's changelog check: fail closed */
        dd_error_errno(err, DD_ECONFIG, "cannot list the environments in '%s'", dir);
        dd_error_hint(err, "Make '%s' a readable directory of <env>.conf files.", dir);
        free(dir);
        return -1;
    }
    free(dir);
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        char *name;
        if (len <= 5 || strcmp(e->d_name + len - 5, ".conf") != 0)
            continue;
        name = dd_xstrndup(e->d_name, len - 5);
        if (config_env_name_valid(name))
            dd_strv_push(out, name);
        free(name);
    }
    closedir(d);
    dd_strv_sort(out);
    return 0;
}

/*
 * ${VAR} and ${VAR:-default} from the environment; "$${" stays a literal "${". A variable that
 * is unset (and has no default) is an error: a silently empty password or URL is worse.
 */
static int expand_vars(char **out, const char *value, const struct origin *o, struct dd_error *err)
{
    struct dd_buf b = DD_BUF_INIT;
    const char *p = value;

    *out = NULL;
    while (*p) {
        const char *end, *colon;
        char *name, *def = NULL;
        const char *v;

        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            dd_buf_adds(&b, "${");
            p += 3;
            continue;
        }
        if (p[0] != '$' || p[1] != '{') {
            dd_buf_addch(&b, *p++);
            continue;
        }
        end = strchr(p + 2, '}');
        if (!end) {
            dd_buf_release(&b);
            char at[32];
            /* the value is never quoted: it may hold a password (a url with a broken reference) */
            snprintf(at, sizeof(at), "%zu", (size_t)(p - value) + 1);
            config_error(err, o, "unterminated '${' at character %s of the value", at);
            dd_error_hint(err, "Write ${NAME} to use an environment variable, or $${ for a literal '${'.");
            return -1;
        }
        name = dd_xstrndup(p + 2, (size_t)(end - p - 2));
        colon = strstr(name, ":-");
        if (colon) {
            def = dd_xstrdup(colon + 2);
            name[colon - name] = '\0';
        }
        for (const char *c = name; *c || c == name; c++) {
            if (!*c || !(isalnum((unsigned char)*c) || *c == '_')) {
                char at[32];
                /* the reference is not quoted: a broken one may swallow part of a password */
                snprintf(at, sizeof(at), "%zu", (size_t)(p - value) + 1);
                config_error(err, o, "the '${' at character %s of the value is not a valid variable reference", at);
                dd_error_hint(err, "Variable names use letters, digits and '_', as in ${PGPASSWORD}.");
                free(name);
                free(def);
                dd_buf_release(&b);
                return -1;
            }
        }
        v = getenv(name);
        if ((!v || !*v) && def)
            v = def;
        if (!v) {
            config_error(err, o, "environment variable '%s' is not set", name);
            dd_error_hint(err, "Export %s before running dbdeploy, or give a default with ${%s:-value}.", name, name);
            free(name);
            free(def);
            dd_buf_release(&b);
            return -1;
        }
        dd_buf_adds(&b, v);
        free(name);
        free(def);
        p = end + 1;
    }
    *out = dd_buf_detach(&b, NULL);
    return 0;
}

static const struct setting *find_setting(const char *section, const char *key)
{
    for (size_t i = 0; i < DD_ARRAY_SIZE(settings); i++)
        if (strcmp(settings[i].section, section) == 0 &&
            (strcmp(settings[i].key, key) == 0 || (strcmp(settings[i].key, "*") == 0 && lint_rule_index(key) >= 0)))
            return &settings[i];
    return NULL;
}

static bool section_known(const char *section)
{
    for (size_t i = 0; i < DD_ARRAY_SIZE(settings); i++)
        if (strcmp(settings[i].section, section) == 0)
            return true;
    return false;
}

static void hint_known_keys(struct dd_error *err, const char *section)
{
    struct dd_buf b = DD_BUF_INIT;

    for (size_t i = 0; i < DD_ARRAY_SIZE(settings); i++)
        if (strcmp(settings[i].section, section) == 0)
            dd_buf_addf(&b, "%s%s", b.len ? ", " : "",
                        strcmp(settings[i].key, "*") == 0 ? "a rule id from docs/lint.md" : settings[i].key);
    dd_error_hint(err, "Settings in [%s] are: %s.", section, b.buf);
    dd_buf_release(&b);
}

static void hint_known_sections(struct dd_error *err)
{
    struct dd_buf b = DD_BUF_INIT;

    for (size_t i = 0; i < DD_ARRAY_SIZE(settings); i++) {
        if (i && strcmp(settings[i - 1].section, settings[i].section) == 0)
            continue;
        dd_buf_addf(&b, "%s[%s]", b.len ? ", " : "", settings[i].section);
    }
    dd_error_hint(err, "Sections are %s; see docs/configuration.md.", b.buf);
    dd_buf_release(&b);
}

/* Register the credentials inside a database URL or conninfo for masking. */
static void register_url_secrets(const char *url)
{
    const char *scheme = strstr(url, "://");

    if (scheme) {
        const char *u = scheme + 3, *end = u + strcspn(u, "/?#"), *at = NULL, *colon;
        for (const char *c = u; c < end; c++)
            if (*c == '@')
                at = c;
        colon = at ? memchr(u, ':', (size_t)(at - u)) : NULL;
        if (colon && colon + 1 < at) {
            char *raw = dd_xstrndup(colon + 1, (size_t)(at - colon - 1));
            struct dd_buf dec = DD_BUF_INIT;
            dd_mask_register(raw);
            /* the percent-decoded form is what libpq actually sends */
            for (const char *c = raw; *c; c++) {
                if (c[0] == '%' && isxdigit((unsigned char)c[1]) && isxdigit((unsigned char)c[2])) {
                    char hex[3] = {c[1], c[2], 0};
                    dd_buf_addch(&dec, (char)strtol(hex, NULL, 16));
                    c += 2;
                } else {
                    dd_buf_addch(&dec, *c);
                }
            }
            dd_mask_register(dec.buf);
            dd_free_secret(raw);
            dd_free_secret(dd_buf_detach(&dec, NULL));
        }
    }
    /* password, sslpassword: in conninfo (spaces around '=' allowed) or the URL's query */
    dd_mask_register_params(url);
}

/*
 * Values of ${VARS} used in a secret-bearing setting whose names look like credentials
 * (PGPASSWORD, HEALTH_TOKEN, API_KEY...) are masked wherever they show up, for example in a
 * health URL's query string.
 */
static void register_var_secrets(const char *raw)
{
    static const char *const words[] = {"pass", "secret", "token", "key", "auth", "cred"};

    for (const char *p = raw; (p = strstr(p, "${")); p += 2) {
        char *name = dd_xstrndup(p + 2, strcspn(p + 2, ":}"));
        for (size_t i = 0; i < DD_ARRAY_SIZE(words); i++)
            if (strcasestr(name, words[i]))
                dd_mask_register(getenv(name));
        free(name);
    }
}

/*
 * A webhook URL is a credential as a whole (a Slack webhook's path is its token): the URL, its
 * path and query, any user:password in it and the value of every ${VAR} it uses are masked.
 */
static int set_webhook(struct dd_strv *dst, const struct origin *o, const char *raw, const char *v,
                       struct dd_error *err)
{
    const char *host = strstr(v, "://"), *rest;

    if (strncasecmp(v, "http://", 7) != 0 && strncasecmp(v, "https://", 8) != 0) {
        /* not quoted: the value is a secret */
        config_error(err, o, "the value is not an http:// or https:// URL%s", "");
        dd_error_hint(err, "Give the webhook's full URL, for example url = ${SLACK_WEBHOOK_URL}.");
        return -1;
    }
    dd_mask_register(v);
    rest = host + 3 + strcspn(host + 3, "/?#");
    if (strlen(rest) > 1)
        dd_mask_register(rest);
    register_url_secrets(v);
    for (const char *p = raw; (p = strstr(p, "${")); p += 2) {
        char *name = dd_xstrndup(p + 2, strcspn(p + 2, ":}"));
        dd_mask_register(getenv(name));
        free(name);
    }
    dd_strv_push(dst, v);
    return 0;
}

/* "start, failure" (commas or blanks between) into bits of the choices' indexes */
static int set_events(unsigned *dst, const struct setting *s, const struct origin *o, const char *v,
                      struct dd_error *err)
{
    unsigned bits = 0;

    for (const char *p = v; *p;) {
        size_t len = strcspn(p, ", \t");
        unsigned i;
        if (!len) {
            p++;
            continue;
        }
        for (i = 0; s->choices[i]; i++)
            if (strlen(s->choices[i]) == len && strncmp(p, s->choices[i], len) == 0)
                break;
        if (!s->choices[i]) {
            char *word = dd_xstrndup(p, len);
            config_error(err, o, "'%s' is not a notification event", word);
            dd_error_hint(err, "List some of start, success, failure and restored, separated by commas.");
            free(word);
            return -1;
        }
        bits |= 1u << i;
        p += len;
    }
    *dst = bits;
    return 0;
}

static int set_string(char **dst, const char *v)
{
    free(*dst);
    *dst = dd_xstrdup(v);
    return 0;
}

static int apply_value(struct dd_config *cfg, const struct setting *s, const struct origin *o, const char *raw,
                       struct dd_error *err)
{
    void *dst = (char *)cfg + s->offset;
    char *v = NULL;
    int rc = -1;

    if (!raw) {
        /* git-config: a bare key is boolean true */
        if (s->type != SET_BOOL)
            return config_error(err, o, "needs a value%s", "");
        *(bool *)dst = true;
        return 0;
    }
    if (expand_vars(&v, raw, o, err) < 0)
        return -1;
    switch (s->type) {
    case SET_SECRET:
        register_url_secrets(v);
        register_var_secrets(raw);
        rc = set_string(dst, v);
        break;
    case SET_STRING:
        rc = set_string(dst, v);
        break;
    case SET_BOOL:
        if (dd_parse_bool(v, dst) < 0) {
            config_error(err, o, "'%s' is not a boolean", v);
            dd_error_hint(err, "Use true or false (yes/no, on/off and 1/0 work too).");
            goto cleanup;
        }
        rc = 0;
        break;
    case SET_U32:
        if (dd_parse_u32(v, dst) < 0) {
            config_error(err, o, "'%s' is not a non-negative whole number", v);
            dd_error_hint(err, "Use digits only, for example 3.");
            goto cleanup;
        }
        rc = 0;
        break;
    case SET_LEVEL:
        if (dd_parse_u32(v, dst) < 0 || *(uint32_t *)dst < 1 || *(uint32_t *)dst > 19) {
            config_error(err, o, "'%s' is not a compression level", v);
            dd_error_hint(err, "Use a zstd level from 1 (fastest, the default) to 19 (smallest).");
            goto cleanup;
        }
        rc = 0;
        break;
    case SET_DURATION:
        if (dd_parse_duration_ms(v, dst) < 0) {
            config_error(err, o, "'%s' is not a duration", v);
            dd_error_hint(err, "Use a number with a unit, for example 10s or 500ms (0 means no limit).");
            goto cleanup;
        }
        rc = 0;
        break;
    case SET_POSITIVE:
        if (dd_parse_duration_ms(v, dst) < 0 || *(uint64_t *)dst == 0) {
            config_error(err, o, "'%s' is not a duration above zero", v);
            if (strcmp(s->section, "health") == 0)
                dd_error_hint(err, "A health check must end: use a number with a unit, for example 5s or 500ms.");
            else
                dd_error_hint(err, "Use a number with a unit, for example 5s or 500ms.");
            goto cleanup;
        }
        rc = 0;
        break;
    case SET_STATUS:
        if (dd_parse_status_set(v, dst) < 0) {
            config_error(err, o, "'%s' is not a set of HTTP status codes", v);
            dd_error_hint(err, "Use codes, ranges or classes separated by commas, for example 2xx or 200,204 or "
                               "200-299,304.");
            goto cleanup;
        }
        rc = set_string(&cfg->health.expect_status_text, v);
        break;
    case SET_HEADERS: {
        const char *colon = strchr(v, ':');
        const char *val = colon ? colon + 1 : NULL;
        if (!colon || colon == v) {
            /* not quoted: a header line is where a token is written */
            config_error(err, o, "a header line has no 'Name:' before its value (the line is not shown)%s", "");
            dd_error_hint(err, "Write it as 'Name: value', for example 'Authorization: Bearer ${HEALTH_TOKEN}'.");
            goto cleanup;
        }
        while (*val == ' ')
            val++;
        dd_mask_register(val);
        /* "Bearer <token>": the token alone must not leak either */
        if (strrchr(val, ' '))
            dd_mask_register(strrchr(val, ' ') + 1);
        register_var_secrets(raw);
        dd_strv_push(dst, v);
        rc = 0;
        break;
    }
    case SET_METHOD:
        if (strcasecmp(v, "GET") != 0 && strcasecmp(v, "HEAD") != 0) {
            config_error(err, o, "'%s' is not a supported method", v);
            dd_error_hint(err, "Use GET or HEAD.");
            goto cleanup;
        }
        for (char *c = v; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        rc = set_string(dst, v);
        break;
    case SET_SCHEMA: {
        bool ok = (isalpha((unsigned char)v[0]) || v[0] == '_') && strlen(v) <= 63;
        for (const char *c = v; ok && *c; c++)
            ok = islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_';
        if (!ok) {
            config_error(err, o, "'%s' is not a usable schema name", v);
            dd_error_hint(err, "Use lowercase letters, digits and '_', starting with a letter (at most 63).");
            goto cleanup;
        }
        rc = set_string(dst, v);
        break;
    }
    case SET_RELFILE:
    case SET_RELDIR:
        if (!*v || v[0] == '/' || strstr(v, "..") || strchr(v, '\\')) {
            bool dir = s->type == SET_RELDIR;
            config_error(err, o,
                         dir ? "'%s' is not a directory inside the project" : "'%s' is not a file inside the project",
                         v);
            dd_error_hint(err, "Use a relative path without '..', for example %s.",
                          dir ? "migrations or db/migrations" : "schema.sql or db/schema.sql");
            goto cleanup;
        }
        rc = set_string(dst, v);
        {
            /* "db/migrations/" and "db/migrations" are the same directory */
            char *d = *(char **)dst;
            size_t n = strlen(d);
            while (n > 1 && d[n - 1] == '/')
                d[--n] = '\0';
        }
        break;
    case SET_CHOICE: {
        struct dd_buf all = DD_BUF_INIT;
        for (unsigned i = 0; s->choices[i]; i++) {
            if (strcmp(v, s->choices[i]) == 0) {
                *(unsigned *)dst = i;
                rc = 0;
            }
            dd_buf_addf(&all, "%s%s", i ? ", " : "", s->choices[i]);
        }
        if (rc < 0) {
            config_error(err, o, "'%s' is not a known value", v);
            dd_error_hint(err, "Use one of: %s (docs/configuration.md says what each does).", all.buf);
        }
        dd_buf_release(&all);
        break;
    }
    case SET_LINTRULE: {
        enum lint_severity sev;
        if (lint_severity_parse(v, &sev) < 0) {
            config_error(err, o, "'%s' is not a severity", v);
            dd_error_hint(err, "Use error, warning or off.");
            goto cleanup;
        }
        dd_strv_pushf(dst, "%s=%s", o->key, v);
        rc = 0;
        break;
    }
    case SET_WEBHOOK:
        rc = set_webhook(dst, o, raw, v, err);
        break;
    case SET_EVENTS:
        rc = set_events(dst, s, o, v, err);
        break;
    case SET_URLS:
        register_url_secrets(v);
        register_var_secrets(raw);
        dd_strv_push(dst, v);
        rc = 0;
        break;
    case SET_WAVES:
        if (config_parse_waves(dst, v) < 0) {
            config_error(err, o, "'%s' is not a list of waves", v);
            dd_error_hint(err, "List how many targets, or what share, have been deployed when each wave ends, "
                               "growing, for example 1, 10%%, 100%% (docs/fleets.md).");
            goto cleanup;
        }
        rc = 0;
        break;
    case SET_HALT:
        if (config_parse_halt(dst, v) < 0) {
            config_error(err, o, "'%s' is not a halt rule", v);
            dd_error_hint(err, "Use first-failure, or N-failures such as 3-failures (stop once 3 targets failed).");
            goto cleanup;
        }
        rc = 0;
        break;
    case SET_ENVNAME:
        if (!config_env_name_valid(v)) {
            config_error(err, o, "'%s' is not an environment name", v);
            dd_error_hint(err, "Name an environment defined by a file pipeline/<name>.conf, such as staging.");
            goto cleanup;
        }
        rc = set_string(dst, v);
        break;
    }
cleanup:
    dd_free_secret(v);
    return rc;
}

static void set_defaults(struct dd_config *cfg)
{
    cfg->ledger_schema = dd_xstrdup("dbdeploy");
    cfg->lock_wait_ms = 60000;
    cfg->lock_timeout_ms = 5000;
    cfg->lock_retries = 3;
    cfg->statement_timeout_ms = 0;
    cfg->migrations_dir = dd_xstrdup("migrations");
    cfg->backup.enabled = true;
    cfg->backup.pg_dump = dd_xstrdup("pg_dump");
    cfg->backup.pg_restore = dd_xstrdup("pg_restore");
    cfg->backup.level = 1;
    cfg->health.method = dd_xstrdup("GET");
    dd_parse_status_set("2xx", &cfg->health.expect_status);
    cfg->health.expect_status_text = dd_xstrdup("2xx");
    cfg->health.timeout_ms = 5000;
    cfg->health.deadline_ms = 60000;
    cfg->health.retries = 10;
    cfg->health.backoff_ms = 500;
    cfg->health.max_backoff_ms = 5000;
    cfg->lint.small_table = 10000;
    cfg->schema.file = dd_xstrdup("schema.sql");
    cfg->notify.on = CONFIG_NOTIFY_START | CONFIG_NOTIFY_SUCCESS | CONFIG_NOTIFY_FAILURE | CONFIG_NOTIFY_RESTORED;
    cfg->notify.timeout_ms = 5000;
    config_parse_waves(&cfg->rollout.waves, "1, 100%");
    cfg->rollout.parallel = 1;
    cfg->rollout.halt_failures = 1;
}

/* rel in the committed files, or NULL */
static const struct repo_file *committed_file(const struct repo_files *committed, const char *rel)
{
    for (size_t i = 0; committed && i < committed->n; i++)
        if (strcmp(committed->v[i].path, rel) == 0)
            return &committed->v[i];
    return NULL;
}

static bool file_exists(const char *root, const struct repo_files *committed, const char *rel)
{
    char *path;
    bool found;

    if (committed)
        return committed_file(committed, rel) != NULL;
    path = dd_path_join(root, rel);
    found = dd_path_exists(path);
    free(path);
    return found;
}

static int apply_file(struct dd_config *cfg, const char *rel, const struct repo_files *committed, bool *restore_set,
                      struct dd_error *err)
{
    struct repo_config_entries entries = REPO_CONFIG_ENTRIES_INIT;
    const struct repo_file *blob = committed_file(committed, rel);
    char *path = dd_path_join(cfg->root, rel);
    int rc = -1;

    if (blob ? repo_config_read_buf(&entries, blob->data, blob->len, rel, err) < 0
             : repo_config_read_file(&entries, path, rel, err) < 0)
        goto cleanup;
    for (size_t i = 0; i < entries.n; i++) {
        const struct repo_config_entry *e = &entries.v[i];
        struct origin o = {rel, e->section, e->key};
        const struct setting *s;

        if (e->subsection || !section_known(e->section)) {
            dd_error_set(err, DD_ECONFIG, "%s: [%s%s%s%s]: unknown section", rel, e->section,
                         e->subsection ? " \"" : "", e->subsection ? e->subsection : "", e->subsection ? "\"" : "");
            hint_known_sections(err);
            goto cleanup;
        }
        s = find_setting(e->section, e->key);
        if (!s) {
            dd_error_set(err, DD_ECONFIG, "%s: [%s] %s: unknown setting", rel, e->section, e->key);
            hint_known_keys(err, e->section);
            goto cleanup;
        }
        if (apply_value(cfg, s, &o, e->value, err) < 0)
            goto cleanup;
        if (s->offset == CFG(restore.on_failure))
            *restore_set = true;
        if (s->offset == CFG(db_url)) {
            cfg->db_url_from_vars = e->value && strstr(e->value, "${");
            free(cfg->db_url_origin);
            cfg->db_url_origin = dd_xasprintf("%s [database] url", rel);
        }
    }
    rc = 0;
cleanup:
    repo_config_entries_release(&entries);
    free(path);
    return rc;
}

/* The url that won (env file, shared file or DATABASE_URL), named as "file: [database] url". */
static int check_db_url_setting(const struct dd_config *cfg, struct dd_error *err)
{
    const char *o = cfg->db_url_origin ? cfg->db_url_origin : "[database] url", *suffix = " [database] url";
    size_t n = strlen(o), sl = strlen(suffix);
    char *where = n > sl && strcmp(o + n - sl, suffix) == 0 ? dd_xasprintf("%.*s: [database] url", (int)(n - sl), o)
                                                            : dd_xstrdup(o);
    int rc = config_check_db_url(where, cfg->db_url, cfg->db_url_from_vars, err);

    free(where);
    return rc;
}

static int missing_env_error(const char *root, const char *env, const char *rel, struct dd_error *err)
{
    struct dd_strv envs = DD_STRV_INIT;
    char *list;

    struct dd_error ignored = DD_ERROR_INIT;

    config_list_envs(&envs, root, &ignored); /* only for the hint */
    dd_error_release(&ignored);
    dd_error_set(err, DD_ECONFIG, "environment '%s' is not defined: '%s' does not exist", env, rel);
    list = dd_strv_join(&envs, ", ");
    if (envs.n)
        dd_error_hint(err, "Defined environments: %s. Create %s to add '%s'.", list, rel, env);
    else
        dd_error_hint(err, "Run 'dbdeploy init' to create pipeline/ with example environments.");
    free(list);
    dd_strv_release(&envs);
    return -1;
}

int config_load(struct dd_config **out, const char *root, const char *env, struct dd_error *err)
{
    return config_load_from(out, root, env, NULL, NULL, err);
}

int config_load_from(struct dd_config **out, const char *root, const char *env, const struct repo_files *committed,
                     const char *commit, struct dd_error *err)
{
    struct dd_config *cfg = dd_xcalloc(1, sizeof(*cfg));
    bool restore_set = false;
    int rc = -1;

    *out = NULL;
    cfg->root = dd_xstrdup(root);
    set_defaults(cfg);
    if (dd_streq(env, CONFIG_RESERVED_NAME)) {
        dd_error_set(err, DD_EUSAGE, "'dbdeploy' is not an environment: pipeline/dbdeploy.conf holds shared defaults");
        dd_error_hint(err, "Name an environment defined by a file pipeline/<name>.conf.");
        goto cleanup;
    }
    if (env && !config_env_name_valid(env)) {
        dd_error_set(err, DD_EUSAGE, "'%s' is not a valid environment name", env);
        dd_error_hint(err, "Environment names use letters, digits, '-' and '_' (for example prod or staging-eu).");
        goto cleanup;
    }
    cfg->commit = commit ? dd_xstrdup(commit) : NULL;
    if (file_exists(root, committed, CONFIG_SHARED_FILE)) {
        cfg->shared_file = dd_xstrdup(CONFIG_SHARED_FILE);
        if (apply_file(cfg, cfg->shared_file, committed, &restore_set, err) < 0)
            goto cleanup;
    }
    if (env) {
        cfg->env = dd_xstrdup(env);
        cfg->env_file = dd_xasprintf("%s/%s.conf", CONFIG_DIR, env);
        if (!file_exists(root, committed, cfg->env_file)) {
            missing_env_error(root, env, cfg->env_file, err);
            goto cleanup;
        }
        if (apply_file(cfg, cfg->env_file, committed, &restore_set, err) < 0)
            goto cleanup;
        if (!cfg->db_url || !*cfg->db_url) {
            /* commands that never connect (health, backups listing...) do not need a url */
            const char *du = getenv("DATABASE_URL");
            if (du && *du) {
                set_string(&cfg->db_url, du);
                register_url_secrets(du);
                cfg->db_url_from_vars = false;
                free(cfg->db_url_origin);
                cfg->db_url_origin = dd_xstrdup("DATABASE_URL");
            } else {
                dd_free_secret(cfg->db_url);
                cfg->db_url = NULL;
            }
        }
        cfg->db_url_masked = cfg->db_url ? dd_mask_str(cfg->db_url) : NULL;
        if (cfg->gate.requires && strcmp(cfg->gate.requires, env) == 0) {
            struct origin o = {cfg->env_file, "gate", "requires"};
            config_error(err, &o, "'%s' cannot gate itself", env);
            dd_error_hint(err, "Name the environment that must be deployed first, such as staging.");
            goto cleanup;
        }
    }
    /* libpq reads PGPASSWORD itself; make sure it can never be echoed */
    dd_mask_register(getenv("PGPASSWORD"));
    if (!restore_set)
        cfg->restore.on_failure = cfg->backup.enabled;
    {
        char *bdir = cfg->backup.dir ? cfg->backup.dir : dd_xstrdup(".dbdeploy/backups");
        cfg->backup.dir = dd_path_join(root, bdir);
        free(bdir);
    }
    if (cfg->db_url && check_db_url_setting(cfg, err) < 0)
        goto cleanup;
    *out = cfg;
    cfg = NULL;
    rc = 0;
cleanup:
    config_free(cfg);
    return rc;
}

void config_free(struct dd_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->env);
    free(cfg->root);
    free(cfg->env_file);
    free(cfg->shared_file);
    free(cfg->commit);
    dd_free_secret(cfg->db_url);
    free(cfg->db_url_masked);
    free(cfg->db_url_origin);
    free(cfg->ledger_schema);
    free(cfg->migrations_dir);
    free(cfg->protected_branch);
    free(cfg->backup.dir);
    free(cfg->backup.pg_dump);
    free(cfg->backup.pg_restore);
    dd_free_secret(cfg->health.url);
    free(cfg->health.method);
    free(cfg->health.expect_status_text);
    free(cfg->health.expect_body);
    for (size_t i = 0; i < cfg->health.headers.n; i++)
        for (volatile char *p = cfg->health.headers.v[i]; *p; p++)
            *p = 0;
    dd_strv_release(&cfg->health.headers);
    free(cfg->health.ca_file);
    free(cfg->gate.requires);
    free(cfg->deploy.branches);
    dd_strv_release(&cfg->lint.rules);
    free(cfg->schema.file);
    free(cfg->schema.source);
    dd_free_secret(cfg->schema.scratch_url);
    for (size_t i = 0; i < cfg->notify.urls.n; i++)
        for (volatile char *p = cfg->notify.urls.v[i]; *p; p++)
            *p = 0;
    dd_strv_release(&cfg->notify.urls);
    dd_free_secret(cfg->rehearsal.url);
    for (size_t i = 0; i < cfg->targets.urls.n; i++)
        for (volatile char *p = cfg->targets.urls.v[i]; *p; p++)
            *p = 0;
    dd_strv_release(&cfg->targets.urls);
    free(cfg->targets.query);
    free(cfg->targets.file);
    free(cfg->target);
    free(cfg);
}

void config_set_url(struct dd_config *cfg, const char *url, const char *origin)
{
    register_url_secrets(url);
    dd_free_secret(cfg->db_url);
    free(cfg->db_url_masked);
    free(cfg->db_url_origin);
    cfg->db_url = dd_xstrdup(url);
    cfg->db_url_masked = dd_mask_str(url);
    cfg->db_url_origin = dd_xstrdup(origin);
}

bool config_is_fleet(const struct dd_config *cfg)
{
    return cfg->targets.urls.n || cfg->targets.query || cfg->targets.file;
}

void config_select_target(struct dd_config *cfg, const char *name, const char *url)
{
    char *origin = dd_xasprintf("[targets] %s", name);
    char *dir = dd_path_join(cfg->backup.dir, name);

    config_set_url(cfg, url, origin);
    free(cfg->backup.dir);
    cfg->backup.dir = dir;
    free(cfg->target);
    cfg->target = dd_xstrdup(name);
    free(origin);
}

char *config_changelog_name(const struct dd_config *cfg)
{
    return cfg->target ? dd_xasprintf("%s/%s", cfg->env, cfg->target) : dd_xstrdup(cfg->env);
}
