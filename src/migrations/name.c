#include "migrations/migrations.h"

#include <ctype.h>
#include <stdio.h>
#include <time.h>

static bool ends_with(const char *s, size_t len, const char *suffix, size_t *stem)
{
    size_t sl = strlen(suffix);

    if (len < sl || strcmp(s + len - sl, suffix) != 0)
        return false;
    *stem = len - sl;
    return true;
}

static int version_digits(const char *p, size_t len, size_t *digits, char *why, size_t whylen)
{
    *digits = 0;
    while (*digits < len && isdigit((unsigned char)p[*digits]))
        (*digits)++;
    if (*digits == 0) {
        snprintf(why, whylen, "does not start with a version number");
        return -1;
    }
    if (*digits > MIGRATION_MAX_VERSION_DIGITS) {
        snprintf(why, whylen, "version has more than %d digits", MIGRATION_MAX_VERSION_DIGITS);
        return -1;
    }
    return 0;
}

static void set_name(struct migration_name *out, const char *digits, size_t nd, const char *name, size_t nl,
                     enum migration_file_kind kind)
{
    int64_t v = 0;

    for (size_t i = 0; i < nd; i++)
        v = v * 10 + (digits[i] - '0');
    out->version = v;
    out->version_text = dd_xstrndup(digits, nd);
    out->name = dd_xstrndup(name, nl);
    out->kind = kind;
}

/*
 * Flyway: V<version>__<description>.sql, with U<version>__<description>.sql as its undo (down)
 * file. Only whole-number versions: dbdeploy compares versions as integers, and Flyway's dotted
 * ones (V1.1, V1_1) would need another ordering.
 */
static int flyway_parse(struct migration_name *out, const char *base, size_t stem, char *why, size_t whylen)
{
    size_t digits;

    if (version_digits(base + 1, stem - 1, &digits, why, whylen) < 0)
        return -1;
    if (1 + digits + 2 >= stem || strncmp(base + 1 + digits, "__", 2) != 0) {
        snprintf(why, whylen, "%s",
                 base[1 + digits] == '.' || base[1 + digits] == '_'
                     ? "Flyway versions with dots or single underscores (V1.1, V1_1) are not supported; use whole "
                       "numbers"
                     : "a Flyway version must be followed by '__' and a description");
        return -1;
    }
    set_name(out, base + 1, digits, base + 1 + digits + 2, stem - digits - 3,
             base[0] == 'V' ? MIGRATION_FILE_UP : MIGRATION_FILE_DOWN);
    out->flyway = true;
    return 0;
}

int migration_name_parse(struct migration_name *out, const char *base, char *why, size_t whylen)
{
    size_t len = strlen(base), stem, digits;
    enum migration_file_kind kind;

    memset(out, 0, sizeof(*out));
    if (base[0] == '.' || !ends_with(base, len, ".sql", &stem) || migration_is_repeatable(base))
        return 1;
    if ((base[0] == 'V' || base[0] == 'U') && (isdigit((unsigned char)base[1]) || base[1] == '_'))
        return flyway_parse(out, base, stem, why, whylen);
    if (ends_with(base, len, ".up.sql", &stem))
        kind = MIGRATION_FILE_UP;
    else if (ends_with(base, len, ".down.sql", &stem))
        kind = MIGRATION_FILE_DOWN;
    else
        kind = MIGRATION_FILE_SINGLE;
    if (version_digits(base, stem, &digits, why, whylen) < 0)
        return -1;
    if (digits >= stem || base[digits] != '_') {
        snprintf(why, whylen, "the version must be followed by '_' and a name");
        return -1;
    }
    set_name(out, base, digits, base + digits + 1, stem - digits - 1, kind);
    return 0;
}

bool migration_is_repeatable(const char *name)
{
    size_t len = strlen(name), stem, dl = strlen(MIGRATION_REPEATABLE_DIR);

    if (!ends_with(name, len, ".sql", &stem))
        return false;
    if (strncmp(name, MIGRATION_REPEATABLE_DIR "/", dl + 1) == 0)
        return name[dl + 1] != '\0' && name[dl + 1] != '.';
    /* Flyway: R__<description>.sql, a description required */
    return strncmp(name, "R__", 3) == 0 && stem > 3;
}

void migration_name_release(struct migration_name *n)
{
    free(n->version_text);
    free(n->name);
    n->version_text = n->name = NULL;
}

/* 14 digits that read as YYYYMMDDhhmmss: the set uses timestamps (golang-migrate/dbmate default). */
static bool looks_like_timestamp(const char *v)
{
    return strlen(v) == 14 && (strncmp(v, "19", 2) == 0 || strncmp(v, "20", 2) == 0);
}

void migration_next_version(char *out, size_t outsz, const struct migration_set *s, time_t now, bool timestamps)
{
    const struct migration *last = s->n ? &s->v[s->n - 1] : NULL;
    int width = 4;

    if (timestamps || (last && looks_like_timestamp(last->version_text))) {
        struct tm tm;
        char stamp[32];
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
        /* two migrations in the same second (or a clock behind the newest) still ascend */
        if (last && strtoll(stamp, NULL, 10) <= last->version)
            snprintf(out, outsz, "%lld", (long long)(last->version + 1));
        else
            snprintf(out, outsz, "%s", stamp);
        return;
    }
    if (last)
        width = (int)strlen(last->version_text);
    snprintf(out, outsz, "%0*lld", width, (long long)(last ? last->version + 1 : 1));
}
