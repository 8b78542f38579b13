/*
 * manifest.c - what a model is and how to feed it: built-in manifests, the
 * JSON manifest format, and picking a built-in by a model's signature.
 *
 * DESIGN: a manifest is a plain value struct (fixed-size name arrays, no heap)
 * so that a model can copy it and decoders can keep a copy without ownership
 * rules. A JSON manifest always starts from a built-in (named by "base", or the
 * family's default) and overrides fields, so a minimal file is two lines. The
 * parser is strict: unknown keys and wrong types are errors naming the file
 * and the field, since a silently ignored typo in "mean" would produce wrong
 * inputs without any other symptom.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "vigil/vision.h"

const char *const vg_coco80_names[80] = {
    "person",        "bicycle",      "car",
    "motorcycle",    "airplane",     "bus",
    "train",         "truck",        "boat",
    "traffic light", "fire hydrant", "stop sign",
    "parking meter", "bench",        "bird",
    "cat",           "dog",          "horse",
    "sheep",         "cow",          "elephant",
    "bear",          "zebra",        "giraffe",
    "backpack",      "umbrella",     "handbag",
    "tie",           "suitcase",     "frisbee",
    "skis",          "snowboard",    "sports ball",
    "kite",          "baseball bat", "baseball glove",
    "skateboard",    "surfboard",    "tennis racket",
    "bottle",        "wine glass",   "cup",
    "fork",          "knife",        "spoon",
    "bowl",          "banana",       "apple",
    "sandwich",      "orange",       "broccoli",
    "carrot",        "hot dog",      "pizza",
    "donut",         "cake",         "chair",
    "couch",         "potted plant", "bed",
    "dining table",  "toilet",       "tv",
    "laptop",        "mouse",        "remote",
    "keyboard",      "cell phone",   "microwave",
    "oven",          "toaster",      "sink",
    "refrigerator",  "book",         "clock",
    "vase",          "scissors",     "teddy bear",
    "hair drier",    "toothbrush",
};

static const char *const coco17[17] = {
    "nose",           "left_eye",   "right_eye",   "left_ear",   "right_ear",   "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
    "right_hip",      "left_knee",  "right_knee",  "left_ankle", "right_ankle",
};

const uint8_t vg_coco_skeleton[VG_COCO_NUM_LIMBS][2] = {
    {15, 13}, {13, 11}, {16, 14}, {14, 12}, {11, 12}, {5, 11}, {6, 12}, {5, 6}, {5, 7}, {6, 8},
    {7, 9},   {8, 10},  {1, 2},   {0, 1},   {0, 2},   {1, 3},  {2, 4},  {3, 5}, {4, 6},
};

static const int32_t coco_flip_pairs[8][2] = {
    {1, 2}, {3, 4}, {5, 6}, {7, 8}, {9, 10}, {11, 12}, {13, 14}, {15, 16},
};

static const char *const builtin_names[] = {
    "centernet",
    "nanodet",
    "movenet-thunder",
    "movenet-lightning",
    "movenet-multipose",
    "yolov7",
    "yolov7-raw",
    "yolov7-end2end",
    "hrnet",
    NULL,
};

static const char *const family_names[VG_VIS_FAMILY_COUNT] = {
    "yolov7", "centernet", "nanodet", "hrnet-heatmap", "movenet", "movenet-multipose",
};
/* The built-in each family's JSON manifests start from when they name no base. */
static const char *const family_default_base[VG_VIS_FAMILY_COUNT] = {
    "yolov7", "centernet", "nanodet", "hrnet", "movenet-thunder", "movenet-multipose",
};

static const char *const form_names[] = {
    "default", "grid", "raw", "end2end", "detections", "heatmap",
};

const char *const *vg_manifest_builtin_names(void) {
    return builtin_names;
}

const char *vg_vis_family_name(vg_vis_family f) {
    return (unsigned)f < VG_VIS_FAMILY_COUNT ? family_names[f] : "?";
}

const char *vg_vis_output_form_name(vg_vis_output_form f) {
    return (unsigned)f < sizeof(form_names) / sizeof(form_names[0]) ? form_names[f] : "?";
}

static void copy_name(char *dst, const char *src) {
    snprintf(dst, VG_MANIFEST_MAX_NAME, "%s", src);
}

static void set_common(vg_manifest *m, const char *name) {
    memset(m, 0, sizeof(*m));
    copy_name(m->name, name);
    m->divisor = 1.0f;
    for (int c = 0; c < 3; c++) {
        m->mean[c] = 0.0f;
        m->std[c]  = 1.0f;
    }
    m->crop_padding       = 1.25f;
    m->keypoint_threshold = 0.3f;
    m->min_instance_score = 0.2f;
    m->max_detections     = 100;
}

static void set_coco80(vg_manifest *m) {
    m->n_classes = 80;
    for (int i = 0; i < 80; i++)
        copy_name(m->class_names[i], vg_coco80_names[i]);
}

