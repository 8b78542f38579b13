/*
 * video_in.c - demux + decode any FFmpeg source into AVFrames.
 *
 * DESIGN
 * One handle owns at most one open "segment": an AVFormatContext plus the
 * decoder of its best video stream. Files and live sources have one segment
 * (live ones get a new segment after each reconnect); image sets open one
 * segment per image, in sorted order. vg_video_in_read() runs the usual
 * receive-first loop (avcodec_receive_frame, else read and send a packet)
 * and turns the segment's end into the next step: next image, EOF, or a
 * reconnect with exponential backoff for live sources.
 *
 * Timestamps: the picture's best-effort pts is mapped into one monotonic
 * timeline per handle. Each segment's first pts is anchored just after the
 * last pts handed out, so reconnects (which restart the remote clock) and
 * image sets (pts = image number) never go backwards.
 *
 * Blocking calls (open, av_read_frame) are bounded by FFmpeg's interrupt
 * callback, which checks an atomic interrupt flag and a deadline: the
 * open timeout while opening, the I/O timeout while reading a live source.
 * The handle is used by one thread; only the interrupt flag is shared.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/dict.h>
#include <libavutil/pixdesc.h>

#include "core/core_impl.h"
#include "io/io_impl.h"
#include "vigil/alloc.h"
#include "vigil/clock.h"
#include "vigil/log.h"
#include "vigil/video.h"

#define LOG_CTX "video-in"

struct vg_video_in {
    vg_video_in_params p;
    char              *uri;
    char              *format;
    char              *av_options;
    vg_source_kind     kind;
    bool               live;

    /* image sets */
    char  **images;
    int32_t n_images;
    int32_t next_image; /* index of the image the open segment shows + 1 */

    /* the open segment */
    AVFormatContext *fmt;
    AVCodecContext  *dec;
    int              stream;
    AVPacket        *pkt;
    AVFrame         *tmp;
    bool             draining; /* flush packet sent */
    bool             seg_started;
    int64_t          seg_first_pts;
    int64_t          seg_anchor;

    /* timeline */
    AVRational time_base;
    AVRational frame_rate;
    int64_t    frame_dur; /* one frame in time_base, >= 1 */
    int64_t    first_pts;
    int64_t    last_pts;
    bool       any_frame;
    int64_t    next_index;
    int64_t    pace_start_ns;

    /* info captured from the first segment */
    int     width, height, pix_fmt;
    int64_t nb_frames;
    char    codec[32];

    int64_t           deadline_ns; /* 0: none */
    atomic_bool       interrupted;
    int               corrupt_run;
    char              end_reason[200]; /* why the live segment ended */
    vg_video_in_stats stats;
    char              errmsg[512];
};

/* ---- classification ------------------------------------------------------ */

static const char *const image_exts[] = {".jpg",  ".jpeg", ".png", ".bmp", ".webp", ".tif",
                                         ".tiff", ".ppm",  ".pgm", ".pnm", ".gif"};

static bool has_image_ext(const char *path) {
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/'))
        return false;
    for (size_t i = 0; i < VGI_ARRAY_SIZE(image_exts); i++)
        if (!strcasecmp(dot, image_exts[i]))
            return true;
    return false;
}

static bool is_url(const char *uri) {
    const char *colon = strstr(uri, "://");
    if (!colon || colon == uri)
        return false;
    for (const char *c = uri; c < colon; c++)
        if (!isalnum((unsigned char)*c) && *c != '+' && *c != '-' && *c != '.')
            return false;
    return true;
}

