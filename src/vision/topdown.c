/*
 * topdown.c - one frame through detector -> person crops -> pose model.
 *
 * DESIGN: the object holds everything a frame needs besides the pixels: the
 * detector input buffer (fixed size, from the manifest), a pose input buffer
 * for one run (max_batch crops, or the model's fixed batch), the output
 * views handed to the decoders, and the person/crop/pose arrays, which grow
 * only when a frame has more persons than any frame before. Persons are
 * processed in chunks: a chunk is as many crops as one pose run takes
 * (params.max_batch for a dynamic batch; the fixed batch otherwise, padded
 * with zero items when fewer persons remain; half of it with the flip test,
 * whose mirrored crops follow the plain ones in the same run, as the HRNet
 * decoder expects). Each chunk is decoded straight from the session's output
 * into its slice of the pose array, so no output is copied. The engine keeps
 * one plan per input shape (on the CPU with one activation arena for all of
 * them, sized by the largest), so once the largest batch of a video has
 * occurred and every batch size has occurred after it, the steady state
 * allocates nothing. With
 * a dynamic batch, a chunk smaller than max_batch is the largest power of two
 * that fits (13 persons with max_batch 16: 8 + 4 + 1), so a video needs at
 * most 2 + log2(max_batch) plans whatever its person counts, instead of one
 * per count: each plan has its own backend buffers, and the engine keeps only
 * so many plans before it rebuilds them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/core_impl.h"
#include "vigil/alloc.h"
#include "vigil/clock.h"
#include "vigil/topdown.h"

#define TD_MAX_OUTS 16

struct vg_topdown {
    vg_topdown_params p;
    char              err[512];

    /* Detector. */
    const vg_model *dm;
    vg_session     *ds;
    vg_manifest     dman;
    vg_decoder     *ddec;
    const char     *d_in_name;
    int64_t         d_in_dims[4];
    size_t          d_in_bytes;
    vg_detection   *dets;
    int32_t         cap_dets;

    /* Pose. */
    const vg_model *pm;
    vg_session     *ps;
    vg_manifest     pman;
    vg_decoder     *pdec;
    const char     *p_in_name;
    int64_t         p_item_dims[3]; /* dims after the batch */
    size_t          p_item_bytes;
    int64_t         p_fixed_batch; /* 0: dynamic */
    int32_t         chunk_persons; /* persons per run */
    int32_t         chunk_items;   /* max items per run */

    /* Per frame, grown on demand. */
    vg_detection *persons;
    vg_crop      *crops;
    vg_pose      *poses;
    int32_t       cap_persons;

    vg_vis_tensor outs[TD_MAX_OUTS];
};