static void set_coco17(vg_manifest *m) {
    m->n_keypoints = 17;
    for (int i = 0; i < 17; i++)
        copy_name(m->keypoint_names[i], coco17[i]);
    m->n_skeleton = VG_COCO_NUM_LIMBS;
    for (int i = 0; i < VG_COCO_NUM_LIMBS; i++) {
        m->skeleton[i][0] = vg_coco_skeleton[i][0];
        m->skeleton[i][1] = vg_coco_skeleton[i][1];
    }
    m->n_flip_pairs = 8;
    memcpy(m->flip_pairs, coco_flip_pairs, sizeof(coco_flip_pairs));
}

static void set_yolov7(vg_manifest *m, const char *name, vg_vis_output_form form) {
    static const float anchors[3][3][2] = {
        {{10, 13}, {16, 30}, {33, 23}},
        {{30, 61}, {62, 45}, {59, 119}},
        {{116, 90}, {156, 198}, {373, 326}},
    };
    set_common(m, name);
    m->task        = VG_VIS_TASK_DETECTOR;
    m->family      = VG_VIS_FAMILY_YOLOV7;
    m->output_form = form;
    m->input_w = m->input_h = 640;
    m->layout               = VG_VIS_NCHW;
    m->dtype                = VG_VIS_F32;
    m->divisor              = 255.0f;
    m->resize               = VG_VIS_RESIZE_LETTERBOX;
    m->resample             = VG_VIS_RESAMPLE_U8;
    m->pad_value            = 114.0f;
    m->score_threshold      = 0.25;
    m->iou_threshold        = 0.45;
    m->max_detections       = 300;
    m->n_levels             = 3;
    for (int l = 0; l < 3; l++)
        m->strides[l] = 8 << l;
    memcpy(m->anchors, anchors, sizeof(anchors));
    set_coco80(m);
}

vg_status vg_manifest_builtin(const char *name, vg_manifest *m) {
    if (!name || !m)
        return VG_E_INVALID_ARG;
    if (strcmp(name, "centernet") == 0) {
        set_common(m, name);
        m->task        = VG_VIS_TASK_DETECTOR;
        m->family      = VG_VIS_FAMILY_CENTERNET;
        m->output_form = VG_VIS_OUT_CENTERNET_DETECTIONS;
        m->input_w = m->input_h = 512;
        m->layout               = VG_VIS_NHWC;
        m->dtype                = VG_VIS_F32;
        m->score_threshold      = 0.3;
        m->iou_threshold        = 0.5;
        set_coco80(m);
    } else if (strcmp(name, "nanodet") == 0) {
        static const float mean[3] = {103.53f, 116.28f, 123.675f};
        static const float std[3]  = {57.375f, 57.12f, 58.395f};
        set_common(m, name);
        m->task    = VG_VIS_TASK_DETECTOR;
        m->family  = VG_VIS_FAMILY_NANODET;
        m->input_w = m->input_h = 416;
        m->layout               = VG_VIS_NCHW;
        m->dtype                = VG_VIS_F32;
        m->bgr                  = true;
        memcpy(m->mean, mean, sizeof(mean));
        memcpy(m->std, std, sizeof(std));
        m->score_threshold = 0.3;
        m->iou_threshold   = 0.6;
        m->n_levels        = 3;
        for (int l = 0; l < 3; l++)
            m->strides[l] = 8 << l;
        m->reg_max = 10;
        set_coco80(m);
    } else if (strcmp(name, "movenet-thunder") == 0 || strcmp(name, "movenet-lightning") == 0) {
        set_common(m, name);
        m->task    = VG_VIS_TASK_POSE;
        m->family  = VG_VIS_FAMILY_MOVENET;
        m->input_w = m->input_h = name[8] == 't' ? 256 : 192;
        m->layout               = VG_VIS_NHWC;
        m->dtype                = VG_VIS_I32;
        m->crop                 = VG_VIS_CROP_TF_SQUARE;
        set_coco17(m);
    } else if (strcmp(name, "movenet-multipose") == 0) {
        set_common(m, name);
        m->task    = VG_VIS_TASK_POSE;
        m->family  = VG_VIS_FAMILY_MOVENET_MULTIPOSE;
        m->input_w = m->input_h = 256;
        m->layout               = VG_VIS_NHWC;
        m->dtype                = VG_VIS_I32;
        set_coco17(m);
    } else if (strcmp(name, "yolov7") == 0) {
        set_yolov7(m, name, VG_VIS_OUT_YOLO_GRID);
    } else if (strcmp(name, "yolov7-raw") == 0) {
        set_yolov7(m, name, VG_VIS_OUT_YOLO_RAW);
    } else if (strcmp(name, "yolov7-end2end") == 0) {
        set_yolov7(m, name, VG_VIS_OUT_YOLO_END2END);
    } else if (strcmp(name, "hrnet") == 0) {
        static const float mean[3] = {0.485f, 0.456f, 0.406f};
        static const float std[3]  = {0.229f, 0.224f, 0.225f};
        set_common(m, name);
        m->task    = VG_VIS_TASK_POSE;
        m->family  = VG_VIS_FAMILY_HRNET;
        m->input_w = 192;
        m->input_h = 256;
        m->layout  = VG_VIS_NCHW;
        m->dtype   = VG_VIS_F32;
        m->divisor = 255.0f;
        memcpy(m->mean, mean, sizeof(mean));
        memcpy(m->std, std, sizeof(std));
        m->crop = VG_VIS_CROP_AFFINE;
        set_coco17(m);
    } else {
        return VG_E_NOT_FOUND;
    }
    return VG_OK;
}

