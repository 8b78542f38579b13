/*
 * cmd_bench.c - `vigil bench model PATH ...`: latency of one model instance.
 *
 * Loads the model, binds random inputs (or raw files given with --input), builds
 * the plan once (reported as prepare_ms), runs --warmup untimed runs and --runs
 * timed ones, and prints the median, p90, min and mean latency, the peak RSS of
 * the process (getrusage) and, with --profile, the per-op time summed over the
 * timed runs and the nodes that take longest (median over the timed runs, with
 * GFLOP/s for convolutions and matrix products). --json prints one JSON object
 * instead of text, with every node in execution order.
 *
 * Memory: the process's resident size before the model is loaded (the shared
 * libraries the CLI links: FFmpeg alone brings about 45 MB) is subtracted from
 * the peak, which leaves what the model instance itself costs. That figure is
 * checked against the budget 1.5 x (float32 weight bytes + activation arena) +
 * 32 MB and reported as rss_target_met.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "apps/commands.h"
#include "vigil/clock.h"
#include "vigil/model.h"
#include "vigil/thread.h"
#include "vigil/vigil.h"

#define MAX_INPUTS  16
#define MAX_PROFILE 128

typedef struct bench_opts {
    const char *model;
    const char *backend;
    const char *device;
    const char *precision;
    int         threads;
    int         runs, warmup;
    bool        profile, json;
    int         n_files;
    const char *file_name[MAX_INPUTS];
    const char *file_path[MAX_INPUTS];
    int         n_shapes;
    const char *shape_name[MAX_INPUTS];
    vg_shape    shape[MAX_INPUTS];
} bench_opts;

static void usage(FILE *f) {
    fprintf(f, "usage: vigil bench model PATH [options]\n"
               "       vigil bench pipeline [options]   (the pipeline sweep; see its --help)\n"
               "  --backend ref|cpu|cuda  backend (default: cuda for a cuda device, else cpu)\n"
               "  --device cpu:0-1      cores to run on (default: all), or a GPU (cuda:0)\n"
               "  --precision fp32|fp16 arithmetic (fp16: GPU devices only; default fp32)\n"
               "  --threads N           threads (default: one per core of the device)\n"
               "  --runs N              timed runs (default 20)\n"
               "  --warmup N            untimed runs first (default 3)\n"
               "  --input NAME=FILE     raw little-endian tensor for input NAME (default random)\n"
               "  --shape NAME=AxBxC    concrete shape for an input with symbolic dims\n"
               "                        (default: symbolic dims of size 1)\n"
               "  --profile             time per op and the slowest nodes (GFLOP/s)\n"
               "  --json                print one JSON object\n");
}

static bool parse_int(const char *s, int lo, int *out) {
    char *end;
    errno  = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > 1000000)
        return false;
    *out = (int)v;
    return true;
}

static bool parse_shape(const char *s, vg_shape *out) {
    memset(out, 0, sizeof(*out));
    while (*s) {
        char *end;
        long  v = strtol(s, &end, 10);
        if (end == s || v < 1 || out->ndim == VG_MAX_DIMS)
            return false;
        out->dims[out->ndim++] = v;
        s                      = end;
        if (*s == 'x')
            s++;
        else if (*s)
            return false;
    }
    return out->ndim > 0;
}

/* The current resident set size in MB (VmRSS), or -1 if /proc is unreadable. */
static double current_rss_mb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char   line[256];
    double mb = -1;
    while (fgets(line, sizeof(line), f)) {
        long kb;
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) {
            mb = (double)kb / 1024.0;
            break;
        }
    }
    fclose(f);
    return mb;
}

