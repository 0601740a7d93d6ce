/* migrations/sql.c: the SQL lexer/splitter on arbitrary bytes; statements must tile the text. */
#include "fuzz.h"

#include "migrations/sql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size);
    struct sql_script s = SQL_SCRIPT_INIT;
    struct sql_lex_error e;
    size_t prev_end = 0;

    if (sql_split(&s, text, size, &e) == 0) {
        for (size_t i = 0; i < s.n; i++) {
            const struct sql_stmt *st = &s.stmts[i];
            unsigned line, col;
            FUZZ_CHECK(st->start >= prev_end);
            FUZZ_CHECK(st->start < st->end);
            FUZZ_CHECK(st->end <= size);
            sql_linecol(text, size, st->start, &line, &col);
            FUZZ_CHECK(line == st->line && col == st->col);
            prev_end = st->end;
        }
    } else {
        FUZZ_CHECK(e.line >= 1 && e.message[0] != '\0');
    }
    FUZZ_CHECK(sql_char_to_byte(text, size, sql_char_count(text, size) + 1) <= size);
    sql_script_release(&s);
    free(text);
    return 0;
}
