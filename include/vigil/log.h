/*
 * vigil/log.h - levelled logging with a pluggable sink.
 *
 * vg_log() formats one message and hands it to the sink (by default: stderr,
 * with a timestamp, the level and the thread name). Messages below the
 * current level are discarded before formatting. The level starts from the
 * environment variable VIGIL_LOG_LEVEL (error, warn, info, debug, trace) and
 * defaults to info. The sink is never called with a vigil lock held.
 */
#ifndef VG_LOG_H
#define VG_LOG_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vg_log_level {
    VG_LOG_QUIET = -1, /* as a threshold: print nothing */
    VG_LOG_ERROR = 0,
    VG_LOG_WARN,
    VG_LOG_INFO,
    VG_LOG_DEBUG,
    VG_LOG_TRACE,
} vg_log_level;

/*
 * A sink receives the level, the context name (the module or object that
 * logged, may be NULL) and the formatted message without a trailing newline.
 * It may be called from any thread, concurrently: it must be MT safe.
 */
typedef void (*vg_log_sink_fn)(vg_log_level level, const char *ctx, const char *msg, void *user);

/* Sets the sink; NULL restores the default stderr sink. MT safe. */
void vg_log_set_sink(vg_log_sink_fn fn, void *user);

/* Sets the threshold: messages with a level above it are discarded. MT safe. */
void         vg_log_set_level(vg_log_level level);
vg_log_level vg_log_get_level(void);

/* Parses "error", "warn", "info", "debug", "trace" or "quiet"; returns -2 if unknown. */
int vg_log_level_parse(const char *s);

/* Logs one message (printf format) for context ctx (may be NULL). MT safe. */
void vg_log(const char *ctx, vg_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void vg_logv(const char *ctx, vg_log_level level, const char *fmt, va_list ap);

#ifdef __cplusplus
}
#endif

#endif /* VG_LOG_H */
