/*
 * coco_data.c - COCO ground truth and results: loading (jansson), building
 * in memory, writing.
 *
 * DESIGN
 * Both objects are flat arrays of small structs plus one flat array of
 * keypoint doubles, so that evaluation walks plain memory and nothing points
 * into the parsed JSON (which is freed as soon as loading ends). Loading
 * checks every field it uses and names the entry that is wrong; extra fields
 * are ignored, as the reference loader does. Numbers are kept as doubles, the
 * precision the reference evaluation computes with. Not thread-aware: one
 * thread builds an object, after which readers may share it.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_impl.h"
#include "vigil/alloc.h"
#include "vision/coco_impl.h"

/* 0-based COCO-80 class index -> COCO category id. */
static const int32_t coco80_ids[80] = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21,
    22, 23, 24, 25, 27, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
    46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65,
    67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90,
};

int32_t vg_coco_category_id(int32_t class_id) {
    if (class_id < 0 || class_id >= 80)
        return -1;
    return coco80_ids[class_id];
}

int32_t vg_coco_class_index(int32_t category_id) {
    for (int32_t i = 0; i < 80; i++)
        if (coco80_ids[i] == category_id)
            return i;
    return -1;
}

void vgi_coco_errf(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- JSON field helpers ------------------------------------------------------ */

static bool get_int(const json_t *obj, const char *key, int64_t *out) {
    const json_t *v = json_object_get(obj, key);
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return true;
    }
    /* Some writers emit ids as 785.0: accept integral reals. */
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d == floor(d) && fabs(d) < 9.0e15) {
            *out = (int64_t)d;
            return true;
        }
    }
    return false;
}

static bool get_num(const json_t *obj, const char *key, double *out) {
    const json_t *v = json_object_get(obj, key);
    if (!json_is_number(v))
        return false;
    *out = json_number_value(v);
    return isfinite(*out);
}

/* Reads an array of numbers; returns its length, or -1 if it is not one. */
static long get_num_array(const json_t *arr, double *out, size_t cap) {
    if (!json_is_array(arr))
        return -1;
    size_t n = json_array_size(arr);
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(arr, i);
        if (!json_is_number(v) || !isfinite(json_number_value(v)))
            return -1;
        if (i < cap)
            out[i] = json_number_value(v);
    }
    return (long)n;
}

static json_t *load_json(const char *path, const char *text, const char *name, vg_status *st,
                         char *err, size_t errlen) {
    json_error_t je;
    json_t      *root;
    if (path) {
        FILE *f = fopen(path, "rb");
        if (!f) {
            vgi_coco_errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
            *st = VG_E_IO;
            return NULL;
        }
        root = json_loadf(f, 0, &je);
        fclose(f);
    } else {
        root = json_loads(text, 0, &je);
    }
    if (!root) {
        vgi_coco_errf(err, errlen, "%s:%d:%d: invalid JSON: %s", name, je.line, je.column, je.text);
        *st = VG_E_FORMAT;
    }
    return root;
}

/* ---- ground truth ----------------------------------------------------------- */

