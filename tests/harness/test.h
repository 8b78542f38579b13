/*
 * test.h - vigil's small test harness.
 *
 * A test executable defines a table of named cases and hands it to
 * vg_test_main():
 *
 *     static void test_push_pop(void) { VG_CHECK_OK(vg_queue_create(&p, &q)); ... }
 *     static const vg_test_case cases[] = {
 *         {"push then pop", test_push_pop},
 *         {NULL, NULL},
 *     };
 *     int main(int argc, char **argv) { return vg_test_main(argc, argv, cases); }
 *
 * Each case runs in order; a failed check reports file:line and the values
 * and ends that case (longjmp), the others still run. `prog NAME...` runs
 * only the named cases. A case may call VG_SKIP("reason") to report SKIPPED;
 * if every case that ran was skipped, the executable exits 77, which ctest
 * shows as "Skipped" (SKIP_RETURN_CODE).
 */
#ifndef VG_TEST_H
#define VG_TEST_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vigil/status.h"

typedef struct vg_test_case {
    const char *name;
    void (*fn)(void);
} vg_test_case;

int  vg_test_main(int argc, char **argv, const vg_test_case *cases);
void vg_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
void vg_test_skip(const char *reason) __attribute__((noreturn));

#define VG_SKIP(reason) vg_test_skip(reason)

#define VG_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond))                                                                               \
            vg_test_fail(__FILE__, __LINE__, "check failed: %s", #cond);                           \
    } while (0)

#define VG_CHECK_MSG(cond, ...)                                                                    \
    do {                                                                                           \
        if (!(cond))                                                                               \
            vg_test_fail(__FILE__, __LINE__, __VA_ARGS__);                                         \
    } while (0)

/* Expects a vg_status equal to `want`; prints both names on failure. */
#define VG_CHECK_STATUS(expr, want)                                                                \
    do {                                                                                           \
        vg_status vg_got_  = (expr);                                                               \
        vg_status vg_want_ = (want);                                                               \
        if (vg_got_ != vg_want_)                                                                   \
            vg_test_fail(__FILE__, __LINE__, "%s: expected %s, got %s (%s)", #expr,                \
                         vg_status_name(vg_want_), vg_status_name(vg_got_),                        \
                         vg_status_str(vg_got_));                                                  \
    } while (0)

#define VG_CHECK_OK(expr) VG_CHECK_STATUS(expr, VG_OK)

#define VG_CHECK_INT_EQ(a, b)                                                                      \
    do {                                                                                           \
        long long vg_a_ = (long long)(a), vg_b_ = (long long)(b);                                  \
        if (vg_a_ != vg_b_)                                                                        \
            vg_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, vg_a_, vg_b_);      \
    } while (0)

#define VG_CHECK_STR_EQ(a, b)                                                                      \
    do {                                                                                           \
        const char *vg_a_ = (a), *vg_b_ = (b);                                                     \
        if (!vg_a_ || !vg_b_ || strcmp(vg_a_, vg_b_) != 0)                                         \
            vg_test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,                 \
                         vg_a_ ? vg_a_ : "(null)", vg_b_ ? vg_b_ : "(null)");                      \
    } while (0)

/* |a - b| <= tol */
#define VG_CHECK_NEAR(a, b, tol)                                                                   \
    do {                                                                                           \
        double vg_a_ = (double)(a), vg_b_ = (double)(b), vg_t_ = (double)(tol);                    \
        if (!(fabs(vg_a_ - vg_b_) <= vg_t_))                                                       \
            vg_test_fail(__FILE__, __LINE__, "%s ~= %s: %.9g vs %.9g (tolerance %.3g)", #a, #b,    \
                         vg_a_, vg_b_, vg_t_);                                                     \
    } while (0)

/* ---- test data ----------------------------------------------------------- */

/*
 * The shared reference folder: $VIGIL_SHARED if set, else ../shared relative
 * to the source tree ($VIGIL_SOURCE_DIR, set by ctest) or to the current
 * directory. Returns NULL if it does not exist.
 */
const char *vg_test_shared_dir(void);

/* Like vg_test_shared_dir() but skips the current case with a clear reason
 * ("SKIPPED: ../shared not found; set VIGIL_SHARED") when it is absent.
 * With a subpath, also skips when that path is missing inside it. Returns a
 * static buffer holding "<shared>/<sub>". */
const char *vg_test_require_shared(const char *sub);

/* The source tree root ($VIGIL_SOURCE_DIR, else "."). */
const char *vg_test_source_dir(void);

/* Reads a whole file into a malloc'ed buffer; returns NULL on failure. */
void *vg_test_read_file(const char *path, size_t *size);

/* ---- out-of-memory injection ---------------------------------------------- */

/*
 * Installs allocation hooks that fail the n-th allocation from now on
 * (n = 0: the very next) and every one after it, counting live blocks.
 * vg_test_oom_end() restores the default allocator and returns the number
 * of blocks still live (0 means nothing leaked).
 */
void vg_test_oom_begin(long fail_at);
long vg_test_oom_end(void);
/* Allocations made since vg_test_oom_begin() (successful or not). */
long vg_test_oom_count(void);

/* Sweeps fail_at = 0, 1, 2 ... calling body(arg) until it returns VG_OK,
 * checking that each failing call returned VG_E_NOMEM and leaked nothing, and
 * that cleanup(arg) (called after a VG_OK) frees everything. */
void vg_test_oom_sweep(vg_status (*body)(void *arg), void (*cleanup)(void *arg), void *arg,
                       long max_steps);

#endif /* VG_TEST_H */
