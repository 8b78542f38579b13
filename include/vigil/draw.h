/*
 * vigil/draw.h - overlays: detection boxes with labels, COCO skeletons, drawn
 * with Cairo straight into a packed RGB/BGR(A) pixel buffer (a decoded
 * video frame or an image).
 *
 * Lines and text are antialiased; text uses the toy font API of Cairo with
 * "DejaVu Sans" (fonts-dejavu-core) by default. Sizes scale with the picture
 * (see vg_draw_params), so a 320x240 thumbnail and a 1080p frame both stay
 * legible.
 *
 * Pixel formats: VG_PIXFMT_BGRA is drawn in place without a copy on
 * little-endian machines (it is Cairo's own ARGB32 layout, premultiplied:
 * colours come out right whatever the alpha bytes hold, and alpha becomes
 * 255 under fully covered pixels of a drawing).
 * The other formats go through a scratch ARGB32 copy kept in the vg_draw
 * object (converted in and out, two passes over the picture); their alpha
 * byte (RGBA) is left as it was. A pipeline that draws every frame should
 * convert to BGRA.
 *
 * Thread safety: a vg_draw object is used by one thread at a time; separate
 * objects may draw concurrently.
 */
#ifndef VG_DRAW_H
#define VG_DRAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/results.h"
#include "vigil/status.h"
#include "vigil/vision.h" /* vg_coco80_names, vg_coco_skeleton */

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vg_pixfmt {
    VG_PIXFMT_RGB24 = 0, /* bytes R, G, B */
    VG_PIXFMT_BGR24,     /* bytes B, G, R */
    VG_PIXFMT_RGBA,      /* bytes R, G, B, A */
    VG_PIXFMT_BGRA,      /* bytes B, G, R, A (Cairo's ARGB32 on little-endian) */
} vg_pixfmt;

/* A picture in caller memory: rows of `stride` bytes (stride >= width *
 * bytes per pixel). Not owned; drawing modifies data in place. */
typedef struct vg_image_view {
    uint8_t  *data;
    int32_t   width, height;
    int32_t   stride;
    vg_pixfmt fmt;
} vg_image_view;

/* Bytes per pixel of fmt (3 or 4); 0 for an unknown value. */
int vg_pixfmt_bytes(vg_pixfmt fmt);

typedef struct vg_draw_params {
    /* Line width in pixels; <= 0: max(1.5, min(width, height) / 200). */
    float line_width;
    /* Label font size (pixels); <= 0: max(10, min(width, height) / 36). */
    float font_size;
    /* Keypoint dot radius; <= 0: 1.2 * line width + 1. */
    float keypoint_radius;
    /* Keypoints with a score below this are not drawn, nor limbs touching them. */
    float keypoint_threshold;
    /* Detections with a score below this are not drawn. */
    float box_threshold;
    /* Label ("person 0.87") above each box. */
    bool labels;
    /* Show the score in the label. */
    bool label_scores;
    /* Draw the person box (and its label) of each pose too. */
    bool pose_boxes;
    /* Class names indexed by class_id; NULL: vg_coco80_names (n ignored).
     * Borrowed: must stay valid while the vg_draw object is used. */
    const char *const *class_names;
    int32_t            n_class_names;
    /* Font family for the toy text API; NULL: "DejaVu Sans". Copied. */
    const char *font_family;
} vg_draw_params;

/* Defaults: automatic sizes, keypoint_threshold 0.3, box_threshold 0,
 * labels and scores on, pose boxes on, COCO-80 names, DejaVu Sans. */
vg_draw_params vg_draw_params_default(void);

typedef struct vg_draw vg_draw;

/*
 * Creates a drawing context (params copied; NULL: defaults).
 * Returns VG_OK, VG_E_NOMEM, VG_E_INVALID_ARG (negative thresholds).
 * Free with vg_draw_destroy().
 */
vg_status vg_draw_create(const vg_draw_params *params, vg_draw **out);

/* Frees d and its scratch memory; NULL is a no-op. */
void vg_draw_destroy(vg_draw *d);

/*
 * Draws detections (boxes coloured by class, with labels) and then poses
 * (each person in its own colour: skeleton limbs, keypoint dots, and the
 * person box if params.pose_boxes) onto img. Either list may be empty.
 * Returns:
 *   VG_OK
 *   VG_E_INVALID_ARG  bad image (NULL data, size <= 0, stride too small,
 *                     unknown format) or NULL lists with n > 0; see
 *                     vg_draw_errmsg()
 *   VG_E_NOMEM        the scratch copy could not be allocated
 *   VG_E_BACKEND      Cairo reported an error (message in vg_draw_errmsg())
 */
vg_status vg_draw_overlay(vg_draw *d, const vg_image_view *img, const vg_detection *dets,
                          size_t n_dets, const vg_pose *poses, size_t n_poses);

/* The last error of d ("" if none); borrowed, valid until the next call on d. */
const char *vg_draw_errmsg(const vg_draw *d);

/* The colour of person (or class) number index: distinct neighbouring hues,
 * saturated and bright enough to read on photos. rgb receives 3 bytes. */
void vg_draw_color(int32_t index, uint8_t rgb[3]);

/*
 * Writes img as an RGB PNG file (alpha dropped).
 * Returns VG_OK, VG_E_IO (cannot write path), VG_E_NOMEM, VG_E_INVALID_ARG.
 */
vg_status vg_image_write_png(const vg_image_view *img, const char *path);

/*
 * Reads a PNG file into a newly allocated picture of format fmt (stride =
 * width * bytes per pixel); the caller frees out->data with vg_free().
 * Returns VG_OK, VG_E_IO (missing file), VG_E_FORMAT (not a readable PNG),
 * VG_E_UNSUPPORTED (a PNG layout Cairo loads as neither RGB nor ARGB),
 * VG_E_NOMEM, VG_E_INVALID_ARG.
 */
vg_status vg_image_read_png(const char *path, vg_pixfmt fmt, vg_image_view *out);

#ifdef __cplusplus
}
#endif

#endif /* VG_DRAW_H */
