/*
 * analytics.c - the PRE-PROCESS, DETECT and POSE stages of the pipeline.
 *
 * DESIGN
 * One vg_analytics object holds what the three stage functions share: the
 * models (borrowed, read-only), the manifests, and a pool of per-frame work
 * buffers. Everything a stage changes per frame belongs to that stage alone:
 *   pre     its RGB converter; takes a work buffer from the pool, converts
 *           the picture into its RGB24 part and letterboxes that into its
 *           detector-input part, and hangs it on the frame (aux slot), whose
 *           release returns it to the pool;
 *   detect  its session (created in thread_init, in the stage thread, on the
 *           detector's device) and decoder; runs the model on the frame's
 *           input, decodes + NMS into a scratch array and copies the
 *           detections into the frame; with params.person_boxes the persons
 *           are the caller's boxes instead (the detector still runs), and the
 *           work item remembers that so the pose stage takes them all;
 *   pose    its session and a pose-only vg_topdown (crop batch, run, decode:
 *           the same code as the still-image tools), fed with the frame's
 *           person boxes and the RGB picture; copies the poses into the frame
 *           and gives the work buffer back.
 * The pool grows to the number of frames in flight (queue capacities plus one
 * per stage) and is then reused; the frames' result arrays are recycled by
 * the frame pool, so a warm pipeline allocates nothing per frame. The pool is
 * the one lock on the per-frame path (two short critical sections a frame).
 *
 * Failures are reported twice: the stage returns the status (the pipeline
 * stops and names stage and frame) and the detailed text (engine message,
 * model, frame) is kept per stage for vg_analytics_errmsg() and logged.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/frame.h>

#include "core/core_impl.h"
#include "vigil/alloc.h"
#include "vigil/analytics.h"
#include "vigil/log.h"
#include "vigil/thread.h"
#include "vigil/topdown.h"

#define LOG_CTX  "analytics"
#define MAX_OUTS 16

/* A frame's work buffers. */
typedef struct work_item {
    struct vg_analytics *owner;
    struct work_item    *next;
    uint8_t             *rgb;
    size_t               rgb_cap;
    vg_image             img; /* view of rgb */
    void                *det_in;
    vg_letterbox         lb;
    bool                 given_persons; /* persons came from params.person_boxes */
} work_item;

typedef struct stage_state {
    char        err[1024];
    vg_session *session;
    char        backend[16];
    vg_cpuset   cpus;
    bool        pinned;
} stage_state;

struct vg_analytics {
    vg_analytics_params p;
    vg_manifest         dman, pman;
    bool                has_pose;
    char                det_backend[32], det_device[64], pose_backend[32], pose_device[64];

    /* Detector input. */
    const char *d_in_name;
    int64_t     d_in_dims[4];
    vg_dtype    d_in_dtype;
    size_t      d_in_bytes;
    float       person_thr;

    /* Pool of work items. */
    vg_mutex   pool_lock;
    work_item *free_items;
    int        n_items; /* allocated; all are on the free list when nothing runs */

    /* pre */
    stage_state   pre;
    vg_frame_rgb *rgbconv;
    /* detect */
    stage_state   det;
    vg_decoder   *ddec;
    vg_detection *dets;
    vg_vis_tensor outs[MAX_OUTS];
    /* pose */
    stage_state   pose;
    vg_topdown   *td;
    vg_detection *persons;
    int32_t       cap_persons;
};

