/*
 * log.c - levelled logging with a pluggable sink.
 *
 * DESIGN
 * The level and the sink are process-wide. The level is an atomic read on
 * every call, so filtered-out messages cost one load. The sink pointer pair is
 * guarded by a mutex that is held only to copy it: the sink itself runs
 * without any vigil lock held, so a sink may log, take its own locks or block.
 */
#include "vigil/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "vigil/thread.h"

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static vg_log_sink_fn  sink_fn;
static void           *sink_user;
static atomic_int      log_level = -100; /* -100: not read from the environment yet */

int vg_log_level_parse(const char *s) {
    if (!s)
        return -2;
    if (!strcasecmp(s, "quiet") || !strcasecmp(s, "none"))
        return VG_LOG_QUIET;
    for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++)
        if (!strcasecmp(s, level_names[i]))
            return i;
    if (!strcasecmp(s, "warning"))
        return VG_LOG_WARN;
    return -2;
}

vg_log_level vg_log_get_level(void) {
    int l = atomic_load_explicit(&log_level, memory_order_relaxed);
    if (l == -100) {
        int env      = vg_log_level_parse(getenv("VIGIL_LOG_LEVEL"));
        l            = env == -2 ? VG_LOG_INFO : env;
        int expected = -100;
        atomic_compare_exchange_strong(&log_level, &expected, l);
        l = atomic_load(&log_level);
    }
    return (vg_log_level)l;
}

void vg_log_set_level(vg_log_level level) {
    atomic_store(&log_level, (int)level);
}

void vg_log_set_sink(vg_log_sink_fn fn, void *user) {
    pthread_mutex_lock(&sink_lock);
    sink_fn   = fn;
    sink_user = user;
    pthread_mutex_unlock(&sink_lock);
}

static void default_sink(vg_log_level level, const char *ctx, const char *msg, void *user) {
    (void)user;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    char tname[16];
    vg_thread_get_name(tname, sizeof(tname));
    /* One fprintf per message: stdio locks the stream, so lines never interleave. */
    fprintf(stderr, "%02d:%02d:%02d.%03ld %-5s [%s]%s%s%s %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
            ts.tv_nsec / 1000000, level_names[level], tname, ctx ? " " : "", ctx ? ctx : "",
            ctx ? ":" : "", msg);
}

void vg_logv(const char *ctx, vg_log_level level, const char *fmt, va_list ap) {
    if (level < VG_LOG_ERROR || level > VG_LOG_TRACE || level > vg_log_get_level())
        return;
    char    buf[2048];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    /* Trim trailing newlines: sinks add their own framing. */
    size_t len = strlen(buf);
    while (len > 0 && buf[len - 1] == '\n')
        buf[--len] = '\0';

    pthread_mutex_lock(&sink_lock);
    vg_log_sink_fn fn   = sink_fn;
    void          *user = sink_user;
    pthread_mutex_unlock(&sink_lock);
    if (fn)
        fn(level, ctx, buf, user);
    else
        default_sink(level, ctx, buf, NULL);
}

void vg_log(const char *ctx, vg_log_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vg_logv(ctx, level, fmt, ap);
    va_end(ap);
}
