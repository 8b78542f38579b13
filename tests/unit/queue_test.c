/*
 * queue_test.c - the bounded FIFO in every blocking state: empty, full, a
 * consumer blocked in pop, a producer blocked in push, finish from either
 * end while the other is blocked, both leak policies, flush, destroy, and a
 * many-producer/many-consumer stress run (also built under TSan).
 */
#include <stdatomic.h>
#include <stdint.h>

#include "test.h"
#include "vigil/vigil.h"

#define MS VG_NS_PER_MS

static atomic_int drops;
static intptr_t   last_dropped;

static void count_drop(void *item, void *user) {
    (void)user;
    atomic_fetch_add(&drops, 1);
    last_dropped = (intptr_t)item;
}

#define ITEM(n) ((void *)(intptr_t)(n))

static vg_queue *make(size_t cap, vg_leak_policy leak) {
    vg_queue_params p = vg_queue_params_default();
    p.capacity        = cap;
    p.leak            = leak;
    p.name            = "test";
    p.drop            = count_drop;
    vg_queue *q       = NULL;
    VG_CHECK_OK(vg_queue_create(&p, &q));
    atomic_store(&drops, 0);
    return q;
}

static void test_create_invalid(void) {
    vg_queue_params p = vg_queue_params_default();
    vg_queue       *q = ITEM(1);
    VG_CHECK_INT_EQ(p.capacity, 4);
    p.capacity = 0;
    VG_CHECK_STATUS(vg_queue_create(&p, &q), VG_E_INVALID_ARG);
    VG_CHECK(q == NULL);
    p.capacity = 2;
    p.leak     = (vg_leak_policy)7;
    VG_CHECK_STATUS(vg_queue_create(&p, &q), VG_E_INVALID_ARG);
    vg_queue_destroy(NULL);
}

static vg_queue *oom_q;
static vg_status oom_body(void *arg) {
    (void)arg;
    vg_queue_params p = vg_queue_params_default();
    return vg_queue_create(&p, &oom_q);
}
static void oom_cleanup(void *arg) {
    (void)arg;
    vg_queue_destroy(oom_q);
}

static void test_create_oom(void) {
    vg_test_oom_sweep(oom_body, oom_cleanup, NULL, 10);
}

static void test_fifo_order_and_stats(void) {
    vg_queue *q = make(3, VG_LEAK_NONE);
    VG_CHECK_STR_EQ(vg_queue_name(q), "test");
    for (int i = 1; i <= 3; i++)
        VG_CHECK_OK(vg_queue_push(q, ITEM(i), VG_WAIT_NONE));
    VG_CHECK_INT_EQ(vg_queue_level(q), 3);
    void *it;
    VG_CHECK_OK(vg_queue_pop(q, &it, VG_WAIT_NONE));
    VG_CHECK(it == ITEM(1));
    VG_CHECK_OK(vg_queue_push(q, ITEM(4), VG_WAIT_NONE)); /* wraps around the ring */
    for (int i = 2; i <= 4; i++) {
        VG_CHECK_OK(vg_queue_pop(q, &it, VG_WAIT_NONE));
        VG_CHECK(it == ITEM(i));
    }
    vg_queue_stats st;
    vg_queue_get_stats(q, &st);
    VG_CHECK_INT_EQ(st.capacity, 3);
    VG_CHECK_INT_EQ(st.level, 0);
    VG_CHECK_INT_EQ(st.max_level, 3);
    VG_CHECK_INT_EQ(st.pushed, 4);
    VG_CHECK_INT_EQ(st.popped, 4);
    VG_CHECK_INT_EQ(st.dropped, 0);
    VG_CHECK_STATUS(vg_queue_push(q, NULL, 0), VG_E_INVALID_ARG);
    vg_queue_destroy(q);
}

static void test_empty_nonblocking_and_timeout(void) {
    vg_queue *q  = make(2, VG_LEAK_NONE);
    void     *it = ITEM(9);
    VG_CHECK_STATUS(vg_queue_pop(q, &it, VG_WAIT_NONE), VG_E_AGAIN);
    VG_CHECK(it == NULL);
    int64_t t0 = vg_clock_ns();
    VG_CHECK_STATUS(vg_queue_pop(q, &it, 20 * MS), VG_E_TIMEOUT);
    VG_CHECK(vg_clock_ns() - t0 >= 20 * MS);
    vg_queue_destroy(q);
}

