/*
 * core_impl.h - internal helpers shared by every module (not public API).
 */
#ifndef VG_CORE_IMPL_H
#define VG_CORE_IMPL_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "vigil/status.h"

/* Asserts an invariant; a failure is a bug in vigil, so it aborts with the
 * location. Enabled in every build type. Use statuses for bad input instead. */
#define VGI_ASSERT(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "vigil: internal error: %s:%d: assertion '%s' failed\n", __FILE__,     \
                    __LINE__, #cond);                                                              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define VGI_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VGI_MIN(a, b)     ((a) < (b) ? (a) : (b))
#define VGI_MAX(a, b)     ((a) > (b) ? (a) : (b))

/* Formats a message into err (size n; NULL or 0 is allowed) and returns st:
 * `return vgi_errf(err, n, VG_E_FORMAT, "%s: bad header", path);` */
vg_status vgi_errf(char *err, size_t n, vg_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif /* VG_CORE_IMPL_H */