static int cmp_image(const void *a, const void *b) {
    int64_t x = ((const vg_coco_image *)a)->id, y = ((const vg_coco_image *)b)->id;
    return (x > y) - (x < y);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void vg_coco_gt_destroy(vg_coco_gt *gt) {
    if (!gt)
        return;
    if (gt->file_names)
        for (size_t i = 0; i < gt->n_images; i++)
            vg_free(gt->file_names[i]);
    vg_free(gt->file_names);
    vg_free(gt->images);
    vg_free(gt->cat_ids);
    vg_free(gt->anns);
    vg_free(gt->kp);
    vg_free(gt);
}

static vg_status gt_from_json(json_t *root, const char *name, vg_coco_gt **out, char *err,
                              size_t errlen) {
    const json_t *images = json_object_get(root, "images");
    const json_t *anns   = json_object_get(root, "annotations");
    const json_t *cats   = json_object_get(root, "categories");
    if (!json_is_object(root) || !json_is_array(images) || !json_is_array(anns)) {
        vgi_coco_errf(err, errlen,
                      "%s: not COCO ground truth (needs an object with \"images\" and "
                      "\"annotations\" arrays; a results list goes to --results)",
                      name);
        return VG_E_FORMAT;
    }
    if (!json_is_array(cats)) {
        vgi_coco_errf(err, errlen, "%s: has no \"categories\" array; evaluation needs it", name);
        return VG_E_FORMAT;
    }
    vg_coco_gt *gt = vg_calloc(1, sizeof(*gt));
    if (!gt)
        return VG_E_NOMEM;
    vg_status st = VG_E_NOMEM;
    size_t    ni = json_array_size(images), na = json_array_size(anns);
    size_t    nc   = json_array_size(cats);
    gt->images     = vg_calloc(ni ? ni : 1, sizeof(*gt->images));
    gt->file_names = vg_calloc(ni ? ni : 1, sizeof(char *));
    gt->cat_ids    = vg_calloc(nc ? nc : 1, sizeof(int64_t));
    gt->anns       = vg_calloc(na ? na : 1, sizeof(*gt->anns));
    if (!gt->images || !gt->file_names || !gt->cat_ids || !gt->anns)
        goto fail;
    gt->n_images = ni;

    for (size_t i = 0; i < ni; i++) {
        const json_t  *im = json_array_get(images, i);
        vg_coco_image *d  = &gt->images[i];
        if (!json_is_object(im) || !get_int(im, "id", &d->id)) {
            vgi_coco_errf(err, errlen, "%s: images[%zu]: needs an integer \"id\"", name, i);
            st = VG_E_FORMAT;
            goto fail;
        }
        const char *fn    = json_string_value(json_object_get(im, "file_name"));
        gt->file_names[i] = vg_strdup(fn ? fn : "");
        if (!gt->file_names[i])
            goto fail;
        d->file_name = gt->file_names[i];
        int64_t v;
        d->width        = get_int(im, "width", &v) ? (int32_t)v : 0;
        d->height       = get_int(im, "height", &v) ? (int32_t)v : 0;
        const json_t *c = json_object_get(im, "annotation_complete");
        d->complete = c ? json_is_true(c) || (json_is_integer(c) && json_integer_value(c)) : true;
    }
    qsort(gt->images, ni, sizeof(*gt->images), cmp_image);
    for (size_t i = 1; i < ni; i++)
        if (gt->images[i].id == gt->images[i - 1].id) {
            vgi_coco_errf(err, errlen, "%s: image id %lld appears twice in \"images\"", name,
                          (long long)gt->images[i].id);
            st = VG_E_FORMAT;
            goto fail;
        }

    for (size_t i = 0; i < nc; i++) {
        const json_t *c = json_array_get(cats, i);
        if (!json_is_object(c) || !get_int(c, "id", &gt->cat_ids[i])) {
            vgi_coco_errf(err, errlen, "%s: categories[%zu]: needs an integer \"id\"", name, i);
            st = VG_E_FORMAT;
            goto fail;
        }
    }
    qsort(gt->cat_ids, nc, sizeof(int64_t), cmp_i64);
    size_t nu = 0;
    for (size_t i = 0; i < nc; i++)
        if (nu == 0 || gt->cat_ids[nu - 1] != gt->cat_ids[i])
            gt->cat_ids[nu++] = gt->cat_ids[i];
    gt->n_cats = nu;

    /* Keypoint storage: count first. */
    size_t nkv = 0;
    for (size_t i = 0; i < na; i++) {
        const json_t *kp = json_object_get(json_array_get(anns, i), "keypoints");
        if (json_is_array(kp))
            nkv += json_array_size(kp);
    }
    gt->kp = vg_calloc(nkv ? nkv : 1, sizeof(double));
    if (!gt->kp)
        goto fail;

    for (size_t i = 0; i < na; i++) {
        const json_t *a = json_array_get(anns, i);
        vgi_coco_ann *d = &gt->anns[i];
        if (!json_is_object(a) || !get_int(a, "image_id", &d->image_id) ||
            !get_int(a, "category_id", &d->category_id)) {
            vgi_coco_errf(err, errlen,
                          "%s: annotations[%zu]: needs integer \"image_id\" and \"category_id\"",
                          name, i);
            st = VG_E_FORMAT;
            goto fail;
        }
        if (!get_int(a, "id", &d->id))
            d->id = (int64_t)i + 1;
        if (get_num_array(json_object_get(a, "bbox"), d->bbox, 4) != 4 || d->bbox[2] < 0 ||
            d->bbox[3] < 0) {
            vgi_coco_errf(err, errlen,
                          "%s: annotations[%zu] (id %lld): \"bbox\" must be [x, y, w, h] with "
                          "w, h >= 0",
                          name, i, (long long)d->id);
            st = VG_E_FORMAT;
            goto fail;
        }
        const json_t *cr = json_object_get(a, "iscrowd");
        d->iscrowd       = json_is_true(cr) || (json_is_integer(cr) && json_integer_value(cr) != 0);
        if (!get_num(a, "area", &d->area))
            d->area = d->bbox[2] * d->bbox[3];
        const json_t *kp = json_object_get(a, "keypoints");
        d->kp_off        = gt->n_kp_vals;
        if (kp) {
            long n = get_num_array(kp, gt->kp + gt->n_kp_vals, json_array_size(kp));
            if (n < 0 || n % 3) {
                vgi_coco_errf(err, errlen,
                              "%s: annotations[%zu] (id %lld): \"keypoints\" must be numbers "
                              "[x, y, v] * K",
                              name, i, (long long)d->id);
                st = VG_E_FORMAT;
                goto fail;
            }
            d->n_kp = (int32_t)(n / 3);
            gt->n_kp_vals += (size_t)n;
        }
        int64_t nk;
        if (get_int(a, "num_keypoints", &nk)) {
            d->num_keypoints = (int32_t)nk;
        } else {
            d->num_keypoints = 0;
            for (int32_t k = 0; k < d->n_kp; k++)
                d->num_keypoints += gt->kp[d->kp_off + 3 * (size_t)k + 2] > 0;
        }
    }
    gt->n_anns = na;
    *out       = gt;
    return VG_OK;
fail:
    if (st == VG_E_NOMEM)
        vgi_coco_errf(err, errlen, "%s: out of memory", name);
    vg_coco_gt_destroy(gt);
    return st;
}

vg_status vg_coco_gt_parse(const char *json_text, const char *name, vg_coco_gt **out, char *err,
                           size_t errlen) {
    if (!out)
        return VG_E_INVALID_ARG;
    *out = NULL;
    if (!json_text)
        return VG_E_INVALID_ARG;
    vg_status st   = VG_OK;
    json_t   *root = load_json(NULL, json_text, name ? name : "(gt)", &st, err, errlen);
    if (!root)
        return st;
    st = gt_from_json(root, name ? name : "(gt)", out, err, errlen);
    json_decref(root);
    return st;
}

vg_status vg_coco_gt_load(const char *path, vg_coco_gt **out, char *err, size_t errlen) {
    if (!out)
        return VG_E_INVALID_ARG;
    *out = NULL;
    if (!path)
        return VG_E_INVALID_ARG;
    vg_status st   = VG_OK;
    json_t   *root = load_json(path, NULL, path, &st, err, errlen);
    if (!root)
        return st;
    st = gt_from_json(root, path, out, err, errlen);
    json_decref(root);
    return st;
}

size_t vg_coco_gt_num_images(const vg_coco_gt *gt) {
    return gt ? gt->n_images : 0;
}

const vg_coco_image *vg_coco_gt_image(const vg_coco_gt *gt, size_t i) {
    return gt && i < gt->n_images ? &gt->images[i] : NULL;
}

size_t vg_coco_gt_num_annotations(const vg_coco_gt *gt) {
    return gt ? gt->n_anns : 0;
}

long vgi_coco_gt_image_index(const vg_coco_gt *gt, int64_t id) {
    size_t lo = 0, hi = gt->n_images;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (gt->images[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < gt->n_images && gt->images[lo].id == id ? (long)lo : -1;
}

long vg_coco_gt_find_image(const vg_coco_gt *gt, const char *file_name) {
    if (!gt || !file_name)
        return -1;
    /* Compare base names, so that "images/x.jpg" finds "x.jpg" and back. */
    const char *base = strrchr(file_name, '/');
    base             = base ? base + 1 : file_name;
    for (size_t i = 0; i < gt->n_images; i++) {
        const char *fn = gt->images[i].file_name;
        const char *b  = strrchr(fn, '/');
        b              = b ? b + 1 : fn;
        if (*b && !strcmp(b, base))
            return (long)i;
    }
    return -1;
}

size_t vg_coco_gt_image_boxes(const vg_coco_gt *gt, int64_t image_id, int32_t category_id,
                              vg_detection *out, size_t cap) {
    if (!gt)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < gt->n_anns; i++) {
        const vgi_coco_ann *a = &gt->anns[i];
        if (a->image_id != image_id || a->iscrowd ||
            (category_id >= 0 && a->category_id != category_id))
            continue;
        if (out && n < cap) {
            out[n].box.x1   = (float)a->bbox[0];
            out[n].box.y1   = (float)a->bbox[1];
            out[n].box.x2   = (float)(a->bbox[0] + a->bbox[2]);
            out[n].box.y2   = (float)(a->bbox[1] + a->bbox[3]);
            out[n].score    = 1.0f;
            out[n].class_id = vg_coco_class_index((int32_t)a->category_id);
        }
        n++;
    }
    return n;
}

/* ---- results ---------------------------------------------------------------- */

vg_status vg_coco_results_create(vg_coco_results **out) {
    if (!out)
        return VG_E_INVALID_ARG;
    *out = vg_calloc(1, sizeof(**out));
    return *out ? VG_OK : VG_E_NOMEM;
}

void vg_coco_results_destroy(vg_coco_results *res) {
    if (!res)
        return;
    vg_free(res->dets);
    vg_free(res->kp);
    vg_free(res);
}

size_t vg_coco_results_count(const vg_coco_results *res) {
    return res ? res->n : 0;
}

bool vg_coco_results_has_keypoints(const vg_coco_results *res) {
    return res && res->n > 0 && res->dets[0].n_kp > 0;
}

/* Makes room for n more entries and nkv more keypoint values. */
static vg_status results_reserve(vg_coco_results *res, size_t n, size_t nkv) {
    if (res->n + n > res->cap) {
        size_t cap = res->cap ? res->cap : 64;
        while (cap < res->n + n)
            cap *= 2;
        vgi_coco_det *d = vg_realloc(res->dets, cap * sizeof(*d));
        if (!d)
            return VG_E_NOMEM;
        res->dets = d;
        res->cap  = cap;
    }
    if (res->n_kp_vals + nkv > res->kp_cap) {
        size_t cap = res->kp_cap ? res->kp_cap : 1024;
        while (cap < res->n_kp_vals + nkv)
            cap *= 2;
        double *k = vg_realloc(res->kp, cap * sizeof(double));
        if (!k)
            return VG_E_NOMEM;
        res->kp     = k;
        res->kp_cap = cap;
    }
    return VG_OK;
}

static vg_status results_from_json(json_t *root, const char *name, vg_coco_results **out, char *err,
                                   size_t errlen) {
    if (!json_is_array(root)) {
        vgi_coco_errf(err, errlen,
                      "%s: not a COCO results file (expected a JSON array of {image_id, "
                      "category_id, bbox/keypoints, score}; ground truth goes to --gt)",
                      name);
        return VG_E_FORMAT;
    }
    vg_coco_results *res = NULL;
    vg_status        st  = vg_coco_results_create(&res);
    if (st != VG_OK)
        return st;
    size_t n = json_array_size(root), nkv = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *kp = json_object_get(json_array_get(root, i), "keypoints");
        if (json_is_array(kp))
            nkv += json_array_size(kp);
    }
    if ((st = results_reserve(res, n, nkv)) != VG_OK) {
        vgi_coco_errf(err, errlen, "%s: out of memory", name);
        goto fail;
    }
    st = VG_E_FORMAT;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(root, i);
        vgi_coco_det *d = &res->dets[i];
        memset(d, 0, sizeof(*d));
        if (!json_is_object(e) || !get_int(e, "image_id", &d->image_id) ||
            !get_int(e, "category_id", &d->category_id)) {
            vgi_coco_errf(err, errlen,
                          "%s: entry %zu: needs integer \"image_id\" and \"category_id\"", name, i);
            goto fail;
        }
        if (!get_num(e, "score", &d->score)) {
            vgi_coco_errf(err, errlen, "%s: entry %zu (image %lld): needs a finite \"score\"", name,
                          i, (long long)d->image_id);
            goto fail;
        }
        const json_t *bb = json_object_get(e, "bbox");
        if (bb && !(json_is_array(bb) && json_array_size(bb) == 0)) {
            if (get_num_array(bb, d->bbox, 4) != 4) {
                vgi_coco_errf(err, errlen,
                              "%s: entry %zu (image %lld): \"bbox\" must be [x, y, w, h]", name, i,
                              (long long)d->image_id);
                goto fail;
            }
            d->has_bbox = true;
        }
        const json_t *kp = json_object_get(e, "keypoints");
        d->kp_off        = res->n_kp_vals;
        if (kp) {
            long nk = get_num_array(kp, res->kp + res->n_kp_vals, json_array_size(kp));
            if (nk <= 0 || nk % 3) {
                vgi_coco_errf(err, errlen,
                              "%s: entry %zu (image %lld): \"keypoints\" must be numbers "
                              "[x, y, score] * K",
                              name, i, (long long)d->image_id);
                goto fail;
            }
            d->n_kp = (int32_t)(nk / 3);
            res->n_kp_vals += (size_t)nk;
        }
        if (!d->has_bbox && !d->n_kp) {
            vgi_coco_errf(err, errlen,
                          "%s: entry %zu (image %lld): has neither \"bbox\" nor \"keypoints\" "
                          "(segmentation results are not supported)",
                          name, i, (long long)d->image_id);
            goto fail;
        }
        res->n++;
    }
    *out = res;
    return VG_OK;
fail:
    vg_coco_results_destroy(res);
    return st;
}