static void test_full_nonblocking_and_timeout(void) {
    vg_queue *q = make(2, VG_LEAK_NONE);
    VG_CHECK_OK(vg_queue_push(q, ITEM(1), 0));
    VG_CHECK_OK(vg_queue_push(q, ITEM(2), 0));
    VG_CHECK_STATUS(vg_queue_push(q, ITEM(3), VG_WAIT_NONE), VG_E_AGAIN);
    int64_t t0 = vg_clock_ns();
    VG_CHECK_STATUS(vg_queue_push(q, ITEM(3), 20 * MS), VG_E_TIMEOUT);
    VG_CHECK(vg_clock_ns() - t0 >= 20 * MS);
    VG_CHECK_INT_EQ(vg_queue_level(q), 2);
    VG_CHECK_INT_EQ(atomic_load(&drops), 0);
    vg_queue_destroy(q); /* the two queued items go to the drop callback */
    VG_CHECK_INT_EQ(atomic_load(&drops), 2);
}

/* A helper thread that does one push or pop, recording status and timing. */
struct op {
    vg_queue *q;
    bool      push;
    void     *item;
    vg_status st;
    int64_t   done_ns;
};

static void *run_op(void *p) {
    struct op *o = p;
    if (o->push)
        o->st = vg_queue_push(o->q, o->item, VG_WAIT_FOREVER);
    else
        o->st = vg_queue_pop(o->q, &o->item, VG_WAIT_FOREVER);
    o->done_ns = vg_clock_ns();
    return NULL;
}

static vg_thread *start(struct op *o) {
    vg_thread       *t;
    vg_thread_params p = {.name = o->push ? "producer" : "consumer"};
    VG_CHECK_OK(vg_thread_create(&p, run_op, o, &t));
    return t;
}

static void test_consumer_blocked_then_push(void) {
    vg_queue  *q = make(2, VG_LEAK_NONE);
    struct op  o = {.q = q, .push = false};
    vg_thread *t = start(&o);
    vg_sleep_ns(30 * MS); /* let it block on the empty queue */
    int64_t pushed_at = vg_clock_ns();
    VG_CHECK_OK(vg_queue_push(q, ITEM(5), 0));
    vg_thread_join(t, NULL);
    VG_CHECK_OK(o.st);
    VG_CHECK(o.item == ITEM(5));
    VG_CHECK(o.done_ns >= pushed_at);
    vg_queue_destroy(q);
}

static void test_producer_blocked_then_pop(void) {
    vg_queue *q = make(1, VG_LEAK_NONE);
    VG_CHECK_OK(vg_queue_push(q, ITEM(1), 0));
    struct op  o = {.q = q, .push = true, .item = ITEM(2)};
    vg_thread *t = start(&o);
    vg_sleep_ns(30 * MS); /* it blocks: the queue is full */
    VG_CHECK_INT_EQ(vg_queue_level(q), 1);
    void   *it;
    int64_t popped_at = vg_clock_ns();
    VG_CHECK_OK(vg_queue_pop(q, &it, 0));
    VG_CHECK(it == ITEM(1));
    vg_thread_join(t, NULL);
    VG_CHECK_OK(o.st);
    VG_CHECK(o.done_ns >= popped_at);
    VG_CHECK_OK(vg_queue_pop(q, &it, 0));
    VG_CHECK(it == ITEM(2));
    vg_queue_destroy(q);
}