/* ---- JSON --------------------------------------------------------------- */

typedef struct jctx {
    const char *origin;
    char       *err;
    size_t      err_len;
} jctx;

static vg_status jfail(const jctx *c, vg_status st, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static vg_status jfail(const jctx *c, vg_status st, const char *field, const char *fmt, ...) {
    if (c->err && c->err_len) {
        char    what[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        if (field)
            snprintf(c->err, c->err_len, "%s: field '%s': %s", c->origin, field, what);
        else
            snprintf(c->err, c->err_len, "%s: %s", c->origin, what);
    }
    return st;
}

static int enum_index(const char *s, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (names[i] && strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

/* Reads a string field that must be one of `names`; *out untouched if absent. */
static vg_status get_enum(const jctx *c, json_t *obj, const char *key, const char *field,
                          const char *const *names, int n, int *out) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return VG_OK;
    if (!json_is_string(v))
        return jfail(c, VG_E_FORMAT, field, "expected a string");
    int i = enum_index(json_string_value(v), names, n);
    if (i < 0) {
        char list[256] = "";
        for (int k = 0; k < n; k++) {
            if (!names[k])
                continue;
            size_t used = strlen(list);
            snprintf(list + used, sizeof(list) - used, "%s\"%s\"", used ? ", " : "", names[k]);
        }
        return jfail(c, VG_E_FORMAT, field, "\"%s\" is not one of %s", json_string_value(v), list);
    }
    *out = i;
    return VG_OK;
}

static vg_status get_num(const jctx *c, json_t *obj, const char *key, const char *field, double lo,
                         double hi, double *out, bool *present) {
    json_t *v = json_object_get(obj, key);
    if (present)
        *present = v != NULL;
    if (!v)
        return VG_OK;
    if (!json_is_number(v))
        return jfail(c, VG_E_FORMAT, field, "expected a number");
    double d = json_number_value(v);
    if (!(d >= lo && d <= hi))
        return jfail(c, VG_E_FORMAT, field, "%g is out of range [%g, %g]", d, lo, hi);
    *out = d;
    return VG_OK;
}

static vg_status get_float(const jctx *c, json_t *obj, const char *key, const char *field,
                           double lo, double hi, float *out) {
    double    d  = *out;
    vg_status st = get_num(c, obj, key, field, lo, hi, &d, NULL);
    *out         = (float)d;
    return st;
}

static vg_status get_int(const jctx *c, json_t *obj, const char *key, const char *field, double lo,
                         double hi, int32_t *out) {
    double    d  = *out;
    vg_status st = get_num(c, obj, key, field, lo, hi, &d, NULL);
    if (st == VG_OK && d != floor(d))
        return jfail(c, VG_E_FORMAT, field, "expected an integer, got %g", d);
    *out = (int32_t)d;
    return st;
}

static vg_status get_bool(const jctx *c, json_t *obj, const char *key, const char *field,
                          bool *out) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return VG_OK;
    if (!json_is_boolean(v))
        return jfail(c, VG_E_FORMAT, field, "expected true or false");
    *out = json_is_true(v);
    return VG_OK;
}

static vg_status check_keys(const jctx *c, json_t *obj, const char *prefix,
                            const char *const *allowed) {
    const char *key;
    json_t     *v;
    json_object_foreach(obj, key, v) {
        bool ok = false;
        for (int i = 0; allowed[i]; i++)
            ok = ok || strcmp(key, allowed[i]) == 0;
        if (!ok) {
            char field[128];
            snprintf(field, sizeof(field), "%s%s", prefix, key);
            return jfail(c, VG_E_FORMAT, field, "unknown field (check the spelling)");
        }
    }
    return VG_OK;
}

static vg_status get_float3(const jctx *c, json_t *obj, const char *key, const char *field,
                            bool positive, float out[3]) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return VG_OK;
    if (json_is_number(v)) {
        double d = json_number_value(v);
        if (positive && !(d > 0))
            return jfail(c, VG_E_FORMAT, field, "must be > 0");
        out[0] = out[1] = out[2] = (float)d;
        return VG_OK;
    }
    if (!json_is_array(v) || json_array_size(v) != 3)
        return jfail(c, VG_E_FORMAT, field, "expected a number or an array of 3 numbers");
    for (size_t i = 0; i < 3; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_number(e))
            return jfail(c, VG_E_FORMAT, field, "element %zu is not a number", i);
        double d = json_number_value(e);
        if (positive && !(d > 0))
            return jfail(c, VG_E_FORMAT, field, "element %zu must be > 0", i);
        out[i] = (float)d;
    }
    return VG_OK;
}

