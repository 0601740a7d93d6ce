#include "migrations/migrations.h"

#include <stdio.h>

static bool is_tx_control(enum sql_kind k)
{
    return k == SQL_KIND_BEGIN || k == SQL_KIND_COMMIT || k == SQL_KIND_ROLLBACK || k == SQL_KIND_TX_OTHER;
}

/* Replace a statement's bytes by spaces, keeping line breaks, so every position stays put. */
static void blank(struct dd_buf *text, const struct sql_stmt *st)
{
    for (size_t i = st->start; i < st->end; i++)
        if (text->buf[i] != '\n' && text->buf[i] != '\r')
            text->buf[i] = ' ';
}

static int lex_failed(const struct migration_script *sc, const struct sql_lex_error *le, struct dd_error *err)
{
    dd_error_set(err, DD_EINPUT, "%s:%u:%u: %s", sc->path, le->line, le->col, le->message);
    if (strstr(le->message, "meta-command"))
        dd_error_hint(err, "Migrations are plain SQL sent to the server: inline what the meta-command did, or "
                           "split the work into separate migrations.");
    else
        dd_error_hint(err, "Close the quote or comment; the server would reject this file too.");
    return -1;
}

int migration_exec_prepare(struct migration_exec *out, const struct migration_script *sc, bool strict,
                           struct dd_error *err)
{
    struct sql_script all = SQL_SCRIPT_INIT;
    struct sql_lex_error le;
    const struct sql_stmt *no_tx = NULL, *tx_ctl = NULL;
    bool wrapped = false;
    int rc = -1;

    *out = (struct migration_exec)MIGRATION_EXEC_INIT;
    out->directives = sc->directives;
    if (sql_split(&all, sc->sql.buf, sc->sql.len, &le) < 0) {
        lex_failed(sc, &le, err);
        goto cleanup;
    }
    /* one outer BEGIN ... COMMIT pair, as hand-written runners expect, is unwrapped */
    if (all.n >= 2 && all.stmts[0].kind == SQL_KIND_BEGIN && all.stmts[all.n - 1].kind == SQL_KIND_COMMIT) {
        wrapped = true;
        for (size_t i = 1; i + 1 < all.n; i++)
            if (is_tx_control(all.stmts[i].kind))
                wrapped = false;
    }
    for (size_t i = 0; i < all.n; i++) {
        if (!no_tx && all.stmts[i].kind == SQL_KIND_NO_TX)
            no_tx = &all.stmts[i];
        /* name the statement that splits the file: a COMMIT/ROLLBACK rather than the opening BEGIN */
        if (!wrapped && is_tx_control(all.stmts[i].kind) &&
            (!tx_ctl || (tx_ctl->kind == SQL_KIND_BEGIN && all.stmts[i].kind != SQL_KIND_BEGIN)))
            tx_ctl = &all.stmts[i];
    }

    out->mode = MIGRATION_EXEC_TX;
    if (sc->directives.no_transaction) {
        out->mode = MIGRATION_EXEC_NO_TX;
        out->why_no_tx = "annotation";
    } else if (no_tx || tx_ctl) {
        const struct sql_stmt *st = no_tx ? no_tx : tx_ctl;
        if (strict) {
            dd_error_set(err, DD_EINPUT, "%s:%u: %s %s, and strict-transactions is on", sc->path, st->line, st->what,
                         no_tx ? "cannot run inside a transaction" : "manages its own transaction");
            dd_error_hint(err, "Add '-- dbdeploy:no-transaction' at the top of the file to run it statement by "
                               "statement, or set strict-transactions = false for this environment.");
            goto cleanup;
        }
        out->mode = MIGRATION_EXEC_NO_TX;
        out->why_no_tx = st->what;
        out->why_line = st->line;
        out->own_transactions = !no_tx;
    }

    dd_buf_add(&out->text, sc->sql.buf, sc->sql.len);
    if (out->mode == MIGRATION_EXEC_TX && wrapped) {
        blank(&out->text, &all.stmts[0]);
        blank(&out->text, &all.stmts[all.n - 1]);
        out->unwrapped = true;
    }
    for (size_t i = 0; i < all.n; i++) {
        if (out->unwrapped && (i == 0 || i + 1 == all.n))
            continue;
        DD_ALLOC_GROW(out->stmts.stmts, out->stmts.n + 1, out->stmts.alloc);
        out->stmts.stmts[out->stmts.n++] = all.stmts[i];
    }
    rc = 0;
cleanup:
    sql_script_release(&all);
    if (rc < 0)
        migration_exec_release(out);
    return rc;
}

void migration_exec_release(struct migration_exec *x)
{
    dd_buf_release(&x->text);
    sql_script_release(&x->stmts);
}

int migration_exec_check_empty(const struct migration_exec *x, const struct migration_script *sc, struct dd_error *err)
{
    if (x->stmts.n || sc->directives.allow_empty)
        return 0;
    dd_error_set(err, DD_EINPUT, "%s: the migration has no SQL statement (it is empty or only comments)", sc->path);
    dd_error_hint(err, "Write the change in it (a file 'dbdeploy new' created is refused until you do), or add a "
                       "line '-- dbdeploy:allow empty' to apply it as a no-op on purpose.");
    return -1;
}
