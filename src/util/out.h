#ifndef DBDEPLOY_UTIL_OUT_H
#define DBDEPLOY_UTIL_OUT_H

/*
 * The only code that touches the standard streams.
 *
 * stdout carries results (tables, plans, reports, the --json document): out_result*().
 * stderr carries stage lines, progress, warnings and errors: log_*().
 * Everything written is masked (util/mask.h) first.
 *
 * Verbosity: OUT_QUIET shows errors only, OUT_NORMAL adds one line per step, OUT_VERBOSE adds
 * details (file names, timings, child argv, statement boundaries). Colour is decided once per
 * stream at out_setup(): only on a TTY whose TERM is not "dumb", never when NO_COLOR is set and
 * non-empty, never with --color=never (--color=always skips the TTY test, not NO_COLOR).
 */
#include <stdio.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/strv.h"

enum out_verbosity { OUT_QUIET, OUT_NORMAL, OUT_VERBOSE };
enum out_color_mode { OUT_COLOR_AUTO, OUT_COLOR_NEVER, OUT_COLOR_ALWAYS };
enum out_color { OUT_RESET, OUT_BOLD, OUT_RED, OUT_GREEN, OUT_YELLOW, OUT_BLUE, OUT_DIM };
enum out_stream { OUT_STDOUT, OUT_STDERR };

void out_setup(enum out_verbosity v, bool json, enum out_color_mode color);
enum out_verbosity out_verbosity(void);
bool out_json(void);
/* Escape sequence for colour c on the stream, or "" when colour is off there. */
const char *out_color(enum out_stream s, enum out_color c);

void out_result(const char *fmt, ...) DD_PRINTF(1, 2);
/* Whether anything was written to stdout as a result yet. */
bool out_result_written(void);
void out_result_buf(const struct dd_buf *b);

/*
 * With --json, stdout is held in memory so that main can end the document once the exit status
 * is known: out_json_end() adds "exit_status" to the document a command wrote and prints it.
 * A command that wrote no document (or text) lets main build a generic one from the held text
 * (out_json_take_text) and the info/warning lines (out_json_messages).
 */
bool out_json_document_held(void);
void out_json_take_text(struct dd_buf *out);
const struct dd_strv *out_json_messages(void);
void out_json_end(int exit_status);

void log_error(const char *fmt, ...) DD_PRINTF(1, 2);
void log_warn(const char *fmt, ...) DD_PRINTF(1, 2);
void log_info(const char *fmt, ...) DD_PRINTF(1, 2);
void log_detail(const char *fmt, ...) DD_PRINTF(1, 2);
/* "apply      ok     1.2s  3 migrations" — one line per stage or step; outcome "ok", "fail", "skip"... */
void log_stage(const char *name, const char *outcome, uint64_t ms, const char *fmt, ...) DD_PRINTF(4, 5);
/* Print a rendered error (error:, details, while..., hint:) to stderr, masked and coloured. */
void out_error(const struct dd_error *err);
/*
 * Append s with control characters escaped ("\r", "\x1b"; newline and tab kept). Every output
 * function above applies it (keeping only our own colour codes), so file names and other data
 * can never move the cursor or erase a line; use it for text that bypasses them.
 */
void out_escape_controls(struct dd_buf *out, const char *s, size_t len, bool keep_colors);

/* A transient progress line on a TTY stderr (not in quiet mode); ended by out_progress_end(). */
bool out_progress_enabled(void);
void out_progress(const char *fmt, ...) DD_PRINTF(1, 2);
void out_progress_end(void);

/* Flush stdout; -1 with errno set when the data could not be written (EPIPE, ENOSPC...). */
int out_finish(void);

#endif
