/*
 * core_test.c - status messages, logging, allocation hooks, clock, threads,
 * CPU sets.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core_impl.h"
#include "test.h"
#include "vigil/vigil.h"

static void test_status_strings(void) {
    /* Every status has a distinct, non-empty message and name. */
    for (int i = 0; i < VG_STATUS_COUNT; i++) {
        const char *s = vg_status_str((vg_status)i);
        VG_CHECK(s && *s && strcmp(s, "unknown status") != 0);
        VG_CHECK(strncmp(vg_status_name((vg_status)i), "VG_", 3) == 0);
        for (int j = 0; j < i; j++)
            VG_CHECK_MSG(strcmp(s, vg_status_str((vg_status)j)) != 0, "status %d and %d share '%s'",
                         i, j, s);
    }
    VG_CHECK_STR_EQ(vg_status_str(VG_E_NOMEM), "out of memory");
    VG_CHECK_STR_EQ(vg_status_name(VG_E_FORMAT), "VG_E_FORMAT");
    VG_CHECK_STR_EQ(vg_status_str((vg_status)999), "unknown status");
    VG_CHECK_STR_EQ(vg_status_str((vg_status)-1), "unknown status");
    VG_CHECK_STR_EQ(vg_status_name((vg_status)999), "VG_E_?");
}

struct captured {
    int          n;
    vg_log_level level;
    char         ctx[32];
    char         msg[256];
};

static void capture_sink(vg_log_level level, const char *ctx, const char *msg, void *user) {
    struct captured *c = user;
    c->n++;
    c->level = level;
    snprintf(c->ctx, sizeof(c->ctx), "%s", ctx ? ctx : "");
    snprintf(c->msg, sizeof(c->msg), "%s", msg);
}

static void test_log_sink_and_levels(void) {
    struct captured c   = {0};
    vg_log_level    old = vg_log_get_level();
    vg_log_set_sink(capture_sink, &c);
    vg_log_set_level(VG_LOG_WARN);
    vg_log("model", VG_LOG_ERROR, "bad node %s at %d\n", "conv1", 7);
    VG_CHECK_INT_EQ(c.n, 1);
    VG_CHECK_INT_EQ(c.level, VG_LOG_ERROR);
    VG_CHECK_STR_EQ(c.ctx, "model");
    VG_CHECK_STR_EQ(c.msg, "bad node conv1 at 7"); /* trailing newline trimmed */
    vg_log(NULL, VG_LOG_INFO, "filtered");
    VG_CHECK_INT_EQ(c.n, 1);
    vg_log_set_level(VG_LOG_TRACE);
    vg_log(NULL, VG_LOG_TRACE, "now visible");
    VG_CHECK_INT_EQ(c.n, 2);
    VG_CHECK_STR_EQ(c.ctx, "");
    vg_log_set_level(VG_LOG_QUIET);
    vg_log(NULL, VG_LOG_ERROR, "quiet drops errors too");
    VG_CHECK_INT_EQ(c.n, 2);
    vg_log_set_sink(NULL, NULL);
    vg_log_set_level(old);
    VG_CHECK_INT_EQ(vg_log_level_parse("debug"), VG_LOG_DEBUG);
    VG_CHECK_INT_EQ(vg_log_level_parse("WARN"), VG_LOG_WARN);
    VG_CHECK_INT_EQ(vg_log_level_parse("quiet"), VG_LOG_QUIET);
    VG_CHECK_INT_EQ(vg_log_level_parse("loud"), -2);
}

static int   hook_mallocs, hook_frees;
static void *counting_malloc(size_t n, void *u) {
    (void)u;
    hook_mallocs++;
    return malloc(n);
}
static void *counting_realloc(void *p, size_t n, void *u) {
    (void)u;
    return realloc(p, n);
}
static void counting_free(void *p, void *u) {
    (void)u;
    hook_frees++;
    free(p);
}

static void test_alloc_hooks(void) {
    vg_alloc_hooks h = {counting_malloc, counting_realloc, counting_free, NULL};
    hook_mallocs = hook_frees = 0;
    vg_alloc_set_hooks(&h);
    char *s = vg_strdup("vigil");
    void *a = vg_aligned_alloc(64, 1000);
    int  *z = vg_calloc(10, sizeof(int));
    vg_alloc_set_hooks(&h); /* re-setting is harmless */
    VG_CHECK(s && a && z);
    VG_CHECK_STR_EQ(s, "vigil");
    VG_CHECK(((uintptr_t)a % 64) == 0);
    for (int i = 0; i < 10; i++)
        VG_CHECK_INT_EQ(z[i], 0);
    memset(a, 0xab, 1000);
    VG_CHECK_INT_EQ(hook_mallocs, 3);
    vg_free(s);
    vg_aligned_free(a);
    vg_freep(&z);
    VG_CHECK(z == NULL);
    vg_free(NULL);
    vg_aligned_free(NULL);
    VG_CHECK_INT_EQ(hook_frees, 3);
    vg_alloc_set_hooks(NULL);
    /* Overflowing or invalid requests fail instead of wrapping. */
    VG_CHECK(vg_calloc(SIZE_MAX / 2, 4) == NULL);
    VG_CHECK(vg_aligned_alloc(48, 16) == NULL);
    VG_CHECK(vg_aligned_alloc(8192, 16) == NULL);
}