static vg_status get_names(const jctx *c, json_t *obj, const char *key, int max,
                           char (*names)[VG_MANIFEST_MAX_NAME], int32_t *n) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return VG_OK;
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > (size_t)max)
        return jfail(c, VG_E_FORMAT, key, "expected an array of 1 to %d strings", max);
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_string(e))
            return jfail(c, VG_E_FORMAT, key, "element %zu is not a string", i);
        if (strlen(json_string_value(e)) >= VG_MANIFEST_MAX_NAME)
            return jfail(c, VG_E_FORMAT, key, "element %zu is longer than %d characters", i,
                         VG_MANIFEST_MAX_NAME - 1);
        copy_name(names[i], json_string_value(e));
    }
    *n = (int32_t)json_array_size(v);
    return VG_OK;
}

static vg_status get_pairs(const jctx *c, json_t *obj, const char *key, int32_t (*pairs)[2],
                           int32_t *n) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return VG_OK;
    if (!json_is_array(v) || json_array_size(v) > VG_MANIFEST_MAX_PAIRS)
        return jfail(c, VG_E_FORMAT, key, "expected an array of at most %d [a, b] pairs",
                     VG_MANIFEST_MAX_PAIRS);
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_array(e) || json_array_size(e) != 2 ||
            !json_is_integer(json_array_get(e, 0)) || !json_is_integer(json_array_get(e, 1)))
            return jfail(c, VG_E_FORMAT, key, "element %zu is not a pair of integers [a, b]", i);
        for (int k = 0; k < 2; k++) {
            json_int_t x = json_integer_value(json_array_get(e, (size_t)k));
            if (x < 0 || x >= VG_MAX_KEYPOINTS)
                return jfail(c, VG_E_FORMAT, key, "element %zu: keypoint index %lld out of range",
                             i, (long long)x);
            pairs[i][k] = (int32_t)x;
        }
    }
    *n = (int32_t)json_array_size(v);
    return VG_OK;
}

