#include "util/out.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <unistd.h>

#include "util/mask.h"

static struct {
    enum out_verbosity verbosity;
    bool json;
    bool color[2];
    bool tty_err;
    bool progress_shown;
    bool result_written;
    struct dd_buf held;      /* --json: stdout, held until out_json_end() adds the exit status */
    struct dd_strv messages; /* --json: the log_info/log_warn lines, for a generic document */
} st = {OUT_NORMAL, false, {false, false}, false, false, false, DD_BUF_INIT, DD_STRV_INIT};

static const char *const color_codes[] = {"\033[0m",  "\033[1m",  "\033[31m", "\033[32m",
                                          "\033[33m", "\033[34m", "\033[2m"};

static bool want_color(int fd, enum out_color_mode mode)
{
    const char *no_color = getenv("NO_COLOR");
    const char *term = getenv("TERM");

    if (mode == OUT_COLOR_NEVER || (no_color && *no_color))
        return false;
    if (mode == OUT_COLOR_ALWAYS)
        return true;
    return isatty(fd) && term && *term && strcmp(term, "dumb") != 0;
}

void out_setup(enum out_verbosity v, bool json, enum out_color_mode color)
{
    const char *term = getenv("TERM");

    st.verbosity = v;
    st.json = json;
    st.color[OUT_STDOUT] = want_color(STDOUT_FILENO, color);
    st.color[OUT_STDERR] = want_color(STDERR_FILENO, color);
    st.tty_err = isatty(STDERR_FILENO) && term && strcmp(term, "dumb") != 0;
}

enum out_verbosity out_verbosity(void)
{
    return st.verbosity;
}

bool out_json(void)
{
    return st.json;
}

const char *out_color(enum out_stream s, enum out_color c)
{
    if (!st.color[s])
        return "";
    return color_codes[c];
}

/* The length of one of our own colour codes at s, 0 when s holds something else. */
static size_t color_code_at(const char *s, size_t len)
{
    for (size_t i = 0; i < DD_ARRAY_SIZE(color_codes); i++) {
        size_t cl = strlen(color_codes[i]);
        if (cl <= len && memcmp(s, color_codes[i], cl) == 0)
            return cl;
    }
    return 0;
}

void out_escape_controls(struct dd_buf *out, const char *s, size_t len, bool keep_colors)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t cl = keep_colors && c == '\033' ? color_code_at(s + i, len - i) : 0;
        size_t run = 0;

        /* printable runs in one copy: everything printed passes here, 10,000 status lines too */
        while (i + run < len && ((unsigned char)s[i + run] >= 0x20 || s[i + run] == '\n' || s[i + run] == '\t') &&
               s[i + run] != 0x7f)
            run++;
        if (run) {
            dd_buf_add(out, s + i, run);
            i += run - 1;
        } else if (cl) {
            dd_buf_add(out, s + i, cl);
            i += cl - 1;
        } else if (c == '\r') {
            dd_buf_adds(out, "\\r");
        } else {
            dd_buf_addf(out, "\\x%02x", c);
        }
    }
}

/*
 * Everything printed passes here: secrets masked, and control characters that came from data
 * (a migration file named "x\rwiped.sql") escaped, so no name can rewrite the terminal. Only
 * our own colour codes pass; the progress line's "\r\033[K" is written around this.
 */
static void write_out(FILE *f, const char *s, size_t len, bool mask)
{
    struct dd_buf b = DD_BUF_INIT, e = DD_BUF_INIT;

    if (mask)
        dd_mask_add(&b, s, len);
    else
        dd_buf_add(&b, s, len);
    out_escape_controls(&e, b.buf, b.len, true);
    fwrite(e.buf, 1, e.len, f);
    dd_buf_release(&b);
    dd_buf_release(&e);
}

static void progress_clear(void)
{
    if (st.progress_shown) {
        fputs("\r\033[K", stderr);
        st.progress_shown = false;
    }
}

void out_result(const char *fmt, ...)
{
    struct dd_buf b = DD_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    dd_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    out_result_buf(&b);
    dd_buf_release(&b);
}

void out_result_buf(const struct dd_buf *b)
{
    if (b->len)
        st.result_written = true;
    /* --json documents are masked value by value (util/json): masking them again as text could
     * hit JSON syntax ("ledger_exists":true with a secret "true"), so only text is masked here */
    if (st.json)
        dd_buf_add(&st.held, b->buf, b->len);
    else
        write_out(stdout, b->buf, b->len, true);
}

/* The held output without surrounding whitespace: [*start, *end). */
static void held_trim(size_t *start, size_t *end)
{
    *start = 0;
    *end = st.held.len;
    while (*start < *end && isspace((unsigned char)st.held.buf[*start]))
        ++*start;
    while (*end > *start && isspace((unsigned char)st.held.buf[*end - 1]))
        --*end;
}

bool out_json_document_held(void)
{
    size_t start, end;

    held_trim(&start, &end);
    return end - start >= 2 && st.held.buf[start] == '{' && st.held.buf[end - 1] == '}';
}

void out_json_take_text(struct dd_buf *out)
{
    dd_buf_add(out, st.held.buf, st.held.len);
    dd_buf_reset(&st.held);
}

const struct dd_strv *out_json_messages(void)
{
    return &st.messages;
}