static vg_status serr(stage_state *s, vg_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the stage's first detailed error and logs it. */
static vg_status serr(stage_state *s, vg_status st, const char *fmt, ...) {
    char    msg[sizeof(s->err)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!s->err[0])
        snprintf(s->err, sizeof(s->err), "%s", msg);
    vg_log(LOG_CTX, VG_LOG_ERROR, "%s", msg);
    return st;
}

vg_analytics_params vg_analytics_params_default(void) {
    return (vg_analytics_params){
        .score_threshold  = -1.0f,
        .person_threshold = -1.0f,
        .pose_batch       = 16,
        .max_persons      = 0,
        .max_detections   = 100,
    };
}

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

/* ---- devices -------------------------------------------------------------------- */

static bool is_cuda(const char *dev) {
    return dev && !strncmp(dev, "cuda", 4);
}

/* The cores of "cpu:LIST" (for pinning the stage thread); false otherwise. */
static bool device_cpus(const char *dev, vg_cpuset *out) {
    vg_cpuset_clear(out);
    if (!dev || strncmp(dev, "cpu:", 4))
        return false;
    return vg_cpuset_parse(dev + 4, out) == VG_OK && vg_cpuset_count(out) > 0;
}

static vg_session_params session_params(const vg_analytics *a, bool pose) {
    vg_session_params sp = vg_session_params_default();
    sp.backend           = pose ? a->p.pose_backend : a->p.det_backend;
    sp.device            = pose ? a->p.pose_device : a->p.det_device;
    sp.threads           = pose ? a->p.pose_threads : a->p.det_threads;
    sp.precision         = pose ? a->p.pose_precision : a->p.det_precision;
    if (is_cuda(sp.device) && !sp.backend)
        sp.backend = "cuda";
    return sp;
}

/* Creates (and with probe, destroys) a session; err says what went wrong. */
static vg_status open_session(const vg_analytics *a, bool pose, vg_session **out, char *err,
                              size_t n) {
    const vg_model   *m    = pose ? a->p.pose_model : a->p.det_model;
    vg_session_params sp   = session_params(a, pose);
    const char       *what = pose ? "pose model" : "detector";
    const char       *dev  = sp.device ? sp.device : "cpu";
    vg_status         st   = vg_session_create(m, &sp, out);
    if (st == VG_OK)
        return VG_OK;
    const char *why = vg_model_errmsg(m);
    if (is_cuda(dev) && st == VG_E_INVALID_ARG) /* backend/precision mismatch: engine's words */
        return vgi_errf(err, n, st, "%s '%s' on device '%s': %s", what,
                        pose ? a->pman.name : a->dman.name, dev, why);
    if (is_cuda(dev))
        return vgi_errf(
            err, n, st == VG_E_INVALID_ARG ? VG_E_UNSUPPORTED : st,
            "%s '%s' on device '%s': CUDA is not available in this vigil (%s); use a CPU "
            "device such as cpu:0 or cpu:0-1, or build with -DVG_WITH_CUDA=ON on a machine "
            "with the CUDA toolkit and a GPU",
            what, pose ? a->pman.name : a->dman.name, dev, why);
    return vgi_errf(err, n, st,
                    "%s '%s' on device '%s' (backend %s): %s; pick cores this process may use "
                    "(see nproc / taskset) and a backend that is built (ref, cpu)",
                    what, pose ? a->pman.name : a->dman.name, dev,
                    sp.backend ? sp.backend : "default", why);
}

/* ---- create / destroy ------------------------------------------------------------ */

static vg_status check_det_input(vg_analytics *a, char *err, size_t n) {
    const vg_manifest *m = &a->dman;
    if (m->task != VG_VIS_TASK_DETECTOR)
        return vgi_errf(
            err, n, VG_E_INVALID_ARG,
            "'%s' is not a detector; pass a detector model (centernet, nanodet, yolov7) "
            "as --detector",
            m->name);
    if (m->input_w <= 0 || m->input_h <= 0)
        return vgi_errf(err, n, VG_E_UNSUPPORTED,
                        "detector '%s' has a dynamic input size; give its size in a manifest",
                        m->name);
    if (vg_model_input_count(a->p.det_model) != 1)
        return vgi_errf(err, n, VG_E_UNSUPPORTED,
                        "detector '%s' has %d inputs; vigil feeds one image input", m->name,
                        vg_model_input_count(a->p.det_model));
    const vg_io_info *in      = vg_model_input(a->p.det_model, 0);
    int64_t           want[4] = {1, 0, 0, 0};
    if (m->layout == VG_VIS_NCHW) {
        want[1] = 3;
        want[2] = m->input_h;
        want[3] = m->input_w;
    } else {
        want[1] = m->input_h;
        want[2] = m->input_w;
        want[3] = 3;
    }
    bool ok = in->shape.ndim == 4 && in->dtype == engine_dtype(m->dtype);
    for (int i = 0; ok && i < 4; i++)
        ok = in->shape.dims[i] < 0 || in->shape.dims[i] == want[i];
    if (!ok) {
        char got[96];
        vg_shape_format(&in->shape, got, sizeof(got));
        return vgi_errf(err, n, VG_E_SHAPE,
                        "detector input '%s' is %s %s, but manifest '%s' wants %s [1, %lld, %lld, "
                        "%lld]; fix the manifest or pick the right model",
                        in->name, vg_dtype_name(in->dtype), got, m->name,
                        vg_dtype_name(engine_dtype(m->dtype)), (long long)want[1],
                        (long long)want[2], (long long)want[3]);
    }
    a->d_in_name  = in->name;
    a->d_in_dtype = in->dtype;
    memcpy(a->d_in_dims, want, sizeof(want));
    a->d_in_bytes = vg_manifest_input_bytes(m, 0, 0);
    return VG_OK;
}

vg_status vg_analytics_create(const vg_analytics_params *p, vg_analytics **out, char *err,
                              size_t err_len) {
    if (err && err_len)
        err[0] = '\0';
    if (!out)
        return vgi_errf(err, err_len, VG_E_INVALID_ARG, "vg_analytics_create: out is NULL");
    *out = NULL;
    if (!p || !p->det_model || !p->det_manifest)
        return vgi_errf(err, err_len, VG_E_INVALID_ARG, "analytics: a detector model is required");
    if (!p->pose_model != !p->pose_manifest)
        return vgi_errf(err, err_len, VG_E_INVALID_ARG,
                        "analytics: the pose model needs both model and manifest");
    if (p->pose_batch < 1 || p->max_detections < 1 || p->max_persons < 0)
        return vgi_errf(err, err_len, VG_E_INVALID_ARG,
                        "analytics: pose_batch and max_detections must be >= 1, max_persons >= 0");

    vg_analytics *a = vg_calloc(1, sizeof(*a));
    if (!a)
        return vgi_errf(err, err_len, VG_E_NOMEM, "out of memory");
    vg_status st = vg_mutex_init(&a->pool_lock);
    if (st != VG_OK) {
        vg_free(a);
        return vgi_errf(err, err_len, st, "cannot create a mutex");
    }
    a->p        = *p;
    a->dman     = *p->det_manifest;
    a->has_pose = p->pose_model != NULL;
    if (a->has_pose)
        a->pman = *p->pose_manifest;
        /* Own copies of the strings (the caller's may be temporary). */
#define COPY_STR(field, buf)                                                                       \
    do {                                                                                           \
        if (p->field) {                                                                            \
            snprintf(a->buf, sizeof(a->buf), "%s", p->field);                                      \
            a->p.field = a->buf;                                                                   \
        }                                                                                          \
    } while (0)
    COPY_STR(det_backend, det_backend);
    COPY_STR(det_device, det_device);
    COPY_STR(pose_backend, pose_backend);
    COPY_STR(pose_device, pose_device);
#undef COPY_STR
    if (p->score_threshold >= 0)
        a->dman.score_threshold = p->score_threshold;
    a->person_thr = p->person_threshold >= 0 ? p->person_threshold : (float)a->dman.score_threshold;

    if ((st = check_det_input(a, err, err_len)) != VG_OK)
        goto fail;
    if (a->has_pose &&
        (a->pman.task != VG_VIS_TASK_POSE ||
         (a->pman.family != VG_VIS_FAMILY_MOVENET && a->pman.family != VG_VIS_FAMILY_HRNET))) {
        st = vgi_errf(err, err_len, VG_E_UNSUPPORTED,
                      "'%s' is not a top-down pose model (movenet or hrnet-heatmap); pass one as "
                      "--pose",
                      a->pman.name);
        goto fail;
    }
    /* Probe the devices now, so that a bad one stops the run before it starts. */
    for (int k = 0; k < (a->has_pose ? 2 : 1); k++) {
        vg_session *s = NULL;
        if ((st = open_session(a, k == 1, &s, err, err_len)) != VG_OK)
            goto fail;
        vg_session_destroy(s);
    }
    a->det.pinned  = device_cpus(a->p.det_device, &a->det.cpus);
    a->pose.pinned = a->has_pose && device_cpus(a->p.pose_device, &a->pose.cpus);

    a->dets = vg_calloc((size_t)p->max_detections, sizeof(vg_detection));
    if (!a->dets || vg_frame_rgb_create(&a->rgbconv) != VG_OK ||
        vg_decoder_create(&a->dman, &a->ddec) != VG_OK) {
        st = vgi_errf(err, err_len, VG_E_NOMEM, "out of memory");
        goto fail;
    }
    *out = a;
    return VG_OK;
fail:
    vg_analytics_destroy(a);
    return st;
}

void vg_analytics_destroy(vg_analytics *a) {
    if (!a)
        return;
    int freed = 0;
    while (a->free_items) {
        work_item *it = a->free_items;
        a->free_items = it->next;
        vg_free(it->rgb);
        vg_aligned_free(it->det_in);
        vg_free(it);
        freed++;
    }
    if (freed != a->n_items)
        vg_log(LOG_CTX, VG_LOG_ERROR,
               "%d work buffers still held by frames at destroy (destroy the pipeline first)",
               a->n_items - freed);
    vg_frame_rgb_destroy(a->rgbconv);
    vg_decoder_destroy(a->ddec);
    vg_topdown_destroy(a->td);
    vg_session_destroy(a->det.session);
    vg_session_destroy(a->pose.session);
    vg_free(a->dets);
    vg_free(a->persons);
    vg_mutex_fini(&a->pool_lock);
    vg_free(a);
}

const char *vg_analytics_errmsg(const vg_analytics *a) {
    if (!a)
        return "";
    return a->pre.err[0] ? a->pre.err : a->det.err[0] ? a->det.err : a->pose.err;
}

const char *vg_analytics_backend(const vg_analytics *a, bool pose) {
    return a ? (pose ? a->pose.backend : a->det.backend) : "";
}

/* ---- the work-item pool ---------------------------------------------------------- */

static void item_release(void *data) {
    work_item    *it = data;
    vg_analytics *a  = it->owner;
    vg_mutex_lock(&a->pool_lock);
    it->next      = a->free_items;
    a->free_items = it;
    vg_mutex_unlock(&a->pool_lock);
}

static work_item *item_get(vg_analytics *a) {
    vg_mutex_lock(&a->pool_lock);
    work_item *it = a->free_items;
    if (it) {
        a->free_items = it->next;
    } else if ((it = vg_calloc(1, sizeof(*it))) != NULL) {
        it->owner  = a;
        it->det_in = vg_aligned_alloc(64, a->d_in_bytes);
        if (!it->det_in) {
            vg_free(it);
            it = NULL;
        } else {
            a->n_items++;
        }
    }
    vg_mutex_unlock(&a->pool_lock);
    return it;
}

/* ---- stages ------------------------------------------------------------------------ */

static vg_status pre_fn(void *ctx, vg_frame *f) {
    vg_analytics *a = ctx;
    vg_image      src;
    vg_status     st = vg_frame_rgb_convert(a->rgbconv, f->av, &src);
    if (st != VG_OK)
        return serr(&a->pre, st, "frame %lld: cannot convert the picture to RGB (%s)",
                    (long long)f->index, vg_status_str(st));
    work_item *it = item_get(a);
    if (!it)
        return serr(&a->pre, VG_E_NOMEM, "frame %lld: out of memory for work buffers",
                    (long long)f->index);
    size_t row = (size_t)src.width * 3, need = row * (size_t)src.height;
    if (need > it->rgb_cap) {
        vg_free(it->rgb);
        it->rgb_cap = 0;
        if (!(it->rgb = vg_malloc(need))) {
            item_release(it);
            return serr(&a->pre, VG_E_NOMEM, "frame %lld: out of memory for a %dx%d picture",
                        (long long)f->index, src.width, src.height);
        }
        it->rgb_cap = need;
    }
    for (int32_t y = 0; y < src.height; y++)
        memcpy(it->rgb + (size_t)y * row, src.data + (size_t)y * (size_t)src.stride, row);
    it->img = (vg_image){it->rgb, src.width, src.height, (int32_t)row};
    st      = vg_pre_detector(&a->dman, &it->img, 0, 0, it->det_in, a->d_in_bytes, &it->lb);
    if (st != VG_OK) {
        item_release(it);
        return serr(&a->pre, st, "frame %lld: detector pre-processing of a %dx%d picture failed",
                    (long long)f->index, src.width, src.height);
    }
    vg_frame_set_aux(f, VG_ANALYTICS_AUX_SLOT, it, item_release);
    return VG_OK;
}

static vg_status stage_start(vg_analytics *a, stage_state *s, bool pose) {
    char      err[sizeof(s->err)];
    vg_status st = open_session(a, pose, &s->session, err, sizeof(err));
    if (st != VG_OK)
        return serr(s, st, "%s", err);
    snprintf(s->backend, sizeof(s->backend), "%s", vg_session_backend(s->session));
    return VG_OK;
}

static vg_status det_init(void *ctx) {
    vg_analytics *a = ctx;
    return stage_start(a, &a->det, false);
}

static void det_fini(void *ctx) {
    vg_analytics *a = ctx;
    vg_session_destroy(a->det.session);
    a->det.session = NULL;
}

/* The detect stage's results when params.person_boxes gave the persons: the
 * given boxes first (class 0), then the detector's other classes. */
static vg_status det_given_persons(vg_analytics *a, work_item *it, vg_frame *f,
                                   const vg_detection *given, int32_t n_given, int32_t n_det) {
    int32_t others = 0;
    for (int32_t i = 0; i < n_det; i++)
        others += a->dets[i].class_id != 0;
    vg_status st = vg_frame_reserve_detections(f, n_given + others);
    if (st != VG_OK)
        return serr(&a->det, st, "frame %lld: out of memory for %d detections", (long long)f->index,
                    n_given + others);
    for (int32_t i = 0; i < n_given; i++) {
        f->detections[i]          = given[i];
        f->detections[i].class_id = 0;
    }
    int32_t m = n_given;
    for (int32_t i = 0; i < n_det; i++)
        if (a->dets[i].class_id != 0)
            f->detections[m++] = a->dets[i];
    f->n_detections = m;
    f->n_persons = a->p.max_persons > 0 && n_given > a->p.max_persons ? a->p.max_persons : n_given;
    it->given_persons = true;
    if (!a->has_pose)
        vg_frame_set_aux(f, VG_ANALYTICS_AUX_SLOT, NULL, NULL);
    return VG_OK;
}

static vg_status det_fn(void *ctx, vg_frame *f) {
    vg_analytics *a  = ctx;
    work_item    *it = f->aux[VG_ANALYTICS_AUX_SLOT];
    if (!it)
        return serr(&a->det, VG_E_INTERNAL, "frame %lld reached 'detect' without pre-processing",
                    (long long)f->index);
    vg_tensor in = vg_tensor_make(a->d_in_dtype, 4, a->d_in_dims, it->det_in);
    vg_status st;
    if ((st = vg_session_set_input(a->det.session, a->d_in_name, &in)) != VG_OK ||
        (st = vg_session_run(a->det.session)) != VG_OK)
        return serr(&a->det, st, "frame %lld: detector '%s': %s", (long long)f->index, a->dman.name,
                    vg_session_errmsg(a->det.session));
    int32_t no = vg_model_output_count(a->p.det_model);
    if (no > MAX_OUTS)
        return serr(&a->det, VG_E_UNSUPPORTED, "detector '%s' has %d outputs (at most %d)",
                    a->dman.name, no, MAX_OUTS);
    for (int32_t i = 0; i < no; i++) {
        vg_tensor t;
        if ((st = vg_session_get_output_at(a->det.session, i, &t)) != VG_OK)
            return serr(&a->det, st, "frame %lld: detector output %d: %s", (long long)f->index, i,
                        vg_session_errmsg(a->det.session));
        vg_vis_tensor *o = &a->outs[i];
        memset(o, 0, sizeof(*o));
        o->name = vg_model_output(a->p.det_model, i)->name;
        if (vis_dtype(t.dtype, &o->dtype)) {
            o->ndim = t.shape.ndim > 8 ? 8 : t.shape.ndim;
            for (int32_t k = 0; k < o->ndim; k++)
                o->shape[k] = t.shape.dims[k];
            o->data = t.data;
        }
    }
    int32_t n = 0;
    st = vg_decode_detections(a->ddec, a->outs, no, &it->lb, a->dets, a->p.max_detections, &n);
    if (st != VG_OK)
        return serr(&a->det, st, "frame %lld: decoding detector outputs: %s", (long long)f->index,
                    vg_decoder_errmsg(a->ddec));
    vg_frame_clear_results(f);
    it->given_persons = false;
    if (a->p.person_boxes) {
        const vg_detection *given   = NULL;
        int32_t             n_given = a->p.person_boxes(a->p.person_boxes_user, f, &given);
        if ((n_given > 0 && !given) || n_given > 100000 || n_given < -1)
            return serr(&a->det, VG_E_INVALID_ARG,
                        "frame %lld: person_boxes returned %d boxes%s; give -1, or 0..100000 "
                        "boxes and their array",
                        (long long)f->index, n_given, n_given > 0 && !given ? " but no array" : "");
        if (n_given >= 0)
            return det_given_persons(a, it, f, given, n_given, n);
    }
    if ((st = vg_frame_reserve_detections(f, n)) != VG_OK)
        return serr(&a->det, st, "frame %lld: out of memory for %d detections", (long long)f->index,
                    n);
    memcpy(f->detections, a->dets, (size_t)n * sizeof(vg_detection));
    f->n_detections = n;
    int32_t persons = 0;
    for (int32_t i = 0; i < n; i++)
        persons += a->dets[i].class_id == 0 && a->dets[i].score >= a->person_thr;
    if (a->p.max_persons > 0 && persons > a->p.max_persons)
        persons = a->p.max_persons;
    f->n_persons = persons;
    if (!a->has_pose) /* the buffers are not needed any more */
        vg_frame_set_aux(f, VG_ANALYTICS_AUX_SLOT, NULL, NULL);
    return VG_OK;
}

static vg_status pose_init(void *ctx) {
    vg_analytics *a  = ctx;
    vg_status     st = stage_start(a, &a->pose, true);
    if (st != VG_OK)
        return st;
    vg_topdown_params tp = vg_topdown_params_default();
    tp.max_batch         = a->p.pose_batch;
    char err[512];
    st = vg_topdown_create(NULL, NULL, NULL, a->p.pose_model, a->pose.session, &a->pman, &tp,
                           &a->td, err, sizeof(err));
    if (st != VG_OK)
        return serr(&a->pose, st, "pose model '%s': %s", a->pman.name, err);
    return VG_OK;
}

static void pose_fini(void *ctx) {
    vg_analytics *a = ctx;
    vg_topdown_destroy(a->td);
    a->td = NULL;
    vg_session_destroy(a->pose.session);
    a->pose.session = NULL;
}

static vg_status pose_fn(void *ctx, vg_frame *f) {
    vg_analytics *a  = ctx;
    work_item    *it = f->aux[VG_ANALYTICS_AUX_SLOT];
    if (!it)
        return serr(&a->pose, VG_E_INTERNAL, "frame %lld reached 'pose' without pre-processing",
                    (long long)f->index);
    int32_t n = 0;
    if (f->n_persons > a->cap_persons) {
        int32_t       cap = f->n_persons < 32 ? 32 : 2 * f->n_persons;
        vg_detection *np  = vg_realloc(a->persons, (size_t)cap * sizeof(*np));
        if (!np)
            return serr(&a->pose, VG_E_NOMEM, "frame %lld: out of memory for %d persons",
                        (long long)f->index, f->n_persons);
        a->persons     = np;
        a->cap_persons = cap;
    }
    /* Detections are sorted by score: the first n_persons persons above the
     * threshold are the ones that get a pose. Given persons come first and
     * all get one. */
    for (int32_t i = 0; i < f->n_detections && n < f->n_persons; i++) {
        const vg_detection *d = &f->detections[i];
        if (d->class_id == 0 && (it->given_persons || d->score >= a->person_thr))
            a->persons[n++] = *d;
    }
    f->n_poses = 0;
    if (n > 0) {
        vg_topdown_result r;
        vg_status         st = vg_topdown_run(a->td, &it->img, a->persons, n, &r);
        if (st != VG_OK)
            return serr(&a->pose, st, "frame %lld: %s", (long long)f->index,
                        vg_topdown_errmsg(a->td));
        if ((st = vg_frame_reserve_poses(f, r.n_poses)) != VG_OK)
            return serr(&a->pose, st, "frame %lld: out of memory for %d poses", (long long)f->index,
                        r.n_poses);
        memcpy(f->poses, r.poses, (size_t)r.n_poses * sizeof(vg_pose));
        f->n_poses = r.n_poses;
    }
    vg_frame_set_aux(f, VG_ANALYTICS_AUX_SLOT, NULL, NULL);
    return VG_OK;
}

size_t vg_analytics_stages(vg_analytics *a, vg_stage *stages) {
    size_t n    = 0;
    stages[n++] = (vg_stage){.name = "pre", .fn = pre_fn, .ctx = a};
    stages[n++] = (vg_stage){.name        = "detect",
                             .fn          = det_fn,
                             .ctx         = a,
                             .thread_init = det_init,
                             .thread_fini = det_fini,
                             .cpus        = a->det.pinned ? &a->det.cpus : NULL};
    if (a->has_pose)
        stages[n++] = (vg_stage){.name        = "pose",
                                 .fn          = pose_fn,
                                 .ctx         = a,
                                 .thread_init = pose_init,
                                 .thread_fini = pose_fini,
                                 .cpus        = a->pose.pinned ? &a->pose.cpus : NULL};
    return n;
}
