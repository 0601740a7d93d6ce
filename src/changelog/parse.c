#include "changelog/changelog.h"

#include <stdio.h>

/* The value of "key=" inside [s, end); up to the next space, or to end for the last key. */
static char *field(const char *s, const char *end, const char *key, bool last)
{
    size_t kl = strlen(key);

    for (const char *p = s; p + kl <= end; p++) {
        if ((p == s || p[-1] == ' ') && strncmp(p, key, kl) == 0) {
            const char *v = p + kl, *stop = v;
            if (last)
                stop = end;
            else
                while (stop < end && *stop != ' ')
                    stop++;
            return dd_xstrndup(v, (size_t)(stop - v));
        }
    }
    return NULL;
}

void changelog_parse(struct changelog_records *out, const char *text, size_t len)
{
    static const char open[] = "<!-- dbdeploy:applied ";
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *line_end = nl ? nl : end, *close;
        /* memmem within the line: strstr ran past the line end, to the end of the text (quadratic) */
        if ((size_t)(line_end - p) > sizeof(open) && strncmp(p, open, sizeof(open) - 1) == 0 &&
            (close = memmem(p, (size_t)(line_end - p), " -->", 4))) {
            const char *s = p + sizeof(open) - 1;
            char *env = field(s, close, "env=", false), *ver = field(s, close, "version=", false);
            char *sum = field(s, close, "checksum=", false), *file = field(s, close, "file=", true);
            if (env && ver && sum && file) {
                struct changelog_record *r;
                DD_ALLOC_GROW(out->v, out->n + 1, out->alloc);
                r = &out->v[out->n++];
                r->env = env;
                r->version = strtoll(ver, NULL, 10);
                r->checksum = sum;
                r->file = file;
                env = sum = file = NULL;
            }
            free(env);
            free(ver);
            free(sum);
            free(file);
        }
        p = nl ? nl + 1 : end;
    }
}

void changelog_records_release(struct changelog_records *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].env);
        free(r->v[i].checksum);
        free(r->v[i].file);
    }
    free(r->v);
    memset(r, 0, sizeof(*r));
}