void out_json_end(int exit_status)
{
    struct dd_buf b = DD_BUF_INIT;
    size_t start, end;

    if (!st.json)
        return;
    if (out_json_document_held()) {
        held_trim(&start, &end);
        dd_buf_add(&b, st.held.buf + start, end - 1 - start);
        dd_buf_addf(&b, ",\"exit_status\":%d}\n", exit_status);
    } else {
        dd_buf_add(&b, st.held.buf, st.held.len);
    }
    write_out(stdout, b.buf, b.len, false);
    dd_buf_release(&b);
    dd_buf_release(&st.held);
    dd_strv_release(&st.messages);
}

bool out_result_written(void)
{
    return st.result_written;
}

static void vlog(const char *prefix, enum out_color c, const char *fmt, va_list ap)
{
    struct dd_buf b = DD_BUF_INIT;

    progress_clear();
    fflush(stdout); /* keep results and messages in order when both go to one terminal */
    if (prefix)
        dd_buf_addf(&b, "%s%s%s", out_color(OUT_STDERR, c), prefix, out_color(OUT_STDERR, OUT_RESET));
    dd_buf_vaddf(&b, fmt, ap);
    dd_buf_addch(&b, '\n');
    write_out(stderr, b.buf, b.len, true);
    dd_buf_release(&b);
}

void log_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog("error: ", OUT_RED, fmt, ap);
    va_end(ap);
}

static void keep_message(const char *fmt, va_list ap)
{
    struct dd_buf b = DD_BUF_INIT;

    dd_buf_vaddf(&b, fmt, ap);
    dd_strv_push_owned(&st.messages, dd_buf_detach(&b, NULL));
}

void log_warn(const char *fmt, ...)
{
    va_list ap;

    if (st.json) {
        va_start(ap, fmt);
        keep_message(fmt, ap);
        va_end(ap);
    }
    if (st.verbosity == OUT_QUIET)
        return;
    va_start(ap, fmt);
    vlog("warning: ", OUT_YELLOW, fmt, ap);
    va_end(ap);
}

void log_info(const char *fmt, ...)
{
    va_list ap;

    if (st.json) {
        va_start(ap, fmt);
        keep_message(fmt, ap);
        va_end(ap);
    }
    if (st.verbosity == OUT_QUIET)
        return;
    va_start(ap, fmt);
    vlog(NULL, OUT_RESET, fmt, ap);
    va_end(ap);
}

void log_detail(const char *fmt, ...)
{
    va_list ap;

    if (st.verbosity < OUT_VERBOSE)
        return;
    va_start(ap, fmt);
    vlog(NULL, OUT_RESET, fmt, ap);
    va_end(ap);
}

void log_stage(const char *name, const char *outcome, uint64_t ms, const char *fmt, ...)
{
    struct dd_buf b = DD_BUF_INIT;
    enum out_color c = OUT_GREEN;
    va_list ap;

    if (st.verbosity == OUT_QUIET)
        return;
    if (strcmp(outcome, "ok") != 0)
        c = (strcmp(outcome, "skip") == 0 || strcmp(outcome, "dry") == 0) ? OUT_DIM : OUT_RED;
    progress_clear();
    fflush(stdout);
    dd_buf_addf(&b, "%-14s %s%-6s%s %6.1fs", name, out_color(OUT_STDERR, c), outcome, out_color(OUT_STDERR, OUT_RESET),
                (double)ms / 1000.0);
    if (fmt && *fmt) {
        size_t mark = b.len;
        dd_buf_adds(&b, "  ");
        va_start(ap, fmt);
        dd_buf_vaddf(&b, fmt, ap);
        va_end(ap);
        if (b.len == mark + 2) /* the note was empty: no trailing blanks */
            dd_buf_setlen(&b, mark);
    }
    dd_buf_addch(&b, '\n');
    write_out(stderr, b.buf, b.len, true);
    dd_buf_release(&b);
}

void out_error(const struct dd_error *err)
{
    struct dd_buf raw = DD_BUF_INIT;
    const char *red = out_color(OUT_STDERR, OUT_RED), *bold = out_color(OUT_STDERR, OUT_BOLD),
               *reset = out_color(OUT_STDERR, OUT_RESET);

    progress_clear();
    fflush(stdout);
    dd_buf_addf(&raw, "%serror:%s %s\n", red, reset, dd_error_msg(err));
    for (size_t i = 0; i < err->details.n; i++)
        dd_buf_addf(&raw, "  %s\n", err->details.v[i]);
    for (size_t i = 1; i < err->chain.n; i++)
        dd_buf_addf(&raw, "  while %s\n", err->chain.v[i]);
    if (err->hint)
        dd_buf_addf(&raw, "%shint:%s %s\n", bold, reset, err->hint);
    write_out(stderr, raw.buf, raw.len, true);
    dd_buf_release(&raw);
}

bool out_progress_enabled(void)
{
    return st.tty_err && st.verbosity != OUT_QUIET;
}

void out_progress(const char *fmt, ...)
{
    struct dd_buf b = DD_BUF_INIT;
    va_list ap;

    if (!out_progress_enabled())
        return;
    va_start(ap, fmt);
    dd_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    fputs("\r\033[K", stderr);
    write_out(stderr, b.buf, b.len, true);
    fflush(stderr);
    st.progress_shown = true;
    dd_buf_release(&b);
}

void out_progress_end(void)
{
    progress_clear();
}

int out_finish(void)
{
    progress_clear();
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (!errno)
            errno = EIO;
        return -1;
    }
    return 0;
}