static void test_finish_recv_wakes_blocked_producer(void) {
    vg_queue *q = make(1, VG_LEAK_NONE);
    VG_CHECK_OK(vg_queue_push(q, ITEM(1), 0));
    struct op  o = {.q = q, .push = true, .item = ITEM(2)};
    vg_thread *t = start(&o);
    vg_sleep_ns(30 * MS);
    vg_queue_finish_recv(q);
    vg_thread_join(t, NULL);
    VG_CHECK_STATUS(o.st, VG_E_CLOSED); /* item 2 stays with the producer */
    void *it;
    VG_CHECK_STATUS(vg_queue_pop(q, &it, 0), VG_E_CLOSED);
    VG_CHECK_STATUS(vg_queue_push(q, ITEM(3), 0), VG_E_CLOSED);
    atomic_store(&drops, 0);
    vg_queue_destroy(q);
    VG_CHECK_INT_EQ(atomic_load(&drops), 1); /* item 1 was still queued */
}

static void test_finish_send_wakes_blocked_consumer(void) {
    vg_queue  *q = make(2, VG_LEAK_NONE);
    struct op  o = {.q = q, .push = false};
    vg_thread *t = start(&o);
    vg_sleep_ns(30 * MS);
    vg_queue_finish_send(q);
    vg_thread_join(t, NULL);
    VG_CHECK_STATUS(o.st, VG_E_EOF);
    VG_CHECK(o.item == NULL);
    vg_queue_destroy(q);
}

static void test_finish_send_drains_first(void) {
    vg_queue *q = make(3, VG_LEAK_NONE);
    VG_CHECK_OK(vg_queue_push(q, ITEM(1), 0));
    VG_CHECK_OK(vg_queue_push(q, ITEM(2), 0));
    vg_queue_finish_send(q);
    vg_queue_finish_send(q); /* idempotent */
    VG_CHECK_STATUS(vg_queue_push(q, ITEM(3), 0), VG_E_CLOSED);
    void *it;
    VG_CHECK_OK(vg_queue_pop(q, &it, 0));
    VG_CHECK(it == ITEM(1));
    VG_CHECK_OK(vg_queue_pop(q, &it, VG_WAIT_FOREVER));
    VG_CHECK(it == ITEM(2));
    VG_CHECK_STATUS(vg_queue_pop(q, &it, VG_WAIT_FOREVER), VG_E_EOF);
    VG_CHECK_STATUS(vg_queue_pop(q, &it, 0), VG_E_EOF);
    vg_queue_destroy(q);
}

static void test_abort_during_push(void) {
    /* The producer is blocked in push when the producer side is finished by
     * another thread (pipeline abort): the push returns VG_E_CLOSED. */
    vg_queue *q = make(1, VG_LEAK_NONE);
    VG_CHECK_OK(vg_queue_push(q, ITEM(1), 0));
    struct op  o = {.q = q, .push = true, .item = ITEM(2)};
    vg_thread *t = start(&o);
    vg_sleep_ns(30 * MS);
    vg_queue_finish_send(q);
    vg_thread_join(t, NULL);
    VG_CHECK_STATUS(o.st, VG_E_CLOSED);
    void *it;
    VG_CHECK_OK(vg_queue_pop(q, &it, 0)); /* what was queued is still delivered */
    VG_CHECK(it == ITEM(1));
    VG_CHECK_STATUS(vg_queue_pop(q, &it, 0), VG_E_EOF);
    vg_queue_destroy(q);
}

static void test_leak_newest(void) {
    vg_queue *q = make(2, VG_LEAK_NEWEST);
    for (int i = 1; i <= 5; i++)
        VG_CHECK_OK(vg_queue_push(q, ITEM(i), VG_WAIT_FOREVER)); /* never blocks */
    VG_CHECK_INT_EQ(atomic_load(&drops), 3);
    VG_CHECK_INT_EQ(last_dropped, 5);
    void *it;
    VG_CHECK_OK(vg_queue_pop(q, &it, 0));
    VG_CHECK(it == ITEM(1));
    VG_CHECK_OK(vg_queue_pop(q, &it, 0));
    VG_CHECK(it == ITEM(2));
    vg_queue_stats st;
    vg_queue_get_stats(q, &st);
    VG_CHECK_INT_EQ(st.dropped, 3);
    VG_CHECK_INT_EQ(st.pushed, 5);
    VG_CHECK_INT_EQ(st.popped, 2);
    vg_queue_destroy(q);
}

