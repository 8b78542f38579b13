/*
 * onnx_tensor.c - ONNX TensorProto -> dense host tensor.
 *
 * DESIGN
 * ------
 * A TensorProto stores its elements in one of three places: the typed repeated
 * field of its dtype (float_data, int32_data for every narrow integer type and
 * bool, int64_data, uint64_data, double_data), raw_data (fixed-width
 * little-endian), or an external file named by external_data "location"
 * (relative to the model's folder) with optional "offset" and "length".
 * Every size a file claims is checked against the bytes that are really there
 * before anything is allocated: dims are bounded, the element count must
 * match the typed field count or raw/external byte length exactly, and an
 * external range must lie inside the external file. External paths must be
 * relative, free of "..", and must resolve (after symlinks) inside the
 * model's folder. Called from the loading thread only; no global state.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/core_impl.h"
#include "onnx_proto.h"
#include "vigil/alloc.h"

/* ---- protobuf-c allocator ---------------------------------------------------- */

/* Each block carries its size in front so the budget can be credited on free. */
#define PB_HDR 16

static void *pb_alloc(void *data, size_t size) {
    vgi_onnx_pb_alloc *a = data;
    if (size > a->budget - a->used || size > SIZE_MAX - PB_HDR) {
        a->over_budget = true;
        return NULL;
    }
    unsigned char *p = vg_malloc(size + PB_HDR);
    if (!p) {
        a->oom = true;
        return NULL;
    }
    memcpy(p, &size, sizeof size);
    a->used += size;
    return p + PB_HDR;
}

static void pb_free(void *data, void *ptr) {
    vgi_onnx_pb_alloc *a = data;
    if (!ptr)
        return;
    unsigned char *p = (unsigned char *)ptr - PB_HDR;
    size_t         size;
    memcpy(&size, p, sizeof size);
    a->used -= size;
    vg_free(p);
}

void vgi_onnx_pb_alloc_init(vgi_onnx_pb_alloc *a, size_t input_bytes) {
    memset(a, 0, sizeof *a);
    a->base.alloc          = pb_alloc;
    a->base.free           = pb_free;
    a->base.allocator_data = a;
    /* Decoded structs cost at most a few hundred bytes per few input bytes
     * for tiny messages; bulk data (raw_data, packed arrays) costs about 1x
     * (int32 varints expand up to 4x). 64 MiB + 8x covers real models. */
    size_t extra =
        input_bytes > (SIZE_MAX - ((size_t)64 << 20)) / 8 ? SIZE_MAX / 2 : input_bytes * 8;
    a->budget = ((size_t)64 << 20) + extra;
}

/* ---- dtypes ------------------------------------------------------------------ */

size_t vgi_onnx_dtype_size(int32_t dtype) {
    switch (dtype) {
    case VGI_ONNX_FLOAT:
    case VGI_ONNX_INT32:
    case VGI_ONNX_UINT32:
        return 4;
    case VGI_ONNX_UINT8:
    case VGI_ONNX_INT8:
    case VGI_ONNX_BOOL:
        return 1;
    case VGI_ONNX_UINT16:
    case VGI_ONNX_INT16:
    case VGI_ONNX_FLOAT16:
        return 2;
    case VGI_ONNX_INT64:
    case VGI_ONNX_DOUBLE:
    case VGI_ONNX_UINT64:
        return 8;
    default:
        return 0;
    }
}

const char *vgi_onnx_dtype_name(int32_t dtype) {
    static const char *const names[] = {
        "UNDEFINED", "FLOAT",  "UINT8",     "INT8",       "UINT16",   "INT16",
        "INT32",     "INT64",  "STRING",    "BOOL",       "FLOAT16",  "DOUBLE",
        "UINT32",    "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16",
    };
    if (dtype < 0 || (size_t)dtype >= VGI_ARRAY_SIZE(names))
        return "?";
    return names[dtype];
}

