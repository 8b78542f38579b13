/*
 * draw.c - overlays with Cairo: boxes, labels, COCO skeletons.
 *
 * DESIGN
 * Cairo draws into ARGB32 surfaces (one native-endian uint32 per pixel). A
 * BGRA picture on a little-endian machine already has that layout, so Cairo
 * draws into the caller's memory directly. Every other format is converted
 * into a scratch ARGB32 buffer owned by the vg_draw object (grown on demand,
 * so a steady video size allocates once), drawn on, and converted back; only
 * the colour bytes are written back. Sizes derive from the picture's shorter
 * side, so overlays look the same at any resolution. Text uses the toy font
 * API with hinting off, which keeps glyph shapes stable across font setups.
 * One thread per vg_draw object; Cairo itself is thread-safe for separate
 * surfaces and contexts.
 */
#include "vigil/draw.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/core_impl.h"
#include "vigil/alloc.h"

#define TWO_PI 6.283185307179586

struct vg_draw {
    vg_draw_params p;
    char           font_family[64];
    uint32_t      *scratch; /* ARGB32 copy for non-BGRA pictures */
    size_t         scratch_px;
    char           errmsg[256];
};

int vg_pixfmt_bytes(vg_pixfmt fmt) {
    switch (fmt) {
    case VG_PIXFMT_RGB24:
    case VG_PIXFMT_BGR24:
        return 3;
    case VG_PIXFMT_RGBA:
    case VG_PIXFMT_BGRA:
        return 4;
    }
    return 0;
}

vg_draw_params vg_draw_params_default(void) {
    vg_draw_params p;
    memset(&p, 0, sizeof(p));
    p.keypoint_threshold = 0.3f;
    p.box_threshold      = 0.0f;
    p.labels             = true;
    p.label_scores       = true;
    p.pose_boxes         = true;
    return p;
}

vg_status vg_draw_create(const vg_draw_params *params, vg_draw **out) {
    if (!out)
        return VG_E_INVALID_ARG;
    *out             = NULL;
    vg_draw_params p = params ? *params : vg_draw_params_default();
    if (p.keypoint_threshold < 0 || p.box_threshold < 0 || (p.class_names && p.n_class_names < 0))
        return VG_E_INVALID_ARG;
    vg_draw *d = vg_calloc(1, sizeof(*d));
    if (!d)
        return VG_E_NOMEM;
    d->p = p;
    snprintf(d->font_family, sizeof(d->font_family), "%s",
             p.font_family ? p.font_family : "DejaVu Sans");
    d->p.font_family = d->font_family;
    *out             = d;
    return VG_OK;
}

void vg_draw_destroy(vg_draw *d) {
    if (!d)
        return;
    vg_free(d->scratch);
    vg_free(d);
}

const char *vg_draw_errmsg(const vg_draw *d) {
    return d ? d->errmsg : "";
}

void vg_draw_color(int32_t index, uint8_t rgb[3]) {
    /* Golden-ratio hue steps: consecutive indices land far apart on the
     * colour wheel. Saturation/value alternate slightly for more contrast. */
    double h = fmod(0.05 + (double)(index < 0 ? -index : index) * 0.618033988749895, 1.0);
    double s = index % 2 ? 0.75 : 0.9, v = index % 3 == 2 ? 0.85 : 1.0;
    double hh = h * 6.0, f = hh - floor(hh);
    double pp = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    double r, g, b;
    switch ((int)floor(hh) % 6) {
    case 0:
        r = v;
        g = t;
        b = pp;
        break;
    case 1:
        r = q;
        g = v;
        b = pp;
        break;
    case 2:
        r = pp;
        g = v;
        b = t;
        break;
    case 3:
        r = pp;
        g = q;
        b = v;
        break;
    case 4:
        r = t;
        g = pp;
        b = v;
        break;
    default:
        r = v;
        g = pp;
        b = q;
        break;
    }
    rgb[0] = (uint8_t)lround(r * 255);
    rgb[1] = (uint8_t)lround(g * 255);
    rgb[2] = (uint8_t)lround(b * 255);
}

static bool little_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/* Byte offsets of R, G, B in a pixel of fmt. */
static void rgb_offsets(vg_pixfmt fmt, int *r, int *g, int *b) {
    bool bgr = fmt == VG_PIXFMT_BGR24 || fmt == VG_PIXFMT_BGRA;
    *r       = bgr ? 2 : 0;
    *g       = 1;
    *b       = bgr ? 0 : 2;
}

