/*
 * annotate.c - drawing results on frames for the sinks, and the snapshot
 * sink (annotated JPEGs every N frames).
 *
 * DESIGN
 * Drawing happens once per frame however many sinks show it. The annotator
 * remembers the last picture it drew on (by frame seq): the MP4 sink's canvas
 * when it is used as that sink's annotate callback, else its own BGRA canvas
 * (swscale from the decoded picture, bilinear like the MP4 sink). Sinks run
 * one after another in the writer thread, so a later sink of the same frame
 * finds the picture still valid and only reads it. The snapshot sink
 * compresses the BGRA picture with libjpeg-turbo's BGRX input, without a
 * conversion pass.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <jpeglib.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>

#include "vigil/alloc.h"
#include "vigil/analytics.h"
#include "vigil/log.h"

#define LOG_CTX "annotate"

struct vg_annotator {
    vg_draw           *draw;
    AVFrame           *canvas; /* own canvas (when no MP4 sink drew) */
    struct SwsContext *sws;
    const AVFrame     *last; /* the picture drawn for last_seq */
    int64_t            last_seq;
    /* Results scaled to a canvas of another size than the frame (image sets
     * whose pictures differ in size are written at the first one's size). */
    vg_frame *scaled;
};

vg_status vg_annotator_create(const vg_draw_params *params, vg_annotator **out) {
    *out            = NULL;
    vg_annotator *a = vg_calloc(1, sizeof(*a));
    if (!a)
        return VG_E_NOMEM;
    vg_status st = vg_draw_create(params, &a->draw);
    if (st != VG_OK) {
        vg_free(a);
        return st;
    }
    a->last_seq = -1;
    *out        = a;
    return VG_OK;
}

void vg_annotator_destroy(vg_annotator *a) {
    if (!a)
        return;
    vg_frame_unref(a->scaled);
    vg_draw_destroy(a->draw);
    av_frame_free(&a->canvas);
    sws_freeContext(a->sws);
    vg_free(a);
}

static void scale_box(vg_box *b, float sx, float sy) {
    b->x1 *= sx;
    b->x2 *= sx;
    b->y1 *= sy;
    b->y2 *= sy;
}

/* Copies f's results into a->scaled with coordinates scaled by (sx, sy). */
static vg_status scale_results(vg_annotator *a, const vg_frame *f, float sx, float sy) {
    if (!a->scaled && vg_frame_create(&a->scaled) != VG_OK)
        return VG_E_NOMEM;
    vg_frame *s = a->scaled;
    vg_frame_clear_results(s);
    if (vg_frame_reserve_detections(s, f->n_detections) != VG_OK ||
        vg_frame_reserve_poses(s, f->n_poses) != VG_OK)
        return VG_E_NOMEM;
    s->index = f->index;
    s->seq   = f->seq;
    for (int32_t i = 0; i < f->n_detections; i++) {
        s->detections[i] = f->detections[i];
        scale_box(&s->detections[i].box, sx, sy);
    }
    for (int32_t i = 0; i < f->n_poses; i++) {
        vg_pose *p = &s->poses[i];
        *p         = f->poses[i];
        scale_box(&p->det.box, sx, sy);
        for (int32_t k = 0; k < p->n_keypoints; k++) {
            p->kp[k].x *= sx;
            p->kp[k].y *= sy;
        }
    }
    s->n_detections = f->n_detections;
    s->n_poses      = f->n_poses;
    s->n_persons    = f->n_persons;
    return VG_OK;
}

vg_status vg_annotator_draw(void *user, const vg_frame *f, AVFrame *canvas) {
    vg_annotator *a = user;
    if (canvas->format != AV_PIX_FMT_BGRA)
        return VG_E_INVALID_ARG;
    vg_image_view v = {canvas->data[0], canvas->width, canvas->height, canvas->linesize[0],
                       VG_PIXFMT_BGRA};
    if (f->av && f->av->width > 0 && f->av->height > 0 &&
        (f->av->width != canvas->width || f->av->height != canvas->height)) {
        vg_status sst = scale_results(a, f, (float)canvas->width / (float)f->av->width,
                                      (float)canvas->height / (float)f->av->height);
        if (sst != VG_OK)
            return sst;
        f = a->scaled;
    }
    /* Poses carry their person boxes; other classes are drawn as boxes. A frame
     * without poses shows all its detections. */
    size_t n_other = 0;
    if (f->n_poses > 0) {
        for (int32_t i = 0; i < f->n_detections; i++)
            n_other += f->detections[i].class_id != 0;
    }
    vg_status st;
    if (f->n_poses > 0 && n_other == 0) {
        st = vg_draw_overlay(a->draw, &v, NULL, 0, f->poses, (size_t)f->n_poses);
    } else if (f->n_poses > 0) {
        /* Detections are sorted by score with persons mixed in: draw the other
         * classes one by one (few per frame), then the poses. */
        st = VG_OK;
        for (int32_t i = 0; i < f->n_detections && st == VG_OK; i++)
            if (f->detections[i].class_id != 0)
                st = vg_draw_overlay(a->draw, &v, &f->detections[i], 1, NULL, 0);
        if (st == VG_OK)
            st = vg_draw_overlay(a->draw, &v, NULL, 0, f->poses, (size_t)f->n_poses);
    } else {
        st = vg_draw_overlay(a->draw, &v, f->detections, (size_t)f->n_detections, NULL, 0);
    }
    if (st != VG_OK) {
        vg_log(LOG_CTX, VG_LOG_ERROR, "frame %lld: drawing failed: %s", (long long)f->index,
               vg_draw_errmsg(a->draw));
        return st;
    }
    a->last     = canvas;
    a->last_seq = f->seq;
    return VG_OK;
}

