/*
 * http_stub: a tiny single-threaded HTTP/1.1 server that integration tests use as a health
 * endpoint they can make fail. It answers one connection at a time from a script:
 *
 *   http_stub [options] ENTRY...
 *
 *   ENTRY        200, 503, ...    answer with that status
 *                hang DURATION    read the request, send nothing for DURATION (5s, 500ms), close
 *                redirect URL     answer 302 with Location: URL
 *   Connection n gets entry n; the last entry repeats forever.
 *
 *   --port N                 listen on 127.0.0.1:N (default 0: any free port)
 *   --body TEXT              the body of status answers (default "<code> <reason>\n")
 *   --require-header 'N: V'  answer 401 when header N is missing or its value is not V
 *                            (such a request does not use up a script entry)
 *   --log FILE               append "METHOD PATH name1,name2,..." per request: the path
 *                            without its query and header names only, never values, so the
 *                            log is safe to grep for secrets
 *   --pid-file FILE          write our pid there once listening
 *   --bodies DIR             write each request's body (by Content-Length) to DIR/NNN.body,
 *                            NNN counting requests from 001 (webhook payloads)
 *
 * The port is printed as the first line of stdout (flushed) once the socket listens, so a test
 * can start the stub in the background and read it. Every answer has Connection: close.
 * SIGTERM or SIGINT ends the stub with status 0. This is a test program, so it uses plain stdio
 * and exits from its own main; it needs nothing but POSIX sockets, and util/ for durations and
 * the monotonic clock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/parse.h"

#define STUB_REQUEST_MAX   (64 * 1024) /* a health-check request is a few hundred bytes */
#define STUB_READ_LIMIT_MS 5000        /* give up on a client that never finishes its request */

enum entry_kind { ENTRY_STATUS, ENTRY_HANG, ENTRY_REDIRECT };

struct entry {
    enum entry_kind kind;
    unsigned status;    /* ENTRY_STATUS */
    uint64_t hang_ms;   /* ENTRY_HANG */
    const char *target; /* ENTRY_REDIRECT, borrowed from argv */
};

struct stub {
    struct entry *script;
    size_t n_entries;
    size_t next; /* index of the entry for the next answered request */
    const char *body;
    const char *require_name; /* borrowed from argv (name part copied) */
    char *require_name_buf;
    const char *require_value;
    const char *log_path;
    const char *bodies_dir; /* --bodies */
    unsigned n_bodies;
};

struct request {
    char method[16];
    char path[1024];
    char header_names[4096]; /* "Host,User-Agent,..." */
    bool has_required;       /* the required header was present with the required value */
    size_t content_length;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void usage(const char *msg)
{
    fprintf(stderr, "http_stub: %s\n", msg);
    fprintf(stderr, "usage: http_stub [--port N] [--body TEXT] [--require-header 'Name: value'] [--log FILE]\n"
                    "                 [--pid-file FILE] ENTRY... (ENTRY: CODE | hang DURATION | redirect URL)\n");
    exit(2);
}

static const char *reason_phrase(unsigned status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 408:
        return "Request Timeout";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Status";
    }
}