vg_status vg_coco_results_parse(const char *json_text, const char *name, vg_coco_results **out,
                                char *err, size_t errlen) {
    if (!out)
        return VG_E_INVALID_ARG;
    *out = NULL;
    if (!json_text)
        return VG_E_INVALID_ARG;
    vg_status st   = VG_OK;
    json_t   *root = load_json(NULL, json_text, name ? name : "(results)", &st, err, errlen);
    if (!root)
        return st;
    st = results_from_json(root, name ? name : "(results)", out, err, errlen);
    json_decref(root);
    return st;
}

vg_status vg_coco_results_load(const char *path, vg_coco_results **out, char *err, size_t errlen) {
    if (!out)
        return VG_E_INVALID_ARG;
    *out = NULL;
    if (!path)
        return VG_E_INVALID_ARG;
    vg_status st   = VG_OK;
    json_t   *root = load_json(path, NULL, path, &st, err, errlen);
    if (!root)
        return st;
    st = results_from_json(root, path, out, err, errlen);
    json_decref(root);
    return st;
}

static void set_box(vgi_coco_det *d, const vg_box *b) {
    d->has_bbox = true;
    d->bbox[0]  = b->x1;
    d->bbox[1]  = b->y1;
    d->bbox[2]  = (double)b->x2 - b->x1;
    d->bbox[3]  = (double)b->y2 - b->y1;
}