static vg_status parse_root(const jctx *c, json_t *root, vg_manifest *m) {
    static const char *const top_keys[] = {
        "name",      "base",       "task",       "family",  "output",  "input",   "normalize",
        "resize",    "thresholds", "classes",    "strides", "anchors", "reg_max", "pose",
        "keypoints", "skeleton",   "flip_pairs", "comment", NULL,
    };
    static const char *const task_names[] = {"detector", "pose"};
    vg_status                st;

    if (!json_is_object(root))
        return jfail(c, VG_E_FORMAT, NULL, "the manifest must be a JSON object");
    if ((st = check_keys(c, root, "", top_keys)) != VG_OK)
        return st;

    /* Start from the base (explicit, or the family's default). */
    json_t *base = json_object_get(root, "base");
    json_t *fam  = json_object_get(root, "family");
    if (base) {
        if (!json_is_string(base))
            return jfail(c, VG_E_FORMAT, "base", "expected a string");
        if (vg_manifest_builtin(json_string_value(base), m) != VG_OK)
            return jfail(c, VG_E_FORMAT, "base",
                         "\"%s\" is not a built-in manifest (centernet, nanodet, "
                         "movenet-thunder, movenet-lightning, movenet-multipose, yolov7, "
                         "yolov7-raw, yolov7-end2end, hrnet)",
                         json_string_value(base));
    } else if (fam) {
        int f = -1;
        if ((st = get_enum(c, root, "family", "family", family_names, VG_VIS_FAMILY_COUNT, &f)) !=
            VG_OK)
            return st;
        vg_manifest_builtin(family_default_base[f], m);
    } else {
        return jfail(c, VG_E_FORMAT, "family",
                     "missing: give \"family\" (yolov7, centernet, nanodet, hrnet-heatmap, "
                     "movenet, movenet-multipose) or \"base\" (a built-in manifest name)");
    }

    json_t *name = json_object_get(root, "name");
    if (name) {
        if (!json_is_string(name))
            return jfail(c, VG_E_FORMAT, "name", "expected a string");
        copy_name(m->name, json_string_value(name));
    }
    int e = (int)m->task;
    if ((st = get_enum(c, root, "task", "task", task_names, 2, &e)) != VG_OK)
        return st;
    m->task = (vg_vis_task)e;
    e       = (int)m->family;
    if ((st = get_enum(c, root, "family", "family", family_names, VG_VIS_FAMILY_COUNT, &e)) !=
        VG_OK)
        return st;
    m->family = (vg_vis_family)e;
    e         = (int)m->output_form;
    if ((st = get_enum(c, root, "output", "output", form_names,
                       (int)(sizeof(form_names) / sizeof(form_names[0])), &e)) != VG_OK)
        return st;
    m->output_form  = (vg_vis_output_form)e;
    bool det_family = m->family <= VG_VIS_FAMILY_NANODET;
    if ((m->task == VG_VIS_TASK_DETECTOR) != det_family)
        return jfail(c, VG_E_FORMAT, "task", "task \"%s\" does not fit family \"%s\"",
                     task_names[m->task], family_names[m->family]);

    json_t *in = json_object_get(root, "input");
    if (in) {
        static const char *const keys[]    = {"width",  "height", "layout", "dtype",
                                              "colour", "color",  NULL};
        static const char *const layouts[] = {"NHWC", "NCHW"};
        static const char *const dtypes[]  = {"float32", "int32", "uint8"};
        static const char *const colours[] = {"RGB", "BGR"};
        if (!json_is_object(in))
            return jfail(c, VG_E_FORMAT, "input", "expected an object");
        if ((st = check_keys(c, in, "input.", keys)) != VG_OK ||
            (st = get_int(c, in, "width", "input.width", 0, 8192, &m->input_w)) != VG_OK ||
            (st = get_int(c, in, "height", "input.height", 0, 8192, &m->input_h)) != VG_OK)
            return st;
        e = (int)m->layout;
        if ((st = get_enum(c, in, "layout", "input.layout", layouts, 2, &e)) != VG_OK)
            return st;
        m->layout = (vg_vis_layout)e;
        e         = (int)m->dtype;
        if ((st = get_enum(c, in, "dtype", "input.dtype", dtypes, 3, &e)) != VG_OK)
            return st;
        m->dtype = (vg_vis_dtype)e;
        e        = m->bgr ? 1 : 0;
        if ((st = get_enum(c, in, "colour", "input.colour", colours, 2, &e)) != VG_OK ||
            (st = get_enum(c, in, "color", "input.color", colours, 2, &e)) != VG_OK)
            return st;
        m->bgr = e == 1;
    }

    json_t *norm = json_object_get(root, "normalize");
    if (norm) {
        static const char *const keys[] = {"divisor", "mean", "std", NULL};
        if (!json_is_object(norm))
            return jfail(c, VG_E_FORMAT, "normalize", "expected an object");
        if ((st = check_keys(c, norm, "normalize.", keys)) != VG_OK ||
            (st = get_float(c, norm, "divisor", "normalize.divisor", 1e-6, 1e6, &m->divisor)) !=
                VG_OK ||
            (st = get_float3(c, norm, "mean", "normalize.mean", false, m->mean)) != VG_OK ||
            (st = get_float3(c, norm, "std", "normalize.std", true, m->std)) != VG_OK)
            return st;
    }

    json_t *rs = json_object_get(root, "resize");
    if (rs) {
        static const char *const keys[]      = {"policy", "resample", "pad_value", NULL};
        static const char *const policies[]  = {"letterbox", "stretch"};
        static const char *const resamples[] = {"float", "uint8"};
        if (!json_is_object(rs))
            return jfail(c, VG_E_FORMAT, "resize", "expected an object");
        if ((st = check_keys(c, rs, "resize.", keys)) != VG_OK)
            return st;
        e = (int)m->resize;
        if ((st = get_enum(c, rs, "policy", "resize.policy", policies, 2, &e)) != VG_OK)
            return st;
        m->resize = (vg_vis_resize)e;
        e         = (int)m->resample;
        if ((st = get_enum(c, rs, "resample", "resize.resample", resamples, 2, &e)) != VG_OK)
            return st;
        m->resample = (vg_vis_resample)e;
        if ((st = get_float(c, rs, "pad_value", "resize.pad_value", 0, 255, &m->pad_value)) !=
            VG_OK)
            return st;
    }

    json_t *th = json_object_get(root, "thresholds");
    if (th) {
        static const char *const keys[] = {
            "score", "iou", "max_detections", "class_agnostic", "keypoint", "instance", NULL};
        if (!json_is_object(th))
            return jfail(c, VG_E_FORMAT, "thresholds", "expected an object");
        if ((st = check_keys(c, th, "thresholds.", keys)) != VG_OK ||
            (st = get_num(c, th, "score", "thresholds.score", 0, 1, &m->score_threshold, NULL)) !=
                VG_OK ||
            (st = get_num(c, th, "iou", "thresholds.iou", 0, 1, &m->iou_threshold, NULL)) !=
                VG_OK ||
            (st = get_int(c, th, "max_detections", "thresholds.max_detections", 1, 100000,
                          &m->max_detections)) != VG_OK ||
            (st = get_bool(c, th, "class_agnostic", "thresholds.class_agnostic",
                           &m->class_agnostic_nms)) != VG_OK ||
            (st = get_float(c, th, "keypoint", "thresholds.keypoint", 0, 1,
                            &m->keypoint_threshold)) != VG_OK ||
            (st = get_float(c, th, "instance", "thresholds.instance", 0, 1,
                            &m->min_instance_score)) != VG_OK)
            return st;
    }

    if ((st = get_names(c, root, "classes", VG_MANIFEST_MAX_CLASSES, m->class_names,
                        &m->n_classes)) != VG_OK)
        return st;

    json_t *strides = json_object_get(root, "strides");
    if (strides) {
        if (!json_is_array(strides) || json_array_size(strides) == 0 ||
            json_array_size(strides) > VG_MANIFEST_MAX_LEVELS)
            return jfail(c, VG_E_FORMAT, "strides", "expected an array of 1 to %d integers",
                         VG_MANIFEST_MAX_LEVELS);
        for (size_t i = 0; i < json_array_size(strides); i++) {
            json_t *s = json_array_get(strides, i);
            if (!json_is_integer(s) || json_integer_value(s) < 1 || json_integer_value(s) > 256)
                return jfail(c, VG_E_FORMAT, "strides", "element %zu is not an integer 1..256", i);
            m->strides[i] = (int32_t)json_integer_value(s);
        }
        m->n_levels = (int32_t)json_array_size(strides);
    }
    json_t *anchors = json_object_get(root, "anchors");
    if (anchors) {
        if (!json_is_array(anchors) || json_array_size(anchors) != (size_t)m->n_levels)
            return jfail(c, VG_E_FORMAT, "anchors",
                         "expected one array of 3 [w, h] pairs per stride (%d levels)",
                         m->n_levels);
        for (size_t l = 0; l < json_array_size(anchors); l++) {
            json_t *lv = json_array_get(anchors, l);
            if (!json_is_array(lv) || json_array_size(lv) != 3)
                return jfail(c, VG_E_FORMAT, "anchors", "level %zu: expected 3 [w, h] pairs", l);
            for (size_t a = 0; a < 3; a++) {
                json_t *p = json_array_get(lv, a);
                if (!json_is_array(p) || json_array_size(p) != 2 ||
                    !json_is_number(json_array_get(p, 0)) || !json_is_number(json_array_get(p, 1)))
                    return jfail(c, VG_E_FORMAT, "anchors", "level %zu anchor %zu: expected [w, h]",
                                 l, a);
                m->anchors[l][a][0] = (float)json_number_value(json_array_get(p, 0));
                m->anchors[l][a][1] = (float)json_number_value(json_array_get(p, 1));
            }
        }
    }
    if ((st = get_int(c, root, "reg_max", "reg_max", 1, 64, &m->reg_max)) != VG_OK)
        return st;

    json_t *pose = json_object_get(root, "pose");
    if (pose) {
        static const char *const keys[]  = {"crop", "padding", "dark", "flip_test", NULL};
        static const char *const crops[] = {"square", "affine"};
        if (!json_is_object(pose))
            return jfail(c, VG_E_FORMAT, "pose", "expected an object");
        if ((st = check_keys(c, pose, "pose.", keys)) != VG_OK)
            return st;
        e = (int)m->crop;
        if ((st = get_enum(c, pose, "crop", "pose.crop", crops, 2, &e)) != VG_OK)
            return st;
        m->crop = (vg_vis_crop_method)e;
        if ((st = get_float(c, pose, "padding", "pose.padding", 0.1, 10, &m->crop_padding)) !=
                VG_OK ||
            (st = get_bool(c, pose, "dark", "pose.dark", &m->heatmap_dark)) != VG_OK ||
            (st = get_bool(c, pose, "flip_test", "pose.flip_test", &m->heatmap_flip_test)) != VG_OK)
            return st;
    }
    if ((st = get_names(c, root, "keypoints", VG_MAX_KEYPOINTS, m->keypoint_names,
                        &m->n_keypoints)) != VG_OK ||
        (st = get_pairs(c, root, "skeleton", m->skeleton, &m->n_skeleton)) != VG_OK ||
        (st = get_pairs(c, root, "flip_pairs", m->flip_pairs, &m->n_flip_pairs)) != VG_OK)
        return st;

    /* Cross-field checks. */
    for (int i = 0; i < m->n_skeleton; i++)
        if (m->skeleton[i][0] >= m->n_keypoints || m->skeleton[i][1] >= m->n_keypoints)
            return jfail(c, VG_E_FORMAT, "skeleton", "pair %d names a keypoint >= %d", i,
                         m->n_keypoints);
    for (int i = 0; i < m->n_flip_pairs; i++)
        if (m->flip_pairs[i][0] >= m->n_keypoints || m->flip_pairs[i][1] >= m->n_keypoints)
            return jfail(c, VG_E_FORMAT, "flip_pairs", "pair %d names a keypoint >= %d", i,
                         m->n_keypoints);
    if (m->family == VG_VIS_FAMILY_YOLOV7 && m->output_form != VG_VIS_OUT_YOLO_GRID &&
        m->output_form != VG_VIS_OUT_YOLO_RAW && m->output_form != VG_VIS_OUT_YOLO_END2END)
        return jfail(c, VG_E_FORMAT, "output", "yolov7 needs \"grid\", \"raw\" or \"end2end\"");
    if (m->family == VG_VIS_FAMILY_CENTERNET && m->output_form != VG_VIS_OUT_CENTERNET_DETECTIONS &&
        m->output_form != VG_VIS_OUT_CENTERNET_HEATMAP)
        return jfail(c, VG_E_FORMAT, "output", "centernet needs \"detections\" or \"heatmap\"");
    if (m->family > VG_VIS_FAMILY_CENTERNET && m->output_form != VG_VIS_OUT_DEFAULT)
        return jfail(c, VG_E_FORMAT, "output", "family \"%s\" has one output form; leave it out",
                     family_names[m->family]);
    if (m->family != VG_VIS_FAMILY_MOVENET_MULTIPOSE && (m->input_w <= 0 || m->input_h <= 0))
        return jfail(c, VG_E_FORMAT, "input", "width and height must be > 0");
    return VG_OK;
}