vg_source_kind vg_source_kind_of(const char *uri) {
    if (!uri)
        return VG_SOURCE_FILE;
    if (is_url(uri)) {
        if (!strncasecmp(uri, "file://", 7))
            return has_image_ext(uri) ? VG_SOURCE_IMAGE : VG_SOURCE_FILE;
        if (!strncasecmp(uri, "v4l2://", 7))
            return VG_SOURCE_CAMERA;
        return VG_SOURCE_STREAM;
    }
    if (!strncmp(uri, "/dev/video", 10))
        return VG_SOURCE_CAMERA;
    struct stat sb;
    if (stat(uri, &sb) == 0) {
        if (S_ISDIR(sb.st_mode))
            return VG_SOURCE_IMAGES;
        if (S_ISCHR(sb.st_mode))
            return VG_SOURCE_CAMERA;
        return has_image_ext(uri) ? VG_SOURCE_IMAGE : VG_SOURCE_FILE;
    }
    if (strpbrk(uri, "*?["))
        return VG_SOURCE_IMAGES;
    return has_image_ext(uri) ? VG_SOURCE_IMAGE : VG_SOURCE_FILE;
}

const char *vg_source_kind_name(vg_source_kind k) {
    switch (k) {
    case VG_SOURCE_FILE:
        return "file";
    case VG_SOURCE_IMAGE:
        return "image";
    case VG_SOURCE_IMAGES:
        return "images";
    case VG_SOURCE_STREAM:
        return "stream";
    case VG_SOURCE_CAMERA:
        return "camera";
    }
    return "unknown";
}

/* ---- helpers --------------------------------------------------------------- */

static vg_status fail(vg_video_in *v, vg_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static vg_status fail(vg_video_in *v, vg_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->errmsg, sizeof(v->errmsg), fmt, ap);
    va_end(ap);
    return st;
}

static int interrupt_cb(void *opaque) {
    vg_video_in *v = opaque;
    if (atomic_load_explicit(&v->interrupted, memory_order_relaxed))
        return 1;
    return v->deadline_ns > 0 && vg_clock_ns() > v->deadline_ns;
}

static bool interrupted(const vg_video_in *v) {
    return atomic_load_explicit(&((vg_video_in *)v)->interrupted, memory_order_relaxed);
}