static void test_leak_oldest(void) {
    vg_queue *q = make(2, VG_LEAK_OLDEST);
    for (int i = 1; i <= 5; i++)
        VG_CHECK_OK(vg_queue_push(q, ITEM(i), VG_WAIT_FOREVER));
    VG_CHECK_INT_EQ(atomic_load(&drops), 3);
    VG_CHECK_INT_EQ(last_dropped, 3);
    void *it;
    VG_CHECK_OK(vg_queue_pop(q, &it, 0));
    VG_CHECK(it == ITEM(4));
    VG_CHECK_OK(vg_queue_pop(q, &it, 0));
    VG_CHECK(it == ITEM(5));
    vg_queue_stats st;
    vg_queue_get_stats(q, &st);
    VG_CHECK_INT_EQ(st.dropped, 3);
    VG_CHECK_INT_EQ(st.max_level, 2);
    vg_queue_destroy(q);
}

static void test_flush(void) {
    vg_queue *q = make(4, VG_LEAK_NONE);
    for (int i = 1; i <= 3; i++)
        VG_CHECK_OK(vg_queue_push(q, ITEM(i), 0));
    VG_CHECK_INT_EQ(vg_queue_flush(q), 3);
    VG_CHECK_INT_EQ(atomic_load(&drops), 3);
    VG_CHECK_INT_EQ(vg_queue_level(q), 0);
    vg_queue_stats st;
    vg_queue_get_stats(q, &st);
    VG_CHECK_INT_EQ(st.flushed, 3);
    VG_CHECK_INT_EQ(st.dropped, 0);
    VG_CHECK_OK(vg_queue_push(q, ITEM(7), 0)); /* still usable */
    void *it;
    VG_CHECK_OK(vg_queue_pop(q, &it, 0));
    VG_CHECK(it == ITEM(7));
    vg_queue_destroy(q);
}

/* ---- stress: 3 producers, 3 consumers, capacity 4 ------------------------ */

#define PRODUCERS    3
#define CONSUMERS    3
#define PER_PRODUCER 20000

struct stress {
    vg_queue     *q;
    int           id;
    atomic_llong *sum;
    atomic_int   *count;
    bool          order_ok;
};

static void *stress_producer(void *p) {
    struct stress *s = p;
    s->order_ok      = true;
    for (int i = 1; i <= PER_PRODUCER; i++) {
        intptr_t v = ((intptr_t)s->id << 24) | i;
        /* No VG_CHECK off the main thread: the harness unwinds the main one. */
        if (vg_queue_push(s->q, ITEM(v), VG_WAIT_FOREVER) != VG_OK)
            s->order_ok = false;
    }
    return NULL;
}

static void *stress_consumer(void *p) {
    struct stress *s               = p;
    int            last[PRODUCERS] = {0};
    s->order_ok                    = true;
    for (;;) {
        void     *it;
        vg_status st = vg_queue_pop(s->q, &it, VG_WAIT_FOREVER);
        if (st == VG_E_EOF)
            break;
        if (st != VG_OK) {
            s->order_ok = false;
            break;
        }
        intptr_t v    = (intptr_t)it;
        int      prod = (int)(v >> 24), seq = (int)(v & 0xffffff);
        /* One consumer sees each producer's items in increasing order. */
        if (seq <= last[prod])
            s->order_ok = false;
        last[prod] = seq;
        atomic_fetch_add(s->sum, seq);
        atomic_fetch_add(s->count, 1);
    }
    return NULL;
}

