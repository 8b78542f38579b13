/*
 * vigil/clock.h - time in nanoseconds.
 */
#ifndef VG_CLOCK_H
#define VG_CLOCK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VG_NS_PER_US INT64_C(1000)
#define VG_NS_PER_MS INT64_C(1000000)
#define VG_NS_PER_S  INT64_C(1000000000)

/* Monotonic time in ns since an arbitrary start (CLOCK_MONOTONIC). MT safe. */
int64_t vg_clock_ns(void);

/* Wall-clock time in ns since the Unix epoch (CLOCK_REALTIME). MT safe. */
int64_t vg_clock_wall_ns(void);

/* Sleeps for at least ns nanoseconds (restarts after signals). */
void vg_sleep_ns(int64_t ns);

#ifdef __cplusplus
}
#endif

#endif /* VG_CLOCK_H */