/* Sleeps ns in short steps; false if interrupted meanwhile. */
static bool sleep_interruptible(vg_video_in *v, int64_t ns) {
    int64_t end = vg_clock_ns() + ns;
    for (;;) {
        if (interrupted(v))
            return false;
        int64_t left = end - vg_clock_ns();
        if (left <= 0)
            return true;
        vg_sleep_ns(VGI_MIN(left, 20 * VG_NS_PER_MS));
    }
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static vg_status add_image(vg_video_in *v, const char *path, int32_t *cap) {
    if (v->n_images == *cap) {
        int32_t n   = *cap ? *cap * 2 : 64;
        char  **arr = vg_realloc(v->images, (size_t)n * sizeof(*arr));
        if (!arr)
            return VG_E_NOMEM;
        v->images = arr;
        *cap      = n;
    }
    if (!(v->images[v->n_images] = vg_strdup(path)))
        return VG_E_NOMEM;
    v->n_images++;
    return VG_OK;
}

/* Fills v->images with the sorted image list of a folder, glob or single image. */
static vg_status list_images(vg_video_in *v) {
    int32_t     cap = 0;
    vg_status   st  = VG_OK;
    struct stat sb;
    if (v->kind == VG_SOURCE_IMAGE) {
        st = add_image(v, v->uri, &cap);
    } else if (stat(v->uri, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(v->uri);
        if (!d)
            return fail(v, VG_E_IO, "cannot read folder '%s': %s", v->uri, strerror(errno));
        struct dirent *e;
        char           path[4096];
        while (st == VG_OK && (e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.' || !has_image_ext(e->d_name))
                continue;
            size_t ul = strlen(v->uri);
            snprintf(path, sizeof(path), "%s%s%s", v->uri,
                     ul > 0 && v->uri[ul - 1] == '/' ? "" : "/", e->d_name);
            st = add_image(v, path, &cap);
        }
        closedir(d);
    } else {
        glob_t g;
        int    rc = glob(v->uri, 0, NULL, &g);
        if (rc == 0)
            for (size_t i = 0; st == VG_OK && i < g.gl_pathc; i++)
                if (stat(g.gl_pathv[i], &sb) == 0 && S_ISREG(sb.st_mode))
                    st = add_image(v, g.gl_pathv[i], &cap);
        globfree(&g);
        if (rc == GLOB_NOSPACE)
            return VG_E_NOMEM;
    }
    if (st != VG_OK)
        return st;
    if (v->n_images == 0)
        return fail(v, VG_E_NOT_FOUND,
                    "'%s': no image files (%s ...) found; give a folder, a glob such as "
                    "'dir/*.jpg', a video file or a stream URL",
                    v->uri, image_exts[0]);
    qsort(v->images, (size_t)v->n_images, sizeof(char *), cmp_str);
    return VG_OK;
}

static void close_segment(vg_video_in *v) {
    avcodec_free_context(&v->dec);
    avformat_close_input(&v->fmt);
    v->draining      = false;
    v->seg_started   = false;
    v->end_reason[0] = '\0';
}

/* Opens `url` with its decoder as the current segment. */
static vg_status open_segment(vg_video_in *v, const char *url) {
    vg_status     st;
    AVDictionary *opts = NULL;
    int           ret;
    close_segment(v);

    const AVInputFormat *ifmt = NULL;
    if (v->format && !(ifmt = av_find_input_format(v->format)))
        return fail(v, VG_E_UNSUPPORTED, "unknown input format '%s' for '%s'", v->format, url);
    if (!v->format && v->kind == VG_SOURCE_CAMERA)
        ifmt = av_find_input_format("video4linux2");
    if (v->av_options && (ret = av_dict_parse_string(&opts, v->av_options, "=", ",", 0)) < 0) {
        av_dict_free(&opts);
        return vgi_av_status(ret, v->errmsg, sizeof(v->errmsg),
                             "bad av_options '%s' (want k=v,k=v)", v->av_options) == VG_E_NOMEM
                   ? VG_E_NOMEM
                   : VG_E_INVALID_ARG;
    }
    if (!(v->fmt = avformat_alloc_context())) {
        av_dict_free(&opts);
        return VG_E_NOMEM;
    }
    v->fmt->interrupt_callback = (AVIOInterruptCB){.callback = interrupt_cb, .opaque = v};
    if (v->live) {
        /* Start decoding sooner: a live stream has no header to wait for.
         * (Not AVFMT_FLAG_NOBUFFER: it would discard the key frame probed
         * here, and decoding would wait for the next one.) */
        v->fmt->probesize            = 1 << 20;
        v->fmt->max_analyze_duration = 2 * AV_TIME_BASE;
    }
    v->deadline_ns = v->live && v->p.open_timeout_ns > 0 ? vg_clock_ns() + v->p.open_timeout_ns : 0;
    ret            = avformat_open_input(&v->fmt, url, ifmt, &opts);
    av_dict_free(&opts);
    if (ret < 0) {
        /* avformat_open_input frees the context on failure */
        v->deadline_ns = 0;
        return vgi_av_status(ret, v->errmsg, sizeof(v->errmsg), "cannot open '%s'", url);
    }
    if ((ret = avformat_find_stream_info(v->fmt, NULL)) < 0) {
        st = vgi_av_status(ret, v->errmsg, sizeof(v->errmsg), "'%s': cannot read stream info", url);
        goto fail;
    }
    v->deadline_ns       = 0;
    const AVCodec *codec = NULL;
    ret                  = av_find_best_stream(v->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (ret < 0) {
        st = ret == AVERROR_DECODER_NOT_FOUND ? VG_E_UNSUPPORTED : VG_E_FORMAT;
        fail(v, st, "'%s': %s", url,
             st == VG_E_UNSUPPORTED ? "no decoder for its video codec in this FFmpeg build"
                                    : "no video stream in it (is it an audio file?)");
        goto fail;
    }
    v->stream   = ret;
    AVStream *s = v->fmt->streams[v->stream];
    if (!(v->dec = avcodec_alloc_context3(codec))) {
        st = VG_E_NOMEM;
        goto fail;
    }
    if ((ret = avcodec_parameters_to_context(v->dec, s->codecpar)) < 0) {
        st = vgi_av_status(ret, v->errmsg, sizeof(v->errmsg), "'%s': decoder parameters", url);
        goto fail;
    }
    v->dec->pkt_timebase = s->time_base;
    if (v->kind == VG_SOURCE_IMAGE || v->kind == VG_SOURCE_IMAGES) {
        v->dec->thread_count = 1; /* one picture: threads cost more than they give */
    } else {
        v->dec->thread_count = v->p.decode_threads;
        /* Frame threads add one frame of latency per thread: files only. */
        v->dec->thread_type = v->live ? FF_THREAD_SLICE : FF_THREAD_FRAME | FF_THREAD_SLICE;
    }
    if ((ret = avcodec_open2(v->dec, codec, NULL)) < 0) {
        st = vgi_av_status(ret, v->errmsg, sizeof(v->errmsg), "'%s': cannot open the %s decoder",
                           url, codec->name);
        goto fail;
    }
    v->seg_started = false;
    v->draining    = false;
    return VG_OK;

fail:
    v->deadline_ns = 0;
    close_segment(v);
    return st;
}

/* Called once after the first segment opened: fills the handle's info. */
static void take_info(vg_video_in *v) {
    AVStream *s = v->fmt->streams[v->stream];
    v->width    = v->dec->width;
    v->height   = v->dec->height;
    v->pix_fmt  = v->dec->pix_fmt;
    snprintf(v->codec, sizeof(v->codec), "%s", v->dec->codec ? v->dec->codec->name : "?");
    if (v->kind == VG_SOURCE_IMAGE || v->kind == VG_SOURCE_IMAGES) {
        v->frame_rate = v->p.image_rate;
        v->time_base  = av_inv_q(v->p.image_rate);
        v->nb_frames  = v->n_images;
    } else {
        v->time_base  = s->time_base;
        v->frame_rate = av_guess_frame_rate(v->fmt, s, NULL);
        if (v->frame_rate.num <= 0 || v->frame_rate.den <= 0)
            v->frame_rate = (AVRational){25, 1};
        v->nb_frames = -1;
        if (!v->live) {
            if (s->nb_frames > 0)
                v->nb_frames = s->nb_frames;
            else if (v->fmt->duration > 0)
                v->nb_frames =
                    av_rescale_q(v->fmt->duration, AV_TIME_BASE_Q, av_inv_q(v->frame_rate));
        }
    }
    v->frame_dur = av_rescale_q(1, av_inv_q(v->frame_rate), v->time_base);
    if (v->frame_dur < 1)
        v->frame_dur = 1;
}

/* Opens the next image of the set; VG_E_EOF after the last. Unreadable
 * images are skipped with a warning. */
static vg_status open_next_image(vg_video_in *v) {
    while (v->next_image < v->n_images) {
        const char *path = v->images[v->next_image++];
        vg_status   st   = open_segment(v, path);
        if (st == VG_OK)
            return VG_OK;
        if (st == VG_E_NOMEM || st == VG_E_CLOSED)
            return st;
        vg_log(LOG_CTX, VG_LOG_WARN, "image %d skipped: %s", v->next_image - 1, v->errmsg);
        v->next_index++;
    }
    return VG_E_EOF;
}

/* Closes the live segment and reopens it with backoff. */
static vg_status reconnect(vg_video_in *v, const char *why) {
    if (v->any_frame)
        vg_log(LOG_CTX, VG_LOG_WARN, "live source '%s' lost (%s); reconnecting", v->uri, why);
    else
        vg_log(LOG_CTX, VG_LOG_WARN, "live source '%s' not ready (%s); retrying", v->uri, why);
    close_segment(v); /* `why` may point into v: use it before this */
    int64_t delay = v->p.reconnect_delay_ns;
    for (int attempt = 1; v->p.reconnect_attempts < 0 || attempt <= v->p.reconnect_attempts;
         attempt++) {
        if (!sleep_interruptible(v, delay))
            return fail(v, VG_E_CLOSED, "'%s': interrupted while reconnecting", v->uri);
        vg_status st = open_segment(v, v->uri);
        if (st == VG_OK) {
            v->stats.reconnects++;
            vg_log(LOG_CTX, VG_LOG_INFO, "live source '%s' reconnected (attempt %d)", v->uri,
                   attempt);
            return VG_OK;
        }
        if (st == VG_E_NOMEM)
            return st;
        if (interrupted(v))
            return fail(v, VG_E_CLOSED, "'%s': interrupted while reconnecting", v->uri);
        vg_log(LOG_CTX, VG_LOG_WARN, "reconnect attempt %d to '%s' failed: %s", attempt, v->uri,
               v->errmsg);
        delay = VGI_MIN(delay * 2, v->p.reconnect_max_delay_ns);
    }
    char last[sizeof(v->errmsg)];
    snprintf(last, sizeof(last), "%s", v->errmsg);
    return fail(v, VG_E_IO,
                "live source '%s' did not come back after %d reconnect attempts (last error: %s); "
                "check the stream, or raise reconnect_attempts",
                v->uri, v->p.reconnect_attempts, last);
}

/* ---- public ------------------------------------------------------------------ */

vg_video_in_params vg_video_in_params_default(void) {
    return (vg_video_in_params){
        .live                   = VG_LIVE_AUTO,
        .image_rate             = {1, 1},
        .reconnect_attempts     = 10,
        .reconnect_delay_ns     = 500 * VG_NS_PER_MS,
        .reconnect_max_delay_ns = 5 * VG_NS_PER_S,
        .open_timeout_ns        = 10 * VG_NS_PER_S,
        .io_timeout_ns          = 5 * VG_NS_PER_S,
        .max_corrupt_run        = 100,
    };
}

void vg_video_in_close(vg_video_in *v) {
    if (!v)
        return;
    close_segment(v);
    av_packet_free(&v->pkt);
    av_frame_free(&v->tmp);
    for (int32_t i = 0; i < v->n_images; i++)
        vg_free(v->images[i]);
    vg_free(v->images);
    vg_free(v->uri);
    vg_free(v->format);
    vg_free(v->av_options);
    vg_free(v);
}

vg_status vg_video_in_open(const vg_video_in_params *p, vg_video_in **out, char *errmsg,
                           size_t errmsg_size) {
    *out = NULL;
    if (errmsg && errmsg_size)
        errmsg[0] = '\0';
    if (!p || !p->uri || !p->uri[0]) {
        if (errmsg)
            snprintf(errmsg, errmsg_size,
                     "no input given: pass a file, folder, URL or /dev/videoN");
        return VG_E_INVALID_ARG;
    }
    if (p->image_rate.num <= 0 || p->image_rate.den <= 0 || p->reconnect_delay_ns < 0) {
        if (errmsg)
            snprintf(errmsg, errmsg_size, "'%s': image_rate must be > 0 and delays >= 0", p->uri);
        return VG_E_INVALID_ARG;
    }
    vgi_av_log_init();
    vg_video_in *v = vg_calloc(1, sizeof(*v));
    if (!v)
        return VG_E_NOMEM;
    vg_status st  = VG_OK;
    v->p          = *p;
    v->uri        = vg_strdup(p->uri);
    v->format     = p->format ? vg_strdup(p->format) : NULL;
    v->av_options = p->av_options ? vg_strdup(p->av_options) : NULL;
    v->pkt        = av_packet_alloc();
    v->tmp        = av_frame_alloc();
    if (!v->uri || (p->format && !v->format) || (p->av_options && !v->av_options) || !v->pkt ||
        !v->tmp) {
        st = VG_E_NOMEM;
        goto fail;
    }
    v->p.uri        = v->uri;
    v->p.format     = v->format;
    v->p.av_options = v->av_options;
    if (v->p.reconnect_max_delay_ns < v->p.reconnect_delay_ns)
        v->p.reconnect_max_delay_ns = v->p.reconnect_delay_ns;
    if (v->p.reconnect_delay_ns == 0)
        v->p.reconnect_delay_ns = 1;
    atomic_init(&v->interrupted, false);
    v->kind = vg_source_kind_of(v->uri);
    v->live = v->kind == VG_SOURCE_STREAM || v->kind == VG_SOURCE_CAMERA;
    if (p->live != VG_LIVE_AUTO)
        v->live = p->live == VG_LIVE_ON;

    if (v->kind == VG_SOURCE_IMAGE || v->kind == VG_SOURCE_IMAGES) {
        if ((st = list_images(v)) != VG_OK)
            goto fail;
        if ((st = open_next_image(v)) != VG_OK) {
            if (st == VG_E_EOF) {
                st = VG_E_FORMAT;
                fail(v, st, "'%s': none of its %d images could be decoded", v->uri, v->n_images);
            }
            goto fail;
        }
    } else {
        st = open_segment(v, v->uri);
        if (st != VG_OK && v->live && st != VG_E_NOMEM && st != VG_E_CLOSED &&
            st != VG_E_UNSUPPORTED && st != VG_E_INVALID_ARG) {
            st                  = reconnect(v, v->errmsg);
            v->stats.reconnects = 0;
        }
        if (st != VG_OK) {
            if (st == VG_E_NOT_FOUND) {
                char m[sizeof(v->errmsg)];
                snprintf(m, sizeof(m), "%s", v->errmsg);
                fail(v, st, "%s (check the path; folders, globs and URLs are accepted too)", m);
            }
            goto fail;
        }
        /* http(s) may be a file or a live feed: no duration means live. */
        if (p->live == VG_LIVE_AUTO && v->kind == VG_SOURCE_STREAM &&
            !strncasecmp(v->uri, "http", 4) && v->fmt->duration > 0)
            v->live = false;
    }
    take_info(v);
    *out = v;
    return VG_OK;

fail:
    if (errmsg)
        snprintf(errmsg, errmsg_size, "%s", v->errmsg[0] ? v->errmsg : vg_status_str(st));
    vg_video_in_close(v);
    return st;
}

void vg_video_in_interrupt(vg_video_in *v) {
    atomic_store_explicit(&v->interrupted, true, memory_order_relaxed);
}

/* Maps a decoded picture's pts onto the handle's monotonic timeline. */
static int64_t map_pts(vg_video_in *v, const AVFrame *f) {
    int64_t raw;
    if (v->kind == VG_SOURCE_IMAGE || v->kind == VG_SOURCE_IMAGES)
        return v->next_image - 1; /* image number, in 1/image_rate */
    raw = f->best_effort_timestamp;
    if (raw == AV_NOPTS_VALUE)
        raw = f->pts;
    if (!v->seg_started) {
        v->seg_started   = true;
        v->seg_first_pts = raw;
        /* The first segment keeps the source's own pts; later ones continue
         * one frame after the last pts handed out. */
        v->seg_anchor =
            !v->any_frame ? (raw == AV_NOPTS_VALUE ? 0 : raw) : v->last_pts + v->frame_dur;
    }
    int64_t pts = raw == AV_NOPTS_VALUE || v->seg_first_pts == AV_NOPTS_VALUE
                      ? (v->any_frame ? v->last_pts + v->frame_dur : v->seg_anchor)
                      : v->seg_anchor + (raw - v->seg_first_pts);
    if (v->any_frame && pts <= v->last_pts)
        pts = v->last_pts + 1;
    return pts;
}

static vg_status deliver(vg_video_in *v, AVFrame *dst, vg_video_frame_info *info) {
    int64_t pts = map_pts(v, v->tmp);
    if (!v->any_frame) {
        v->any_frame = true;
        v->first_pts = pts;
    }
    v->last_pts = pts;
    double t    = (double)(pts - v->first_pts) * av_q2d(v->time_base);
    if (v->p.realtime) {
        int64_t now = vg_clock_ns();
        if (v->pace_start_ns == 0)
            v->pace_start_ns = now;
        int64_t due = v->pace_start_ns + (int64_t)(t * 1e9);
        if (due > now && !sleep_interruptible(v, due - now)) {
            av_frame_unref(v->tmp);
            return fail(v, VG_E_CLOSED, "'%s': interrupted", v->uri);
        }
    }
    av_frame_unref(dst);
    av_frame_move_ref(dst, v->tmp);
    dst->pts = pts;
    if (info) {
        info->index      = v->next_index;
        info->pts        = pts;
        info->time_s     = t;
        info->capture_ns = vg_clock_ns();
        info->image =
            v->kind == VG_SOURCE_IMAGE || v->kind == VG_SOURCE_IMAGES ? v->next_image - 1 : -1;
    }
    v->next_index++;
    v->stats.frames++;
    v->corrupt_run = 0;
    return VG_OK;
}

/* The segment ended (EOF of the decoder). */
static vg_status segment_ended(vg_video_in *v, const char *why) {
    if (v->kind == VG_SOURCE_IMAGE || v->kind == VG_SOURCE_IMAGES) {
        close_segment(v);
        return open_next_image(v);
    }
    if (v->live)
        return reconnect(v, why);
    return VG_E_EOF;
}

static vg_status corrupt(vg_video_in *v) {
    if (++v->corrupt_run > v->p.max_corrupt_run)
        return fail(v, VG_E_FORMAT,
                    "'%s': %d corrupt packets/pictures in a row near frame %lld; giving up "
                    "(the file is damaged or not a video)",
                    v->uri, v->corrupt_run, (long long)v->next_index);
    return VG_OK;
}

vg_status vg_video_in_read(vg_video_in *v, AVFrame *dst, vg_video_frame_info *info) {
    vg_status st;
    int       ret;
    v->errmsg[0] = '\0';
    for (;;) {
        if (interrupted(v))
            return fail(v, VG_E_CLOSED, "'%s': interrupted", v->uri);
        if (!v->dec) {
            /* a failed reconnect or the end of an image set left nothing open */
            return v->kind == VG_SOURCE_IMAGE || v->kind == VG_SOURCE_IMAGES
                       ? VG_E_EOF
                       : fail(v, VG_E_IO, "'%s': source is closed", v->uri);
        }
        ret = avcodec_receive_frame(v->dec, v->tmp);
        if (ret >= 0) {
            bool bad = (v->tmp->flags & AV_FRAME_FLAG_CORRUPT) || v->tmp->decode_error_flags;
            if (!bad)
                return deliver(v, dst, info);
            vg_log(LOG_CTX, VG_LOG_WARN, "'%s': frame %lld is corrupt; skipped", v->uri,
                   (long long)v->next_index);
            av_frame_unref(v->tmp);
            v->next_index++;
            v->stats.corrupt_frames++;
            if ((st = corrupt(v)) != VG_OK)
                return st;
            continue;
        }
        if (ret == AVERROR_EOF) {
            if ((st = segment_ended(v, v->end_reason[0] ? v->end_reason : "end of stream")) !=
                VG_OK)
                return st;
            continue;
        }
        if (ret != AVERROR(EAGAIN)) {
            st = vgi_av_status(ret, v->errmsg, sizeof(v->errmsg), "decoding frame %lld",
                               (long long)v->next_index);
            if (st == VG_E_NOMEM)
                return st;
            vg_log(LOG_CTX, VG_LOG_WARN, "'%s': %s; skipped", v->uri, v->errmsg);
            v->next_index++;
            v->stats.corrupt_frames++;
            if ((st = corrupt(v)) != VG_OK)
                return st;
            continue;
        }
        /* The decoder wants input. */
        if (v->draining) /* cannot happen: a drained decoder returns EOF */
            return fail(v, VG_E_INTERNAL, "'%s': decoder stalled while draining", v->uri);
        v->deadline_ns = v->live && v->p.io_timeout_ns > 0 ? vg_clock_ns() + v->p.io_timeout_ns : 0;
        ret            = av_read_frame(v->fmt, v->pkt);
        bool timed_out = ret < 0 && v->deadline_ns > 0 && vg_clock_ns() > v->deadline_ns;
        v->deadline_ns = 0;
        if (ret < 0) {
            if (interrupted(v))
                return fail(v, VG_E_CLOSED, "'%s': interrupted", v->uri);
            if (ret != AVERROR_EOF && !v->live && v->kind != VG_SOURCE_IMAGES &&
                v->kind != VG_SOURCE_IMAGE) {
                /* A damaged file: report it, then treat it as its end. */
                vgi_av_status(ret, v->errmsg, sizeof(v->errmsg), "reading '%s' near frame %lld",
                              v->uri, (long long)v->next_index);
                vg_log(LOG_CTX, VG_LOG_WARN, "%s; ending the input there", v->errmsg);
            }
            if (v->live) {
                /* Drain what the decoder holds, then reconnect (segment_ended). */
                if (timed_out)
                    snprintf(v->end_reason, sizeof(v->end_reason), "no data for %.1f s",
                             (double)v->p.io_timeout_ns / 1e9);
                else
                    vgi_av_status(ret, v->end_reason, sizeof(v->end_reason), "read");
            }
            /* End of input: drain the decoder's delayed pictures. */
            v->draining = true;
            ret         = avcodec_send_packet(v->dec, NULL);
            if (ret < 0 && ret != AVERROR_EOF)
                return vgi_av_status(ret, v->errmsg, sizeof(v->errmsg), "'%s': flushing decoder",
                                     v->uri);
            continue;
        }
        if (v->pkt->stream_index != v->stream) {
            av_packet_unref(v->pkt);
            continue;
        }
        ret             = avcodec_send_packet(v->dec, v->pkt);
        int64_t pkt_pts = v->pkt->pts;
        av_packet_unref(v->pkt);
        if (ret < 0 && ret != AVERROR(EAGAIN)) {
            st = vgi_av_status(ret, v->errmsg, sizeof(v->errmsg), "decoding packet (pts %lld)",
                               (long long)pkt_pts);
            if (st == VG_E_NOMEM)
                return st;
            vg_log(LOG_CTX, VG_LOG_WARN, "'%s': frame %lld: corrupt packet skipped: %s", v->uri,
                   (long long)v->next_index, v->errmsg);
            v->stats.corrupt_packets++;
            if ((st = corrupt(v)) != VG_OK)
                return st;
        }
    }
}

void vg_video_in_get_info(const vg_video_in *v, vg_video_info *out) {
    *out = (vg_video_info){
        .kind       = v->kind,
        .live       = v->live,
        .width      = v->width,
        .height     = v->height,
        .pix_fmt    = v->pix_fmt,
        .time_base  = v->time_base,
        .frame_rate = v->frame_rate,
        .nb_frames  = v->nb_frames,
        .codec      = v->codec,
        .uri        = v->uri,
    };
}

void vg_video_in_get_stats(const vg_video_in *v, vg_video_in_stats *out) {
    *out = v->stats;
}

const char *vg_video_in_errmsg(const vg_video_in *v) {
    return v->errmsg;
}