static int parse_args(int argc, char **argv, bench_opts *o) {
    memset(o, 0, sizeof(*o));
    o->runs   = 20;
    o->warmup = 3;
    if (argc < 3 || strcmp(argv[1], "model") != 0) {
        usage(stderr);
        return 2;
    }
    o->model = argv[2];
    for (int i = 3; i < argc; i++) {
        const char *a     = argv[i];
        const char *val   = i + 1 < argc ? argv[i + 1] : NULL;
        bool        takes = true;
        if (!strcmp(a, "--profile")) {
            o->profile = true, takes = false;
        } else if (!strcmp(a, "--json")) {
            o->json = true, takes = false;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!val) {
            fprintf(stderr, "vigil bench: %s needs a value (see --help)\n", a);
            return 2;
        } else if (!strcmp(a, "--backend")) {
            o->backend = val;
        } else if (!strcmp(a, "--device")) {
            o->device = val;
        } else if (!strcmp(a, "--precision")) {
            o->precision = val;
        } else if (!strcmp(a, "--threads")) {
            if (!parse_int(val, 0, &o->threads))
                goto bad;
        } else if (!strcmp(a, "--runs")) {
            if (!parse_int(val, 1, &o->runs))
                goto bad;
        } else if (!strcmp(a, "--warmup")) {
            if (!parse_int(val, 0, &o->warmup))
                goto bad;
        } else if (!strcmp(a, "--input") || !strcmp(a, "--shape")) {
            const char *eq = strrchr(val, '=');
            if (!eq || eq == val)
                goto bad;
            char *name = strndup(val, (size_t)(eq - val));
            if (!name)
                return 1;
            if (!strcmp(a, "--input")) {
                if (o->n_files == MAX_INPUTS)
                    goto bad;
                o->file_name[o->n_files]   = name;
                o->file_path[o->n_files++] = eq + 1;
            } else {
                if (o->n_shapes == MAX_INPUTS || !parse_shape(eq + 1, &o->shape[o->n_shapes])) {
                    free(name);
                    goto bad;
                }
                o->shape_name[o->n_shapes++] = name;
            }
        } else {
            fprintf(stderr, "vigil bench: unknown option '%s' (see --help)\n", a);
            return 2;
        }
        if (takes)
            i++;
        continue;
    bad:
        fprintf(stderr, "vigil bench: bad value '%s' for %s (see --help)\n", val, a);
        return 2;
    }
    return -1;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Deterministic pseudo-random bytes for one input: int inputs get 0..255 (pixels),
 * float inputs [0, 1). */
static void fill_random(vg_tensor *t, uint32_t seed) {
    int64_t n = vg_shape_numel(&t->shape);
    for (int64_t i = 0; i < n; i++) {
        seed       = seed * 1664525u + 1013904223u;
        uint32_t r = seed >> 8;
        switch (t->dtype) {
        case VG_DTYPE_F32:
            ((float *)t->data)[i] = (float)(r & 0xffff) / 65536.0f;
            break;
        case VG_DTYPE_I32:
            ((int32_t *)t->data)[i] = (int32_t)(r & 255);
            break;
        case VG_DTYPE_I64:
            ((int64_t *)t->data)[i] = (int64_t)(r & 255);
            break;
        case VG_DTYPE_U8:
            ((uint8_t *)t->data)[i] = (uint8_t)r;
            break;
        case VG_DTYPE_F16:
            ((uint16_t *)t->data)[i] = vg_f32_to_f16((float)(r & 0xffff) / 65536.0f);
            break;
        default:
            memset((char *)t->data + (size_t)i * vg_dtype_size(t->dtype), 0,
                   vg_dtype_size(t->dtype));
            break;
        }
    }
}

/* Builds input i's tensor (shape from the signature, --shape, or 1 for symbolic dims). */
static int make_input(const bench_opts *o, const vg_io_info *io, uint32_t seed, vg_tensor *t) {
    vg_shape sh = io->shape;
    for (int k = 0; k < o->n_shapes; k++)
        if (!strcmp(o->shape_name[k], io->name))
            sh = o->shape[k];
    if (sh.ndim < 0) {
        fprintf(stderr, "vigil bench: input '%s' has an unknown rank; give --shape %s=AxBx...\n",
                io->name, io->name);
        return 1;
    }
    for (int d = 0; d < sh.ndim; d++)
        if (sh.dims[d] < 0)
            sh.dims[d] = 1;
    *t           = vg_tensor_make(io->dtype, sh.ndim, sh.dims, NULL);
    size_t bytes = vg_tensor_nbytes(t);
    t->data      = malloc(bytes ? bytes : 1);
    if (!t->data) {
        fprintf(stderr, "vigil bench: out of memory for input '%s'\n", io->name);
        return 1;
    }
    for (int k = 0; k < o->n_files; k++) {
        if (strcmp(o->file_name[k], io->name) != 0)
            continue;
        FILE *f = fopen(o->file_path[k], "rb");
        if (!f) {
            fprintf(stderr, "vigil bench: cannot open '%s': %s\n", o->file_path[k],
                    strerror(errno));
            return 1;
        }
        size_t got   = fread(t->data, 1, bytes, f);
        int    extra = fgetc(f);
        fclose(f);
        if (got != bytes || extra != EOF) {
            char sbuf[128];
            fprintf(stderr,
                    "vigil bench: '%s' must hold exactly %zu bytes (%s %s) for input '%s'\n",
                    o->file_path[k], bytes, vg_dtype_name(io->dtype),
                    vg_shape_format(&sh, sbuf, sizeof(sbuf)), io->name);
            return 1;
        }
        return 0;
    }
    fill_random(t, seed);
    return 0;
}

typedef struct prof_acc {
    const char *op, *backend;
    int         count;
    int64_t     ns;
} prof_acc;

static int cmp_prof(const void *a, const void *b) {
    const prof_acc *x = a, *y = b;
    return (x->ns < y->ns) - (x->ns > y->ns);
}

static void accumulate(prof_acc *acc, int *n_acc, const vg_profile_entry *e, int n) {
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < *n_acc && !(acc[k].op == e[i].op && acc[k].backend == e[i].backend) &&
               !(!strcmp(acc[k].op, e[i].op) && !strcmp(acc[k].backend, e[i].backend)))
            k++;
        if (k == *n_acc) {
            if (*n_acc == MAX_PROFILE)
                continue;
            acc[k].op = e[i].op, acc[k].backend = e[i].backend, acc[k].count = e[i].count;
            acc[k].ns = 0;
            (*n_acc)++;
        }
        acc[k].ns += e[i].ns;
    }
}