void vgi_onnx_tensor_fini(vgi_onnx_tensor *t) {
    if (!t)
        return;
    vg_free(t->name);
    vg_free(t->data);
    memset(t, 0, sizeof *t);
}

static vg_status fail(vg_status s, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static vg_status fail(vg_status s, char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return s;
}

/* ---- external data ----------------------------------------------------------- */

static bool parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

/* Rejects absolute paths, "..", backslashes and empty components; then checks
 * that the resolved file lies inside base_dir (a symlink may point out). */
static vg_status external_path(const char *base_dir, const char *loc, char *path, size_t plen,
                               const char *tname, char *err, size_t errlen) {
    if (!loc || !*loc || loc[0] == '/' || strchr(loc, '\\'))
        return fail(VG_E_FORMAT, err, errlen,
                    "tensor '%s': external data location '%s' must be a relative path inside "
                    "the model's folder",
                    tname, loc ? loc : "");
    const char *c = loc;
    while (*c) {
        size_t n = strcspn(c, "/");
        if (n == 2 && c[0] == '.' && c[1] == '.')
            return fail(VG_E_FORMAT, err, errlen,
                        "tensor '%s': external data location '%s' escapes the model's folder "
                        "('..' is not allowed)",
                        tname, loc);
        c += n;
        if (*c == '/')
            c++;
    }
    if ((size_t)snprintf(path, plen, "%s/%s", base_dir, loc) >= plen)
        return fail(VG_E_FORMAT, err, errlen, "tensor '%s': external data path too long", tname);
    char rb[PATH_MAX], rf[PATH_MAX];
    if (!realpath(base_dir, rb))
        return fail(VG_E_IO, err, errlen, "model folder '%s': %s", base_dir, strerror(errno));
    if (!realpath(path, rf))
        return fail(VG_E_IO, err, errlen,
                    "tensor '%s': external data file '%s': %s (it must sit next to the model)",
                    tname, path, strerror(errno));
    size_t bl = strlen(rb);
    if (strncmp(rf, rb, bl) != 0 || (rf[bl] != '/' && !(bl == 1 && rb[0] == '/')))
        return fail(VG_E_FORMAT, err, errlen,
                    "tensor '%s': external data location '%s' resolves to '%s', outside the "
                    "model's folder '%s'",
                    tname, loc, rf, rb);
    return VG_OK;
}

static vg_status read_external(const Onnx__TensorProto *tp, const char *base_dir, const char *tname,
                               size_t want, void *dst, char *err, size_t errlen) {
    const char *loc = NULL, *off_s = NULL, *len_s = NULL;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *e = tp->external_data[i];
        if (!e->key)
            continue;
        if (!strcmp(e->key, "location"))
            loc = e->value;
        else if (!strcmp(e->key, "offset"))
            off_s = e->value;
        else if (!strcmp(e->key, "length"))
            len_s = e->value;
    }
    if (!base_dir)
        return fail(VG_E_UNSUPPORTED, err, errlen,
                    "tensor '%s' keeps its data in an external file, but the model was not "
                    "loaded from a file; load it with vg_model_create from its path",
                    tname);
    uint64_t off = 0, len = want;
    if (off_s && !parse_u64(off_s, &off))
        return fail(VG_E_FORMAT, err, errlen, "tensor '%s': bad external data offset '%s'", tname,
                    off_s);
    if (len_s && !parse_u64(len_s, &len))
        return fail(VG_E_FORMAT, err, errlen, "tensor '%s': bad external data length '%s'", tname,
                    len_s);
    if (len != want)
        return fail(VG_E_FORMAT, err, errlen,
                    "tensor '%s': external data length %llu does not match its shape and "
                    "dtype (%zu bytes)",
                    tname, (unsigned long long)len, want);
    char      path[PATH_MAX];
    vg_status s = external_path(base_dir, loc, path, sizeof path, tname, err, errlen);
    if (s != VG_OK)
        return s;
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(VG_E_IO, err, errlen, "tensor '%s': cannot open external data '%s': %s", tname,
                    path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return fail(VG_E_IO, err, errlen, "tensor '%s': external data '%s' is not a file", tname,
                    path);
    }
    if (off > (uint64_t)st.st_size || want > (uint64_t)st.st_size - off) {
        fclose(f);
        return fail(VG_E_FORMAT, err, errlen,
                    "tensor '%s': external data range [%llu, +%zu) lies beyond the end of "
                    "'%s' (%lld bytes); the file is truncated or the offset is wrong",
                    tname, (unsigned long long)off, want, path, (long long)st.st_size);
    }
    if (want && (fseeko(f, (off_t)off, SEEK_SET) != 0 || fread(dst, 1, want, f) != want)) {
        fclose(f);
        return fail(VG_E_IO, err, errlen, "tensor '%s': reading external data '%s' failed", tname,
                    path);
    }
    fclose(f);
    return VG_OK;
}

