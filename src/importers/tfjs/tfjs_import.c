/*
 * tfjs_import.c - TensorFlow.js graph-model importer: model.json + weight
 * shards -> engine IR.
 *
 * DESIGN
 * 1. Read model.json (jansson) and every shard listed in weightsManifest.
 *    Shard paths must stay inside the model folder (checked on the resolved
 *    real paths). Weights are decoded to float32 (float16 widened exactly,
 *    uint8/uint16 affine dequantised as TF.js does) or int32/bool.
 * 2. Order the GraphDef nodes topologically by their data inputs (control
 *    inputs "^x" are ignored), then translate each node through one table
 *    that maps TF op names to handlers. Every check happens before IR is
 *    built, and every message names the file, the node and the problem.
 * 3. Outputs come from the signature (keys kept as the public names).
 * int64 tensors do not exist in TF.js: DT_INT64 maps to int32, as in TF.js.
 * The importer runs on the loading thread only and keeps no global state.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/core_impl.h"
#include "engine/ir.h"
#include "importers/importer.h"
#include "vigil/alloc.h"

/* ---- small helpers -------------------------------------------------------------- */

typedef struct tf_node {
    json_t     *j;
    const char *name;
    const char *op;
    int         state; /* DFS: 0 new, 1 active, 2 done */
    int         n_out;
    int        *out_vals; /* value id per output (after translation) */
} tf_node;

typedef struct weight {
    const char *name;
    vg_dtype    dtype;
    vg_shape    shape;
    void       *data; /* decoded; moved into the graph when used */
} weight;

typedef struct imp {
    const char *file; /* model.json path, for messages */
    vgi_graph  *g;
    vgi_err    *err;
    tf_node    *nodes;
    int         n_nodes;
    int        *hash; /* open addressing over node names, -1 empty */
    int         hash_cap;
    weight     *weights;
    int         n_weights;
    int        *whash;
    int         whash_cap;
} imp;