vg_status vg_manifest_parse(const char *json, const char *origin, vg_manifest *m, char *err,
                            size_t err_len) {
    jctx c = {origin ? origin : "manifest", err, err_len};
    if (err && err_len)
        err[0] = '\0';
    if (!json || !m)
        return VG_E_INVALID_ARG;
    json_error_t jerr;
    json_t      *root = json_loads(json, 0, &jerr);
    if (!root)
        return jfail(&c, VG_E_FORMAT, NULL, "invalid JSON at line %d column %d: %s", jerr.line,
                     jerr.column, jerr.text);
    vg_manifest tmp;
    memset(&tmp, 0, sizeof(tmp));
    vg_status st = parse_root(&c, root, &tmp);
    json_decref(root);
    if (st == VG_OK)
        *m = tmp;
    return st;
}

vg_status vg_manifest_load(const char *path, vg_manifest *m, char *err, size_t err_len) {
    if (err && err_len)
        err[0] = '\0';
    if (!path || !m)
        return VG_E_INVALID_ARG;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err && err_len)
            snprintf(err, err_len, "%s: cannot open the manifest (check the path)", path);
        return VG_E_IO;
    }
    json_error_t jerr;
    json_t      *root = json_loadf(f, 0, &jerr);
    fclose(f);
    jctx c = {path, err, err_len};
    if (!root)
        return jfail(&c, VG_E_FORMAT, NULL, "invalid JSON at line %d column %d: %s", jerr.line,
                     jerr.column, jerr.text);
    vg_manifest tmp;
    memset(&tmp, 0, sizeof(tmp));
    vg_status st = parse_root(&c, root, &tmp);
    json_decref(root);
    if (st == VG_OK)
        *m = tmp;
    return st;
}

