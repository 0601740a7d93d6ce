/*
 * Archive names, part names and the entry layout: the pure rules, kept apart so unit tests can
 * cover them without files or databases.
 */
#include "backup/internal.h"

#include <ctype.h>
#include <stdio.h>

#include "util/clock.h"

char *bk_name_format(time_t t, const char *commit, unsigned seq)
{
    char stamp[32], shortc[8];

    dd_time_compact(stamp, t);
    if (commit && *commit)
        snprintf(shortc, sizeof(shortc), "%.7s", commit);
    else
        snprintf(shortc, sizeof(shortc), "%s", BACKUP_NO_COMMIT);
    if (seq >= 2)
        return dd_xasprintf("%s-%s-%u%s", stamp, shortc, seq, BACKUP_EXT);
    return dd_xasprintf("%s-%s%s", stamp, shortc, BACKUP_EXT);
}

/* Digits at s, exactly n of them, as a number. */
static int digits(const char *s, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* "20261121T101500Z" -> time_t (UTC); -1 when malformed or not a real date. */
static int parse_stamp(const char *s, time_t *out)
{
    struct tm tm;
    int y, mo, d, h, mi, se;
    char back[32];

    if (digits(s, 4, &y) < 0 || digits(s + 4, 2, &mo) < 0 || digits(s + 6, 2, &d) < 0 || s[8] != 'T' ||
        digits(s + 9, 2, &h) < 0 || digits(s + 11, 2, &mi) < 0 || digits(s + 13, 2, &se) < 0 || s[15] != 'Z')
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    *out = timegm(&tm);
    /* timegm normalises 31 February into March; the round trip rejects such names */
    dd_time_compact(back, *out);
    return strncmp(back, s, 16) == 0 ? 0 : -1;
}

int bk_name_parse(struct bk_name *out, const char *name)
{
    size_t len = strlen(name), ext = strlen(BACKUP_EXT), clen = 0;
    const char *p = name + 17, *end;

    memset(out, 0, sizeof(*out));
    if (len < 17 + 5 + ext || strcmp(name + len - ext, BACKUP_EXT) != 0 || name[16] != '-')
        return -1;
    if (parse_stamp(name, &out->time) < 0)
        return -1;
    end = name + len - ext;
    if (strncmp(p, BACKUP_NO_COMMIT, strlen(BACKUP_NO_COMMIT)) == 0 &&
        (p + strlen(BACKUP_NO_COMMIT) == end || p[strlen(BACKUP_NO_COMMIT)] == '-')) {
        clen = strlen(BACKUP_NO_COMMIT);
    } else {
        while (p + clen < end && isxdigit((unsigned char)p[clen]) && !isupper((unsigned char)p[clen]))
            clen++;
        if (clen < 7 || clen > 40)
            return -1;
    }
    memcpy(out->commit, p, clen);
    out->commit[clen] = '\0';
    p += clen;
    if (p == end)
        return 0;
    /* "-<seq>", seq >= 2 without leading zeros */
    if (*p != '-' || p + 1 == end || p[1] == '0')
        return -1;
    for (const char *c = p + 1; c < end; c++) {
        if (!isdigit((unsigned char)*c) || out->seq > 100000)
            return -1;
        out->seq = out->seq * 10 + (unsigned)(*c - '0');
    }
    return out->seq >= 2 ? 0 : -1;
}

int bk_entry_cmp(const struct backup_entry *a, const struct backup_entry *b)
{
    if (a->time != b->time)
        return a->time < b->time ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return strcmp(a->name, b->name);
}

void bk_prune_select(const struct backup_list *l, uint32_t keep, const char *protect, size_t *out_idx, size_t *out_n)
{
    size_t excess;

    *out_n = 0;
    if (!keep || l->n <= keep)
        return;
    excess = l->n - keep;
    /* oldest first; the protected archive counts towards keep but is never chosen */
    for (size_t i = 0; i < l->n && *out_n < excess; i++) {
        if (protect && strcmp(l->v[i].path, protect) == 0)
            continue;
        out_idx[(*out_n)++] = i;
    }
}

void bk_part_name(char *out, size_t outsz, uint32_t index)
{
    snprintf(out, outsz, "%s/part-%06u", BACKUP_DUMP_DIR, (unsigned)index);
}

uint32_t bk_part_index(const char *name)
{
    static const char prefix[] = BACKUP_DUMP_DIR "/part-";
    const char *d = name + sizeof(prefix) - 1;
    uint64_t v = 0;
    size_t n = 0;

    if (strncmp(name, prefix, sizeof(prefix) - 1) != 0)
        return 0;
    for (; d[n]; n++) {
        if (!isdigit((unsigned char)d[n]) || n >= 10)
            return 0;
        v = v * 10 + (uint64_t)(d[n] - '0');
    }
    if (n < 6 || v == 0 || v > UINT32_MAX)
        return 0;
    /* exactly what bk_part_name writes: six digits, more only when needed */
    if (n > 6 && d[0] == '0')
        return 0;
    return (uint32_t)v;
}

static int layout_error(struct dd_error *err, const char *fmt, const char *name)
{
    return dd_error_set(err, DD_EINPUT, fmt, name);
}

void bk_layout_set_part_size(struct bk_layout *l, uint32_t part_size)
{
    l->part_size = part_size;
}

int bk_layout_entry(struct bk_layout *l, const char *name, int64_t size, struct dd_error *err)
{
    uint32_t idx;

    if (size < 0)
        return layout_error(err, "entry '%s' has no size", name);
    switch (l->state) {
    case BK_LAYOUT_START:
        if (strcmp(name, BACKUP_HEADER_ENTRY) != 0)
            return layout_error(err, "the first entry is '%s', not " BACKUP_HEADER_ENTRY, name);
        if ((uint64_t)size > BK_JSON_MAX)
            return layout_error(err, "'%s' is too large", name);
        l->state = BK_LAYOUT_PARTS;
        return BK_ENTRY_HEADER;
    case BK_LAYOUT_PARTS:
        if (strcmp(name, BACKUP_MANIFEST_ENTRY) == 0) {
            if ((uint64_t)size > BK_JSON_MAX)
                return layout_error(err, "'%s' is too large", name);
            l->state = BK_LAYOUT_END;
            return BK_ENTRY_MANIFEST;
        }
        idx = bk_part_index(name);
        if (!idx)
            return layout_error(err, "unexpected entry '%s'", name);
        if (idx != l->parts + 1) {
            dd_error_set(err, DD_EINPUT, "entry '%s' is out of order: expected part %u", name, l->parts + 1);
            return -1;
        }
        if (!l->part_size)
            DD_BUG("part size unknown");
        if (l->short_seen)
            return layout_error(err, "entry '%s' follows a short part: a part is missing its data", name);
        if (size == 0 || (uint64_t)size > l->part_size) {
            dd_error_set(err, DD_EINPUT, "entry '%s' has %lld bytes, expected 1 to %u", name, (long long)size,
                         l->part_size);
            return -1;
        }
        if ((uint64_t)size < l->part_size)
            l->short_seen = true;
        l->parts++;
        l->size += (uint64_t)size;
        return BK_ENTRY_PART;
    case BK_LAYOUT_END:
        return layout_error(err, "unexpected entry '%s' after " BACKUP_MANIFEST_ENTRY, name);
    }
    return -1;
}

int bk_layout_finish(const struct bk_layout *l, struct dd_error *err)
{
    if (l->state == BK_LAYOUT_START)
        return dd_error_set(err, DD_EINPUT, "the archive is empty");
    if (l->state != BK_LAYOUT_END)
        return dd_error_set(err, DD_EINPUT,
                            "the archive ends after %u parts without " BACKUP_MANIFEST_ENTRY ": it is truncated",
                            l->parts);
    return 0;
}