/* Median of n sorted values. */
static int64_t median_i64(const int64_t *sorted, int n) {
    return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/* Per-node times of every timed run (profile): runs x nodes, then medians. */
typedef struct node_prof {
    vg_profile_node *nodes; /* of the first run: names, ops, backends, MACs */
    vg_profile_node *cur;   /* the run being recorded */
    int64_t         *ns;    /* [node][run] */
    int              n;
    int64_t         *med;   /* median ns per node */
    int             *order; /* node indices, slowest first */
} node_prof;

static int node_prof_add(node_prof *np, const vg_session *s, int run, int runs) {
    if (!np->nodes) {
        int n = vg_session_profile_nodes(s, NULL, 0);
        if (n <= 0)
            return 0;
        np->nodes = calloc((size_t)n, sizeof(*np->nodes));
        np->cur   = calloc((size_t)n, sizeof(*np->cur));
        np->ns    = calloc((size_t)n * (size_t)runs, sizeof(int64_t));
        if (!np->nodes || !np->cur || !np->ns)
            return -1;
        np->n = n;
    }
    vg_profile_node *cur = run == 0 ? np->nodes : np->cur;
    int              n   = vg_session_profile_nodes(s, cur, np->n);
    for (int k = 0; k < np->n && k < n; k++)
        np->ns[(size_t)k * (size_t)runs + (size_t)run] = cur[k].ns;
    return 0;
}

static const int64_t *g_med; /* for cmp_med (qsort has no context argument) */

static int cmp_med(const void *a, const void *b) {
    int64_t x = g_med[*(const int *)a], y = g_med[*(const int *)b];
    return (x < y) - (x > y);
}

static int node_prof_finish(node_prof *np, int runs) {
    if (!np->n)
        return 0;
    np->med   = calloc((size_t)np->n, sizeof(int64_t));
    np->order = calloc((size_t)np->n, sizeof(int));
    if (!np->med || !np->order)
        return -1;
    for (int k = 0; k < np->n; k++) {
        int64_t *t = np->ns + (size_t)k * (size_t)runs;
        qsort(t, (size_t)runs, sizeof(int64_t), cmp_i64);
        np->med[k]   = median_i64(t, runs);
        np->order[k] = k;
    }
    g_med = np->med;
    qsort(np->order, (size_t)np->n, sizeof(int), cmp_med);
    return 0;
}

static void node_prof_free(node_prof *np) {
    free(np->nodes);
    free(np->cur);
    free(np->ns);
    free(np->med);
    free(np->order);
}

/* GFLOP/s of a node (2 flops per multiply-accumulate), 0 without MACs or time. */
static double node_gflops(const node_prof *np, int k) {
    return np->nodes[k].macs && np->med[k] ? 2.0 * (double)np->nodes[k].macs / (double)np->med[k]
                                           : 0.0;
}

#define TOP_NODES 15

int cmd_bench(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "pipeline"))
        return cmd_bench_pipeline(argc - 1, argv + 1);
    bench_opts o;
    int        rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    rc            = 1;
    vg_model   *m = NULL;
    vg_session *s = NULL;
    vg_tensor   in[MAX_INPUTS];
    int         n_in  = 0;
    int64_t    *times = calloc((size_t)o.runs, sizeof(int64_t));
    node_prof   np    = {0};
    prof_acc   *acc   = calloc(MAX_PROFILE, sizeof(prof_acc));
    int         n_acc = 0;
    memset(in, 0, sizeof(in));
    if (!times || !acc) {
        fprintf(stderr, "vigil bench: out of memory\n");
        goto out;
    }
    double    rss_before = current_rss_mb();
    int64_t   t0         = vg_clock_ns();
    vg_status st         = vg_model_load(o.model, NULL, &m);
    if (st != VG_OK) {
        fprintf(stderr, "vigil bench: %s\n", vg_model_errmsg(NULL));
        goto out;
    }
    int64_t           load_ns = vg_clock_ns() - t0;
    vg_session_params sp      = vg_session_params_default();
    sp.backend                = o.backend;
    sp.device                 = o.device;
    sp.threads                = o.threads;
    sp.profile                = o.profile;
    sp.precision              = o.precision;
    st                        = vg_session_create(m, &sp, &s);
    if (st != VG_OK) {
        fprintf(stderr, "vigil bench: %s\n", vg_model_errmsg(m));
        goto out;
    }
    n_in = vg_model_input_count(m);
    if (n_in > MAX_INPUTS) {
        fprintf(stderr, "vigil bench: %d inputs (at most %d supported)\n", n_in, MAX_INPUTS);
        n_in = 0;
        goto out;
    }
    for (int i = 0; i < o.n_files; i++) {
        bool found = false;
        for (int k = 0; k < n_in; k++)
            found = found || !strcmp(vg_model_input(m, k)->name, o.file_name[i]);
        if (!found) {
            fprintf(stderr, "vigil bench: the model has no input '%s'\n", o.file_name[i]);
            goto out;
        }
    }
    for (int i = 0; i < n_in; i++) {
        const vg_io_info *io = vg_model_input(m, i);
        if (make_input(&o, io, 12345u + (uint32_t)i, &in[i]) != 0)
            goto out;
        st = vg_session_set_input(s, io->name, &in[i]);
        if (st != VG_OK) {
            fprintf(stderr, "vigil bench: input '%s': %s\n", io->name, vg_session_errmsg(s));
            goto out;
        }
    }
    t0              = vg_clock_ns();
    st              = vg_session_prepare(s);
    int64_t prep_ns = vg_clock_ns() - t0;
    /* The inputs go into the session's own buffers (page-locked on a GPU), as an
     * application that pre-processes straight into them does (the pose stage does): the
     * timed run copies nothing in. Rewritten before every run, outside the timing (a run
     * may reuse an input's memory once the input is consumed). */
    vg_tensor sbuf[MAX_INPUTS];
    for (int i = 0; st == VG_OK && i < n_in; i++)
        st = vg_session_input_buffer(s, vg_model_input(m, i)->name, &in[i].shape, &sbuf[i]);
    for (int i = 0; st == VG_OK && i < o.warmup + o.runs; i++) {
        for (int k = 0; k < n_in; k++)
            memcpy(sbuf[k].data, in[k].data, vg_tensor_nbytes(&in[k]));
        t0 = vg_clock_ns();
        st = vg_session_run(s);
        if (i < o.warmup)
            continue;
        int r    = i - o.warmup;
        times[r] = vg_clock_ns() - t0;
        if (o.profile && st == VG_OK) {
            vg_profile_entry e[MAX_PROFILE];
            int              n = vg_session_profile(s, e, MAX_PROFILE);
            accumulate(acc, &n_acc, e, n < MAX_PROFILE ? n : MAX_PROFILE);
            if (node_prof_add(&np, s, r, o.runs) != 0) {
                fprintf(stderr, "vigil bench: out of memory for the node profile\n");
                goto out;
            }
        }
    }
    if (st != VG_OK) {
        fprintf(stderr, "vigil bench: run failed: %s\n", vg_session_errmsg(s));
        goto out;
    }
    qsort(times, (size_t)o.runs, sizeof(int64_t), cmp_i64);
    double sum = 0;
    for (int i = 0; i < o.runs; i++)
        sum += (double)times[i];
    double        median = (double)median_i64(times, o.runs) / 1e6;
    int           p90i   = (int)((o.runs * 9 + 9) / 10) - 1;
    double        p90    = (double)times[p90i < 0 ? 0 : p90i] / 1e6;
    double        mean = sum / o.runs / 1e6, minv = (double)times[0] / 1e6;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double         rss_mb = (double)ru.ru_maxrss / 1024.0;
    vg_model_stats ms;
    vg_model_get_stats(m, &ms);
    double weights_mb = (double)ms.param_count * 4.0 / (1024.0 * 1024.0);
    double arena_mb   = (double)vg_session_arena_bytes(s) / (1024.0 * 1024.0);
    double model_rss  = rss_before >= 0 ? rss_mb - rss_before : rss_mb;
    double budget_mb  = 1.5 * (weights_mb + arena_mb) + 32.0;
    if (node_prof_finish(&np, o.runs) != 0) {
        fprintf(stderr, "vigil bench: out of memory for the node profile\n");
        goto out;
    }
    qsort(acc, (size_t)n_acc, sizeof(prof_acc), cmp_prof);
    int64_t prof_total = 0;
    for (int i = 0; i < n_acc; i++)
        prof_total += acc[i].ns;
    const char *backend = vg_session_backend(s);
    int         threads = o.threads;
    if (threads == 0) { /* the session's default: one per core of the device */
        vg_cpuset   cs;
        const char *colon = o.device ? strchr(o.device, ':') : NULL;
        if (colon ? vg_cpuset_parse(colon + 1, &cs) == VG_OK : vg_cpuset_available(&cs) == VG_OK)
            threads = vg_cpuset_count(&cs);
    }

    if (o.json) {
        json_t *j = json_object();
        json_object_set_new(j, "model", json_string(o.model));
        json_object_set_new(j, "backend", json_string(backend));
        json_object_set_new(j, "device", json_string(o.device ? o.device : "cpu"));
        json_object_set_new(j, "threads", json_integer(threads));
        json_object_set_new(j, "precision", json_string(o.precision ? o.precision : "fp32"));
        json_object_set_new(j, "runs", json_integer(o.runs));
        json_object_set_new(j, "warmup", json_integer(o.warmup));
        json_object_set_new(j, "median_ms", json_real(median));
        json_object_set_new(j, "p90_ms", json_real(p90));
        json_object_set_new(j, "min_ms", json_real(minv));
        json_object_set_new(j, "mean_ms", json_real(mean));
        json_object_set_new(j, "load_ms", json_real((double)load_ns / 1e6));
        json_object_set_new(j, "prepare_ms", json_real((double)prep_ns / 1e6));
        json_object_set_new(j, "peak_rss_mb", json_real(rss_mb));
        json_object_set_new(j, "rss_before_load_mb", json_real(rss_before));
        json_object_set_new(j, "model_rss_mb", json_real(model_rss));
        json_object_set_new(j, "weights_f32_mb", json_real(weights_mb));
        json_object_set_new(j, "arena_mb", json_real(arena_mb));
        json_object_set_new(j, "rss_budget_mb", json_real(budget_mb));
        json_object_set_new(j, "rss_target_met", json_boolean(model_rss <= budget_mb));
        /* libgomp's waiting policy (read at start-up): PASSIVE matters on a busy machine */
        const char *wp = getenv("OMP_WAIT_POLICY");
        json_object_set_new(j, "omp_wait_policy", json_string(wp ? wp : "default"));
        if (o.profile) {
            json_t *arr = json_array();
            for (int i = 0; i < n_acc; i++) {
                json_t *e = json_object();
                json_object_set_new(e, "op", json_string(acc[i].op));
                json_object_set_new(e, "backend", json_string(acc[i].backend));
                json_object_set_new(e, "count", json_integer(acc[i].count));
                json_object_set_new(e, "ms_per_run", json_real((double)acc[i].ns / o.runs / 1e6));
                json_object_set_new(
                    e, "percent",
                    json_real(prof_total ? 100.0 * (double)acc[i].ns / (double)prof_total : 0.0));
                json_array_append_new(arr, e);
            }
            json_object_set_new(j, "profile", arr);
            json_t *nodes = json_array();
            for (int k = 0; k < np.n; k++) {
                json_t *e = json_object();
                json_object_set_new(e, "name", json_string(np.nodes[k].name));
                json_object_set_new(e, "op", json_string(np.nodes[k].op));
                json_object_set_new(e, "backend", json_string(np.nodes[k].backend));
                json_object_set_new(e, "ms", json_real((double)np.med[k] / 1e6));
                json_object_set_new(e, "macs", json_integer(np.nodes[k].macs));
                json_object_set_new(e, "gflops", json_real(node_gflops(&np, k)));
                json_array_append_new(nodes, e);
            }
            json_object_set_new(j, "profile_nodes", nodes);
        }
        char *txt = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
        if (txt)
            printf("%s\n", txt);
        free(txt);
        json_decref(j);
    } else {
        printf("model        %s\n", o.model);
        printf("backend      %s on %s, threads %d\n", backend, o.device ? o.device : "cpu",
               threads);
        printf("load         %.1f ms, prepare %.1f ms\n", (double)load_ns / 1e6,
               (double)prep_ns / 1e6);
        printf("latency      median %.3f ms, p90 %.3f ms, min %.3f ms, mean %.3f ms (%d runs, "
               "%d warm-up)\n",
               median, p90, minv, mean, o.runs, o.warmup);
        printf("peak RSS     %.1f MB (%.1f MB before loading: model instance %.1f MB; budget "
               "1.5 x (weights %.1f + arena %.1f) + 32 = %.1f MB: %s)\n",
               rss_mb, rss_before, model_rss, weights_mb, arena_mb, budget_mb,
               model_rss <= budget_mb ? "within" : "over");
        if (o.profile) {
            printf("\n%-20s %-8s %6s %12s %7s\n", "op", "backend", "nodes", "ms/run", "%");
            for (int i = 0; i < n_acc; i++)
                printf("%-20s %-8s %6d %12.3f %6.1f%%\n", acc[i].op, acc[i].backend, acc[i].count,
                       (double)acc[i].ns / o.runs / 1e6,
                       prof_total ? 100.0 * (double)acc[i].ns / (double)prof_total : 0.0);
            int64_t node_total = 0;
            for (int k = 0; k < np.n; k++)
                node_total += np.med[k];
            printf("\nslowest nodes (median ms of the %d runs; GFLOP/s for convolutions and "
                   "matrix products)\n%-48s %-14s %-8s %9s %6s %8s\n",
                   o.runs, "node", "op", "backend", "ms", "%", "GFLOP/s");
            for (int r = 0; r < np.n && r < TOP_NODES; r++) {
                int         k    = np.order[r];
                const char *name = np.nodes[k].name ? np.nodes[k].name : "?";
                size_t      len  = strlen(name);
                double      gf   = node_gflops(&np, k);
                char        gfs[32], shown[64];
                snprintf(gfs, sizeof(gfs), gf > 0 ? "%.1f" : "-", gf);
                /* long names keep their end, which tells nodes apart */
                snprintf(shown, sizeof(shown), "%s%s", len > 48 ? "..." : "",
                         len > 48 ? name + len - 45 : name);
                printf("%-48s %-14s %-8s %9.3f %5.1f%% %8s\n", shown, np.nodes[k].op,
                       np.nodes[k].backend, (double)np.med[k] / 1e6,
                       node_total ? 100.0 * (double)np.med[k] / (double)node_total : 0.0, gfs);
            }
        }
    }
    rc = 0;
out:
    node_prof_free(&np);
    vg_session_destroy(s);
    vg_model_destroy(m);
    for (int i = 0; i < n_in; i++)
        free(in[i].data);
    for (int i = 0; i < o.n_files; i++)
        free((void *)o.file_name[i]);
    for (int i = 0; i < o.n_shapes; i++)
        free((void *)o.shape_name[i]);
    free(times);
    free(acc);
    return rc;
}
