/*
 * loop.c - one libevent base, the thread that owns it, and a work queue.
 *
 * Other threads reach the loop only through pc__loop_post: a node goes on
 * a mutex-protected FIFO and the "doorbell" event is activated (libevent
 * coalesces several activations into one callback, so the callback empties
 * the whole queue). The base is created after evthread_use_pthreads, which
 * is what makes event_active and event_base_loopbreak wake a loop blocked
 * in epoll from another thread. Stopping goes through the doorbell too:
 * event_base_loopbreak called before the loop thread has entered
 * event_base_loop would be forgotten (the loop clears the flag on entry),
 * whereas a flag checked by the doorbell callback never is. This module
 * does not know what the posted work does and promises nothing about
 * latency beyond "after the callback now running".
 */
#include "loop.h"

#include <pthread.h>
#include <stdlib.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "phasecast/alloc.h"

/* One posted piece of work. */
typedef struct job {
    struct job *next;
    pc_server_fn fn;
    void *arg;
    bool waited; /* on the poster's stack (pc__loop_call): signal, never free */
    bool done;
} job;

struct pc__loop {
    pc_server *srv;
    struct event_base *base;
    struct event *doorbell;
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;  /* signalled when a waited job is done */
    job *head, *tail;
    pthread_t owner; /* meaningful when has_owner */
    bool has_owner;
    bool running;  /* a loop thread exists */
    bool stopping; /* pc__loop_stop asked the loop thread to leave */
    pthread_t thread;
};

static pthread_once_t evthread_once = PTHREAD_ONCE_INIT;
static int evthread_rc;

static void use_pthreads(void)
{
    evthread_rc = evthread_use_pthreads();
}

/* Run every queued job, in order, on the calling thread. */
static void run_queue(pc__loop *loop)
{
    pthread_mutex_lock(&loop->mu);
    job *j = loop->head;
    loop->head = loop->tail = NULL;
    pthread_mutex_unlock(&loop->mu);
    while (j != NULL) {
        job *next = j->next;
        j->fn(loop->srv, j->arg);
        if (j->waited) {
            pthread_mutex_lock(&loop->mu);
            j->done = true;
            pthread_cond_broadcast(&loop->cv);
            pthread_mutex_unlock(&loop->mu);
        } else {
            pc_free(j);
        }
        j = next;
    }
}

static void ring(evutil_socket_t fd, short what, void *arg)
{
    pc__loop *loop = arg;
    (void)fd;
    (void)what;
    run_queue(loop);
    pthread_mutex_lock(&loop->mu);
    bool stop = loop->stopping;
    pthread_mutex_unlock(&loop->mu);
    if (stop) {
        event_base_loopbreak(loop->base);
    }
}

pc_err pc__loop_new(pc_server *srv, pc__loop **out)
{
    pthread_once(&evthread_once, use_pthreads);
    if (evthread_rc != 0) {
        return PC_ERR_NOMEM;
    }
    pc__loop *loop = pc_malloc(sizeof *loop);
    if (loop == NULL) {
        return PC_ERR_NOMEM;
    }
    *loop = (pc__loop){.srv = srv};
    if (pthread_mutex_init(&loop->mu, NULL) != 0) {
        pc_free(loop);
        return PC_ERR_NOMEM;
    }
    if (pthread_cond_init(&loop->cv, NULL) != 0) {
        pthread_mutex_destroy(&loop->mu);
        pc_free(loop);
        return PC_ERR_NOMEM;
    }
    loop->base = event_base_new();
    loop->doorbell =
        loop->base ? event_new(loop->base, -1, 0, ring, loop) : NULL;
    if (loop->doorbell == NULL) {
        if (loop->base != NULL) {
            event_base_free(loop->base);
        }
        pthread_cond_destroy(&loop->cv);
        pthread_mutex_destroy(&loop->mu);
        pc_free(loop);
        return PC_ERR_NOMEM;
    }
    loop->owner = pthread_self();
    loop->has_owner = true;
    *out = loop;
    return PC_OK;
}

void pc__loop_free(pc__loop *loop)
{
    if (loop == NULL) {
        return;
    }
    (void)pc__loop_stop(loop);
    run_queue(loop);
    event_free(loop->doorbell);
    event_base_free(loop->base);
    pthread_cond_destroy(&loop->cv);
    pthread_mutex_destroy(&loop->mu);
    pc_free(loop);
}

struct event_base *pc__loop_base(pc__loop *loop)
{
    return loop->base;
}

bool pc__loop_is_owner(pc__loop *loop)
{
    pthread_mutex_lock(&loop->mu);
    bool mine = loop->has_owner && pthread_equal(loop->owner, pthread_self());
    pthread_mutex_unlock(&loop->mu);
    return mine;
}

bool pc__loop_running(pc__loop *loop)
{
    pthread_mutex_lock(&loop->mu);
    bool running = loop->running;
    pthread_mutex_unlock(&loop->mu);
    return running;
}