vg_status vg_coco_results_add_detections(vg_coco_results *res, int64_t image_id,
                                         const vg_detection *dets, size_t n) {
    if (!res || (!dets && n))
        return VG_E_INVALID_ARG;
    vg_status st = results_reserve(res, n, 0);
    if (st != VG_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        int32_t cat = vg_coco_category_id(dets[i].class_id);
        if (cat < 0)
            continue;
        vgi_coco_det *d = &res->dets[res->n++];
        memset(d, 0, sizeof(*d));
        d->image_id    = image_id;
        d->category_id = cat;
        d->score       = dets[i].score;
        d->kp_off      = res->n_kp_vals;
        set_box(d, &dets[i].box);
    }
    return VG_OK;
}

vg_status vg_coco_results_add_poses(vg_coco_results *res, int64_t image_id, const vg_pose *poses,
                                    size_t n) {
    if (!res || (!poses && n))
        return VG_E_INVALID_ARG;
    size_t nkv = 0;
    for (size_t i = 0; i < n; i++) {
        if (poses[i].n_keypoints < 0 || poses[i].n_keypoints > VG_MAX_KEYPOINTS)
            return VG_E_INVALID_ARG;
        nkv += 3 * (size_t)poses[i].n_keypoints;
    }
    vg_status st = results_reserve(res, n, nkv);
    if (st != VG_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        const vg_pose *p = &poses[i];
        vgi_coco_det  *d = &res->dets[res->n++];
        memset(d, 0, sizeof(*d));
        d->image_id    = image_id;
        d->category_id = 1;
        d->score       = p->score;
        set_box(d, &p->det.box);
        d->kp_off = res->n_kp_vals;
        d->n_kp   = p->n_keypoints;
        for (int32_t k = 0; k < p->n_keypoints; k++) {
            res->kp[res->n_kp_vals++] = p->kp[k].x;
            res->kp[res->n_kp_vals++] = p->kp[k].y;
            res->kp[res->n_kp_vals++] = p->kp[k].score;
        }
    }
    return VG_OK;
}