/* ---- signatures ---------------------------------------------------------- */

static bool dim_is(const vg_vis_sig *s, int i, int64_t v) {
    return i < s->ndim && (s->shape[i] == v || s->shape[i] < 0);
}

static bool shape_is(const vg_vis_sig *s, int ndim, const int64_t *dims) {
    if (s->ndim != ndim)
        return false;
    for (int i = 0; i < ndim; i++)
        if (dims[i] >= 0 && !dim_is(s, i, dims[i]))
            return false;
    return true;
}

static void sig_str(const vg_vis_sig *s, char *buf, size_t len) {
    static const char *const dt[] = {"float32", "int32", "uint8"};
    int                      n    = snprintf(buf, len, "%s %s [", s->name ? s->name : "?",
                     (unsigned)s->dtype < 3 ? dt[s->dtype] : "?");
    for (int i = 0; i < s->ndim && n > 0 && (size_t)n < len; i++)
        n += snprintf(buf + n, len - (size_t)n, "%s%lld", i ? "," : "", (long long)s->shape[i]);
    if (n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, "]");
}

vg_status vg_manifest_from_signature(const vg_vis_sig *inputs, int32_t n_inputs,
                                     const vg_vis_sig *outputs, int32_t n_outputs, vg_manifest *m,
                                     char *err, size_t err_len) {
    if (err && err_len)
        err[0] = '\0';
    if (!m || (n_inputs > 0 && !inputs) || (n_outputs > 0 && !outputs))
        return VG_E_INVALID_ARG;
    const char *pick = NULL;
    int64_t     in_w = 0, in_h = 0;

    if (n_inputs == 1) {
        const vg_vis_sig *in     = &inputs[0];
        bool              nhwc3  = in->ndim == 4 && dim_is(in, 3, 3);
        bool              nchw3  = in->ndim == 4 && dim_is(in, 1, 3);
        int               n_hw85 = 0, n_raw = 0;
        for (int i = 0; i < n_outputs; i++) {
            const vg_vis_sig *o = &outputs[i];
            if (o->ndim == 3 && dim_is(o, 2, 85))
                n_hw85++;
            if (o->ndim == 5 && dim_is(o, 1, 3) && dim_is(o, 4, 85))
                n_raw++;
        }
        if (nhwc3 && in->dtype == VG_VIS_F32 && n_outputs == 3) {
            static const int64_t det[3] = {1, 100, 6};
            for (int i = 0; i < n_outputs; i++)
                if (shape_is(&outputs[i], 3, det))
                    pick = "centernet";
        }
        if (!pick && nchw3 && in->dtype == VG_VIS_F32 && n_outputs == 6) {
            int cls = 0, box = 0;
            for (int i = 0; i < n_outputs; i++) {
                cls += outputs[i].ndim == 3 && dim_is(&outputs[i], 2, 80);
                box += outputs[i].ndim == 3 && dim_is(&outputs[i], 2, 44);
            }
            if (cls == 3 && box == 3)
                pick = "nanodet";
        }
        if (!pick && nhwc3 && in->dtype == VG_VIS_I32 && n_outputs == 1) {
            static const int64_t single[4] = {1, 1, 17, 3};
            static const int64_t multi[3]  = {1, 6, 56};
            if (shape_is(&outputs[0], 4, single) && dim_is(in, 1, 256) && dim_is(in, 2, 256))
                pick = "movenet-thunder";
            else if (shape_is(&outputs[0], 4, single) && dim_is(in, 1, 192) && dim_is(in, 2, 192))
                pick = "movenet-lightning";
            else if (shape_is(&outputs[0], 3, multi))
                pick = "movenet-multipose";
        }
        if (!pick && nchw3 && in->dtype == VG_VIS_F32) {
            if (n_outputs == 1 && n_hw85 == 1)
                pick = "yolov7";
            else if (n_outputs >= 3 && n_raw == 3)
                pick = "yolov7-raw";
            else if (n_outputs == 1 && outputs[0].ndim == 2 && dim_is(&outputs[0], 1, 7))
                pick = "yolov7-end2end";
            else if (n_outputs == 1 && outputs[0].ndim == 4 && dim_is(&outputs[0], 1, 17) &&
                     in->ndim == 4 && in->shape[2] > 0 && in->shape[3] > 0 &&
                     outputs[0].shape[2] * 4 == in->shape[2] &&
                     outputs[0].shape[3] * 4 == in->shape[3])
                pick = "hrnet";
        }
        if (pick && in->ndim == 4) {
            bool nchw = strcmp(pick, "nanodet") == 0 || strncmp(pick, "yolov7", 6) == 0 ||
                        strcmp(pick, "hrnet") == 0;
            in_h = in->shape[nchw ? 2 : 1];
            in_w = in->shape[nchw ? 3 : 2];
        }
    }
    if (!pick) {
        if (err && err_len) {
            char   line[160];
            size_t n = 0;
            n += (size_t)snprintf(err + n, err_len - n, "no built-in manifest fits inputs {");
            for (int i = 0; i < n_inputs && n < err_len; i++) {
                sig_str(&inputs[i], line, sizeof(line));
                n += (size_t)snprintf(err + n, err_len - n, "%s%s", i ? "; " : "", line);
            }
            if (n < err_len)
                n += (size_t)snprintf(err + n, err_len - n, "} outputs {");
            for (int i = 0; i < n_outputs && n < err_len; i++) {
                sig_str(&outputs[i], line, sizeof(line));
                n += (size_t)snprintf(err + n, err_len - n, "%s%s", i ? "; " : "", line);
            }
            if (n < err_len)
                snprintf(err + n, err_len - n,
                         "}. Known: centernet (f32 NHWC input, [1,100,6] detections + 2 maps), "
                         "nanodet (f32 NCHW, 3x [1,N,80] + 3x [1,N,44]), movenet (i32 NHWC "
                         "256/192, [1,1,17,3]), multipose ([1,6,56]), yolov7 (f32 NCHW; "
                         "[1,N,85] grid, 3x [1,3,ny,nx,85] raw, or [K,7] end2end), hrnet (f32 "
                         "NCHW, [N,17,H/4,W/4]). Write a manifest JSON next to the model "
                         "(docs/MANIFEST.md).");
        }
        return VG_E_NOT_FOUND;
    }
    vg_manifest_builtin(pick, m);
    /* Keep the model's own input size where it is fixed (e.g. a YOLO export at 416). */
    if (m->family != VG_VIS_FAMILY_MOVENET_MULTIPOSE && in_w > 0 && in_h > 0) {
        m->input_w = (int32_t)in_w;
        m->input_h = (int32_t)in_h;
    }
    return VG_OK;
}