static vg_status terr(vg_topdown *td, vg_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static vg_status terr(vg_topdown *td, vg_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(td->err, sizeof(td->err), fmt, ap);
    va_end(ap);
    return st;
}

vg_topdown_params vg_topdown_params_default(void) {
    vg_topdown_params p = {
        .score_threshold  = -1.0f,
        .person_threshold = -1.0f,
        .max_batch        = 16,
        .max_persons      = 0,
        .max_detections   = 300,
    };
    return p;
}

const char *vg_topdown_errmsg(const vg_topdown *td) {
    return td ? td->err : "";
}

/* ---- manifests of loaded models -------------------------------------------- */

static bool vis_dtype(vg_dtype t, vg_vis_dtype *out) {
    switch (t) {
    case VG_DTYPE_F32:
        *out = VG_VIS_F32;
        return true;
    case VG_DTYPE_I32:
        *out = VG_VIS_I32;
        return true;
    case VG_DTYPE_U8:
        *out = VG_VIS_U8;
        return true;
    default:
        return false;
    }
}

static void io_to_sig(const vg_io_info *io, vg_vis_sig *s) {
    memset(s, 0, sizeof(*s));
    s->name = io->name;
    if (!vis_dtype(io->dtype, &s->dtype))
        s->dtype = VG_VIS_F32; /* int64/bool outputs: only matched by shape */
    s->ndim = io->shape.ndim > 8 ? 8 : io->shape.ndim;
    for (int32_t i = 0; i < s->ndim; i++)
        s->shape[i] = io->shape.dims[i];
}

static bool file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static bool dir_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Finds a manifest file beside the model; writes it into buf. */
static bool find_manifest_file(const char *path, char *buf, size_t n) {
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    if (len + 32 > n)
        return false;
    char base[4096];
    if (len >= sizeof(base))
        return false;
    memcpy(base, path, len);
    base[len] = '\0';
    if (dir_exists(base)) {
        snprintf(buf, n, "%s/manifest.json", base);
        return file_exists(buf);
    }
    /* models/x.onnx -> models/x.manifest.json; models/x/model.json -> models/x/model.manifest.json
     */
    char *dot   = strrchr(base, '.');
    char *slash = strrchr(base, '/');
    if (dot && (!slash || dot > slash)) {
        *dot = '\0';
        snprintf(buf, n, "%s.manifest.json", base);
        if (file_exists(buf))
            return true;
        *dot = '.';
    }
    if (slash) {
        *slash = '\0';
        snprintf(buf, n, "%s/manifest.json", base);
    } else {
        snprintf(buf, n, "manifest.json");
    }
    return file_exists(buf);
}

vg_status vg_model_manifest(const vg_model *model, const char *path, vg_manifest *m, char *err,
                            size_t err_len) {
    if (err && err_len)
        err[0] = '\0';
    if (!model || !m)
        return vgi_errf(err, err_len, VG_E_INVALID_ARG, "vg_model_manifest: NULL argument");
    char mf[4200];
    if (path && find_manifest_file(path, mf, sizeof(mf)))
        return vg_manifest_load(mf, m, err, err_len);

    vg_vis_sig ins[TD_MAX_OUTS], outs[TD_MAX_OUTS];
    int32_t    ni = vg_model_input_count(model), no = vg_model_output_count(model);
    if (ni > TD_MAX_OUTS)
        ni = TD_MAX_OUTS;
    if (no > TD_MAX_OUTS)
        no = TD_MAX_OUTS;
    for (int32_t i = 0; i < ni; i++)
        io_to_sig(vg_model_input(model, i), &ins[i]);
    for (int32_t i = 0; i < no; i++)
        io_to_sig(vg_model_output(model, i), &outs[i]);
    char      why[1024];
    vg_status st = vg_manifest_from_signature(ins, ni, outs, no, m, why, sizeof(why));
    if (st != VG_OK)
        return vgi_errf(err, err_len, st, "%s: %s", path ? path : "model", why);
    return VG_OK;
}

/* ---- create / destroy ---------------------------------------------------------- */

static vg_dtype engine_dtype(vg_vis_dtype t) {
    switch (t) {
    case VG_VIS_I32:
        return VG_DTYPE_I32;
    case VG_VIS_U8:
        return VG_DTYPE_U8;
    default:
        return VG_DTYPE_F32;
    }
}

/* The model's input dims for a manifest item (without batch): NHWC h,w,3 / NCHW 3,h,w. */
static void item_dims(const vg_manifest *m, int64_t dims[3]) {
    if (m->layout == VG_VIS_NCHW) {
        dims[0] = 3;
        dims[1] = m->input_h;
        dims[2] = m->input_w;
    } else {
        dims[0] = m->input_h;
        dims[1] = m->input_w;
        dims[2] = 3;
    }
}

/* Checks that model input 0 fits the manifest; returns its batch dim (-1 dynamic). */
static vg_status check_input(const vg_model *model, const vg_manifest *m, const char *what,
                             int64_t *batch, const char **name, char *err, size_t n) {
    if (vg_model_input_count(model) != 1)
        return vgi_errf(err, n, VG_E_UNSUPPORTED,
                        "%s model '%s' has %d inputs; vigil feeds one image "
                        "input",
                        what, m->name, vg_model_input_count(model));
    const vg_io_info *in = vg_model_input(model, 0);
    int64_t           want[3];
    item_dims(m, want);
    bool ok = in->shape.ndim == 4 && in->dtype == engine_dtype(m->dtype);
    for (int i = 0; ok && i < 3; i++)
        ok = in->shape.dims[i + 1] < 0 || in->shape.dims[i + 1] == want[i];
    if (!ok) {
        char got[96];
        vg_shape_format(&in->shape, got, sizeof(got));
        return vgi_errf(err, n, VG_E_SHAPE,
                        "%s model input '%s' is %s %s, but manifest '%s' wants "
                        "%s [N, %lld, %lld, %lld]; fix the manifest or pick the right model",
                        what, in->name, vg_dtype_name(in->dtype), got, m->name,
                        vg_dtype_name(engine_dtype(m->dtype)), (long long)want[0],
                        (long long)want[1], (long long)want[2]);
    }
    *batch = in->shape.dims[0];
    *name  = in->name;
    return VG_OK;
}

vg_status vg_topdown_create(const vg_model *det_model, vg_session *det_session,
                            const vg_manifest *det_manifest, const vg_model *pose_model,
                            vg_session *pose_session, const vg_manifest *pose_manifest,
                            const vg_topdown_params *params, vg_topdown **out, char *err,
                            size_t err_len) {
    if (err && err_len)
        err[0] = '\0';
    if (!out)
        return vgi_errf(err, err_len, VG_E_INVALID_ARG, "vg_topdown_create: out is NULL");
    *out          = NULL;
    bool has_det  = det_model || det_session || det_manifest;
    bool has_pose = pose_model || pose_session || pose_manifest;
    if (!has_det && !has_pose)
        return vgi_errf(err, err_len, VG_E_INVALID_ARG,
                        "vg_topdown_create: neither a detector nor "
                        "a pose model given");
    if (has_det && (!det_model || !det_session || !det_manifest))
        return vgi_errf(err, err_len, VG_E_INVALID_ARG,
                        "vg_topdown_create: the detector needs "
                        "model, session and manifest");
    if (has_pose && (!pose_model || !pose_session || !pose_manifest))
        return vgi_errf(err, err_len, VG_E_INVALID_ARG,
                        "vg_topdown_create: the pose model needs "
                        "model, session and manifest");
    vg_topdown_params p = params ? *params : vg_topdown_params_default();
    if (p.max_batch < 1 || p.max_detections < 1 || p.max_persons < 0)
        return vgi_errf(err, err_len, VG_E_INVALID_ARG,
                        "vg_topdown_create: max_batch and "
                        "max_detections must be >= 1, max_persons >= 0");
    if (has_det && det_manifest->task != VG_VIS_TASK_DETECTOR)
        return vgi_errf(err, err_len, VG_E_INVALID_ARG,
                        "'%s' is not a detector; pass a detector "
                        "model (centernet, nanodet, yolov7)",
                        det_manifest->name);
    if (has_pose && (pose_manifest->task != VG_VIS_TASK_POSE ||
                     (pose_manifest->family != VG_VIS_FAMILY_MOVENET &&
                      pose_manifest->family != VG_VIS_FAMILY_HRNET)))
        return vgi_errf(err, err_len, VG_E_UNSUPPORTED,
                        "'%s' is not a top-down pose model "
                        "(movenet or hrnet-heatmap); whole-frame models such as multipose do not "
                        "take person crops",
                        pose_manifest->name);

    vg_topdown *td = vg_calloc(1, sizeof(*td));
    if (!td)
        return vgi_errf(err, err_len, VG_E_NOMEM, "out of memory");
    td->p        = p;
    vg_status st = VG_OK;
    if (has_det) {
        td->dm   = det_model;
        td->ds   = det_session;
        td->dman = *det_manifest;
        if (p.score_threshold >= 0)
            td->dman.score_threshold = p.score_threshold;
        if (td->dman.input_w <= 0 || td->dman.input_h <= 0) {
            st = vgi_errf(err, err_len, VG_E_UNSUPPORTED,
                          "detector '%s' has a dynamic input size; "
                          "give its size in a manifest",
                          td->dman.name);
            goto fail;
        }
        int64_t batch;
        if ((st = check_input(det_model, &td->dman, "detector", &batch, &td->d_in_name, err,
                              err_len)) != VG_OK)
            goto fail;
        td->d_in_dims[0] = 1;
        item_dims(&td->dman, td->d_in_dims + 1);
        td->d_in_bytes = vg_manifest_input_bytes(&td->dman, 0, 0);
        td->cap_dets   = p.max_detections;
        td->dets       = vg_calloc((size_t)td->cap_dets, sizeof(vg_detection));
        if (!td->dets) {
            st = vgi_errf(err, err_len, VG_E_NOMEM, "out of memory");
            goto fail;
        }
        if ((st = vg_decoder_create(&td->dman, &td->ddec)) != VG_OK) {
            vgi_errf(err, err_len, st, "cannot create the detector decoder");
            goto fail;
        }
    }
    if (has_pose) {
        td->pm   = pose_model;
        td->ps   = pose_session;
        td->pman = *pose_manifest;
        int64_t batch;
        if ((st = check_input(pose_model, &td->pman, "pose", &batch, &td->p_in_name, err,
                              err_len)) != VG_OK)
            goto fail;
        item_dims(&td->pman, td->p_item_dims);
        td->p_item_bytes = vg_manifest_input_bytes(&td->pman, 0, 0);
        const bool flip  = td->pman.heatmap_flip_test;
        if (batch > 0) {
            if (flip && batch < 2) {
                st = vgi_errf(err, err_len, VG_E_UNSUPPORTED,
                              "pose model '%s' has a fixed batch of "
                              "1, but the flip test needs 2 items per person; export it with a "
                              "dynamic batch or set pose.flip_test false",
                              td->pman.name);
                goto fail;
            }
            td->p_fixed_batch = batch;
            td->chunk_items   = (int32_t)batch;
            td->chunk_persons = (int32_t)(flip ? batch / 2 : batch);
        } else {
            td->chunk_persons = p.max_batch;
            td->chunk_items   = flip ? 2 * p.max_batch : p.max_batch;
        }
        if ((st = vg_decoder_create(&td->pman, &td->pdec)) != VG_OK) {
            vgi_errf(err, err_len, st, "cannot create the pose decoder");
            goto fail;
        }
    }
    *out = td;
    return VG_OK;
fail:
    vg_topdown_destroy(td);
    return st;
}

void vg_topdown_destroy(vg_topdown *td) {
    if (!td)
        return;
    vg_decoder_destroy(td->ddec);
    vg_decoder_destroy(td->pdec);
    vg_free(td->dets);
    vg_free(td->persons);
    vg_free(td->crops);
    vg_free(td->poses);
    vg_free(td);
}

/* ---- run ------------------------------------------------------------------------ */

static vg_status reserve_persons(vg_topdown *td, int32_t n) {
    if (n <= td->cap_persons)
        return VG_OK;
    int32_t cap = td->cap_persons ? td->cap_persons : 16;
    while (cap < n)
        cap *= 2;
    vg_detection *pe = vg_realloc(td->persons, (size_t)cap * sizeof(*pe));
    if (!pe)
        return VG_E_NOMEM;
    td->persons = pe;
    vg_crop *cr = vg_realloc(td->crops, (size_t)cap * sizeof(*cr));
    if (!cr)
        return VG_E_NOMEM;
    td->crops   = cr;
    vg_pose *po = vg_realloc(td->poses, (size_t)cap * sizeof(*po));
    if (!po)
        return VG_E_NOMEM;
    td->poses       = po;
    td->cap_persons = cap;
    return VG_OK;
}

/* Session outputs as decoder views. */
static vg_status gather_outputs(vg_topdown *td, const vg_model *m, vg_session *s, const char *what,
                                int32_t *n_out) {
    int32_t n = vg_model_output_count(m);
    if (n > TD_MAX_OUTS)
        return terr(td, VG_E_UNSUPPORTED, "%s model has %d outputs (at most %d)", what, n,
                    TD_MAX_OUTS);
    for (int32_t i = 0; i < n; i++) {
        vg_tensor t;
        vg_status st = vg_session_get_output_at(s, i, &t);
        if (st != VG_OK)
            return terr(td, st, "%s output %d: %s", what, i, vg_session_errmsg(s));
        vg_vis_tensor *o = &td->outs[i];
        memset(o, 0, sizeof(*o));
        o->name = vg_model_output(m, i)->name;
        if (vis_dtype(t.dtype, &o->dtype)) {
            o->ndim = t.shape.ndim > 8 ? 8 : t.shape.ndim;
            for (int32_t k = 0; k < o->ndim; k++)
                o->shape[k] = t.shape.dims[k];
            o->data = t.data;
        } /* else an int64/bool output the decoders cannot read: left empty (ndim 0) */
    }
    *n_out = n;
    return VG_OK;
}

/* The session's own buffer for a 4-D model input of shape `dims`, bound as that input
 * (pre-processing writes straight into it: no copy at run time, and page-locked memory on
 * a GPU). */
static vg_status session_input(vg_topdown *td, vg_session *s, const char *name, const int64_t *dims,
                               size_t want_bytes, const char *what, vg_tensor *buf) {
    vg_shape shape = {.ndim = 4};
    memcpy(shape.dims, dims, 4 * sizeof(int64_t));
    vg_status st = vg_session_input_buffer(s, name, &shape, buf);
    if (st != VG_OK)
        return terr(td, st, "%s input: %s", what, vg_session_errmsg(s));
    if (vg_tensor_nbytes(buf) != want_bytes)
        return terr(td, VG_E_INTERNAL, "%s input: the session's buffer has %zu bytes, %zu expected",
                    what, vg_tensor_nbytes(buf), want_bytes);
    return VG_OK;
}

static vg_status run_detector(vg_topdown *td, const vg_image *img, vg_topdown_result *res) {
    int64_t   t0 = vg_clock_ns();
    vg_tensor in;
    vg_status st =
        session_input(td, td->ds, td->d_in_name, td->d_in_dims, td->d_in_bytes, "detector", &in);
    if (st != VG_OK)
        return st;
    vg_letterbox lb;
    st = vg_pre_detector(&td->dman, img, 0, 0, in.data, td->d_in_bytes, &lb);
    if (st != VG_OK)
        return terr(td, st, "detector pre-processing of a %dx%d image failed (%s)", img->width,
                    img->height, vg_status_str(st));
    int64_t t1 = vg_clock_ns();
    if ((st = vg_session_run(td->ds)) != VG_OK)
        return terr(td, st, "detector '%s': %s", td->dman.name, vg_session_errmsg(td->ds));
    int64_t t2 = vg_clock_ns();
    int32_t no;
    if ((st = gather_outputs(td, td->dm, td->ds, "detector", &no)) != VG_OK)
        return st;
    int32_t n = 0;
    st        = vg_decode_detections(td->ddec, td->outs, no, &lb, td->dets, td->cap_dets, &n);
    if (st != VG_OK)
        return terr(td, st, "decoding detector outputs: %s", vg_decoder_errmsg(td->ddec));
    res->dets        = td->dets;
    res->n_dets      = n;
    res->det_pre_ns  = t1 - t0;
    res->det_run_ns  = t2 - t1;
    res->det_post_ns = vg_clock_ns() - t2;
    return VG_OK;
}

static vg_status run_pose(vg_topdown *td, const vg_image *img, int32_t n, vg_topdown_result *res) {
    vg_status st;
    for (int32_t i = 0; i < n; i++) {
        st = vg_crop_from_box(&td->pman, &td->persons[i].box, img->width, img->height,
                              &td->crops[i]);
        if (st != VG_OK)
            return terr(td, st, "person %d: box (%g, %g, %g, %g) gives no crop", i,
                        td->persons[i].box.x1, td->persons[i].box.y1, td->persons[i].box.x2,
                        td->persons[i].box.y2);
    }
    const bool flip = td->pman.heatmap_flip_test;
    for (int32_t start = 0, c; start < n; start += c) {
        c = n - start < td->chunk_persons ? n - start : td->chunk_persons;
        if (!td->p_fixed_batch && c < td->chunk_persons)
            while (c & (c - 1)) /* the largest power of two <= c */
                c &= c - 1;
        int32_t   items   = td->p_fixed_batch ? td->chunk_items : (flip ? 2 * c : c);
        int32_t   used    = flip ? 2 * c : c;
        int64_t   t0      = vg_clock_ns();
        int64_t   dims[4] = {items, td->p_item_dims[0], td->p_item_dims[1], td->p_item_dims[2]};
        size_t    bytes   = td->p_item_bytes * (size_t)items;
        vg_tensor in;
        if ((st = session_input(td, td->ps, td->p_in_name, dims, bytes, "pose", &in)) != VG_OK)
            return st;
        st = vg_pre_pose_batch(&td->pman, img, &td->crops[start], c, in.data, bytes);
        if (st != VG_OK)
            return terr(td, st, "pose pre-processing failed (%s)", vg_status_str(st));
        if (items > used)
            memset((uint8_t *)in.data + td->p_item_bytes * (size_t)used, 0,
                   td->p_item_bytes * (size_t)(items - used));
        int64_t t1 = vg_clock_ns();
        if ((st = vg_session_run(td->ps)) != VG_OK)
            return terr(td, st, "pose model '%s' (batch %d): %s", td->pman.name, items,
                        vg_session_errmsg(td->ps));
        int64_t t2 = vg_clock_ns();
        int32_t no;
        if ((st = gather_outputs(td, td->pm, td->ps, "pose", &no)) != VG_OK)
            return st;
        for (int32_t i = 0; i < c; i++)
            td->poses[start + i].det = td->persons[start + i];
        st = vg_decode_poses(td->pdec, td->outs, no, &td->crops[start], c, &td->poses[start]);
        if (st != VG_OK)
            return terr(td, st, "decoding pose outputs: %s", vg_decoder_errmsg(td->pdec));
        res->pose_pre_ns += t1 - t0;
        res->pose_run_ns += t2 - t1;
        res->pose_post_ns += vg_clock_ns() - t2;
        res->pose_runs++;
    }
    res->poses   = td->poses;
    res->n_poses = n;
    return VG_OK;
}

vg_status vg_topdown_run(vg_topdown *td, const vg_image *img, const vg_detection *boxes,
                         int32_t n_boxes, vg_topdown_result *res) {
    if (!res)
        return VG_E_INVALID_ARG;
    memset(res, 0, sizeof(*res));
    if (!td)
        return VG_E_INVALID_ARG;
    td->err[0] = '\0';
    if (!img || !img->data || img->width <= 0 || img->height <= 0 || img->stride < 3 * img->width)
        return terr(td, VG_E_INVALID_ARG, "no image or a bad image (%dx%d, stride %d)",
                    img ? img->width : 0, img ? img->height : 0, img ? img->stride : 0);
    if (n_boxes < 0 || (n_boxes > 0 && !boxes))
        return terr(td, VG_E_INVALID_ARG, "bad box list (%d boxes)", n_boxes);
    if (!boxes && !td->ddec)
        return terr(td, VG_E_INVALID_ARG, "no detector: give the person boxes");

    vg_status st;
    int32_t   n = 0;
    if (!boxes) {
        if ((st = run_detector(td, img, res)) != VG_OK)
            return st;
        if (!td->pdec)
            return VG_OK;
        float thr =
            td->p.person_threshold >= 0 ? td->p.person_threshold : (float)td->dman.score_threshold;
        int32_t np = 0;
        for (int32_t i = 0; i < res->n_dets; i++)
            np += res->dets[i].class_id == 0 && res->dets[i].score >= thr;
        if (td->p.max_persons > 0 && np > td->p.max_persons)
            np = td->p.max_persons;
        if ((st = reserve_persons(td, np)) != VG_OK)
            return terr(td, st, "out of memory for %d persons", np);
        for (int32_t i = 0; i < res->n_dets && n < np; i++)
            if (res->dets[i].class_id == 0 && res->dets[i].score >= thr)
                td->persons[n++] = res->dets[i];
    } else {
        if (!td->pdec)
            return terr(td, VG_E_INVALID_ARG, "boxes given but no pose model to run on them");
        n = n_boxes;
        if ((st = reserve_persons(td, n)) != VG_OK)
            return terr(td, st, "out of memory for %d persons", n);
        memcpy(td->persons, boxes, (size_t)n * sizeof(*boxes));
    }
    if (n == 0) {
        res->poses = td->poses;
        return VG_OK;
    }
    return run_pose(td, img, n, res);
}
