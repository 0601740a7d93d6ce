/*
 * A batch of scripts: parsed on several threads, checked in order on the caller's thread.
 *
 * Parsing (libpg_query, then our JSON reader) is ~85% of a lint and depends on nothing but the
 * script; the rules depend on everything linted before (new tables, NOT VALID constraints), so
 * they run in batch order on one thread and the findings are those of the sequential run.
 * libpg_query keeps its memory contexts per thread (__thread), so threads may parse at once.
 * The caller's thread parses too while the script it needs next is not ready.
 */
#include "lint/internal.h"

#include <pthread.h>
#include <unistd.h>

/*
 * Parsing costs ~250 instructions per byte of SQL. A thread costs its start and a second working
 * set of freshly faulted heap pages (~350 faults, ~25 us each on the benchmark VM); measured on
 * the corpus, sets of 23-50 kB (34-127 files) gained no time from a second thread and spent more
 * CPU, openmeter (715 kB) gained. Hence one more thread per 128 kB of SQL.
 */
#define LINT_BYTES_PER_THREAD (128 * 1024)
#define LINT_MAX_THREADS      16

struct lint_pool {
    const struct lint_batch *b;
    struct lint_parse_result *res;
    bool *done;
    size_t next; /* first script no thread has claimed */
    pthread_mutex_t mu;
    pthread_cond_t ready; /* a script is parsed (only the caller's thread waits) */
};

void lint_batch_add(struct lint_batch *b, const char *path, const char *sql, size_t len, bool single_tx)
{
    if (b->n == b->alloc) {
        b->alloc = b->alloc ? 2 * b->alloc : 64;
        b->v = dd_xrealloc(b->v, b->alloc * sizeof(*b->v));
    }
    b->v[b->n++] = (struct lint_input){path, sql, len, single_tx};
}

void lint_batch_release(struct lint_batch *b)
{
    if (!b)
        return;
    free(b->v);
    b->v = NULL;
    b->n = b->alloc = 0;
}

/* Claim the next unparsed script and parse it; false when none is left. Called with mu held. */
static bool parse_one(struct lint_pool *pool)
{
    size_t i = pool->next;

    if (i >= pool->b->n)
        return false;
    pool->next++;
    pthread_mutex_unlock(&pool->mu);
    lint_script_parse(&pool->res[i], pool->b->v[i].sql, pool->b->v[i].len);
    pthread_mutex_lock(&pool->mu);
    pool->done[i] = true;
    pthread_cond_signal(&pool->ready);
    return true;
}

static void *worker(void *arg)
{
    struct lint_pool *pool = arg;

    pthread_mutex_lock(&pool->mu);
    while (parse_one(pool))
        ;
    pthread_mutex_unlock(&pool->mu);
    return NULL; /* libpg_query frees the thread's memory context itself (a thread-specific key's destructor) */
}

static unsigned pick_threads(const struct lint_batch *b, unsigned threads)
{
    if (threads == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        size_t bytes = 0, want;
        for (size_t i = 0; i < b->n; i++)
            bytes += b->v[i].len;
        want = 1 + bytes / LINT_BYTES_PER_THREAD;
        threads = cpus > 1 ? (unsigned)cpus : 1;
        if (threads > want)
            threads = (unsigned)want;
    }
    if (threads > LINT_MAX_THREADS)
        threads = LINT_MAX_THREADS;
    if (threads > b->n)
        threads = b->n ? (unsigned)b->n : 1;
    return threads;
}

void lint_batch_run(struct lint_run *r, struct lint_batch *b, unsigned threads)
{
    struct lint_pool pool = {.b = b, .next = 0};
    pthread_t tid[LINT_MAX_THREADS];
    unsigned started = 0;

    threads = pick_threads(b, threads);
    pool.res = dd_xcalloc(b->n ? b->n : 1, sizeof(*pool.res));
    pool.done = dd_xcalloc(b->n ? b->n : 1, sizeof(*pool.done));
    pthread_mutex_init(&pool.mu, NULL);
    pthread_cond_init(&pool.ready, NULL);
    /* a thread that fails to start leaves its share to the others */
    while (started + 1 < threads && pthread_create(&tid[started], NULL, worker, &pool) == 0)
        started++;
    for (size_t i = 0; i < b->n; i++) {
        pthread_mutex_lock(&pool.mu);
        while (!pool.done[i])
            if (!parse_one(&pool))
                pthread_cond_wait(&pool.ready, &pool.mu);
        pthread_mutex_unlock(&pool.mu);
        lint_script_check(r, &b->v[i], &pool.res[i]);
    }
    for (unsigned t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    pthread_cond_destroy(&pool.ready);
    pthread_mutex_destroy(&pool.mu);
    free(pool.res);
    free(pool.done);
    b->n = 0;
}
