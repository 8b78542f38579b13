/*
 * vigil/vigil.h - umbrella header: include this to use all of libvigil.
 */
#ifndef VG_VIGIL_H
#define VG_VIGIL_H

#include "vigil/alloc.h"
#include "vigil/clock.h"
#include "vigil/log.h"
#include "vigil/queue.h"
#include "vigil/results.h"
#include "vigil/status.h"
#include "vigil/thread.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *vg_version(void);

#ifdef __cplusplus
}
#endif

#endif /* VG_VIGIL_H */
