/*
 * av_error.c - FFmpeg error codes and log output, converted once at the
 * boundary.
 *
 * DESIGN
 * vgi_av_status() is the only function that maps an AVERROR to a vg_status;
 * every io function that gets a negative FFmpeg return passes it through here
 * so the original text (av_strerror) ends up in the handle's message.
 * FFmpeg's log callback is redirected to vg_log with the level mapped, so
 * decoder complaints appear with vigil's format and filtering; FFmpeg's
 * chatter below "warning" is demoted to debug.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libavdevice/avdevice.h>
#include <libavutil/error.h>
#include <libavutil/log.h>

#include "io/io_impl.h"
#include "vigil/log.h"

vg_status vgi_av_status(int averr, char *msg, size_t msg_size, const char *what, ...) {
    vg_status st;
    switch (averr) {
    case 0:
        st = VG_OK;
        break;
    case AVERROR_EOF:
        st = VG_E_EOF;
        break;
    case AVERROR(EAGAIN):
        st = VG_E_AGAIN;
        break;
    case AVERROR(ENOMEM):
        st = VG_E_NOMEM;
        break;
    case AVERROR(EINVAL):
        st = VG_E_INVALID_ARG;
        break;
    case AVERROR(ENOENT):
        st = VG_E_NOT_FOUND;
        break;
    case AVERROR(ETIMEDOUT):
        st = VG_E_TIMEOUT;
        break;
    case AVERROR_EXIT:
        st = VG_E_CLOSED;
        break;
    case AVERROR_INVALIDDATA:
    case AVERROR_PATCHWELCOME:
        st = VG_E_FORMAT;
        break;
    case AVERROR_DECODER_NOT_FOUND:
    case AVERROR_DEMUXER_NOT_FOUND:
    case AVERROR_ENCODER_NOT_FOUND:
    case AVERROR_MUXER_NOT_FOUND:
    case AVERROR_PROTOCOL_NOT_FOUND:
    case AVERROR_OPTION_NOT_FOUND:
    case AVERROR_STREAM_NOT_FOUND:
    case AVERROR(ENOSYS):
        st = VG_E_UNSUPPORTED;
        break;
    case AVERROR_BUG:
    case AVERROR_BUG2:
        st = VG_E_INTERNAL;
        break;
    default:
        st = VG_E_IO;
        break;
    }
    if (msg && msg_size > 0) {
        char    text[AV_ERROR_MAX_STRING_SIZE] = "";
        va_list ap;
        va_start(ap, what);
        int n = vsnprintf(msg, msg_size, what, ap);
        va_end(ap);
        av_strerror(averr, text, sizeof(text));
        if (n >= 0 && (size_t)n < msg_size)
            snprintf(msg + n, msg_size - (size_t)n, ": %s", text);
    }
    return st;
}

static void av_log_to_vg(void *avcl, int level, const char *fmt, va_list ap) {
    /* FFmpeg's "errors" are mostly recoverable decoder complaints; vigil
     * reports what matters itself (naming the frame), so they go to debug. */
    vg_log_level lv = level <= AV_LOG_FATAL     ? VG_LOG_WARN
                      : level <= AV_LOG_WARNING ? VG_LOG_DEBUG
                                                : VG_LOG_TRACE;
    if (lv > vg_log_get_level())
        return;
    char    line[1024];
    va_list cp;
    va_copy(cp, ap);
    vsnprintf(line, sizeof(line), fmt, cp);
    va_end(cp);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (n == 0)
        return;
    const char *who = "ffmpeg";
    if (avcl) {
        AVClass *cls = *(AVClass **)avcl;
        if (cls && cls->item_name)
            who = cls->item_name(avcl);
    }
    vg_log(who, lv, "%s", line);
}

static pthread_once_t av_once = PTHREAD_ONCE_INIT;

static void av_init_once(void) {
    av_log_set_callback(av_log_to_vg);
    avdevice_register_all();
}

void vgi_av_log_init(void) {
    pthread_once(&av_once, av_init_once);
}