static void convert_in(const vg_image_view *img, uint32_t *dst) {
    int bpp = vg_pixfmt_bytes(img->fmt), ro, go, bo;
    rgb_offsets(img->fmt, &ro, &go, &bo);
    for (int32_t y = 0; y < img->height; y++) {
        const uint8_t *s = img->data + (size_t)y * (size_t)img->stride;
        uint32_t      *o = dst + (size_t)y * (size_t)img->width;
        for (int32_t x = 0; x < img->width; x++, s += bpp)
            o[x] = 0xff000000u | (uint32_t)s[ro] << 16 | (uint32_t)s[go] << 8 | s[bo];
    }
}

static void convert_out(const uint32_t *src, const vg_image_view *img) {
    int bpp = vg_pixfmt_bytes(img->fmt), ro, go, bo;
    rgb_offsets(img->fmt, &ro, &go, &bo);
    for (int32_t y = 0; y < img->height; y++) {
        uint8_t        *o = img->data + (size_t)y * (size_t)img->stride;
        const uint32_t *s = src + (size_t)y * (size_t)img->width;
        for (int32_t x = 0; x < img->width; x++, o += bpp) {
            o[ro] = (uint8_t)(s[x] >> 16);
            o[go] = (uint8_t)(s[x] >> 8);
            o[bo] = (uint8_t)s[x];
        }
    }
}

/* Resolved sizes for one picture. */
typedef struct sizes {
    double line, font, radius;
} sizes;

static sizes sizes_for(const vg_draw_params *p, int32_t w, int32_t h) {
    double base = (double)VGI_MIN(w, h);
    sizes  s;
    s.line   = p->line_width > 0 ? p->line_width : fmax(1.5, base / 200.0);
    s.font   = p->font_size > 0 ? p->font_size : fmax(10.0, base / 36.0);
    s.radius = p->keypoint_radius > 0 ? p->keypoint_radius : 1.2 * s.line + 1.0;
    return s;
}

static void set_rgb(cairo_t *cr, const uint8_t c[3]) {
    cairo_set_source_rgb(cr, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0);
}

static const char *class_name(const vg_draw *d, int32_t id, char *buf, size_t n) {
    if (d->p.class_names) {
        if (id >= 0 && id < d->p.n_class_names && d->p.class_names[id])
            return d->p.class_names[id];
    } else if (id >= 0 && id < 80) {
        return vg_coco80_names[id];
    }
    snprintf(buf, n, "class %d", (int)id);
    return buf;
}

static void draw_box(cairo_t *cr, const sizes *sz, const vg_box *b, const uint8_t col[3]) {
    set_rgb(cr, col);
    cairo_set_line_width(cr, sz->line);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
    cairo_rectangle(cr, b->x1, b->y1, (double)b->x2 - b->x1, (double)b->y2 - b->y1);
    cairo_stroke(cr);
}

/* A filled label tab at the box's top-left corner: above the box when there
 * is room, else just inside it. */
static void draw_label(cairo_t *cr, const sizes *sz, const vg_box *b, const uint8_t col[3],
                       const char *label) {
    cairo_font_extents_t fe;
    cairo_text_extents_t te;
    cairo_font_extents(cr, &fe);
    cairo_text_extents(cr, label, &te);
    double pad = fmax(1.0, sz->font * 0.2);
    double tw = te.x_advance + 2 * pad, th = fe.ascent + fe.descent + 2 * pad;
    double x = b->x1 - sz->line / 2, y = b->y1 - sz->line / 2 - th;
    if (y < 0)
        y = b->y1 + sz->line / 2;
    set_rgb(cr, col);
    cairo_rectangle(cr, x, y, tw, th);
    cairo_fill(cr);
    /* Dark text on light colours, white on dark ones (Rec. 601 luma). */
    double luma = (0.299 * col[0] + 0.587 * col[1] + 0.114 * col[2]) / 255.0;
    if (luma > 0.6)
        cairo_set_source_rgb(cr, 0, 0, 0);
    else
        cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_move_to(cr, x + pad, y + pad + fe.ascent);
    cairo_show_text(cr, label);
}

static void make_label(const vg_draw *d, const char *name, float score, char *buf, size_t n) {
    if (d->p.label_scores)
        snprintf(buf, n, "%s %.2f", name, (double)score);
    else
        snprintf(buf, n, "%s", name);
}

