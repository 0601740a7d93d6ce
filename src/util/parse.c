#include "util/parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <strings.h>

int dd_parse_u64(const char *s, uint64_t *out)
{
    unsigned long long v;
    char *end;

    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int dd_parse_u32(const char *s, uint32_t *out)
{
    uint64_t v;

    if (dd_parse_u64(s, &v) < 0 || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int dd_parse_i64(const char *s, int64_t *out)
{
    long long v;
    char *end;

    if (!s || !(isdigit((unsigned char)*s) || (*s == '-' && isdigit((unsigned char)s[1]))))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = (int64_t)v;
    return 0;
}

int dd_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};

    if (!s)
        return -1;
    for (size_t i = 0; i < DD_ARRAY_SIZE(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

int dd_parse_duration_ms(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    uint64_t total = 0;
    const char *p = s;

    if (!s || !*s)
        return -1;
    if (strcmp(s, "0") == 0) {
        *out = 0;
        return 0;
    }
    while (*p) {
        uint64_t n = 0;
        size_t u;
        bool matched = false;

        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p)) {
            if (n > (UINT64_MAX - 9) / 10)
                return -1;
            n = n * 10 + (uint64_t)(*p++ - '0');
        }
        /* "ms" must be tried before "m" */
        for (u = 0; u < DD_ARRAY_SIZE(units); u++) {
            size_t len = strlen(units[u].unit);
            if (strncmp(p, units[u].unit, len) == 0 && !(len == 1 && p[0] == 'm' && p[1] == 's')) {
                if (n > UINT64_MAX / units[u].ms / 2)
                    return -1;
                total += n * units[u].ms;
                p += len;
                matched = true;
                break;
            }
        }
        if (!matched)
            return -1;
    }
    *out = total;
    return 0;
}

void dd_format_duration(char *out, size_t outsz, uint64_t ms)
{
    if (ms == 0)
        snprintf(out, outsz, "0");
    else if (ms % 3600000 == 0)
        snprintf(out, outsz, "%lluh", (unsigned long long)(ms / 3600000));
    else if (ms % 60000 == 0)
        snprintf(out, outsz, "%llum", (unsigned long long)(ms / 60000));
    else if (ms % 1000 == 0)
        snprintf(out, outsz, "%llus", (unsigned long long)(ms / 1000));
    else
        snprintf(out, outsz, "%llums", (unsigned long long)ms);
}

void dd_format_bytes(char *out, size_t outsz, uint64_t bytes)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    size_t i = 0;

    if (bytes < 1024) {
        snprintf(out, outsz, "%llu B", (unsigned long long)bytes);
        return;
    }
    v /= 1024;
    while (v >= 1024 && i + 1 < DD_ARRAY_SIZE(units)) {
        v /= 1024;
        i++;
    }
    snprintf(out, outsz, "%.1f %s", v, units[i]);
}

static void status_add_range(struct dd_status_set *set, unsigned lo, unsigned hi)
{
    for (unsigned c = lo; c <= hi; c++)
        set->bits[(c - 100) / 64] |= UINT64_C(1) << ((c - 100) % 64);
}

static int parse_status_code(const char *s, size_t len, unsigned *out)
{
    unsigned v = 0;

    if (len != 3)
        return -1;
    for (size_t i = 0; i < 3; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v < 100 || v > 599)
        return -1;
    *out = v;
    return 0;
}

int dd_parse_status_set(const char *s, struct dd_status_set *out)
{
    struct dd_status_set set;
    const char *p = s;

    memset(&set, 0, sizeof(set));
    if (!s || !*s)
        return -1;
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *item = p;
        unsigned lo, hi;

        while (len && *item == ' ')
            item++, len--;
        while (len && item[len - 1] == ' ')
            len--;
        if (len == 3 && (item[1] == 'x' || item[1] == 'X') && (item[2] == 'x' || item[2] == 'X') && item[0] >= '1' &&
            item[0] <= '5') {
            lo = (unsigned)(item[0] - '0') * 100;
            status_add_range(&set, lo, lo + 99);
        } else if (len == 7 && item[3] == '-') {
            if (parse_status_code(item, 3, &lo) < 0 || parse_status_code(item + 4, 3, &hi) < 0 || hi < lo)
                return -1;
            status_add_range(&set, lo, hi);
        } else {
            if (parse_status_code(item, len, &lo) < 0)
                return -1;
            status_add_range(&set, lo, lo);
        }
        p += strcspn(p, ",");
        if (*p == ',') {
            p++;
            if (!*p)
                return -1;
        }
    }
    *out = set;
    return 0;
}

bool dd_status_set_has(const struct dd_status_set *set, long code)
{
    if (code < 100 || code > 599)
        return false;
    return (set->bits[(code - 100) / 64] >> ((code - 100) % 64)) & 1;
}
