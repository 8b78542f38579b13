/*
 * sinks.c - built-in sources and sinks: the video source adapter, JSON Lines
 * and MP4.
 *
 * DESIGN
 * Each sink is a context struct behind a const vg_sink_iface. Everything
 * runs in the writer thread, so a sink keeps no locks. The JSON Lines sink
 * builds one jansson object per frame and flushes after each line, so the
 * file is complete up to the last written frame whatever happens next. The
 * MP4 sink opens its vg_video_out at open() from the source's info; with an
 * annotate callback it converts each picture into a reused canvas of the
 * requested pixel format (one swscale pass), lets the callback draw on it,
 * and encodes the canvas; without one it encodes the decoded picture as is.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/pipeline.h"

/* ---- video source ------------------------------------------------------------ */

static vg_status video_read(void *ctx, vg_frame **out) {
    vg_video_source *vs = ctx;
    vg_frame        *f  = NULL;
    vg_status        st = vs->pool ? vg_frame_pool_get(vs->pool, &f) : vg_frame_create(&f);
    *out                = NULL;
    if (st != VG_OK)
        return st;
    vg_video_frame_info info;
    st = vg_video_in_read(vs->in, f->av, &info);
    if (st != VG_OK) {
        vg_frame_unref(f);
        if (st != VG_E_EOF && st != VG_E_CLOSED)
            vg_log("video-in", VG_LOG_ERROR, "%s", vg_video_in_errmsg(vs->in));
        return st;
    }
    f->index      = info.index;
    f->pts        = info.pts;
    f->time_base  = vs->time_base;
    f->time_s     = info.time_s;
    f->capture_ns = info.capture_ns;
    *out          = f;
    return VG_OK;
}

static void video_interrupt(void *ctx) {
    vg_video_in_interrupt(((vg_video_source *)ctx)->in);
}

void vg_video_source_init(vg_video_source *vs, vg_video_in *in, vg_frame_pool *pool,
                          vg_source *src) {
    vg_video_info info;
    vg_video_in_get_info(in, &info);
    vs->in        = in;
    vs->pool      = pool;
    vs->time_base = info.time_base;
    *src          = (vg_source){.read = video_read, .interrupt = video_interrupt, .ctx = vs};
}

/* ---- common ---------------------------------------------------------------- */

typedef struct jsonl_sink {
    char *path;
    FILE *fp;
    char  errmsg[512];
} jsonl_sink;

typedef struct mp4_sink {
    vg_mp4_sink_params p;
    char              *path;
    char               preset[32];
    vg_video_out      *out;
    AVRational         time_base;
    AVFrame           *canvas;
    struct SwsContext *sws;
    char               errmsg[512];
} mp4_sink;

static const vg_sink_iface jsonl_iface;
static const vg_sink_iface mp4_iface;

void vg_sink_destroy(vg_sink *s) {
    if (!s || !s->iface)
        return;
    if (s->iface->destroy)
        s->iface->destroy(s->ctx);
    s->iface = NULL;
    s->ctx   = NULL;
}

const char *vg_sink_errmsg(const vg_sink *s) {
    if (s && s->iface == &jsonl_iface)
        return ((jsonl_sink *)s->ctx)->errmsg;
    if (s && s->iface == &mp4_iface)
        return ((mp4_sink *)s->ctx)->errmsg;
    return "";
}

/* ---- JSON Lines ---------------------------------------------------------------- */

