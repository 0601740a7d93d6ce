#include "migrations/migrations.h"

#include <stdio.h>

const char *migration_format_name(enum migration_format f)
{
    switch (f) {
    case MIGRATION_GOLANG:
        return "golang-migrate";
    case MIGRATION_DBMATE:
        return "dbmate";
    case MIGRATION_FLYWAY:
        return "flyway";
    case MIGRATION_PLAIN:
        break;
    }
    return "plain";
}

/* A dbmate file announces itself with a "-- migrate:up" line. */
static bool has_dbmate_marker(const struct dd_buf *data)
{
    for (const char *p = data->buf; (p = strstr(p, "migrate:up")); p++) {
        const char *q = p;
        while (q > data->buf && (q[-1] == ' ' || q[-1] == '\t'))
            q--;
        if (q - data->buf >= 2 && q[-1] == '-' && q[-2] == '-' && (q - data->buf == 2 || q[-3] == '\n'))
            return true;
    }
    return false;
}

size_t migration_detect_format(enum migration_format *out, const struct migration_source *src)
{
    size_t n = 0, flyway = 0, golang = 0, dbmate = 0;

    for (size_t i = 0; i < src->n; i++) {
        struct migration_name name;
        char why[128];
        if (migration_name_parse(&name, src->v[i].name, why, sizeof(why)) != 0)
            continue;
        n++;
        if (name.flyway)
            flyway++;
        else if (name.kind != MIGRATION_FILE_SINGLE)
            golang++;
        else if (has_dbmate_marker(&src->v[i].data))
            dbmate++;
        migration_name_release(&name);
    }
    /* the most common marked format wins; files of no tool in particular are plain */
    *out = MIGRATION_PLAIN;
    if (flyway && flyway >= golang && flyway >= dbmate)
        *out = MIGRATION_FLYWAY;
    else if (golang && golang >= dbmate)
        *out = MIGRATION_GOLANG;
    else if (dbmate)
        *out = MIGRATION_DBMATE;
    return n;
}
