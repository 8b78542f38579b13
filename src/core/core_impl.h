/*
 * core_impl.h - internal helpers shared by every module (not public API).
 */
#ifndef VG_CORE_IMPL_H
#define VG_CORE_IMPL_H

#include <stdio.h>
#include <stdlib.h>

/* Asserts an invariant; a failure is a bug in vigil, so it aborts with the
 * location. Enabled in every build type. Use statuses for bad input instead. */
#define VGI_ASSERT(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "vigil: internal error: %s:%d: assertion '%s' failed\n", __FILE__,      \
                    __LINE__, #cond);                                                              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define VGI_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VGI_MIN(a, b)     ((a) < (b) ? (a) : (b))
#define VGI_MAX(a, b)     ((a) > (b) ? (a) : (b))

#endif /* VG_CORE_IMPL_H */
