/*
 * [rollout] values. Parsed here, where the settings table can name the file and key of a bad
 * value; src/fleet/ turns the waves into counts once it knows how many targets there are.
 */
#include "config/config.h"

#include <string.h>

#include "util/common.h"

/* One entry: digits, an optional '%', surrounded by blanks. */
static int parse_entry(const char *s, size_t len, uint32_t *value, bool *percent)
{
    char word[16];
    size_t b = 0, e = len;

    while (b < e && (s[b] == ' ' || s[b] == '\t'))
        b++;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
        e--;
    *percent = e > b && s[e - 1] == '%';
    if (*percent)
        e--;
    if (e == b || e - b >= sizeof(word))
        return -1;
    memcpy(word, s + b, e - b);
    word[e - b] = '\0';
    if (dd_parse_u32(word, value) < 0 || *value == 0 || (*percent && *value > 100))
        return -1;
    return 0;
}

int config_parse_waves(struct config_waves *out, const char *text)
{
    struct config_waves w = {0};
    uint32_t last_count = 0, last_pct = 0;
    const char *p = text;

    for (;;) {
        size_t len = strcspn(p, ",");
        uint32_t value;
        bool percent;

        if (w.n == CONFIG_WAVES_MAX || parse_entry(p, len, &value, &percent) < 0)
            return -1;
        /* a wave that cannot grow the deployed set is a typo, not a pause */
        if (percent ? value <= last_pct : value <= last_count)
            return -1;
        if (percent)
            last_pct = value;
        else
            last_count = value;
        w.v[w.n].value = value;
        w.v[w.n].percent = percent;
        w.n++;
        if (!p[len])
            break;
        p += len + 1;
    }
    *out = w;
    return 0;
}

int config_parse_halt(uint32_t *out, const char *text)
{
    static const char suffix[] = "-failures";
    size_t n = strlen(text), sl = sizeof(suffix) - 1;
    char word[16];

    if (strcmp(text, "first-failure") == 0) {
        *out = 1;
        return 0;
    }
    if (n <= sl || n - sl >= sizeof(word) || strcmp(text + n - sl, suffix) != 0)
        return -1;
    memcpy(word, text, n - sl);
    word[n - sl] = '\0';
    if (dd_parse_u32(word, out) < 0 || *out == 0)
        return -1;
    return 0;
}