static uint32_t fnv(const char *s, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int node_find(const imp *m, const char *name, size_t len) {
    if (!m->hash_cap)
        return -1;
    uint32_t h = fnv(name, len) & (uint32_t)(m->hash_cap - 1);
    while (m->hash[h] >= 0) {
        const char *nm = m->nodes[m->hash[h]].name;
        if (strlen(nm) == len && !memcmp(nm, name, len))
            return m->hash[h];
        h = (h + 1) & (uint32_t)(m->hash_cap - 1);
    }
    return -1;
}

static int weight_find(const imp *m, const char *name) {
    if (!m->whash_cap)
        return -1;
    size_t   len = strlen(name);
    uint32_t h   = fnv(name, len) & (uint32_t)(m->whash_cap - 1);
    while (m->whash[h] >= 0) {
        if (!strcmp(m->weights[m->whash[h]].name, name))
            return m->whash[h];
        h = (h + 1) & (uint32_t)(m->whash_cap - 1);
    }
    return -1;
}

static vg_status nerr(imp *m, const tf_node *n, vg_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static vg_status nerr(imp *m, const tf_node *n, vg_status st, const char *fmt, ...) {
    char    what[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return vgi_err_set(m->err, st, "%s: node '%s' (%s): %s", m->file, n->name, n->op, what);
}

static vg_dtype tf_dtype(const char *s) {
    if (!s)
        return VG_DTYPE_UNKNOWN;
    if (!strcmp(s, "DT_FLOAT") || !strcmp(s, "DT_HALF") || !strcmp(s, "DT_DOUBLE"))
        return VG_DTYPE_F32;
    if (!strcmp(s, "DT_INT32") || !strcmp(s, "DT_INT64") || !strcmp(s, "DT_INT16") ||
        !strcmp(s, "DT_INT8") || !strcmp(s, "DT_UINT8") || !strcmp(s, "DT_UINT16"))
        return VG_DTYPE_I32;
    if (!strcmp(s, "DT_BOOL"))
        return VG_DTYPE_BOOL;
    return VG_DTYPE_UNKNOWN;
}

static json_t *attr(const tf_node *n, const char *key) {
    return json_object_get(json_object_get(n->j, "attr"), key);
}

/* Integer attribute ({"i": "3"}; TF.js writes int64 as strings). */
static bool attr_int(const tf_node *n, const char *key, int64_t *out) {
    json_t *v = json_object_get(attr(n, key), "i");
    if (json_is_string(v)) {
        char *end;
        errno       = 0;
        long long x = strtoll(json_string_value(v), &end, 10);
        if (errno || *end || end == json_string_value(v))
            return false;
        *out = x;
        return true;
    }
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    return false;
}

static int64_t attr_int_or(const tf_node *n, const char *key, int64_t def) {
    int64_t v;
    return attr_int(n, key, &v) ? v : def;
}

static bool attr_bool_or(const tf_node *n, const char *key, bool def) {
    json_t *v = json_object_get(attr(n, key), "b");
    return json_is_boolean(v) ? json_is_true(v) : def;
}

static bool attr_float(const tf_node *n, const char *key, float *out) {
    json_t *v = json_object_get(attr(n, key), "f");
    if (!json_is_number(v))
        return false;
    *out = (float)json_number_value(v);
    return true;
}

static int b64val(int c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decodes base64 text into out (NUL-terminated, at most cap-1 bytes). */
static bool b64decode(const char *in, char *out, size_t cap) {
    size_t   o    = 0;
    uint32_t acc  = 0;
    int      bits = 0;
    for (; *in && *in != '='; in++) {
        int v = b64val((unsigned char)*in);
        if (v < 0)
            return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= cap)
                return false;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    return true;
}

/* String attribute (base64 in TF.js JSON), decoded into buf. */
static bool attr_str(const tf_node *n, const char *key, char *buf, size_t cap) {
    json_t *v = json_object_get(attr(n, key), "s");
    if (!json_is_string(v))
        return false;
    return b64decode(json_string_value(v), buf, cap);
}

/* Integer list attribute ({"list": {"i": [...]}}); returns count or -1. */
static int attr_ints(const tf_node *n, const char *key, int64_t *out, int cap) {
    json_t *l = json_object_get(json_object_get(attr(n, key), "list"), "i");
    if (!l)
        return json_object_get(attr(n, key), "list") ? 0 : -1;
    if (!json_is_array(l) || (int)json_array_size(l) > cap)
        return -1;
    size_t  i;
    json_t *v;
    json_array_foreach(l, i, v) {
        if (json_is_string(v)) {
            char *end;
            out[i] = strtoll(json_string_value(v), &end, 10);
            if (*end)
                return -1;
        } else if (json_is_integer(v)) {
            out[i] = json_integer_value(v);
        } else {
            return -1;
        }
    }
    return (int)json_array_size(l);
}

/* Shape from {"dim": [{"size": "1"}, ...]} or {"unknownRank": true}. */
static bool parse_tf_shape(json_t *shape, vg_shape *out) {
    out->ndim = 0;
    if (!shape)
        return true;
    if (json_is_true(json_object_get(shape, "unknownRank"))) {
        out->ndim = -1;
        return true;
    }
    json_t *dims = json_object_get(shape, "dim");
    if (!dims)
        return true;
    if (!json_is_array(dims) || json_array_size(dims) > VG_MAX_DIMS)
        return false;
    size_t  i;
    json_t *d;
    json_array_foreach(dims, i, d) {
        json_t *s = json_object_get(d, "size");
        int64_t v = -1;
        if (json_is_string(s)) {
            char *end;
            v = strtoll(json_string_value(s), &end, 10);
            if (*end)
                return false;
        } else if (json_is_integer(s)) {
            v = json_integer_value(s);
        }
        out->dims[i] = v < 0 ? -1 : v;
    }
    out->ndim = (int)json_array_size(dims);
    return true;
}

/* ---- weights ---------------------------------------------------------------------- */

static vg_status decode_weights(imp *m, json_t *manifest, const unsigned char *buf, size_t len,
                                const char *group_desc, size_t *pos_io, json_t *weights_arr) {
    (void)manifest;
    size_t  pos = *pos_io;
    size_t  i;
    json_t *w;
    json_array_foreach(weights_arr, i, w) {
        const char *name  = json_string_value(json_object_get(w, "name"));
        const char *dtype = json_string_value(json_object_get(w, "dtype"));
        json_t     *shape = json_object_get(w, "shape");
        json_t     *quant = json_object_get(w, "quantization");
        if (!name || !dtype || !json_is_array(shape) || json_array_size(shape) > VG_MAX_DIMS)
            return vgi_err_set(m->err, VG_E_FORMAT,
                               "%s: weightsManifest entry %zu lacks a name, dtype or shape "
                               "(or has more than %d dims)",
                               m->file, i, VG_MAX_DIMS);
        weight *wt = &m->weights[m->n_weights];
        memset(wt, 0, sizeof(*wt));
        wt->name       = name;
        wt->shape.ndim = (int)json_array_size(shape);
        size_t  k;
        json_t *d;
        json_array_foreach(shape, k, d) {
            if (!json_is_integer(d) || json_integer_value(d) < 0 ||
                json_integer_value(d) > (1LL << 31))
                return vgi_err_set(m->err, VG_E_FORMAT,
                                   "%s: weight '%s' has an invalid dimension in its shape", m->file,
                                   name);
            wt->shape.dims[k] = json_integer_value(d);
        }
        int64_t numel = vg_shape_numel(&wt->shape);
        if (numel < 0 || numel > (1LL << 31))
            return vgi_err_set(m->err, VG_E_FORMAT, "%s: weight '%s' is too large", m->file, name);
        const char *qdt = quant ? json_string_value(json_object_get(quant, "dtype")) : NULL;
        size_t      esz;
        if (!strcmp(dtype, "float32"))
            wt->dtype = VG_DTYPE_F32, esz = 4;
        else if (!strcmp(dtype, "int32"))
            wt->dtype = VG_DTYPE_I32, esz = 4;
        else if (!strcmp(dtype, "bool"))
            wt->dtype = VG_DTYPE_BOOL, esz = 1;
        else
            return vgi_err_set(m->err, VG_E_UNSUPPORTED,
                               "%s: weight '%s' has dtype '%s'; supported: float32, int32, bool",
                               m->file, name, dtype);
        if (quant) {
            if (!qdt)
                return vgi_err_set(m->err, VG_E_FORMAT,
                                   "%s: weight '%s' has a quantization without dtype", m->file,
                                   name);
            if (!strcmp(qdt, "float16"))
                esz = 2;
            else if (!strcmp(qdt, "uint8"))
                esz = 1;
            else if (!strcmp(qdt, "uint16"))
                esz = 2;
            else
                return vgi_err_set(m->err, VG_E_UNSUPPORTED,
                                   "%s: weight '%s' uses quantization '%s'; supported: float16, "
                                   "uint8, uint16",
                                   m->file, name, qdt);
            if (!strcmp(qdt, "float16") && wt->dtype != VG_DTYPE_F32)
                return vgi_err_set(m->err, VG_E_FORMAT,
                                   "%s: weight '%s': float16 quantization of a %s tensor", m->file,
                                   name, dtype);
        }
        size_t nbytes = (size_t)numel * esz;
        if (pos > len || nbytes > len - pos)
            return vgi_err_set(m->err, VG_E_FORMAT,
                               "%s: weight '%s' needs bytes %zu..%zu of %s, which has only %zu "
                               "bytes; the shard is truncated or does not belong to this model",
                               m->file, name, pos, pos + nbytes, group_desc, len);
        const unsigned char *src = buf + pos;
        pos += nbytes;
        size_t out_es = wt->dtype == VG_DTYPE_BOOL ? 1 : 4;
        wt->data      = vg_malloc((size_t)numel * out_es);
        if (!wt->data)
            return VG_E_NOMEM;
        m->n_weights++;
        if (!quant) {
            memcpy(wt->data, src, nbytes); /* little-endian host */
            continue;
        }
        if (!strcmp(qdt, "float16")) {
            float *dst = wt->data;
            for (int64_t e = 0; e < numel; e++)
                dst[e] = vg_f16_to_f32((uint16_t)(src[2 * e] | (src[2 * e + 1] << 8)));
            continue;
        }
        json_t *js = json_object_get(quant, "scale"), *jm = json_object_get(quant, "min");
        if (!json_is_number(js) || !json_is_number(jm))
            return vgi_err_set(m->err, VG_E_FORMAT,
                               "%s: weight '%s': affine quantization needs numeric scale and min",
                               m->file, name);
        /* TF.js: v = q * scale + min in float64, stored as float32 (int32: rounded). */
        double scale = json_number_value(js), mn = json_number_value(jm);
        for (int64_t e = 0; e < numel; e++) {
            double q = !strcmp(qdt, "uint8")
                           ? (double)src[e]
                           : (double)(uint16_t)(src[2 * e] | (src[2 * e + 1] << 8));
            double v = q * scale + mn;
            if (wt->dtype == VG_DTYPE_F32)
                ((float *)wt->data)[e] = (float)v;
            else if (wt->dtype == VG_DTYPE_I32)
                ((int32_t *)wt->data)[e] = (int32_t)lround(v);
            else
                ((uint8_t *)wt->data)[e] = v != 0;
        }
    }
    *pos_io = pos;
    return VG_OK;
}

/* Reads path into a vg_malloc'ed buffer. */
static vg_status read_file(const char *path, unsigned char **out, size_t *len, vgi_err *err,
                           const char *what) {
    *out    = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return vgi_err_set(err, errno == ENOENT ? VG_E_NOT_FOUND : VG_E_IO,
                           "%s: cannot open %s: %s", path, what, strerror(errno));
    if (fseek(f, 0, SEEK_END) || ftell(f) < 0) {
        fclose(f);
        return vgi_err_set(err, VG_E_IO, "%s: cannot read %s (not a regular file?)", path, what);
    }
    long sz = ftell(f);
    rewind(f);
    unsigned char *buf = vg_malloc((size_t)sz + 1);
    if (!buf) {
        fclose(f);
        return VG_E_NOMEM;
    }
    size_t got = fread(buf, 1, (size_t)sz, f);
    fclose(f);
    if (got != (size_t)sz) {
        vg_free(buf);
        return vgi_err_set(err, VG_E_IO, "%s: short read of %s", path, what);
    }
    buf[sz] = 0;
    *out    = buf;
    *len    = (size_t)sz;
    return VG_OK;
}

/* Checks a manifest path: relative, no "..", and resolving inside dir. */
static vg_status check_shard_path(imp *m, const char *dir, const char *rel, char *full,
                                  size_t cap) {
    if (!rel[0] || rel[0] == '/' || strstr(rel, "..") || strchr(rel, '\\'))
        return vgi_err_set(m->err, VG_E_FORMAT,
                           "%s: weight shard path '%s' is absolute or leaves the model folder; "
                           "shards must lie inside the folder of model.json",
                           m->file, rel);
    if ((size_t)snprintf(full, cap, "%s/%s", dir, rel) >= cap)
        return vgi_err_set(m->err, VG_E_FORMAT, "%s: shard path '%s' is too long", m->file, rel);
    char rdir[PATH_MAX], rfull[PATH_MAX];
    if (!realpath(dir, rdir))
        return vgi_err_set(m->err, VG_E_IO, "%s: cannot resolve folder: %s", dir, strerror(errno));
    if (!realpath(full, rfull))
        return vgi_err_set(m->err, errno == ENOENT ? VG_E_NOT_FOUND : VG_E_IO,
                           "%s: weight shard '%s' listed in the weightsManifest cannot be opened: "
                           "%s; copy it next to model.json",
                           m->file, full, strerror(errno));
    size_t n = strlen(rdir);
    if (strncmp(rfull, rdir, n) || (rfull[n] != '/' && rfull[n] != '\0'))
        return vgi_err_set(m->err, VG_E_FORMAT,
                           "%s: weight shard '%s' resolves to %s, outside the model folder %s",
                           m->file, rel, rfull, rdir);
    return VG_OK;
}

/*
 * Loads every weight group. dir == NULL: the shards are given in memory
 * (mem/mem_len, all groups concatenated).
 */
static vg_status load_weights(imp *m, json_t *manifest, const char *dir, const unsigned char *mem,
                              size_t mem_len) {
    if (!json_is_array(manifest))
        return vgi_err_set(m->err, VG_E_FORMAT, "%s: 'weightsManifest' is missing or not a list",
                           m->file);
    size_t  total = 0, gi;
    json_t *grp;
    json_array_foreach(manifest, gi, grp) {
        json_t *ws = json_object_get(grp, "weights");
        if (!json_is_array(ws) || !json_is_array(json_object_get(grp, "paths")))
            return vgi_err_set(m->err, VG_E_FORMAT,
                               "%s: weightsManifest group %zu lacks 'paths' or 'weights' lists",
                               m->file, gi);
        total += json_array_size(ws);
    }
    m->weights   = vg_calloc(total ? total : 1, sizeof(weight));
    m->whash_cap = 16;
    while ((size_t)m->whash_cap < total * 2)
        m->whash_cap *= 2;
    m->whash = vg_malloc((size_t)m->whash_cap * sizeof(int));
    if (!m->weights || !m->whash)
        return VG_E_NOMEM;
    memset(m->whash, 0xff, (size_t)m->whash_cap * sizeof(int));
    size_t mem_pos = 0;
    json_array_foreach(manifest, gi, grp) {
        json_t        *paths = json_object_get(grp, "paths");
        unsigned char *buf   = NULL;
        size_t         len   = 0;
        char           desc[512];
        if (dir) {
            /* Concatenate the group's shards. */
            size_t  pi;
            json_t *p;
            json_array_foreach(paths, pi, p) {
                if (!json_is_string(p)) {
                    vg_free(buf);
                    return vgi_err_set(m->err, VG_E_FORMAT, "%s: a shard path is not a string",
                                       m->file);
                }
                char      full[PATH_MAX];
                vg_status st = check_shard_path(m, dir, json_string_value(p), full, sizeof(full));
                unsigned char *part = NULL;
                size_t         plen = 0;
                if (!st)
                    st = read_file(full, &part, &plen, m->err, "weight shard");
                if (st) {
                    vg_free(buf);
                    return st;
                }
                unsigned char *nb = vg_realloc(buf, len + plen + 1);
                if (!nb) {
                    vg_free(buf);
                    vg_free(part);
                    return VG_E_NOMEM;
                }
                buf = nb;
                memcpy(buf + len, part, plen);
                len += plen;
                vg_free(part);
            }
            snprintf(desc, sizeof(desc), "shard group %zu (%s%s)", gi,
                     json_string_value(json_array_get(paths, 0))
                         ? json_string_value(json_array_get(paths, 0))
                         : "?",
                     json_array_size(paths) > 1 ? ", ..." : "");
            size_t    pos = 0;
            vg_status st =
                decode_weights(m, manifest, buf, len, desc, &pos, json_object_get(grp, "weights"));
            vg_free(buf);
            if (st)
                return st;
            if (pos != len)
                return vgi_err_set(
                    m->err, VG_E_FORMAT,
                    "%s: %s has %zu bytes but its weights use %zu; the shard does not "
                    "match the manifest",
                    m->file, desc, len, pos);
            m->g->file_weight_bytes += (int64_t)len;
        } else {
            snprintf(desc, sizeof(desc), "the weight data");
            vg_status st = decode_weights(m, manifest, mem, mem_len, desc, &mem_pos,
                                          json_object_get(grp, "weights"));
            if (st)
                return st;
        }
    }
    if (!dir)
        m->g->file_weight_bytes = (int64_t)mem_pos;
    for (int i = 0; i < m->n_weights; i++) {
        uint32_t h =
            fnv(m->weights[i].name, strlen(m->weights[i].name)) & (uint32_t)(m->whash_cap - 1);
        while (m->whash[h] >= 0) {
            if (!strcmp(m->weights[m->whash[h]].name, m->weights[i].name))
                return vgi_err_set(m->err, VG_E_FORMAT, "%s: weight '%s' is listed twice", m->file,
                                   m->weights[i].name);
            h = (h + 1) & (uint32_t)(m->whash_cap - 1);
        }
        m->whash[h] = i;
    }
    return VG_OK;
}

/* ---- translation ------------------------------------------------------------------- */

typedef vg_status (*tf_handler)(imp *m, tf_node *n, const int *in, int n_in);

/* Adds one IR node whose outputs become the TF node's outputs. */
static vg_status emit(imp *m, tf_node *n, vgi_op op, const int *in, int n_in, int n_out,
                      const vgi_attrs *a) {
    int       id;
    vg_status st = vgi_graph_add_node(m->g, op, n->name, in, n_in, n_out, a, &id);
    if (st)
        return st;
    n->out_vals = vg_malloc((size_t)n_out * sizeof(int));
    if (!n->out_vals)
        return VG_E_NOMEM;
    for (int k = 0; k < n_out; k++)
        n->out_vals[k] = m->g->nodes[id].out[k];
    n->n_out = n_out;
    return VG_OK;
}

/* Data of a constant input (NULL if the value is not a constant). */
static const vgi_value *const_in(imp *m, int v) {
    if (v < 0 || !(m->g->values[v].flags & VGI_VALUE_CONST))
        return NULL;
    return &m->g->values[v];
}

static vg_status const_ints(imp *m, tf_node *n, int v, const char *what, int64_t *out, int cap,
                            int *count) {
    const vgi_value *c = const_in(m, v);
    if (!c)
        return nerr(m, n, VG_E_UNSUPPORTED, "%s must be a constant", what);
    vg_tensor t   = {c->dtype, c->shape, c->data};
    int64_t   num = vg_shape_numel(&c->shape);
    if (c->dtype != VG_DTYPE_I32 || num > cap)
        return nerr(m, n, VG_E_FORMAT, "%s must be at most %d int32 values", what, cap);
    for (int64_t i = 0; i < num; i++)
        out[i] = vgi_tensor_get_i64(&t, i);
    *count = (int)num;
    return VG_OK;
}

static vg_status check_nhwc(imp *m, tf_node *n, vgi_layout *layout) {
    char fmt[32] = "NHWC";
    if (attr(n, "data_format") && !attr_str(n, "data_format", fmt, sizeof(fmt)))
        return nerr(m, n, VG_E_FORMAT, "attribute data_format is not valid base64 text");
    if (!strcmp(fmt, "NHWC"))
        *layout = VGI_LAYOUT_NHWC;
    else if (!strcmp(fmt, "NCHW"))
        *layout = VGI_LAYOUT_NCHW;
    else
        return nerr(m, n, VG_E_UNSUPPORTED, "data_format '%s' (supported: NHWC, NCHW)", fmt);
    return VG_OK;
}

/* strides/dilations/ksize as [1, h, w, 1] (NHWC) or [1, 1, h, w] (NCHW). */
static vg_status spatial_pair(imp *m, tf_node *n, const char *key, vgi_layout l, int64_t def,
                              int64_t out[2]) {
    int64_t v[8];
    int     c = attr_ints(n, key, v, 8);
    if (c < 0 || (c == 0 && !attr(n, key))) {
        out[0] = out[1] = def;
        if (c < 0 && attr(n, key))
            return nerr(m, n, VG_E_FORMAT, "attribute %s is not a list of integers", key);
        return VG_OK;
    }
    if (c == 0) {
        out[0] = out[1] = def;
        return VG_OK;
    }
    if (c != 4)
        return nerr(m, n, VG_E_FORMAT, "attribute %s has %d entries, expected 4", key, c);
    int h  = l == VGI_LAYOUT_NHWC ? 1 : 2;
    out[0] = v[h];
    out[1] = v[h + 1];
    if (v[0] != 1 || v[l == VGI_LAYOUT_NHWC ? 3 : 1] != 1)
        return nerr(m, n, VG_E_UNSUPPORTED, "attribute %s must be 1 on the batch and channel dims",
                    key);
    if (out[0] < 1 || out[1] < 1)
        return nerr(m, n, VG_E_FORMAT, "attribute %s must be >= 1", key);
    return VG_OK;
}

static vg_status padding_attr(imp *m, tf_node *n, vgi_layout l, vgi_pad_mode *mode,
                              int64_t pads[4]) {
    char p[32];
    memset(pads, 0, 4 * sizeof(int64_t));
    if (!attr_str(n, "padding", p, sizeof(p)))
        return nerr(m, n, VG_E_FORMAT, "attribute padding is missing or not base64 text");
    if (!strcmp(p, "SAME")) {
        *mode = VGI_PAD_SAME_UPPER;
    } else if (!strcmp(p, "VALID")) {
        *mode = VGI_PAD_VALID;
    } else if (!strcmp(p, "EXPLICIT")) {
        int64_t e[8];
        if (attr_ints(n, "explicit_paddings", e, 8) != 8)
            return nerr(m, n, VG_E_FORMAT, "EXPLICIT padding needs 8 explicit_paddings");
        int h   = l == VGI_LAYOUT_NHWC ? 1 : 2;
        *mode   = VGI_PAD_EXPLICIT;
        pads[0] = e[2 * h];
        pads[2] = e[2 * h + 1];
        pads[1] = e[2 * h + 2];
        pads[3] = e[2 * h + 3];
    } else {
        return nerr(m, n, VG_E_UNSUPPORTED, "padding '%s' (supported: SAME, VALID, EXPLICIT)", p);
    }
    return VG_OK;
}

/* Conv2D, _FusedConv2D, DepthwiseConv2dNative, FusedDepthwiseConv2dNative. */
static vg_status h_conv(imp *m, tf_node *n, const int *in, int n_in) {
    bool      fused = strstr(n->op, "Fused") != NULL;
    bool      dw    = strstr(n->op, "Depthwise") != NULL;
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    vgi_conv_attr *c  = &a.conv;
    vg_status      st = check_nhwc(m, n, &c->layout);
    if (!st)
        st = spatial_pair(m, n, "strides", c->layout, 1, c->strides);
    if (!st)
        st = spatial_pair(m, n, "dilations", c->layout, 1, c->dilations);
    if (!st)
        st = padding_attr(m, n, c->layout, &c->pad_mode, c->pads);
    if (st)
        return st;
    if (n_in < 2)
        return nerr(m, n, VG_E_FORMAT, "needs an input and a filter, has %d inputs", n_in);
    const vgi_value *w = const_in(m, in[1]);
    if (!w || w->shape.ndim != 4 || w->dtype != VG_DTYPE_F32)
        return nerr(m, n, VG_E_UNSUPPORTED, "the filter must be a constant float32 rank-4 tensor");
    int64_t KH = w->shape.dims[0], KW = w->shape.dims[1], CI = w->shape.dims[2],
            CO  = w->shape.dims[3];
    int bias_in = -1;
    if (fused) {
        char    ops[4][32];
        json_t *l    = json_object_get(json_object_get(attr(n, "fused_ops"), "list"), "s");
        size_t  nops = json_is_array(l) ? json_array_size(l) : 0;
        if (nops < 1 || nops > 2)
            return nerr(m, n, VG_E_UNSUPPORTED,
                        "fused_ops must list BiasAdd and at most one "
                        "activation, has %zu entries",
                        nops);
        for (size_t i = 0; i < nops; i++)
            if (!json_is_string(json_array_get(l, i)) ||
                !b64decode(json_string_value(json_array_get(l, i)), ops[i], sizeof(ops[i])))
                return nerr(m, n, VG_E_FORMAT, "fused_ops entry %zu is not base64 text", i);
        if (strcmp(ops[0], "BiasAdd"))
            return nerr(m, n, VG_E_UNSUPPORTED, "fused op '%s' (only BiasAdd[, activation])",
                        ops[0]);
        if (attr_int_or(n, "num_args", 1) != 1 || n_in != 3)
            return nerr(m, n, VG_E_UNSUPPORTED, "expects exactly one extra argument (the bias)");
        bias_in = in[2];
        if (nops == 2) {
            const char *act = ops[1];
            if (!strcmp(act, "Relu"))
                c->act.kind = VGI_ACT_RELU;
            else if (!strcmp(act, "Relu6"))
                c->act.kind = VGI_ACT_RELU6;
            else if (!strcmp(act, "Elu"))
                c->act.kind = VGI_ACT_ELU, c->act.a = 1.0f;
            else if (!strcmp(act, "Sigmoid"))
                c->act.kind = VGI_ACT_SIGMOID;
            else if (!strcmp(act, "Tanh"))
                c->act.kind = VGI_ACT_TANH;
            else if (!strcmp(act, "LeakyRelu")) {
                c->act.kind = VGI_ACT_LEAKY;
                c->act.a    = 0.2f;
                attr_float(n, "leakyrelu_alpha", &c->act.a);
            } else
                return nerr(m, n, VG_E_UNSUPPORTED,
                            "fused activation '%s' (supported: Relu, "
                            "Relu6, Elu, Sigmoid, Tanh, LeakyRelu)",
                            act);
        }
    } else if (n_in != 2) {
        return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected 2", n_in);
    }
    /* Filter HWIO (or depthwise H,W,C,M) -> OIHW as a new constant. */
    int64_t O = dw ? CI * CO : CO, I = dw ? 1 : CI;
    float  *wd = vg_malloc((size_t)(O * I * KH * KW) * sizeof(float));
    if (!wd)
        return VG_E_NOMEM;
    const float *src = w->data;
    for (int64_t kh = 0; kh < KH; kh++)
        for (int64_t kw = 0; kw < KW; kw++)
            for (int64_t ci = 0; ci < CI; ci++)
                for (int64_t co = 0; co < CO; co++) {
                    float v = src[((kh * KW + kw) * CI + ci) * CO + co];
                    if (dw)
                        wd[((ci * CO + co) * KH + kh) * KW + kw] = v;
                    else
                        wd[((co * CI + ci) * KH + kh) * KW + kw] = v;
                }
    char wname[1100];
    snprintf(wname, sizeof(wname), "%s/filter_oihw", n->name);
    vg_shape ws = {4, {O, I, KH, KW}};
    int      wid;
    st = vgi_graph_add_const(m->g, wname, VG_DTYPE_F32, &ws, wd, &wid);
    if (st)
        return st;
    c->kernel[0] = KH;
    c->kernel[1] = KW;
    c->groups    = dw ? CI : 1; /* dense: checked against the input's channels later */
    int ins[3]   = {in[0], wid, bias_in};
    return emit(m, n, VGI_OP_CONV, ins, bias_in >= 0 ? 3 : 2, 1, &a);
}

static vg_status h_pool(imp *m, tf_node *n, const int *in, int n_in) {
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    vgi_pool_attr *p  = &a.pool;
    vg_status      st = check_nhwc(m, n, &p->layout);
    if (!st)
        st = spatial_pair(m, n, "ksize", p->layout, 1, p->kernel);
    if (!st)
        st = spatial_pair(m, n, "strides", p->layout, 1, p->strides);
    if (!st)
        st = padding_attr(m, n, p->layout, &p->pad_mode, p->pads);
    if (st)
        return st;
    if (n_in != 1)
        return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected 1", n_in);
    p->dilations[0] = p->dilations[1] = 1;
    return emit(m, n, !strcmp(n->op, "MaxPool") ? VGI_OP_MAX_POOL : VGI_OP_AVG_POOL, in, 1, 1, &a);
}

static const struct {
    const char *tf;
    vgi_op      op;
    int         n_in;
} simple_ops[] = {
    {"Add", VGI_OP_ADD, 2},
    {"AddV2", VGI_OP_ADD, 2},
    {"BiasAdd", VGI_OP_ADD, 2},
    {"Sub", VGI_OP_SUB, 2},
    {"Mul", VGI_OP_MUL, 2},
    {"RealDiv", VGI_OP_DIV, 2},
    {"Div", VGI_OP_DIV, 2},
    {"DivNoNan", VGI_OP_DIV, 2},
    {"FloorDiv", VGI_OP_FLOOR_DIV, 2},
    {"FloorMod", VGI_OP_FLOOR_MOD, 2},
    {"Maximum", VGI_OP_MAX, 2},
    {"Minimum", VGI_OP_MIN, 2},
    {"Pow", VGI_OP_POW, 2},
    {"SquaredDifference", VGI_OP_SQUARED_DIFF, 2},
    {"Equal", VGI_OP_EQUAL, 2},
    {"NotEqual", VGI_OP_NOT_EQUAL, 2},
    {"Less", VGI_OP_LESS, 2},
    {"LessEqual", VGI_OP_LESS_EQUAL, 2},
    {"Greater", VGI_OP_GREATER, 2},
    {"GreaterEqual", VGI_OP_GREATER_EQUAL, 2},
    {"LogicalAnd", VGI_OP_LOGICAL_AND, 2},
    {"LogicalOr", VGI_OP_LOGICAL_OR, 2},
    {"Prelu", VGI_OP_PRELU, 2},
    {"Relu", VGI_OP_RELU, 1},
    {"Relu6", VGI_OP_RELU6, 1},
    {"Elu", VGI_OP_ELU, 1},
    {"Sigmoid", VGI_OP_SIGMOID, 1},
    {"Tanh", VGI_OP_TANH, 1},
    {"Exp", VGI_OP_EXP, 1},
    {"Log", VGI_OP_LOG, 1},
    {"Sqrt", VGI_OP_SQRT, 1},
    {"Rsqrt", VGI_OP_RSQRT, 1},
    {"Abs", VGI_OP_ABS, 1},
    {"Neg", VGI_OP_NEG, 1},
    {"Reciprocal", VGI_OP_RECIPROCAL, 1},
    {"Floor", VGI_OP_FLOOR, 1},
    {"Ceil", VGI_OP_CEIL, 1},
    {"Round", VGI_OP_ROUND, 1},
    {"Erf", VGI_OP_ERF, 1},
    {"LogicalNot", VGI_OP_LOGICAL_NOT, 1},
    {"Identity", VGI_OP_IDENTITY, 1},
    {"Snapshot", VGI_OP_IDENTITY, 1},
    {"StopGradient", VGI_OP_IDENTITY, 1},
    {"GatherNd", VGI_OP_GATHER_ND, 2},
    {"Tile", VGI_OP_TILE, 2},
    {"Reshape", VGI_OP_RESHAPE, 2},
    {"Select", VGI_OP_SELECT, 3},
    {"SelectV2", VGI_OP_SELECT, 3},
    {"SparseToDense", VGI_OP_SPARSE_TO_DENSE, 4},
    {"Range", VGI_OP_RANGE, 3},
    {"Fill", VGI_OP_FILL, 2},
    {"BroadcastTo", VGI_OP_EXPAND, 2},
};

static vg_status h_simple(imp *m, tf_node *n, const int *in, int n_in) {
    for (size_t i = 0; i < VGI_ARRAY_SIZE(simple_ops); i++) {
        if (strcmp(simple_ops[i].tf, n->op))
            continue;
        if (n_in != simple_ops[i].n_in)
            return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected %d", n_in, simple_ops[i].n_in);
        vgi_attrs a;
        memset(&a, 0, sizeof(a));
        if (!strcmp(n->op, "BiasAdd")) {
            vgi_layout l;
            vg_status  st = check_nhwc(m, n, &l);
            if (st)
                return st;
            if (l != VGI_LAYOUT_NHWC)
                return nerr(m, n, VG_E_UNSUPPORTED, "BiasAdd with data_format NCHW");
        }
        return emit(m, n, simple_ops[i].op, in, n_in, 1, &a);
    }
    return nerr(m, n, VG_E_INTERNAL, "no mapping");
}

static vg_status h_leaky(imp *m, tf_node *n, const int *in, int n_in) {
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    a.unary.alpha = 0.2f;
    attr_float(n, "alpha", &a.unary.alpha);
    if (n_in != 1)
        return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected 1", n_in);
    return emit(m, n, VGI_OP_LEAKY_RELU, in, 1, 1, &a);
}

static vg_status h_cast(imp *m, tf_node *n, const int *in, int n_in) {
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    a.cast.to = tf_dtype(json_string_value(json_object_get(attr(n, "DstT"), "type")));
    if (a.cast.to == VG_DTYPE_UNKNOWN)
        return nerr(m, n, VG_E_UNSUPPORTED, "DstT is missing or not a supported type");
    if (n_in != 1)
        return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected 1", n_in);
    return emit(m, n, VGI_OP_CAST, in, 1, 1, &a);
}

static vg_status h_add_n(imp *m, tf_node *n, const int *in, int n_in) {
    if (n_in < 1)
        return nerr(m, n, VG_E_FORMAT, "needs at least one input");
    return emit(m, n, VGI_OP_ADD_N, in, n_in, 1, NULL);
}

/* ConcatV2 (axis last) and Concat (axis first). */
static vg_status h_concat(imp *m, tf_node *n, const int *in, int n_in) {
    if (n_in < 2)
        return nerr(m, n, VG_E_FORMAT, "needs values and an axis");
    bool      v2 = !strcmp(n->op, "ConcatV2");
    int64_t   ax;
    int       cnt;
    vg_status st = const_ints(m, n, v2 ? in[n_in - 1] : in[0], "the axis", &ax, 1, &cnt);
    if (st)
        return st;
    if (cnt != 1)
        return nerr(m, n, VG_E_FORMAT, "the axis must be a scalar");
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    a.axis.axis = ax;
    return emit(m, n, VGI_OP_CONCAT, v2 ? in : in + 1, n_in - 1, 1, &a);
}

static vg_status h_split(imp *m, tf_node *n, const int *in, int n_in) {
    int64_t ns;
    if (!attr_int(n, "num_split", &ns) || ns < 1 || ns > 64)
        return nerr(m, n, VG_E_FORMAT, "num_split is missing or not in 1..64");
    bool    v = !strcmp(n->op, "SplitV");
    int64_t ax;
    int     cnt;
    if (n_in != (v ? 3 : 2))
        return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected %d", n_in, v ? 3 : 2);
    vg_status st = const_ints(m, n, v ? in[2] : in[0], "the split axis", &ax, 1, &cnt);
    if (st)
        return st;
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    a.split.axis = ax;
    int ins[2]   = {v ? in[0] : in[1], v ? in[1] : -1};
    return emit(m, n, VGI_OP_SPLIT, ins, v ? 2 : 1, (int)ns, &a);
}

static vg_status h_strided_slice(imp *m, tf_node *n, const int *in, int n_in) {
    if (n_in != 4)
        return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected 4", n_in);
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    a.strided_slice.begin_mask       = (int32_t)attr_int_or(n, "begin_mask", 0);
    a.strided_slice.end_mask         = (int32_t)attr_int_or(n, "end_mask", 0);
    a.strided_slice.ellipsis_mask    = (int32_t)attr_int_or(n, "ellipsis_mask", 0);
    a.strided_slice.new_axis_mask    = (int32_t)attr_int_or(n, "new_axis_mask", 0);
    a.strided_slice.shrink_axis_mask = (int32_t)attr_int_or(n, "shrink_axis_mask", 0);
    return emit(m, n, VGI_OP_STRIDED_SLICE, in, 4, 1, &a);
}

/* TF Slice(x, begin, size): size -1 = to the end. Needs constant begin/size. */
static vg_status h_slice(imp *m, tf_node *n, const int *in, int n_in) {
    if (n_in != 3)
        return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected 3", n_in);
    int64_t   b[VG_MAX_DIMS], s[VG_MAX_DIMS];
    int       nb, ns;
    vg_status st = const_ints(m, n, in[1], "begin", b, VG_MAX_DIMS, &nb);
    if (!st)
        st = const_ints(m, n, in[2], "size", s, VG_MAX_DIMS, &ns);
    if (st)
        return st;
    if (nb != ns)
        return nerr(m, n, VG_E_FORMAT, "begin and size have different lengths");
    int64_t *e = vg_malloc((size_t)(nb ? nb : 1) * sizeof(int64_t));
    if (!e)
        return VG_E_NOMEM;
    for (int i = 0; i < nb; i++)
        e[i] = s[i] < 0 ? INT64_MAX : b[i] + s[i];
    char     nm[1100];
    vg_shape sh = {1, {nb}};
    int      eid;
    snprintf(nm, sizeof(nm), "%s/end", n->name);
    st = vgi_graph_add_const(m->g, nm, VG_DTYPE_I64, &sh, e, &eid);
    if (st)
        return st;
    int ins[3] = {in[0], in[1], eid};
    return emit(m, n, VGI_OP_SLICE, ins, 3, 1, NULL);
}

static vg_status h_transpose(imp *m, tf_node *n, const int *in, int n_in) {
    if (n_in != 2)
        return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected 2", n_in);
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    vg_status st =
        const_ints(m, n, in[1], "the permutation", a.transpose.perm, VG_MAX_DIMS, &a.transpose.n);
    if (st)
        return st;
    return emit(m, n, VGI_OP_TRANSPOSE, in, 1, 1, &a);
}

static vg_status h_squeeze(imp *m, tf_node *n, const int *in, int n_in) {
    if (n_in != 1)
        return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected 1", n_in);
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    int c = attr_ints(n, "squeeze_dims", a.axes.axes, VG_MAX_DIMS);
    if (c < 0)
        c = attr_ints(n, "axis", a.axes.axes, VG_MAX_DIMS);
    a.axes.n = c < 0 ? 0 : c;
    return emit(m, n, VGI_OP_SQUEEZE, in, 1, 1, &a);
}

static vg_status h_expand_dims(imp *m, tf_node *n, const int *in, int n_in) {
    if (n_in != 2)
        return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected 2", n_in);
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    int       cnt;
    vg_status st = const_ints(m, n, in[1], "the axis", a.axes.axes, 1, &cnt);
    if (st)
        return st;
    if (cnt != 1)
        return nerr(m, n, VG_E_FORMAT, "the axis must be one value");
    a.axes.n = 1;
    return emit(m, n, VGI_OP_UNSQUEEZE, in, 1, 1, &a);
}

static vg_status h_pad(imp *m, tf_node *n, const int *in, int n_in) {
    bool v2 = !strcmp(n->op, "PadV2"), mirror = !strcmp(n->op, "MirrorPad");
    if (n_in != (v2 ? 3 : 2))
        return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected %d", n_in, v2 ? 3 : 2);
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    if (v2) {
        const vgi_value *c = const_in(m, in[2]);
        if (!c || vg_shape_numel(&c->shape) != 1)
            return nerr(m, n, VG_E_UNSUPPORTED, "constant_values must be a constant scalar");
        vg_tensor t = {c->dtype, c->shape, c->data};
        a.pad.value = (float)vgi_tensor_get_f64(&t, 0);
    }
    if (mirror) {
        char mode[32];
        if (!attr_str(n, "mode", mode, sizeof(mode)) || strcmp(mode, "REFLECT"))
            return nerr(m, n, VG_E_UNSUPPORTED, "MirrorPad mode must be REFLECT");
        a.pad.mode = VGI_PADFILL_REFLECT;
    }
    return emit(m, n, VGI_OP_PAD, in, 2, 1, &a);
}

static vg_status h_gather(imp *m, tf_node *n, const int *in, int n_in) {
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    if (!strcmp(n->op, "GatherV2")) {
        if (n_in != 3)
            return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected 3", n_in);
        int       cnt;
        vg_status st = const_ints(m, n, in[2], "the axis", &a.gather.axis, 1, &cnt);
        if (st)
            return st;
    } else if (n_in != 2) {
        return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected 2", n_in);
    }
    a.gather.batch_dims = attr_int_or(n, "batch_dims", 0);
    if (a.gather.batch_dims < 0)
        return nerr(m, n, VG_E_UNSUPPORTED, "negative batch_dims");
    return emit(m, n, VGI_OP_GATHER, in, 2, 1, &a);
}

static vg_status h_pack(imp *m, tf_node *n, const int *in, int n_in) {
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    a.axis.axis = attr_int_or(n, "axis", 0);
    if (n_in < 1)
        return nerr(m, n, VG_E_FORMAT, "needs at least one input");
    return emit(m, n, VGI_OP_PACK, in, n_in, 1, &a);
}

static vg_status h_unpack(imp *m, tf_node *n, const int *in, int n_in) {
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    a.axis.axis = attr_int_or(n, "axis", 0);
    int64_t num;
    if (!attr_int(n, "num", &num) || num < 1 || num > 64)
        return nerr(m, n, VG_E_FORMAT, "num is missing or not in 1..64");
    if (n_in != 1)
        return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected 1", n_in);
    return emit(m, n, VGI_OP_UNPACK, in, 1, (int)num, &a);
}

static vg_status h_reduce(imp *m, tf_node *n, const int *in, int n_in) {
    static const struct {
        const char *tf;
        vgi_op      op;
    } map[]   = {{"Mean", VGI_OP_REDUCE_MEAN},
                 {"Sum", VGI_OP_REDUCE_SUM},
                 {"Max", VGI_OP_REDUCE_MAX},
                 {"Min", VGI_OP_REDUCE_MIN},
                 {"Prod", VGI_OP_REDUCE_PROD}};
    vgi_op op = VGI_OP_INVALID;
    for (size_t i = 0; i < VGI_ARRAY_SIZE(map); i++)
        if (!strcmp(map[i].tf, n->op))
            op = map[i].op;
    if (n_in != 2)
        return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected 2", n_in);
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    a.axes.keepdims = attr_bool_or(n, "keep_dims", false);
    /* An empty axes list means "no reduction" in TF. */
    a.axes.noop_with_empty_axes = true;
    return emit(m, n, op, in, 2, 1, &a);
}

static vg_status h_arg(imp *m, tf_node *n, const int *in, int n_in) {
    if (n_in != 2)
        return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected 2", n_in);
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    a.arg.out_dtype = VG_DTYPE_I32; /* TF.js: int32 always */
    return emit(m, n, !strcmp(n->op, "ArgMax") ? VGI_OP_ARGMAX : VGI_OP_ARGMIN, in, 2, 1, &a);
}

static vg_status h_topk(imp *m, tf_node *n, const int *in, int n_in) {
    if (n_in != 2)
        return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected 2", n_in);
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    a.topk.axis        = -1;
    a.topk.largest     = true;
    a.topk.sorted      = attr_bool_or(n, "sorted", true);
    a.topk.index_dtype = VG_DTYPE_I32;
    return emit(m, n, VGI_OP_TOPK, in, 2, 2, &a);
}

static vg_status h_softmax(imp *m, tf_node *n, const int *in, int n_in) {
    if (n_in != 1)
        return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected 1", n_in);
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    a.axis.axis = -1;
    return emit(m, n, !strcmp(n->op, "Softmax") ? VGI_OP_SOFTMAX : VGI_OP_LOG_SOFTMAX, in, 1, 1,
                &a);
}

static vg_status h_matmul(imp *m, tf_node *n, const int *in, int n_in) {
    if (n_in != 2)
        return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected 2", n_in);
    bool ta = attr_bool_or(n, "transpose_a", false) || attr_bool_or(n, "adj_x", false);
    bool tb = attr_bool_or(n, "transpose_b", false) || attr_bool_or(n, "adj_y", false);
    if (!strcmp(n->op, "MatMul")) {
        vgi_attrs a;
        memset(&a, 0, sizeof(a));
        a.gemm.trans_a = ta;
        a.gemm.trans_b = tb;
        a.gemm.alpha   = 1.0f;
        return emit(m, n, VGI_OP_GEMM, in, 2, 1, &a);
    }
    if (ta || tb)
        return nerr(m, n, VG_E_UNSUPPORTED, "batched matmul with adjoint/transposed operands");
    return emit(m, n, VGI_OP_MATMUL, in, 2, 1, NULL);
}

static vg_status h_resize(imp *m, tf_node *n, const int *in, int n_in) {
    if (n_in != 2)
        return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected 2", n_in);
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    bool ac  = attr_bool_or(n, "align_corners", false);
    bool hpc = attr_bool_or(n, "half_pixel_centers", false);
    if (ac && hpc)
        return nerr(m, n, VG_E_FORMAT, "align_corners and half_pixel_centers are both set");
    a.resize.layout = VGI_LAYOUT_NHWC;
    if (!strcmp(n->op, "ResizeBilinear")) {
        a.resize.mode = VGI_RESIZE_BILINEAR;
        a.resize.coord =
            ac ? VGI_COORD_ALIGN_CORNERS : (hpc ? VGI_COORD_HALF_PIXEL : VGI_COORD_ASYMMETRIC);
    } else {
        a.resize.mode    = VGI_RESIZE_NEAREST;
        a.resize.coord   = ac ? VGI_COORD_ALIGN_CORNERS
                              : (hpc ? VGI_COORD_TF_HALF_PIXEL_NEAREST : VGI_COORD_ASYMMETRIC);
        a.resize.nearest = ac ? VGI_NEAREST_ROUND_PREFER_CEIL : VGI_NEAREST_FLOOR;
    }
    return emit(m, n, VGI_OP_RESIZE, in, 2, 1, &a);
}

static vg_status h_shape(imp *m, tf_node *n, const int *in, int n_in) {
    if (n_in != 1)
        return nerr(m, n, VG_E_FORMAT, "has %d inputs, expected 1", n_in);
    vgi_attrs a;
    memset(&a, 0, sizeof(a));
    a.shape.dtype = VG_DTYPE_I32;
    a.shape.start = 0;
    a.shape.end   = INT64_MAX;
    return emit(m, n, !strcmp(n->op, "Shape") ? VGI_OP_SHAPE : VGI_OP_SIZE, in, 1, 1, &a);
}

static const struct {
    const char *name;
    tf_handler  fn;
} handlers[] = {
    {"Conv2D", h_conv},
    {"_FusedConv2D", h_conv},
    {"DepthwiseConv2dNative", h_conv},
    {"FusedDepthwiseConv2dNative", h_conv},
    {"MaxPool", h_pool},
    {"AvgPool", h_pool},
    {"LeakyRelu", h_leaky},
    {"Cast", h_cast},
    {"AddN", h_add_n},
    {"ConcatV2", h_concat},
    {"Concat", h_concat},
    {"Split", h_split},
    {"SplitV", h_split},
    {"StridedSlice", h_strided_slice},
    {"Slice", h_slice},
    {"Transpose", h_transpose},
    {"Squeeze", h_squeeze},
    {"ExpandDims", h_expand_dims},
    {"Pad", h_pad},
    {"PadV2", h_pad},
    {"MirrorPad", h_pad},
    {"GatherV2", h_gather},
    {"Gather", h_gather},
    {"Pack", h_pack},
    {"Unpack", h_unpack},
    {"Mean", h_reduce},
    {"Sum", h_reduce},
    {"Max", h_reduce},
    {"Min", h_reduce},
    {"Prod", h_reduce},
    {"ArgMax", h_arg},
    {"ArgMin", h_arg},
    {"TopKV2", h_topk},
    {"Softmax", h_softmax},
    {"LogSoftmax", h_softmax},
    {"MatMul", h_matmul},
    {"BatchMatMul", h_matmul},
    {"BatchMatMulV2", h_matmul},
    {"ResizeBilinear", h_resize},
    {"ResizeNearestNeighbor", h_resize},
    {"Shape", h_shape},
    {"Size", h_shape},
};

static tf_handler find_handler(const char *op) {
    for (size_t i = 0; i < VGI_ARRAY_SIZE(handlers); i++)
        if (!strcmp(handlers[i].name, op))
            return handlers[i].fn;
    for (size_t i = 0; i < VGI_ARRAY_SIZE(simple_ops); i++)
        if (!strcmp(simple_ops[i].tf, op))
            return h_simple;
    return NULL;
}

/* Splits "name:k" into node index and output k; -1 if no such node. */
static int resolve_input(const imp *m, const char *ref, int *k) {
    const char *colon = strrchr(ref, ':');
    size_t      len   = strlen(ref);
    *k                = 0;
    if (colon) {
        char *end;
        long  v = strtol(colon + 1, &end, 10);
        if (!*end && end != colon + 1 && v >= 0 && v < 1024) {
            int idx = node_find(m, ref, (size_t)(colon - ref));
            if (idx >= 0) {
                *k = (int)v;
                return idx;
            }
        }
    }
    return node_find(m, ref, len);
}

static vg_status translate(imp *m, int idx);

static vg_status translate_node(imp *m, tf_node *n) {
    /* Const and Placeholder were handled before. */
    json_t *inputs = json_object_get(n->j, "input");
    size_t  n_in   = json_is_array(inputs) ? json_array_size(inputs) : 0;
    int     ins[64];
    int     k_in = 0;
    for (size_t i = 0; i < n_in; i++) {
        const char *ref = json_string_value(json_array_get(inputs, i));
        if (!ref)
            return nerr(m, n, VG_E_FORMAT, "input %zu is not a string", i);
        if (ref[0] == '^')
            continue; /* control dependency: no data */
        if (k_in >= (int)VGI_ARRAY_SIZE(ins))
            return nerr(m, n, VG_E_UNSUPPORTED, "more than %zu inputs", VGI_ARRAY_SIZE(ins));
        int k, src = resolve_input(m, ref, &k);
        if (src < 0)
            return nerr(m, n, VG_E_FORMAT, "input '%s' names no node of the graph", ref);
        tf_node *s = &m->nodes[src];
        if (k >= s->n_out)
            return nerr(m, n, VG_E_FORMAT, "input '%s': node '%s' has only %d output(s)", ref,
                        s->name, s->n_out);
        ins[k_in++] = s->out_vals[k];
    }
    tf_handler h = find_handler(n->op);
    if (!h)
        return nerr(m, n, VG_E_UNSUPPORTED,
                    "op '%s' is not supported by the TF.js importer (see 'vigil model info' "
                    "for the supported set, or convert the model without it)",
                    n->op);
    return h(m, n, ins, k_in);
}

/* Iterative DFS: translates inputs before the node. */
static vg_status translate(imp *m, int root) {
    int *stack = vg_malloc((size_t)m->n_nodes * sizeof(int) * 2);
    if (!stack)
        return VG_E_NOMEM;
    int      *pos = stack + m->n_nodes;
    int       sp  = 0;
    vg_status st  = VG_OK;
    if (m->nodes[root].state == 2)
        goto done;
    stack[sp]            = root;
    pos[sp++]            = 0;
    m->nodes[root].state = 1;
    while (sp) {
        tf_node *n      = &m->nodes[stack[sp - 1]];
        json_t  *inputs = json_object_get(n->j, "input");
        size_t   n_in   = json_is_array(inputs) ? json_array_size(inputs) : 0;
        bool     pushed = false;
        while ((size_t)pos[sp - 1] < n_in) {
            const char *ref = json_string_value(json_array_get(inputs, (size_t)pos[sp - 1]++));
            if (!ref) {
                st = nerr(m, n, VG_E_FORMAT, "an input is not a string");
                goto done;
            }
            if (ref[0] == '^')
                ref++;
            int k, src = resolve_input(m, ref, &k);
            if (src < 0) {
                st = nerr(m, n, VG_E_FORMAT, "input '%s' names no node of the graph", ref);
                goto done;
            }
            if (m->nodes[src].state == 1) {
                st = nerr(m, n, VG_E_FORMAT, "the graph has a cycle through '%s'", ref);
                goto done;
            }
            if (m->nodes[src].state == 0) {
                m->nodes[src].state = 1;
                stack[sp]           = src;
                pos[sp++]           = 0;
                pushed              = true;
                break;
            }
        }
        if (pushed)
            continue;
        if (!n->out_vals) {
            st = translate_node(m, n);
            if (st)
                goto done;
        }
        n->state = 2;
        sp--;
    }
done:
    vg_free(stack);
    return st;
}

static vg_status add_const_node(imp *m, tf_node *n) {
    int wi = weight_find(m, n->name);
    if (wi < 0)
        return nerr(m, n, VG_E_FORMAT,
                    "constant has no entry in the weightsManifest (inline tensor values are not "
                    "supported)");
    weight *w = &m->weights[wi];
    if (!w->data)
        return nerr(m, n, VG_E_FORMAT, "constant is defined twice");
    int       id;
    vg_status st = vgi_graph_add_const(m->g, n->name, w->dtype, &w->shape, w->data, &id);
    w->data      = NULL; /* moved (or freed on failure) */
    if (st)
        return st;
    n->out_vals = vg_malloc(sizeof(int));
    if (!n->out_vals)
        return VG_E_NOMEM;
    n->out_vals[0] = id;
    n->n_out       = 1;
    n->state       = 2;
    return VG_OK;
}

static vg_status add_placeholder(imp *m, tf_node *n, json_t *sig_inputs) {
    vg_dtype dt = tf_dtype(json_string_value(json_object_get(attr(n, "dtype"), "type")));
    if (dt == VG_DTYPE_UNKNOWN)
        return nerr(m, n, VG_E_UNSUPPORTED, "input dtype is missing or not supported");
    vg_shape shape;
    if (!parse_tf_shape(json_object_get(attr(n, "shape"), "shape"), &shape))
        return nerr(m, n, VG_E_FORMAT, "input shape is malformed");
    /* Signature key: the entry whose name is "<node>:0" or "<node>". */
    const char *key = n->name;
    const char *k;
    json_t     *v;
    json_object_foreach(sig_inputs, k, v) {
        const char *nm = json_string_value(json_object_get(v, "name"));
        if (!nm)
            continue;
        size_t len = strlen(n->name);
        if (!strncmp(nm, n->name, len) && (!nm[len] || !strcmp(nm + len, ":0"))) {
            key = k;
            if (shape.ndim < 0)
                parse_tf_shape(json_object_get(v, "tensorShape"), &shape);
            break;
        }
    }
    if (shape.ndim < 0)
        return nerr(m, n, VG_E_UNSUPPORTED, "input has unknown rank");
    int       id;
    vg_status st = vgi_graph_add_input(m->g, key, n->name, dt, &shape, &id);
    if (st)
        return st;
    n->out_vals = vg_malloc(sizeof(int));
    if (!n->out_vals)
        return VG_E_NOMEM;
    n->out_vals[0] = id;
    n->n_out       = 1;
    n->state       = 2;
    return VG_OK;
}

static vg_status import_json(imp *m, json_t *root, const char *dir, const unsigned char *mem,
                             size_t mem_len) {
    if (!json_is_object(root))
        return vgi_err_set(m->err, VG_E_FORMAT, "%s: the top level is not a JSON object", m->file);
    const char *format = json_string_value(json_object_get(root, "format"));
    if (format && strcmp(format, "graph-model"))
        return vgi_err_set(m->err, VG_E_UNSUPPORTED,
                           "%s: format is '%s'; only TF.js 'graph-model' files are supported "
                           "(layers models must be converted)",
                           m->file, format);
    json_t *topo  = json_object_get(root, "modelTopology");
    json_t *nodes = json_object_get(topo, "node");
    if (!json_is_array(nodes))
        return vgi_err_set(m->err, VG_E_FORMAT, "%s: 'modelTopology.node' is missing or not a list",
                           m->file);
    json_t *lib = json_object_get(topo, "library");
    if (json_is_array(json_object_get(lib, "function")) &&
        json_array_size(json_object_get(lib, "function")))
        return vgi_err_set(m->err, VG_E_UNSUPPORTED,
                           "%s: the graph uses control-flow functions (library), which vigil does "
                           "not support",
                           m->file);
    vg_status st = load_weights(m, json_object_get(root, "weightsManifest"), dir, mem, mem_len);
    if (st)
        return st;
    size_t nn   = json_array_size(nodes);
    m->nodes    = vg_calloc(nn ? nn : 1, sizeof(tf_node));
    m->hash_cap = 16;
    while ((size_t)m->hash_cap < nn * 2)
        m->hash_cap *= 2;
    m->hash = vg_malloc((size_t)m->hash_cap * sizeof(int));
    if (!m->nodes || !m->hash)
        return VG_E_NOMEM;
    memset(m->hash, 0xff, (size_t)m->hash_cap * sizeof(int));
    size_t  i;
    json_t *j;
    json_array_foreach(nodes, i, j) {
        tf_node *n = &m->nodes[i];
        n->j       = j;
        n->name    = json_string_value(json_object_get(j, "name"));
        n->op      = json_string_value(json_object_get(j, "op"));
        if (!n->name || !n->op || !n->name[0])
            return vgi_err_set(m->err, VG_E_FORMAT, "%s: node %zu has no name or op", m->file, i);
        if (node_find(m, n->name, strlen(n->name)) >= 0)
            return vgi_err_set(m->err, VG_E_FORMAT, "%s: node name '%s' is used twice", m->file,
                               n->name);
        m->n_nodes = (int)i + 1;
        uint32_t h = fnv(n->name, strlen(n->name)) & (uint32_t)(m->hash_cap - 1);
        while (m->hash[h] >= 0)
            h = (h + 1) & (uint32_t)(m->hash_cap - 1);
        m->hash[h] = (int)i;
    }
    json_t *sig     = json_object_get(root, "signature");
    json_t *sig_in  = json_object_get(sig, "inputs");
    json_t *sig_out = json_object_get(sig, "outputs");
    for (int k = 0; k < m->n_nodes; k++) {
        tf_node *n = &m->nodes[k];
        if (!strcmp(n->op, "Const"))
            st = add_const_node(m, n);
        else if (!strcmp(n->op, "Placeholder") || !strcmp(n->op, "PlaceholderWithDefault"))
            st = strcmp(n->op, "Placeholder")
                     ? nerr(m, n, VG_E_UNSUPPORTED, "PlaceholderWithDefault is not supported")
                     : add_placeholder(m, n, sig_in);
        if (st)
            return st;
    }
    if (m->g->n_inputs == 0)
        return vgi_err_set(m->err, VG_E_FORMAT, "%s: the graph has no Placeholder input", m->file);
    /* Outputs: the signature's, else every node nobody consumes. */
    if (json_is_object(sig_out) && json_object_size(sig_out)) {
        const char *key;
        json_t     *v;
        json_object_foreach(sig_out, key, v) {
            const char *nm = json_string_value(json_object_get(v, "name"));
            if (!nm)
                return vgi_err_set(m->err, VG_E_FORMAT, "%s: signature output '%s' has no name",
                                   m->file, key);
            int k, idx = resolve_input(m, nm, &k);
            if (idx < 0)
                return vgi_err_set(m->err, VG_E_FORMAT,
                                   "%s: signature output '%s' refers to '%s', which is not a node",
                                   m->file, key, nm);
            st = translate(m, idx);
            if (st)
                return st;
            tf_node *n = &m->nodes[idx];
            if (k >= n->n_out)
                return vgi_err_set(m->err, VG_E_FORMAT,
                                   "%s: signature output '%s': node '%s' has "
                                   "only %d output(s)",
                                   m->file, key, n->name, n->n_out);
            vg_shape shape;
            if (!parse_tf_shape(json_object_get(v, "tensorShape"), &shape))
                shape.ndim = -1;
            vg_dtype dt = tf_dtype(json_string_value(json_object_get(v, "dtype")));
            st          = vgi_graph_add_output(m->g, key, n->out_vals[k], dt, &shape);
            if (st)
                return st;
        }
    } else {
        bool *used = vg_calloc((size_t)m->n_nodes, sizeof(bool));
        if (!used)
            return VG_E_NOMEM;
        for (int k = 0; k < m->n_nodes; k++) {
            json_t *ins = json_object_get(m->nodes[k].j, "input");
            for (size_t q = 0; q < json_array_size(ins); q++) {
                const char *ref = json_string_value(json_array_get(ins, q));
                int kk, src = ref ? resolve_input(m, ref[0] == '^' ? ref + 1 : ref, &kk) : -1;
                if (src >= 0)
                    used[src] = true;
            }
        }
        for (int k = 0; k < m->n_nodes && !st; k++) {
            if (used[k] || !strcmp(m->nodes[k].op, "Const") ||
                !strcmp(m->nodes[k].op, "Placeholder"))
                continue;
            st = translate(m, k);
            if (!st)
                st = vgi_graph_add_output(m->g, m->nodes[k].name, m->nodes[k].out_vals[0],
                                          VG_DTYPE_UNKNOWN, NULL);
        }
        vg_free(used);
        if (st)
            return st;
        if (!m->g->n_outputs)
            return vgi_err_set(m->err, VG_E_FORMAT, "%s: the graph has no outputs", m->file);
    }
    return vgi_graph_toposort(m->g, m->err);
}

static void imp_free(imp *m) {
    for (int i = 0; i < m->n_nodes; i++)
        vg_free(m->nodes[i].out_vals);
    vg_free(m->nodes);
    vg_free(m->hash);
    for (int i = 0; i < m->n_weights; i++)
        vg_free(m->weights[i].data);
    vg_free(m->weights);
    vg_free(m->whash);
}

static vg_status run_import(const char *file, const char *json, size_t json_len, const char *dir,
                            const void *mem, size_t mem_len, vgi_graph **out, vgi_err *err) {
    *out = NULL;
    imp m;
    memset(&m, 0, sizeof(m));
    m.file = file;
    m.err  = err;
    json_error_t je;
    json_t      *root = json_loadb(json, json_len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return vgi_err_set(err, VG_E_FORMAT, "%s:%d:%d: invalid JSON: %s", file, je.line, je.column,
                           je.text);
    vg_status st = vgi_graph_create(&m.g);
    if (!st) {
        m.g->source = vg_strdup(file);
        m.g->format = "tfjs";
        st          = m.g->source ? VG_OK : VG_E_NOMEM;
    }
    if (!st)
        st = import_json(&m, root, dir, mem, mem_len);
    if (st == VG_E_NOMEM && err)
        vgi_err_set(err, VG_E_NOMEM, "%s: out of memory while importing", file);
    imp_free(&m);
    json_decref(root);
    if (st) {
        vgi_graph_destroy(m.g);
        return st;
    }
    *out = m.g;
    return VG_OK;
}

vg_status vgi_tfjs_import(const char *path, vgi_graph **out, vgi_err *err) {
    *out = NULL;
    char        file[PATH_MAX], dir[PATH_MAX];
    struct stat sb;
    if (stat(path, &sb))
        return vgi_err_set(err, errno == ENOENT ? VG_E_NOT_FOUND : VG_E_IO, "%s: %s", path,
                           strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        if ((size_t)snprintf(file, sizeof(file), "%s/model.json", path) >= sizeof(file))
            return vgi_err_set(err, VG_E_INVALID_ARG, "%s: path too long", path);
        snprintf(dir, sizeof(dir), "%s", path);
    } else {
        snprintf(file, sizeof(file), "%s", path);
        const char *slash = strrchr(path, '/');
        if (slash)
            snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
        else
            snprintf(dir, sizeof(dir), ".");
        if (!dir[0])
            snprintf(dir, sizeof(dir), "/");
    }
    unsigned char *json;
    size_t         len;
    vg_status      st = read_file(file, &json, &len, err, "the model (model.json)");
    if (st)
        return st;
    st = run_import(file, (const char *)json, len, dir, NULL, 0, out, err);
    vg_free(json);
    return st;
}

vg_status vgi_tfjs_import_mem(const char *json, size_t json_len, const void *weights,
                              size_t weights_len, vgi_graph **out, vgi_err *err) {
    return run_import("model.json", json, json_len, NULL, weights, weights_len, out, err);
}