/* A JSON number, or null for NaN/inf (which JSON cannot hold). */
static json_t *num(double x) {
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *box_json(const vg_box *b) {
    return json_pack("[o, o, o, o]", num(b->x1), num(b->y1), num(b->x2), num(b->y2));
}

static json_t *frame_json(const vg_frame *f) {
    json_t *persons = json_array(), *dets = json_array();
    if (f->n_poses > 0) {
        for (int32_t i = 0; i < f->n_poses; i++) {
            const vg_pose *p  = &f->poses[i];
            json_t        *kp = json_array();
            for (int32_t k = 0; kp && k < p->n_keypoints && k < VG_MAX_KEYPOINTS; k++)
                json_array_append_new(kp, json_pack("[o, o, o]", num(p->kp[k].x), num(p->kp[k].y),
                                                    num(p->kp[k].score)));
            json_array_append_new(persons,
                                  json_pack("{s:o, s:o, s:o, s:o}", "box", box_json(&p->det.box),
                                            "score", num(p->det.score), "pose_score", num(p->score),
                                            "keypoints", kp));
        }
    }
    for (int32_t i = 0; i < f->n_detections; i++) {
        const vg_detection *d = &f->detections[i];
        if (d->class_id == 0 && f->n_poses == 0)
            json_array_append_new(persons, json_pack("{s:o, s:o, s:[]}", "box", box_json(&d->box),
                                                     "score", num(d->score), "keypoints"));
        else if (d->class_id != 0)
            json_array_append_new(dets,
                                  json_pack("{s:o, s:o, s:i}", "box", box_json(&d->box), "score",
                                            num(d->score), "class", (int)d->class_id));
    }
    return json_pack("{s:I, s:I, s:o, s:i, s:o, s:o}", "frame", (json_int_t)f->index, "pts",
                     (json_int_t)f->pts, "time", num(f->time_s), "n_persons", (int)f->n_persons,
                     "persons", persons, "detections", dets);
}

static vg_status jsonl_open(void *ctx, const vg_video_info *info) {
    (void)info;
    jsonl_sink *s = ctx;
    if (!strcmp(s->path, "-")) {
        s->fp = stdout;
        return VG_OK;
    }
    if (!(s->fp = fopen(s->path, "w"))) {
        snprintf(s->errmsg, sizeof(s->errmsg), "cannot create '%s': %s", s->path, strerror(errno));
        return VG_E_IO;
    }
    return VG_OK;
}

static vg_status jsonl_write(void *ctx, const vg_frame *f) {
    jsonl_sink *s = ctx;
    json_t     *o = frame_json(f);
    if (!o)
        return VG_E_NOMEM;
    int rc = json_dumpf(o, s->fp, JSON_COMPACT | JSON_REAL_PRECISION(6) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (rc != 0 || fputc('\n', s->fp) == EOF || fflush(s->fp) != 0) {
        snprintf(s->errmsg, sizeof(s->errmsg), "writing '%s' failed: %s", s->path, strerror(errno));
        return VG_E_IO;
    }
    return VG_OK;
}

static vg_status jsonl_close(void *ctx) {
    jsonl_sink *s = ctx;
    if (!s->fp)
        return VG_OK;
    int rc = s->fp == stdout ? fflush(stdout) : fclose(s->fp);
    s->fp  = NULL;
    if (rc != 0) {
        snprintf(s->errmsg, sizeof(s->errmsg), "closing '%s' failed: %s", s->path, strerror(errno));
        return VG_E_IO;
    }
    return VG_OK;
}

static void jsonl_destroy(void *ctx) {
    jsonl_sink *s = ctx;
    if (s->fp && s->fp != stdout)
        fclose(s->fp);
    vg_free(s->path);
    vg_free(s);
}

static const vg_sink_iface jsonl_iface = {
    .name    = "jsonl",
    .open    = jsonl_open,
    .write   = jsonl_write,
    .close   = jsonl_close,
    .destroy = jsonl_destroy,
};

vg_status vg_jsonl_sink_create(const char *path, vg_sink *out) {
    *out = (vg_sink){0};
    if (!path || !path[0])
        return VG_E_INVALID_ARG;
    jsonl_sink *s = vg_calloc(1, sizeof(*s));
    if (!s || !(s->path = vg_strdup(path))) {
        vg_free(s);
        return VG_E_NOMEM;
    }
    *out = (vg_sink){.iface = &jsonl_iface, .ctx = s};
    return VG_OK;
}

/* ---- MP4 ------------------------------------------------------------------------ */

vg_mp4_sink_params vg_mp4_sink_params_default(void) {
    return (vg_mp4_sink_params){
        .crf = 23, .preset = "ultrafast", .annotate_format = AV_PIX_FMT_BGRA};
}

static vg_status mp4_open(void *ctx, const vg_video_info *info) {
    mp4_sink           *s  = ctx;
    vg_video_out_params op = vg_video_out_params_default();
    op.path                = s->path;
    op.width               = info->width;
    op.height              = info->height;
    op.frame_rate          = info->frame_rate;
    op.time_base           = info->time_base;
    op.crf                 = s->p.crf;
    op.preset              = s->p.preset;
    op.fragmented          = s->p.fragmented;
    s->time_base           = info->time_base;
    return vg_video_out_open(&op, &s->out, s->errmsg, sizeof(s->errmsg));
}

static vg_status mp4_annotate(mp4_sink *s, const vg_frame *f) {
    const AVFrame *src = f->av;
    if (!s->canvas) {
        if (!(s->canvas = av_frame_alloc()))
            return VG_E_NOMEM;
        s->canvas->format = s->p.annotate_format;
        s->canvas->width  = src->width;
        s->canvas->height = src->height;
        if (av_frame_get_buffer(s->canvas, 0) < 0)
            return VG_E_NOMEM;
    }
    /* The encoder may still reference the previous canvas. */
    if (av_frame_make_writable(s->canvas) < 0)
        return VG_E_NOMEM;
    s->sws =
        sws_getCachedContext(s->sws, src->width, src->height, src->format, s->canvas->width,
                             s->canvas->height, s->canvas->format, SWS_BILINEAR, NULL, NULL, NULL);
    if (!s->sws) {
        snprintf(s->errmsg, sizeof(s->errmsg), "'%s': cannot convert %s pictures to %s", s->path,
                 av_get_pix_fmt_name(src->format) ? av_get_pix_fmt_name(src->format) : "?",
                 av_get_pix_fmt_name(s->canvas->format) ? av_get_pix_fmt_name(s->canvas->format)
                                                        : "?");
        return VG_E_UNSUPPORTED;
    }
    sws_scale(s->sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height,
              s->canvas->data, s->canvas->linesize);
    vg_status st = s->p.annotate(s->p.annotate_user, f, s->canvas);
    if (st != VG_OK)
        snprintf(s->errmsg, sizeof(s->errmsg), "'%s': drawing frame %lld failed: %s", s->path,
                 (long long)f->index, vg_status_str(st));
    return st;
}

static vg_status mp4_write(void *ctx, const vg_frame *f) {
    mp4_sink *s = ctx;
    if (!f->av || !f->av->data[0]) {
        snprintf(s->errmsg, sizeof(s->errmsg), "frame %lld has no picture", (long long)f->index);
        return VG_E_INVALID_ARG;
    }
    int64_t pts = f->pts;
    if (f->time_base.num > 0 && av_cmp_q(f->time_base, s->time_base) != 0)
        pts = av_rescale_q(pts, f->time_base, s->time_base);
    vg_status st;
    if (s->p.annotate) {
        if ((st = mp4_annotate(s, f)) != VG_OK)
            return st;
        st = vg_video_out_write(s->out, s->canvas, pts);
    } else {
        st = vg_video_out_write(s->out, f->av, pts);
    }
    if (st != VG_OK)
        snprintf(s->errmsg, sizeof(s->errmsg), "%s", vg_video_out_errmsg(s->out));
    return st;
}

static vg_status mp4_close(void *ctx) {
    mp4_sink *s  = ctx;
    vg_status st = vg_video_out_close(s->out, s->errmsg, sizeof(s->errmsg));
    s->out       = NULL;
    return st;
}

static void mp4_destroy(void *ctx) {
    mp4_sink *s = ctx;
    vg_video_out_close(s->out, NULL, 0);
    av_frame_free(&s->canvas);
    sws_freeContext(s->sws);
    vg_free(s->path);
    vg_free(s);
}

static const vg_sink_iface mp4_iface = {
    .name    = "mp4",
    .open    = mp4_open,
    .write   = mp4_write,
    .close   = mp4_close,
    .destroy = mp4_destroy,
};

vg_status vg_mp4_sink_create(const vg_mp4_sink_params *p, vg_sink *out) {
    *out = (vg_sink){0};
    if (!p || !p->path || !p->path[0] || (p->annotate && p->annotate_format < 0))
        return VG_E_INVALID_ARG;
    mp4_sink *s = vg_calloc(1, sizeof(*s));
    if (!s || !(s->path = vg_strdup(p->path))) {
        vg_free(s);
        return VG_E_NOMEM;
    }
    s->p      = *p;
    s->p.path = s->path;
    snprintf(s->preset, sizeof(s->preset), "%s", p->preset ? p->preset : "ultrafast");
    s->p.preset = s->preset;
    *out        = (vg_sink){.iface = &mp4_iface, .ctx = s};
    return VG_OK;
}