float vg_coco_pose_rescore(const vg_pose *pose, float kp_thr) {
    if (!pose)
        return 0.0f;
    double sum = 0.0;
    int    n   = 0;
    for (int32_t k = 0; k < pose->n_keypoints && k < VG_MAX_KEYPOINTS; k++)
        if (pose->kp[k].score > kp_thr) {
            sum += pose->kp[k].score;
            n++;
        }
    return n ? (float)((double)pose->det.score * (sum / n)) : 0.0f;
}

/* A growing text buffer (plain malloc: the result is handed to the caller,
 * who frees it with free()). */
typedef struct text_buf {
    char  *s;
    size_t len, cap;
    bool   oom;
} text_buf;

static void tb_put(text_buf *b, const char *str, size_t n) {
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = true;
            return;
        }
        b->s   = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, str, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void tb_str(text_buf *b, const char *str) {
    tb_put(b, str, strlen(str));
}

/* A coordinate, rounded to 0.01 px. */
static void tb_coord(text_buf *b, double v) {
    char buf[48];
    if (!isfinite(v))
        v = 0.0;
    v = round(v * 100.0) / 100.0;
    snprintf(buf, sizeof(buf), "%.10g", v == 0.0 ? 0.0 : v);
    tb_str(b, buf);
}

/* A score: the shortest text that reads back as the same float (scores come
 * from float model outputs), so "0.9" rather than "0.899999976". */