/* Milliseconds left until `end` on the monotonic clock (0 when past). */
static int ms_until(uint64_t end)
{
    uint64_t now = dd_now_ms();
    uint64_t left = end > now ? end - now : 0;
    return left > 1000000 ? 1000000 : (int)left;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * Read until the blank line that ends the headers, however the bytes are split across reads.
 * Returns the header block length, or -1 when the client closed, stalled or sent too much.
 */
static ssize_t read_request(int fd, char *buf, size_t bufsz, size_t *got)
{
    size_t len = 0;
    uint64_t end = dd_now_ms() + STUB_READ_LIMIT_MS;

    while (!stopping) {
        struct pollfd p = {fd, POLLIN, 0};
        char *eoh;
        ssize_t n;
        int ready = poll(&p, 1, ms_until(end));

        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            return -1;
        n = recv(fd, buf + len, bufsz - 1 - len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        eoh = strstr(buf, "\r\n\r\n");
        *got = len;
        if (eoh)
            return eoh - buf + 4;
        if (len >= bufsz - 1)
            return -1;
    }
    return -1;
}

/* Names only: values may be secrets, and the log must be safe to grep. Names past the buffer are dropped. */
static void append_name(struct request *r, const char *name)
{
    size_t used = strlen(r->header_names), len = strlen(name);

    if (used + 1 + len >= sizeof(r->header_names))
        return;
    if (used)
        r->header_names[used++] = ',';
    memcpy(r->header_names + used, name, len + 1);
}

static void parse_request(const struct stub *s, char *buf, struct request *r)
{
    char *line = buf, *next;
    bool first = true;

    memset(r, 0, sizeof(*r));
    r->has_required = !s->require_name;
    for (; line && *line; line = next) {
        char *colon, *value, *end;

        next = strstr(line, "\r\n");
        if (!next)
            break;
        *next = '\0';
        next += 2;
        if (first) {
            /* "GET /path HTTP/1.1" */
            first = false;
            sscanf(line, "%15s %1023s", r->method, r->path);
            r->path[strcspn(r->path, "?")] = '\0'; /* a query string may carry a token */
            continue;
        }
        colon = strchr(line, ':');
        if (!colon || colon == line)
            continue;
        *colon = '\0';
        append_name(r, line);
        value = colon + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        end = value + strlen(value);
        while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (strcasecmp(line, "Content-Length") == 0)
            sscanf(value, "%zu", &r->content_length);
        if (s->require_name && strcasecmp(line, s->require_name) == 0)
            r->has_required = strcmp(value, s->require_value) == 0;
    }
}

static void log_request(const struct stub *s, const struct request *r)
{
    FILE *f;

    if (!s->log_path)
        return;
    f = fopen(s->log_path, "a");
    if (!f) {
        fprintf(stderr, "http_stub: cannot open '%s': %s\n", s->log_path, strerror(errno));
        return;
    }
    fprintf(f, "%s %s %s\n", r->method, r->path, r->header_names);
    fclose(f);
}

static void answer(int fd, const struct request *r, unsigned status, const char *location, const char *body)
{
    char head[2048];
    char dflt[64];
    bool head_only = strcmp(r->method, "HEAD") == 0;
    int n;

    if (!body) {
        snprintf(dflt, sizeof(dflt), "%u %s\n", status, reason_phrase(status));
        body = dflt;
    }
    n = snprintf(head, sizeof(head),
                 "HTTP/1.1 %u %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n"
                 "%s%s%s\r\n",
                 status, reason_phrase(status), strlen(body), location ? "Location: " : "", location ? location : "",
                 location ? "\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof(head))
        return;
    if (write_all(fd, head, (size_t)n) == 0 && !head_only)
        write_all(fd, body, strlen(body));
}

/*
 * --bodies: the body after the headers (have bytes of it already read, at start), up to
 * Content-Length, into the next DIR/NNN.body.
 */
static void save_body(struct stub *s, int fd, const char *start, size_t have, size_t want)
{
    char path[4096], chunk[4096];
    uint64_t end = dd_now_ms() + STUB_READ_LIMIT_MS;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%03u.body", s->bodies_dir, ++s->n_bodies);
    f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "http_stub: cannot write '%s': %s\n", path, strerror(errno));
        return;
    }
    if (have > want)
        have = want;
    fwrite(start, 1, have, f);
    while (have < want && !stopping) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t n;
        if (poll(&p, 1, ms_until(end)) <= 0)
            break;
        n = recv(fd, chunk, want - have < sizeof(chunk) ? want - have : sizeof(chunk), 0);
        if (n <= 0)
            break;
        fwrite(chunk, 1, (size_t)n, f);
        have += (size_t)n;
    }
    fclose(f);
}

/* Send nothing for ms, but stop early when the client gives up (its close makes us readable). */
static void hang(int fd, uint64_t ms)
{
    uint64_t end = dd_now_ms() + ms;
    char sink[512];

    while (!stopping && ms_until(end) > 0) {
        struct pollfd p = {fd, POLLIN, 0};
        int ready = poll(&p, 1, ms_until(end));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            break;
        if (recv(fd, sink, sizeof(sink), 0) <= 0)
            break;
    }
}

/* Half-close and drain briefly, so unread input cannot turn our close into a reset that loses the answer. */
static void finish(int fd)
{
    char sink[512];
    uint64_t end = dd_now_ms() + 500;

    shutdown(fd, SHUT_WR);
    while (ms_until(end) > 0) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, ms_until(end)) <= 0 || recv(fd, sink, sizeof(sink), 0) <= 0)
            break;
    }
    close(fd);
}