static void test_oom_injection(void) {
    vg_test_oom_begin(1);
    void *a = vg_malloc(8);
    void *b = vg_malloc(8);
    VG_CHECK(a != NULL);
    VG_CHECK(b == NULL);
    VG_CHECK_INT_EQ(vg_test_oom_count(), 2);
    vg_free(a);
    VG_CHECK_INT_EQ(vg_test_oom_end(), 0);
}

static void test_clock(void) {
    int64_t t0 = vg_clock_ns();
    vg_sleep_ns(5 * VG_NS_PER_MS);
    int64_t t1 = vg_clock_ns();
    VG_CHECK_MSG(t1 - t0 >= 5 * VG_NS_PER_MS, "slept only %lld ns", (long long)(t1 - t0));
    VG_CHECK(vg_clock_wall_ns() > INT64_C(1600000000) * VG_NS_PER_S); /* after 2020 */
    vg_sleep_ns(0);
    vg_sleep_ns(-5);
}

static void test_cpuset(void) {
    vg_cpuset s;
    char      buf[64];
    VG_CHECK_OK(vg_cpuset_parse("0-3,6,8-9", &s));
    VG_CHECK_INT_EQ(vg_cpuset_count(&s), 7);
    VG_CHECK(vg_cpuset_has(&s, 6) && !vg_cpuset_has(&s, 5) && vg_cpuset_has(&s, 9));
    vg_cpuset_format(&s, buf, sizeof(buf));
    VG_CHECK_STR_EQ(buf, "0-3,6,8-9");
    VG_CHECK_OK(vg_cpuset_parse("1", &s));
    vg_cpuset_format(&s, buf, sizeof(buf));
    VG_CHECK_STR_EQ(buf, "1");
    const char *bad[] = {"", "a", "3-1", "1,", ",1", "1-", "1--2", "0-99999", "1 2", "-1"};
    for (size_t i = 0; i < VGI_ARRAY_SIZE(bad); i++)
        VG_CHECK_MSG(vg_cpuset_parse(bad[i], &s) == VG_E_INVALID_ARG, "'%s' was accepted", bad[i]);
    vg_cpuset avail;
    VG_CHECK_OK(vg_cpuset_available(&avail));
    VG_CHECK(vg_cpuset_count(&avail) >= 1);
}

struct thread_arg {
    char name[16];
    int  cpu;
    int  value;
};

static void *thread_body(void *p) {
    struct thread_arg *a = p;
    vg_thread_get_name(a->name, sizeof(a->name));
    a->cpu = sched_getcpu();
    a->value *= 2;
    return a;
}

static void test_threads(void) {
    struct thread_arg a = {.value = 21};
    vg_thread        *t;
    vg_cpuset         avail, one;
    VG_CHECK_OK(vg_cpuset_available(&avail));
    int first = 0;
    while (!vg_cpuset_has(&avail, first))
        first++;
    vg_cpuset_clear(&one);
    vg_cpuset_add(&one, first);
    vg_thread_params p = {.name = "a-very-long-thread-name", .cpus = &one};
    VG_CHECK_OK(vg_thread_create(&p, thread_body, &a, &t));
    void *ret = NULL;
    vg_thread_join(t, &ret);
    VG_CHECK(ret == &a);
    VG_CHECK_INT_EQ(a.value, 42);
    VG_CHECK_STR_EQ(a.name, "a-very-long-thr"); /* 15 characters kept */
    VG_CHECK_INT_EQ(a.cpu, first);
    vg_thread_join(NULL, NULL);

    /* A CPU set with no CPU this process can use is refused. */
    vg_cpuset none;
    vg_cpuset_clear(&none);
    vg_cpuset_add(&none, VG_CPUSET_MAX - 1);
    p.cpus = &none;
    VG_CHECK_STATUS(vg_thread_create(&p, thread_body, &a, &t), VG_E_INVALID_ARG);
    VG_CHECK(t == NULL);
}

static void test_mutex_cond_timeout(void) {
    vg_mutex m;
    vg_cond  c;
    VG_CHECK_OK(vg_mutex_init(&m));
    VG_CHECK_OK(vg_cond_init(&c));
    vg_mutex_lock(&m);
    int64_t   t0 = vg_clock_ns();
    vg_status st;
    do {
        st = vg_cond_timedwait(&c, &m, t0 + 10 * VG_NS_PER_MS);
    } while (st == VG_OK);
    VG_CHECK_STATUS(st, VG_E_TIMEOUT);
    VG_CHECK(vg_clock_ns() - t0 >= 10 * VG_NS_PER_MS);
    vg_mutex_unlock(&m);
    vg_cond_fini(&c);
    vg_mutex_fini(&m);
}

static const vg_test_case cases[] = {
    {"status strings", test_status_strings},
    {"log sink and levels", test_log_sink_and_levels},
    {"alloc hooks", test_alloc_hooks},
    {"oom injection", test_oom_injection},
    {"clock", test_clock},
    {"cpuset", test_cpuset},
    {"threads", test_threads},
    {"mutex cond timeout", test_mutex_cond_timeout},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
