/*
 * io_impl.h - internal helpers of the io module (not public API).
 */
#ifndef VG_IO_IMPL_H
#define VG_IO_IMPL_H

#include <stddef.h>

#include "vigil/status.h"

/*
 * The one place where an FFmpeg error code becomes a vg_status. Writes
 * "<what>: <FFmpeg's text>" into msg (if not NULL; always NUL-terminated)
 * and returns the matching status. `what` is a printf format.
 */
vg_status vgi_av_status(int averr, char *msg, size_t msg_size, const char *what, ...)
    __attribute__((format(printf, 4, 5)));

/* Routes FFmpeg's own log output through vg_log (once per process; MT safe). */
void vgi_av_log_init(void);

#endif /* VG_IO_IMPL_H */