static void draw_pose(vg_draw *d, cairo_t *cr, const sizes *sz, const vg_pose *p, int32_t index) {
    uint8_t col[3];
    vg_draw_color(index, col);
    const float thr = d->p.keypoint_threshold;
    int32_t     nk  = VGI_MIN(p->n_keypoints, VG_MAX_KEYPOINTS);
    if (d->p.pose_boxes)
        draw_box(cr, sz, &p->det.box, col);
    /* Limbs (COCO skeleton when the pose has 17 keypoints). */
    if (nk == 17) {
        set_rgb(cr, col);
        cairo_set_line_width(cr, sz->line * 1.2);
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
        for (int l = 0; l < VG_COCO_NUM_LIMBS; l++) {
            const vg_keypoint *a = &p->kp[vg_coco_skeleton[l][0]];
            const vg_keypoint *b = &p->kp[vg_coco_skeleton[l][1]];
            if (a->score < thr || b->score < thr)
                continue;
            cairo_move_to(cr, a->x, a->y);
            cairo_line_to(cr, b->x, b->y);
            cairo_stroke(cr);
        }
    }
    /* Keypoint dots with a dark rim, so they show on bright limbs and skin. */
    for (int32_t k = 0; k < nk; k++) {
        const vg_keypoint *kp = &p->kp[k];
        if (kp->score < thr)
            continue;
        cairo_new_sub_path(cr);
        cairo_arc(cr, kp->x, kp->y, sz->radius, 0, TWO_PI);
        set_rgb(cr, col);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cairo_set_line_width(cr, fmax(1.0, sz->line * 0.5));
        cairo_stroke(cr);
    }
}

vg_status vg_draw_overlay(vg_draw *d, const vg_image_view *img, const vg_detection *dets,
                          size_t n_dets, const vg_pose *poses, size_t n_poses) {
    if (!d)
        return VG_E_INVALID_ARG;
    d->errmsg[0] = '\0';
    int bpp      = img ? vg_pixfmt_bytes(img->fmt) : 0;
    if (!img || !img->data || img->width <= 0 || img->height <= 0 || bpp == 0 ||
        img->stride < img->width * bpp) {
        snprintf(d->errmsg, sizeof(d->errmsg),
                 "draw: bad picture (data %s, %dx%d, stride %d, format %d): needs data, a "
                 "positive size and stride >= width * bytes per pixel",
                 img && img->data ? "set" : "NULL", img ? (int)img->width : 0,
                 img ? (int)img->height : 0, img ? (int)img->stride : 0, img ? (int)img->fmt : -1);
        return VG_E_INVALID_ARG;
    }
    if ((!dets && n_dets) || (!poses && n_poses)) {
        snprintf(d->errmsg, sizeof(d->errmsg), "draw: NULL detection or pose list with n > 0");
        return VG_E_INVALID_ARG;
    }
    if (img->width > 32767 || img->height > 32767) {
        snprintf(d->errmsg, sizeof(d->errmsg), "draw: %dx%d exceeds Cairo's 32767 px limit",
                 (int)img->width, (int)img->height);
        return VG_E_INVALID_ARG;
    }

    bool             direct = img->fmt == VG_PIXFMT_BGRA && little_endian() && img->stride % 4 == 0;
    cairo_surface_t *surf;
    if (direct) {
        surf = cairo_image_surface_create_for_data(img->data, CAIRO_FORMAT_ARGB32, img->width,
                                                   img->height, img->stride);
    } else {
        size_t px = (size_t)img->width * (size_t)img->height;
        if (px > d->scratch_px) {
            uint32_t *s = vg_malloc(px * sizeof(uint32_t));
            if (!s) {
                snprintf(d->errmsg, sizeof(d->errmsg), "draw: out of memory for a %dx%d copy",
                         (int)img->width, (int)img->height);
                return VG_E_NOMEM;
            }
            vg_free(d->scratch);
            d->scratch    = s;
            d->scratch_px = px;
        }
        convert_in(img, d->scratch);
        surf = cairo_image_surface_create_for_data((unsigned char *)d->scratch, CAIRO_FORMAT_ARGB32,
                                                   img->width, img->height, img->width * 4);
    }
    cairo_t *cr = cairo_create(surf);

    sizes sz = sizes_for(&d->p, img->width, img->height);
    cairo_select_font_face(cr, d->font_family, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, sz.font);
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_set_font_options(cr, fo);
    cairo_font_options_destroy(fo);

    /* Shapes first, labels last, so that no box or limb hides a label. */
    for (size_t i = 0; i < n_dets; i++) {
        uint8_t col[3];
        if (dets[i].score < d->p.box_threshold)
            continue;
        /* Classes take colours from far along the palette, persons (poses)
         * from its start, so a class colour rarely equals a person's. */
        vg_draw_color(1000 + dets[i].class_id, col);
        draw_box(cr, &sz, &dets[i].box, col);
    }
    for (size_t i = 0; i < n_poses; i++)
        draw_pose(d, cr, &sz, &poses[i], (int32_t)i);
    for (size_t i = 0; d->p.labels && i < n_dets + n_poses; i++) {
        const vg_detection *det = i < n_dets ? &dets[i] : &poses[i - n_dets].det;
        uint8_t             col[3];
        char                lbl[96], nb[32];
        if (i < n_dets && det->score < d->p.box_threshold)
            continue;
        if (i >= n_dets && !d->p.pose_boxes)
            break;
        vg_draw_color(i < n_dets ? 1000 + det->class_id : (int32_t)(i - n_dets), col);
        make_label(d, class_name(d, det->class_id, nb, sizeof(nb)), det->score, lbl, sizeof(lbl));
        draw_label(cr, &sz, &det->box, col, lbl);
    }

    cairo_status_t cst = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_flush(surf);
    if (cst == CAIRO_STATUS_SUCCESS)
        cst = cairo_surface_status(surf);
    cairo_surface_destroy(surf);
    if (cst != CAIRO_STATUS_SUCCESS) {
        snprintf(d->errmsg, sizeof(d->errmsg), "draw: cairo: %s", cairo_status_to_string(cst));
        return cst == CAIRO_STATUS_NO_MEMORY ? VG_E_NOMEM : VG_E_BACKEND;
    }
    if (!direct)
        convert_out(d->scratch, img);
    return VG_OK;
}

