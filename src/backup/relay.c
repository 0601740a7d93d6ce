/*
 * A relay: a few fixed buffers passed from the thread that fills them to one worker thread that
 * consumes them, in order. Backups read and hash pg_dump's output while the worker compresses
 * the previous part; verification decompresses while the worker hashes. Memory stays at
 * nbuf * bufsize, and the archive handle, the hash or the child are only ever used by one thread
 * at a time (the worker owns them until bk_relay_finish joins it).
 */
#include "backup/internal.h"

#include <pthread.h>

enum relay_state { RELAY_RUNNING, RELAY_DRAINING, RELAY_ABORTED };

struct bk_relay {
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned char **bufs;
    size_t *lens;
    unsigned nbuf;
    size_t bufsize;
    unsigned produce, consume; /* next buffer index for each side */
    unsigned full;             /* buffers handed over and not yet consumed */
    unsigned char *cur;        /* bk_relay_write: the buffer being filled, NULL when none */
    size_t fill;
    enum relay_state state;
    bool failed; /* the consumer's function failed: err holds why */
    struct dd_error err;
    bk_relay_fn fn;
    void *arg;
};

static void *consumer(void *p)
{
    struct bk_relay *r = p;

    for (;;) {
        unsigned idx;
        int rc;

        pthread_mutex_lock(&r->mu);
        while (!r->full && r->state == RELAY_RUNNING)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->state == RELAY_ABORTED || !r->full) {
            pthread_mutex_unlock(&r->mu);
            return NULL;
        }
        idx = r->consume;
        pthread_mutex_unlock(&r->mu);

        rc = r->fn(r->arg, r->bufs[idx], r->lens[idx], &r->err);

        pthread_mutex_lock(&r->mu);
        r->full--;
        r->consume = (r->consume + 1) % r->nbuf;
        if (rc < 0)
            r->failed = true;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        if (rc < 0)
            return NULL;
    }
}

int bk_relay_start(struct bk_relay **out, size_t bufsize, unsigned nbuf, bk_relay_fn fn, void *arg,
                   struct dd_error *err)
{
    struct bk_relay *r = dd_xcalloc(1, sizeof(*r));

    *out = NULL;
    r->err = (struct dd_error)DD_ERROR_INIT;
    r->nbuf = nbuf;
    r->bufsize = bufsize;
    r->bufs = dd_xcalloc(nbuf, sizeof(*r->bufs));
    r->lens = dd_xcalloc(nbuf, sizeof(*r->lens));
    for (unsigned i = 0; i < nbuf; i++)
        r->bufs[i] = dd_xmalloc(bufsize);
    r->fn = fn;
    r->arg = arg;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, consumer, r) != 0) {
        bk_relay_free(r);
        return dd_error_set(err, DD_EIO, "cannot start a worker thread");
    }
    r->started = true;
    *out = r;
    return 0;
}

/* Move the consumer's error to err. */
static int consumer_error(struct bk_relay *r, struct dd_error *err)
{
    dd_error_move(err, &r->err);
    return -1;
}

int bk_relay_buffer(struct bk_relay *r, unsigned char **buf, size_t *size, struct dd_error *err)
{
    bool failed;

    pthread_mutex_lock(&r->mu);
    while (r->full == r->nbuf && !r->failed)
        pthread_cond_wait(&r->cv, &r->mu);
    failed = r->failed;
    pthread_mutex_unlock(&r->mu);
    if (failed) {
        bk_relay_finish(r, err);
        return -1;
    }
    *buf = r->bufs[r->produce];
    *size = r->bufsize;
    return 0;
}

int bk_relay_put(struct bk_relay *r, size_t len, struct dd_error *err)
{
    bool failed;

    if (len > r->bufsize)
        DD_BUG("relay buffer overfilled");
    pthread_mutex_lock(&r->mu);
    failed = r->failed;
    if (!failed) {
        r->lens[r->produce] = len;
        r->produce = (r->produce + 1) % r->nbuf;
        r->full++;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    if (failed) {
        bk_relay_finish(r, err);
        return -1;
    }
    return 0;
}

int bk_relay_write(struct bk_relay *r, const void *data, size_t len, struct dd_error *err)
{
    const unsigned char *d = data;

    while (len) {
        size_t n;
        if (!r->cur) {
            size_t size;
            if (bk_relay_buffer(r, &r->cur, &size, err) < 0)
                return -1;
            r->fill = 0;
        }
        n = r->bufsize - r->fill < len ? r->bufsize - r->fill : len;
        memcpy(r->cur + r->fill, d, n);
        r->fill += n;
        d += n;
        len -= n;
        if (r->fill == r->bufsize) {
            r->cur = NULL;
            if (bk_relay_put(r, r->fill, err) < 0)
                return -1;
        }
    }
    return 0;
}

int bk_relay_finish(struct bk_relay *r, struct dd_error *err)
{
    if (r->cur && r->fill && r->started) {
        r->cur = NULL;
        if (bk_relay_put(r, r->fill, err) < 0)
            return -1;
    }
    if (!r->started)
        return r->failed ? consumer_error(r, err) : 0;
    pthread_mutex_lock(&r->mu);
    if (r->state == RELAY_RUNNING)
        r->state = RELAY_DRAINING;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    r->started = false;
    return r->failed ? consumer_error(r, err) : 0;
}

void bk_relay_free(struct bk_relay *r)
{
    if (!r)
        return;
    if (r->started) {
        /* give up on what is queued: the caller is failing anyway */
        pthread_mutex_lock(&r->mu);
        r->state = RELAY_ABORTED;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->thread, NULL);
    }
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    for (unsigned i = 0; i < r->nbuf; i++)
        free(r->bufs[i]);
    free(r->bufs);
    free(r->lens);
    dd_error_release(&r->err);
    free(r);
}