static void *loop_main(void *arg)
{
    pc__loop *loop = arg;
    pthread_mutex_lock(&loop->mu);
    loop->owner = pthread_self();
    loop->has_owner = true;
    pthread_mutex_unlock(&loop->mu);
    for (;;) {
        pthread_mutex_lock(&loop->mu);
        bool stop = loop->stopping;
        pthread_mutex_unlock(&loop->mu);
        if (stop) {
            break;
        }
        event_base_loop(loop->base, EVLOOP_NO_EXIT_ON_EMPTY);
    }
    pthread_mutex_lock(&loop->mu);
    loop->has_owner = false;
    pthread_mutex_unlock(&loop->mu);
    return NULL;
}

pc_err pc__loop_start(pc__loop *loop)
{
    if (pc__loop_running(loop)) {
        return PC_ERR_STATE;
    }
    if (!pc__loop_is_owner(loop)) {
        return PC_ERR_PERMISSION;
    }
    pthread_mutex_lock(&loop->mu);
    loop->has_owner = false;
    loop->running = true;
    loop->stopping = false;
    int rc = pthread_create(&loop->thread, NULL, loop_main, loop);
    if (rc != 0) {
        loop->running = false;
        loop->owner = pthread_self();
        loop->has_owner = true;
    }
    pthread_mutex_unlock(&loop->mu);
    return rc == 0 ? PC_OK : PC_ERR_IO;
}

pc_err pc__loop_stop(pc__loop *loop)
{
    pthread_mutex_lock(&loop->mu);
    if (!loop->running) {
        pthread_mutex_unlock(&loop->mu);
        return PC_ERR_STATE;
    }
    if (pthread_equal(loop->thread, pthread_self())) {
        pthread_mutex_unlock(&loop->mu);
        return PC_ERR_PERMISSION;
    }
    loop->stopping = true;
    pthread_mutex_unlock(&loop->mu);
    event_active(loop->doorbell, 0, 0);
    pthread_join(loop->thread, NULL);
    pthread_mutex_lock(&loop->mu);
    loop->running = false;
    loop->stopping = false;
    loop->owner = pthread_self();
    loop->has_owner = true;
    pthread_mutex_unlock(&loop->mu);
    /* Work posted while the loop was leaving runs here, exactly once. */
    run_queue(loop);
    return PC_OK;
}

/* A timer that only ends an EVLOOP_ONCE wait. */
static void wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

pc_err pc__loop_run_once(pc__loop *loop, int timeout_ms)
{
    if (pc__loop_running(loop)) {
        return PC_ERR_STATE;
    }
    if (!pc__loop_is_owner(loop)) {
        return PC_ERR_PERMISSION;
    }
    if (timeout_ms == 0) {
        event_base_loop(loop->base, EVLOOP_NONBLOCK);
        return PC_OK;
    }
    struct event *timer = NULL;
    if (timeout_ms > 0) {
        timer = evtimer_new(loop->base, wake, NULL);
        if (timer == NULL) {
            return PC_ERR_NOMEM;
        }
        struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        evtimer_add(timer, &tv);
    }
    event_base_loop(loop->base, EVLOOP_ONCE);
    if (timer != NULL) {
        event_free(timer);
    }
    return PC_OK;
}

pc_err pc__loop_post(pc__loop *loop, pc_server_fn fn, void *arg)
{
    if (fn == NULL) {
        return PC_ERR_INVALID;
    }
    job *j = pc_malloc(sizeof *j);
    if (j == NULL) {
        return PC_ERR_NOMEM;
    }
    *j = (job){.fn = fn, .arg = arg};
    pthread_mutex_lock(&loop->mu);
    if (loop->tail != NULL) {
        loop->tail->next = j;
    } else {
        loop->head = j;
    }
    loop->tail = j;
    pthread_mutex_unlock(&loop->mu);
    event_active(loop->doorbell, 0, 0);
    return PC_OK;
}

pc_err pc__loop_call(pc__loop *loop, pc_server_fn fn, void *arg)
{
    if (fn == NULL) {
        return PC_ERR_INVALID;
    }
    if (pc__loop_is_owner(loop)) {
        fn(loop->srv, arg);
        return PC_OK;
    }
    job j = {.fn = fn, .arg = arg, .waited = true};
    pthread_mutex_lock(&loop->mu);
    if (loop->tail != NULL) {
        loop->tail->next = &j;
    } else {
        loop->head = &j;
    }
    loop->tail = &j;
    pthread_mutex_unlock(&loop->mu);
    event_active(loop->doorbell, 0, 0);
    pthread_mutex_lock(&loop->mu);
    while (!j.done) {
        pthread_cond_wait(&loop->cv, &loop->mu);
    }
    pthread_mutex_unlock(&loop->mu);
    return PC_OK;
}