vg_status vg_image_write_png(const vg_image_view *img, const char *path) {
    int bpp = img ? vg_pixfmt_bytes(img->fmt) : 0;
    if (!img || !img->data || !path || img->width <= 0 || img->height <= 0 || !bpp ||
        img->stride < img->width * bpp)
        return VG_E_INVALID_ARG;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, img->width, img->height);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return VG_E_NOMEM;
    }
    cairo_surface_flush(s);
    uint8_t *dst     = cairo_image_surface_get_data(s);
    int      dstride = cairo_image_surface_get_stride(s), ro, go, bo;
    rgb_offsets(img->fmt, &ro, &go, &bo);
    for (int32_t y = 0; y < img->height; y++) {
        const uint8_t *p = img->data + (size_t)y * (size_t)img->stride;
        uint32_t      *o = (uint32_t *)(void *)(dst + (size_t)y * (size_t)dstride);
        for (int32_t x = 0; x < img->width; x++, p += bpp)
            o[x] = 0xff000000u | (uint32_t)p[ro] << 16 | (uint32_t)p[go] << 8 | p[bo];
    }
    cairo_surface_mark_dirty(s);
    cairo_status_t st = cairo_surface_write_to_png(s, path);
    cairo_surface_destroy(s);
    return st == CAIRO_STATUS_SUCCESS ? VG_OK : st == CAIRO_STATUS_NO_MEMORY ? VG_E_NOMEM : VG_E_IO;
}

vg_status vg_image_read_png(const char *path, vg_pixfmt fmt, vg_image_view *out) {
    int bpp = vg_pixfmt_bytes(fmt);
    if (!path || !out || !bpp)
        return VG_E_INVALID_ARG;
    memset(out, 0, sizeof(*out));
    cairo_surface_t *s  = cairo_image_surface_create_from_png(path);
    cairo_status_t   st = cairo_surface_status(s);
    if (st != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return st == CAIRO_STATUS_NO_MEMORY        ? VG_E_NOMEM
               : st == CAIRO_STATUS_READ_ERROR     ? VG_E_FORMAT
               : st == CAIRO_STATUS_FILE_NOT_FOUND ? VG_E_IO
                                                   : VG_E_FORMAT;
    }
    cairo_format_t cf = cairo_image_surface_get_format(s);
    if (cf != CAIRO_FORMAT_RGB24 && cf != CAIRO_FORMAT_ARGB32) {
        cairo_surface_destroy(s);
        return VG_E_UNSUPPORTED;
    }
    int32_t  w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    uint8_t *data = vg_malloc((size_t)w * (size_t)h * (size_t)bpp);
    if (!data) {
        cairo_surface_destroy(s);
        return VG_E_NOMEM;
    }
    out->data              = data;
    out->width             = w;
    out->height            = h;
    out->stride            = w * bpp;
    out->fmt               = fmt;
    const uint8_t *src     = cairo_image_surface_get_data(s);
    int            sstride = cairo_image_surface_get_stride(s), ro, go, bo;
    rgb_offsets(fmt, &ro, &go, &bo);
    for (int32_t y = 0; y < h; y++) {
        const uint32_t *p = (const uint32_t *)(const void *)(src + (size_t)y * (size_t)sstride);
        uint8_t        *o = data + (size_t)y * (size_t)out->stride;
        for (int32_t x = 0; x < w; x++, o += bpp) {
            o[ro] = (uint8_t)(p[x] >> 16);
            o[go] = (uint8_t)(p[x] >> 8);
            o[bo] = (uint8_t)p[x];
            if (bpp == 4)
                o[3] = (uint8_t)(p[x] >> 24);
        }
    }
    cairo_surface_destroy(s);
    return VG_OK;
}