static void serve(struct stub *s, int fd)
{
    char buf[STUB_REQUEST_MAX];
    struct request r;
    const struct entry *e;
    size_t got = 0, have = 0;
    ssize_t head = read_request(fd, buf, sizeof(buf), &got);
    char *rest = NULL;

    if (head < 0) {
        close(fd);
        return;
    }
    if (s->bodies_dir) {
        /* parse_request cuts the buffer into strings: keep the body bytes that came with the headers */
        have = got - (size_t)head;
        rest = malloc(have + 1);
        if (rest)
            memcpy(rest, buf + head, have);
    }
    parse_request(s, buf, &r);
    if (rest) {
        save_body(s, fd, rest, have, r.content_length);
        free(rest);
    }
    log_request(s, &r);
    if (!r.has_required) {
        answer(fd, &r, 401, NULL, "unauthorized\n");
        finish(fd);
        return;
    }
    e = &s->script[s->next];
    if (s->next + 1 < s->n_entries)
        s->next++;
    switch (e->kind) {
    case ENTRY_STATUS:
        answer(fd, &r, e->status, NULL, s->body);
        break;
    case ENTRY_REDIRECT:
        answer(fd, &r, 302, e->target, "redirecting\n");
        break;
    case ENTRY_HANG:
        hang(fd, e->hang_ms);
        break;
    }
    finish(fd);
}

static void parse_args(struct stub *s, int argc, char **argv, unsigned *port, const char **pid_file)
{
    s->script = calloc((size_t)argc, sizeof(*s->script));
    if (!s->script)
        usage("out of memory");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        struct entry *e = &s->script[s->n_entries];
        uint32_t u;

        if (a[0] == '-' && !val)
            usage("option needs a value");
        if (strcmp(a, "--port") == 0) {
            if (dd_parse_u32(val, &u) < 0 || u > 65535)
                usage("--port takes a number from 0 to 65535");
            *port = u;
            i++;
        } else if (strcmp(a, "--body") == 0) {
            s->body = val;
            i++;
        } else if (strcmp(a, "--require-header") == 0) {
            const char *colon = strchr(val, ':');
            if (!colon || colon == val)
                usage("--require-header takes 'Name: value'");
            s->require_name_buf = strndup(val, (size_t)(colon - val));
            s->require_name = s->require_name_buf;
            s->require_value = colon + 1;
            while (*s->require_value == ' ')
                s->require_value++;
            i++;
        } else if (strcmp(a, "--log") == 0) {
            s->log_path = val;
            i++;
        } else if (strcmp(a, "--bodies") == 0) {
            s->bodies_dir = val;
            i++;
        } else if (strcmp(a, "--pid-file") == 0) {
            *pid_file = val;
            i++;
        } else if (a[0] == '-') {
            usage("unknown option");
        } else if (strcmp(a, "hang") == 0) {
            if (!val || dd_parse_duration_ms(val, &e->hang_ms) < 0)
                usage("hang takes a duration such as 5s or 500ms");
            e->kind = ENTRY_HANG;
            s->n_entries++;
            i++;
        } else if (strcmp(a, "redirect") == 0) {
            if (!val)
                usage("redirect takes a URL");
            e->kind = ENTRY_REDIRECT;
            e->target = val;
            s->n_entries++;
            i++;
        } else if (dd_parse_u32(a, &u) == 0 && u >= 200 && u <= 599) {
            e->kind = ENTRY_STATUS;
            e->status = u;
            s->n_entries++;
        } else {
            usage("an entry is a status from 200 to 599, 'hang DURATION' or 'redirect URL'");
        }
    }
    if (!s->n_entries)
        usage("give at least one entry");
}

int main(int argc, char **argv)
{
    struct stub s = {0};
    unsigned port = 0;
    const char *pid_file = NULL;
    struct sockaddr_in addr;
    socklen_t addrlen = sizeof(addr);
    struct sigaction sa;
    int one = 1, lfd;

    parse_args(&s, argc, argv, &port, &pid_file);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0) {
        perror("http_stub: socket");
        return 1;
    }
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((uint16_t)port);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(lfd, 16) < 0 ||
        getsockname(lfd, (struct sockaddr *)&addr, &addrlen) < 0) {
        perror("http_stub: cannot listen on 127.0.0.1");
        return 1;
    }
    if (pid_file) {
        FILE *f = fopen(pid_file, "w");
        if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
            perror("http_stub: cannot write the pid file");
            return 1;
        }
    }
    printf("%u\n", (unsigned)ntohs(addr.sin_port));
    fflush(stdout);

    while (!stopping) {
        struct pollfd p = {lfd, POLLIN, 0};
        int fd;

        /* poll with a timeout so a signal that lands outside poll() is still seen promptly */
        if (poll(&p, 1, 200) <= 0)
            continue;
        fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        serve(&s, fd);
    }
    close(lfd);
    free(s.script);
    free(s.require_name_buf);
    return 0;
}