static void test_stress_mpmc(void) {
    vg_queue     *q     = make(4, VG_LEAK_NONE);
    atomic_llong  sum   = 0;
    atomic_int    count = 0;
    struct stress ps[PRODUCERS], cs[CONSUMERS];
    vg_thread    *pt[PRODUCERS], *ct[CONSUMERS];
    for (int i = 0; i < CONSUMERS; i++) {
        cs[i]               = (struct stress){.q = q, .id = i, .sum = &sum, .count = &count};
        vg_thread_params tp = {.name = "stress-cons"};
        VG_CHECK_OK(vg_thread_create(&tp, stress_consumer, &cs[i], &ct[i]));
    }
    for (int i = 0; i < PRODUCERS; i++) {
        ps[i]               = (struct stress){.q = q, .id = i, .sum = &sum, .count = &count};
        vg_thread_params tp = {.name = "stress-prod"};
        VG_CHECK_OK(vg_thread_create(&tp, stress_producer, &ps[i], &pt[i]));
    }
    for (int i = 0; i < PRODUCERS; i++) {
        vg_thread_join(pt[i], NULL);
        VG_CHECK_MSG(ps[i].order_ok, "producer %d: a push failed", i);
    }
    vg_queue_finish_send(q);
    for (int i = 0; i < CONSUMERS; i++) {
        vg_thread_join(ct[i], NULL);
        VG_CHECK_MSG(cs[i].order_ok, "consumer %d saw items out of order or an error", i);
    }
    VG_CHECK_INT_EQ(atomic_load(&count), PRODUCERS * PER_PRODUCER);
    VG_CHECK_INT_EQ(atomic_load(&sum),
                    (long long)PRODUCERS * PER_PRODUCER * (PER_PRODUCER + 1) / 2);
    vg_queue_stats st;
    vg_queue_get_stats(q, &st);
    VG_CHECK(st.max_level <= 4);
    VG_CHECK_INT_EQ(st.popped, PRODUCERS * PER_PRODUCER);
    vg_queue_destroy(q);
}

/* A leaky queue under a fast producer and a slow consumer: every item is
 * either popped or dropped, never both, never lost. */
static atomic_int leak_seen;
static void       count_leak(void *item, void *user) {
          (void)item;
          (void)user;
          atomic_fetch_add(&leak_seen, 1);
}

static void *slow_consumer(void *p) {
    vg_queue *q = p;
    void     *it;
    while (vg_queue_pop(q, &it, VG_WAIT_FOREVER) == VG_OK) {
        atomic_fetch_add(&leak_seen, 1);
        vg_sleep_ns(100 * VG_NS_PER_US);
    }
    return NULL;
}

static void test_stress_leaky(void) {
    for (int pol = VG_LEAK_NEWEST; pol <= VG_LEAK_OLDEST; pol++) {
        vg_queue_params p = vg_queue_params_default();
        p.capacity        = 3;
        p.leak            = (vg_leak_policy)pol;
        p.drop            = count_leak;
        vg_queue *q;
        VG_CHECK_OK(vg_queue_create(&p, &q));
        atomic_store(&leak_seen, 0);
        vg_thread       *t;
        vg_thread_params tp = {.name = "slow-cons"};
        VG_CHECK_OK(vg_thread_create(&tp, slow_consumer, q, &t));
        for (int i = 1; i <= 2000; i++)
            VG_CHECK_OK(vg_queue_push(q, ITEM(i), VG_WAIT_FOREVER));
        vg_queue_finish_send(q);
        vg_thread_join(t, NULL);
        vg_queue_stats st;
        vg_queue_get_stats(q, &st);
        VG_CHECK_INT_EQ(st.popped + st.dropped, 2000);
        VG_CHECK(st.dropped > 0);
        VG_CHECK_INT_EQ(atomic_load(&leak_seen), 2000);
        vg_queue_destroy(q);
    }
}

static const vg_test_case cases[] = {
    {"create invalid", test_create_invalid},
    {"create oom", test_create_oom},
    {"fifo order and stats", test_fifo_order_and_stats},
    {"empty nonblocking and timeout", test_empty_nonblocking_and_timeout},
    {"full nonblocking and timeout", test_full_nonblocking_and_timeout},
    {"consumer blocked then push", test_consumer_blocked_then_push},
    {"producer blocked then pop", test_producer_blocked_then_pop},
    {"finish recv wakes blocked producer", test_finish_recv_wakes_blocked_producer},
    {"finish send wakes blocked consumer", test_finish_send_wakes_blocked_consumer},
    {"finish send drains first", test_finish_send_drains_first},
    {"abort during push", test_abort_during_push},
    {"leak newest", test_leak_newest},
    {"leak oldest", test_leak_oldest},
    {"flush", test_flush},
    {"stress mpmc", test_stress_mpmc},
    {"stress leaky", test_stress_leaky},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