vg_status vg_annotator_render(vg_annotator *a, const vg_frame *f, const AVFrame **out) {
    *out = NULL;
    if (a->last && a->last_seq == f->seq) {
        *out = a->last;
        return VG_OK;
    }
    const AVFrame *src = f->av;
    if (!src || src->width <= 0 || src->height <= 0)
        return VG_E_INVALID_ARG;
    if (!a->canvas || a->canvas->width != src->width || a->canvas->height != src->height) {
        av_frame_free(&a->canvas);
        if (!(a->canvas = av_frame_alloc()))
            return VG_E_NOMEM;
        a->canvas->format = AV_PIX_FMT_BGRA;
        a->canvas->width  = src->width;
        a->canvas->height = src->height;
        if (av_frame_get_buffer(a->canvas, 0) < 0)
            return VG_E_NOMEM;
    }
    a->sws = sws_getCachedContext(a->sws, src->width, src->height, src->format, src->width,
                                  src->height, AV_PIX_FMT_BGRA, SWS_BILINEAR, NULL, NULL, NULL);
    if (!a->sws) {
        vg_log(LOG_CTX, VG_LOG_ERROR, "frame %lld: cannot convert pixel format %d to BGRA",
               (long long)f->index, src->format);
        return VG_E_UNSUPPORTED;
    }
    sws_scale(a->sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height,
              a->canvas->data, a->canvas->linesize);
    vg_status st = vg_annotator_draw(a, f, a->canvas);
    if (st != VG_OK)
        return st;
    *out = a->canvas;
    return VG_OK;
}

/* ---- snapshot sink ------------------------------------------------------------- */

typedef struct snap_sink {
    char         *dir;
    int           every;
    vg_annotator *ann;
    uint64_t      written;
} snap_sink;

static vg_status snap_open(void *ctx, const vg_video_info *info) {
    (void)info;
    snap_sink  *s = ctx;
    struct stat sb;
    if (stat(s->dir, &sb) == 0 && S_ISDIR(sb.st_mode))
        return VG_OK;
    if (mkdir(s->dir, 0777) != 0) {
        vg_log(LOG_CTX, VG_LOG_ERROR, "cannot create snapshot folder %s: %s", s->dir,
               strerror(errno));
        return VG_E_IO;
    }
    return VG_OK;
}

static vg_status write_jpeg(const AVFrame *pic, const char *path) {
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return VG_E_IO;
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr       jerr;
    cinfo.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, fp);
    cinfo.image_width      = (JDIMENSION)pic->width;
    cinfo.image_height     = (JDIMENSION)pic->height;
    cinfo.input_components = 4;
    cinfo.in_color_space   = JCS_EXT_BGRX;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 90, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = pic->data[0] + (size_t)cinfo.next_scanline * (size_t)pic->linesize[0];
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return fclose(fp) == 0 ? VG_OK : VG_E_IO;
}

static vg_status snap_write(void *ctx, const vg_frame *f) {
    snap_sink *s = ctx;
    if (f->index % s->every != 0)
        return VG_OK;
    const AVFrame *pic;
    vg_status      st = vg_annotator_render(s->ann, f, &pic);
    if (st != VG_OK)
        return st;
    char path[4096];
    snprintf(path, sizeof(path), "%s/frame_%06lld.jpg", s->dir, (long long)f->index);
    if ((st = write_jpeg(pic, path)) != VG_OK) {
        vg_log(LOG_CTX, VG_LOG_ERROR, "cannot write %s: %s", path, strerror(errno));
        return st;
    }
    s->written++;
    return VG_OK;
}

static void snap_destroy(void *ctx) {
    snap_sink *s = ctx;
    vg_free(s->dir);
    vg_free(s);
}

static const vg_sink_iface snap_iface = {
    .name    = "snapshots",
    .open    = snap_open,
    .write   = snap_write,
    .destroy = snap_destroy,
};

vg_status vg_snapshot_sink_create(const char *dir, int every, vg_annotator *ann, vg_sink *out) {
    if (!out || !dir || !dir[0] || every < 1 || !ann)
        return VG_E_INVALID_ARG;
    snap_sink *s = vg_calloc(1, sizeof(*s));
    if (!s)
        return VG_E_NOMEM;
    size_t len = strlen(dir) + 1;
    if (!(s->dir = vg_malloc(len))) {
        vg_free(s);
        return VG_E_NOMEM;
    }
    memcpy(s->dir, dir, len);
    s->every = every;
    s->ann   = ann;
    *out     = (vg_sink){&snap_iface, s};
    return VG_OK;
}