/* ---- TensorProto -> tensor ---------------------------------------------------- */

vg_status vgi_onnx_tensor_from_proto(const Onnx__TensorProto *tp, const char *base_dir,
                                     const char *what, vgi_onnx_tensor *out, char *err,
                                     size_t errlen) {
    memset(out, 0, sizeof *out);
    const char *tname = tp->name && *tp->name ? tp->name : "(unnamed)";
    int32_t     dt    = tp->has_data_type ? tp->data_type : VGI_ONNX_UNDEFINED;
    size_t      es    = vgi_onnx_dtype_size(dt);
    if (es == 0)
        return fail(dt == VGI_ONNX_UNDEFINED ? VG_E_FORMAT : VG_E_UNSUPPORTED, err, errlen,
                    "%s '%s': data type %s (%d) is not supported", what, tname,
                    vgi_onnx_dtype_name(dt), (int)dt);
    if (tp->n_dims > VGI_ONNX_MAX_RANK)
        return fail(VG_E_UNSUPPORTED, err, errlen, "%s '%s': rank %zu exceeds the maximum %d", what,
                    tname, tp->n_dims, VGI_ONNX_MAX_RANK);
    int64_t numel = 1;
    for (size_t i = 0; i < tp->n_dims; i++) {
        int64_t d = tp->dims[i];
        if (d < 0 || d > VGI_ONNX_MAX_DIM)
            return fail(VG_E_FORMAT, err, errlen, "%s '%s': dimension %zu is %lld (absurd)", what,
                        tname, i, (long long)d);
        if (d && numel > VGI_ONNX_MAX_ELEMS / d)
            return fail(VG_E_FORMAT, err, errlen,
                        "%s '%s': more than %lld elements (absurd dimensions)", what, tname,
                        (long long)VGI_ONNX_MAX_ELEMS);
        numel *= d;
        out->dims[i] = d;
    }
    out->rank    = (int)tp->n_dims;
    out->dtype   = dt;
    out->numel   = numel;
    size_t bytes = (size_t)numel * es;

    bool external =
        tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    /* How many elements the typed field holds, and where. */
    size_t typed_n = 0;
    switch (dt) {
    case VGI_ONNX_FLOAT:
        typed_n = tp->n_float_data;
        break;
    case VGI_ONNX_INT64:
        typed_n = tp->n_int64_data;
        break;
    case VGI_ONNX_DOUBLE:
        typed_n = tp->n_double_data;
        break;
    case VGI_ONNX_UINT32:
    case VGI_ONNX_UINT64:
        typed_n = tp->n_uint64_data;
        break;
    default:
        typed_n = tp->n_int32_data;
        break;
    }
    if (external) {
        if (tp->has_raw_data || typed_n)
            return fail(VG_E_FORMAT, err, errlen,
                        "%s '%s': marked external but also carries inline data", what, tname);
    } else if (tp->has_raw_data) {
        if (tp->raw_data.len != bytes)
            return fail(VG_E_FORMAT, err, errlen,
                        "%s '%s': raw_data holds %zu bytes but shape and dtype %s need %zu", what,
                        tname, tp->raw_data.len, vgi_onnx_dtype_name(dt), bytes);
    } else if (typed_n != (size_t)numel) {
        return fail(VG_E_FORMAT, err, errlen, "%s '%s': holds %zu values but its shape needs %lld",
                    what, tname, typed_n, (long long)numel);
    }

    if (tp->name && !(out->name = vg_strdup(tp->name)))
        return VG_E_NOMEM;
    if (numel == 0)
        return VG_OK;
    if (!(out->data = vg_malloc(bytes))) {
        vgi_onnx_tensor_fini(out);
        return VG_E_NOMEM;
    }
    vg_status s = VG_OK;
    if (external) {
        s = read_external(tp, base_dir, tname, bytes, out->data, err, errlen);
    } else if (tp->has_raw_data) {
        memcpy(out->data, tp->raw_data.data, bytes); /* x86/ARM: little-endian host */
    } else {
        for (int64_t i = 0; i < numel; i++) {
            unsigned char *d = (unsigned char *)out->data + (size_t)i * es;
            switch (dt) {
            case VGI_ONNX_FLOAT:
                memcpy(d, &tp->float_data[i], 4);
                break;
            case VGI_ONNX_INT64:
                memcpy(d, &tp->int64_data[i], 8);
                break;
            case VGI_ONNX_DOUBLE:
                memcpy(d, &tp->double_data[i], 8);
                break;
            case VGI_ONNX_UINT64:
                memcpy(d, &tp->uint64_data[i], 8);
                break;
            case VGI_ONNX_UINT32: {
                uint32_t v = (uint32_t)tp->uint64_data[i];
                memcpy(d, &v, 4);
                break;
            }
            case VGI_ONNX_INT32:
                memcpy(d, &tp->int32_data[i], 4);
                break;
            case VGI_ONNX_INT16:
            case VGI_ONNX_UINT16:
            case VGI_ONNX_FLOAT16: {
                uint16_t v = (uint16_t)tp->int32_data[i];
                memcpy(d, &v, 2);
                break;
            }
            default:
                *d = (unsigned char)tp->int32_data[i];
                break;
            }
        }
    }
    if (s != VG_OK)
        vgi_onnx_tensor_fini(out);
    return s;
}

