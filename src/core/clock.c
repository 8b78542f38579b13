/*
 * clock.c - monotonic and wall-clock time in nanoseconds.
 */
#include "vigil/clock.h"

#include <errno.h>
#include <time.h>

static int64_t ts_ns(const struct timespec *ts) {
    return (int64_t)ts->tv_sec * VG_NS_PER_S + ts->tv_nsec;
}

int64_t vg_clock_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts_ns(&ts);
}

int64_t vg_clock_wall_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts_ns(&ts);
}

void vg_sleep_ns(int64_t ns) {
    if (ns <= 0)
        return;
    struct timespec req = {.tv_sec  = (time_t)(ns / VG_NS_PER_S),
                           .tv_nsec = (long)(ns % VG_NS_PER_S)};
    while (nanosleep(&req, &req) == -1 && errno == EINTR) {
    }
}