static void tb_score(text_buf *b, double v) {
    char buf[48];
    if (!isfinite(v))
        v = 0.0;
    float f = (float)v;
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, (double)f);
        if ((float)strtod(buf, NULL) == f)
            break;
    }
    tb_str(b, buf);
}

static void tb_det(text_buf *b, const vg_coco_results *res, const vgi_coco_det *d) {
    char buf[96];
    snprintf(buf, sizeof(buf), "{\"image_id\":%lld,\"category_id\":%lld", (long long)d->image_id,
             (long long)d->category_id);
    tb_str(b, buf);
    if (d->has_bbox) {
        tb_str(b, ",\"bbox\":[");
        for (int i = 0; i < 4; i++) {
            if (i)
                tb_str(b, ",");
            tb_coord(b, d->bbox[i]);
        }
        tb_str(b, "]");
    }
    if (d->n_kp) {
        tb_str(b, ",\"keypoints\":[");
        for (size_t i = 0; i < 3 * (size_t)d->n_kp; i++) {
            if (i)
                tb_str(b, ",");
            if (i % 3 == 2)
                tb_score(b, res->kp[d->kp_off + i]);
            else
                tb_coord(b, res->kp[d->kp_off + i]);
        }
        tb_str(b, "]");
    }
    tb_str(b, ",\"score\":");
    tb_score(b, d->score);
    tb_str(b, "}");
}

char *vg_coco_results_dumps(const vg_coco_results *res) {
    if (!res)
        return NULL;
    /* One entry per line: diffable, and still a single JSON array. */
    text_buf b = {NULL, 0, 0, false};
    tb_str(&b, "[");
    for (size_t i = 0; i < res->n; i++) {
        tb_str(&b, i ? ",\n" : "\n");
        tb_det(&b, res, &res->dets[i]);
    }
    tb_str(&b, "\n]\n");
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

vg_status vg_coco_results_write(const vg_coco_results *res, const char *path, char *err,
                                size_t errlen) {
    if (!res || !path)
        return VG_E_INVALID_ARG;
    char *s = vg_coco_results_dumps(res);
    if (!s) {
        vgi_coco_errf(err, errlen, "%s: out of memory while formatting results", path);
        return VG_E_NOMEM;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        vgi_coco_errf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        free(s);
        return VG_E_IO;
    }
    size_t n  = strlen(s);
    bool   ok = fwrite(s, 1, n, f) == n;
    ok        = (fclose(f) == 0) && ok;
    free(s);
    if (!ok) {
        vgi_coco_errf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        return VG_E_IO;
    }
    return VG_OK;
}