/* ---- .pb tensor files ---------------------------------------------------------- */

vg_status vgi_onnx_tensor_read_file(const char *path, vgi_onnx_tensor *out, char *err,
                                    size_t errlen) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(VG_E_IO, err, errlen, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size > VGI_ONNX_MAX_FILE_BYTES) {
        fclose(f);
        return fail(VG_E_IO, err, errlen, "%s: not a regular file of sane size", path);
    }
    size_t         size = (size_t)st.st_size;
    unsigned char *buf  = vg_malloc(size ? size : 1);
    if (!buf) {
        fclose(f);
        return VG_E_NOMEM;
    }
    size_t got = fread(buf, 1, size, f);
    fclose(f);
    if (got != size) {
        vg_free(buf);
        return fail(VG_E_IO, err, errlen, "%s: short read", path);
    }
    vgi_onnx_pb_alloc a;
    vgi_onnx_pb_alloc_init(&a, size);
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(&a.base, size, buf);
    vg_free(buf);
    if (!tp) {
        if (a.oom)
            return VG_E_NOMEM;
        return fail(VG_E_FORMAT, err, errlen,
                    "%s: not a valid serialized ONNX TensorProto (truncated or garbled)", path);
    }
    char      em[512] = "";
    vg_status s       = vgi_onnx_tensor_from_proto(tp, NULL, "tensor", out, em, sizeof em);
    onnx__tensor_proto__free_unpacked(tp, &a.base);
    if (s != VG_OK && s != VG_E_NOMEM)
        fail(s, err, errlen, "%s: %s", path, em);
    return s;
}
