/*
 * stats.c - windowed and whole-run metrics from frame timestamps.
 *
 * DESIGN
 * Each finished frame becomes one record in a fixed ring of `history`
 * records, stored column-wise: one float column per metric (end-to-end
 * latency, then service and wait of each slot) plus persons, poses and the
 * finish time. The window is the newest `window` records of the same ring.
 * Running sums and maxima give the run's exact means and maxima however long
 * it runs. Percentiles sort a copy of a column's covered part in a scratch
 * buffer allocated at creation (nearest rank: p-th = sorted[ceil(p*n)-1]).
 * Writers (the pipeline's writer thread) and readers (the status thread)
 * share one mutex; adding a frame is O(slots) and allocation-free.
 */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_impl.h"
#include "vigil/alloc.h"
#include "vigil/clock.h"
#include "vigil/stats.h"
#include "vigil/thread.h"

struct vg_stats {
    vg_mutex lock;
    int      n_slots;
    int      n_metrics; /* 1 + 2 * n_slots */
    char     names[VG_STATS_MAX_SLOTS][VG_STATS_NAME_LEN];
    size_t   window, history;

    float   *cols;    /* n_metrics columns of `history` values (ms) */
    int32_t *persons; /* per record */
    int32_t *poses;
    int64_t *done_ns;
    float   *scratch; /* history floats for percentiles */
    size_t   head;    /* next write position */
    size_t   count;   /* records held (<= history) */

    /* whole run */
    uint64_t frames;
    double   sum[1 + 2 * VG_STATS_MAX_SLOTS];
    double   max[1 + 2 * VG_STATS_MAX_SLOTS];
    uint64_t nval[1 + 2 * VG_STATS_MAX_SLOTS];
    uint64_t persons_sum, poses_sum;
    int32_t  persons_max;
    int64_t  first_ns; /* capture time of the first frame */
    int64_t  last_done_ns;
};

vg_stats_params vg_stats_params_default(void) {
    return (vg_stats_params){.n_slots = 2, .window = 120, .history = 8192};
}

vg_status vg_stats_create(const vg_stats_params *p, vg_stats **out) {
    *out = NULL;
    if (!p || p->n_slots < 1 || p->n_slots > VG_STATS_MAX_SLOTS || p->window == 0 ||
        p->history < p->window || p->history > (SIZE_MAX / sizeof(float)) / 64)
        return VG_E_INVALID_ARG;
    vg_stats *s = vg_calloc(1, sizeof(*s));
    if (!s)
        return VG_E_NOMEM;
    s->n_slots   = p->n_slots;
    s->n_metrics = 1 + 2 * p->n_slots;
    s->window    = p->window;
    s->history   = p->history;
    for (int i = 0; i < p->n_slots; i++) {
        if (p->slot_names && p->slot_names[i])
            snprintf(s->names[i], VG_STATS_NAME_LEN, "%s", p->slot_names[i]);
        else
            snprintf(s->names[i], VG_STATS_NAME_LEN, "s%d", i);
    }
    s->cols    = vg_calloc((size_t)s->n_metrics * p->history, sizeof(float));
    s->persons = vg_calloc(p->history, sizeof(int32_t));
    s->poses   = vg_calloc(p->history, sizeof(int32_t));
    s->done_ns = vg_calloc(p->history, sizeof(int64_t));
    s->scratch = vg_calloc(p->history, sizeof(float));
    if (!s->cols || !s->persons || !s->poses || !s->done_ns || !s->scratch ||
        vg_mutex_init(&s->lock) != VG_OK) {
        vg_free(s->cols);
        vg_free(s->persons);
        vg_free(s->poses);
        vg_free(s->done_ns);
        vg_free(s->scratch);
        vg_free(s);
        return VG_E_NOMEM;
    }
    *out = s;
    return VG_OK;
}

void vg_stats_destroy(vg_stats *s) {
    if (!s)
        return;
    vg_mutex_fini(&s->lock);
    vg_free(s->cols);
    vg_free(s->persons);
    vg_free(s->poses);
    vg_free(s->done_ns);
    vg_free(s->scratch);
    vg_free(s);
}

void vg_stats_reset(vg_stats *s) {
    vg_mutex_lock(&s->lock);
    s->head = s->count = 0;
    s->frames          = 0;
    memset(s->sum, 0, sizeof(s->sum));
    memset(s->max, 0, sizeof(s->max));
    memset(s->nval, 0, sizeof(s->nval));
    s->persons_sum = s->poses_sum = 0;
    s->persons_max                = 0;
    s->first_ns = s->last_done_ns = 0;
    vg_mutex_unlock(&s->lock);
}

static double ns_to_ms(int64_t ns) {
    return (double)ns / 1e6;
}

void vg_stats_add_frame(vg_stats *s, const vg_frame *f) {
    int     last = s->n_slots - 1;
    int64_t done = f->stage_out_ns[last] ? f->stage_out_ns[last] : vg_clock_ns();
    int64_t cap  = f->capture_ns ? f->capture_ns : f->stage_in_ns[0];
    /* metric values (ms); NAN where the stamps are missing */
    float v[1 + 2 * VG_STATS_MAX_SLOTS];
    v[0] = cap ? (float)ns_to_ms(done - cap) : NAN;
    for (int i = 0; i < s->n_slots; i++) {
        int64_t in = f->stage_in_ns[i], o = f->stage_out_ns[i];
        v[1 + i]         = in && o ? (float)ns_to_ms(o - in) : NAN;
        int64_t prev_out = i == 0 ? 0 : f->stage_out_ns[i - 1];
        v[1 + s->n_slots + i] =
            i == 0 ? 0.0f : (in && prev_out ? (float)ns_to_ms(in - prev_out) : NAN);
    }
    vg_mutex_lock(&s->lock);
    size_t h = s->head;
    for (int m = 0; m < s->n_metrics; m++) {
        s->cols[(size_t)m * s->history + h] = v[m];
        if (!isnan(v[m])) {
            s->sum[m] += v[m];
            s->nval[m]++;
            if (v[m] > s->max[m])
                s->max[m] = v[m];
        }
    }
    s->persons[h] = f->n_persons;
    s->poses[h]   = f->n_poses;
    s->done_ns[h] = done;
    s->head       = (h + 1) % s->history;
    if (s->count < s->history)
        s->count++;
    if (s->frames == 0)
        s->first_ns = cap ? cap : done;
    s->frames++;
    s->persons_sum += (uint64_t)(f->n_persons > 0 ? f->n_persons : 0);
    s->poses_sum += (uint64_t)(f->n_poses > 0 ? f->n_poses : 0);
    if (f->n_persons > s->persons_max)
        s->persons_max = f->n_persons;
    if (done > s->last_done_ns)
        s->last_done_ns = done;
    vg_mutex_unlock(&s->lock);
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Index of record k (0 = oldest of the last n) in the ring. */
static size_t rec(const vg_stats *s, size_t n, size_t k) {
    return (s->head + s->history - n + k) % s->history;
}

/* Distribution of metric m over the newest n records. */
static vg_dist dist_of(vg_stats *s, int m, size_t n) {
    vg_dist      d   = {0};
    const float *col = s->cols + (size_t)m * s->history;
    size_t       k   = 0;
    double       sum = 0;
    for (size_t i = 0; i < n; i++) {
        float x = col[rec(s, n, i)];
        if (isnan(x))
            continue;
        s->scratch[k++] = x;
        sum += x;
        if (x > d.max)
            d.max = x;
    }
    if (k == 0)
        return d;
    qsort(s->scratch, k, sizeof(float), cmp_float);
    d.n    = k;
    d.mean = sum / (double)k;
    d.p50  = s->scratch[(size_t)ceil(0.50 * (double)k) - 1];
    d.p95  = s->scratch[(size_t)ceil(0.95 * (double)k) - 1];
    return d;
}

static void window_view(vg_stats *s, vg_stats_view *v) {
    size_t n = VGI_MIN(s->count, s->window);
    memset(v, 0, sizeof(*v));
    v->frames = n;
    if (n == 0)
        return;
    v->latency = dist_of(s, 0, n);
    for (int i = 0; i < s->n_slots; i++) {
        v->service[i] = dist_of(s, 1 + i, n);
        v->wait[i]    = dist_of(s, 1 + s->n_slots + i, n);
    }
    uint64_t persons = 0, poses_after_first = 0;
    for (size_t k = 0; k < n; k++) {
        size_t r = rec(s, n, k);
        persons += (uint64_t)(s->persons[r] > 0 ? s->persons[r] : 0);
        if (s->persons[r] > v->persons_max)
            v->persons_max = s->persons[r];
        v->poses += (uint64_t)(s->poses[r] > 0 ? s->poses[r] : 0);
        if (k > 0)
            poses_after_first += (uint64_t)(s->poses[r] > 0 ? s->poses[r] : 0);
    }
    v->persons_mean = (double)persons / (double)n;
    int64_t span    = s->done_ns[rec(s, n, n - 1)] - s->done_ns[rec(s, n, 0)];
    v->span_s       = (double)span / 1e9;
    if (n >= 2 && span > 0) {
        /* n frames finish in n-1 intervals */
        v->fps         = (double)(n - 1) / v->span_s;
        v->poses_per_s = (double)poses_after_first / v->span_s;
    }
}

static vg_dist total_dist(vg_stats *s, int m) {
    vg_dist d = dist_of(s, m, s->count); /* percentiles over the history */
    if (s->nval[m] > 0) {
        d.n    = s->nval[m];
        d.mean = s->sum[m] / (double)s->nval[m];
        d.max  = s->max[m];
    }
    return d;
}

static void total_view(vg_stats *s, vg_stats_view *v) {
    memset(v, 0, sizeof(*v));
    v->frames = s->frames;
    if (s->frames == 0)
        return;
    v->latency = total_dist(s, 0);
    for (int i = 0; i < s->n_slots; i++) {
        v->service[i] = total_dist(s, 1 + i);
        v->wait[i]    = total_dist(s, 1 + s->n_slots + i);
    }
    v->persons_mean = (double)s->persons_sum / (double)s->frames;
    v->persons_max  = s->persons_max;
    v->poses        = s->poses_sum;
    v->span_s       = (double)(s->last_done_ns - s->first_ns) / 1e9;
    if (v->span_s > 0) {
        v->fps         = (double)s->frames / v->span_s;
        v->poses_per_s = (double)s->poses_sum / v->span_s;
    }
}

void vg_stats_summarize(vg_stats *s, vg_stats_summary *out) {
    memset(out, 0, sizeof(*out));
    out->frames_expected = -1;
    vg_mutex_lock(&s->lock);
    out->n_slots = s->n_slots;
    memcpy(out->slot_names, s->names, sizeof(s->names));
    window_view(s, &out->window);
    total_view(s, &out->total);
    out->pct_frames = s->count;
    if (s->frames > 0)
        out->elapsed_s = (double)(vg_clock_ns() - s->first_ns) / 1e9;
    vg_mutex_unlock(&s->lock);
}

/* ---- text ----------------------------------------------------------------- */

/* Appends formatted text at *pos, never past size. */
static void put(char *buf, size_t size, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t size, size_t *pos, const char *fmt, ...) {
    if (*pos >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *pos, size - *pos, fmt, ap);
    va_end(ap);
    if (n > 0)
        *pos = VGI_MIN(size - 1, *pos + (size_t)n);
}

static void format_line_at(const vg_stats_summary *s, char *buf, size_t size, size_t *pos) {
    const vg_stats_view *w = &s->window;
    put(buf, size, pos,
        "%llu fr  %5.1f fps  e2e %6.1f ms (p95 %6.1f)  persons %4.1f  poses %5.1f/s",
        (unsigned long long)s->total.frames, w->fps, w->latency.mean, w->latency.p95,
        w->persons_mean, w->poses_per_s);
    if (s->frames_in > 0 || s->dropped > 0)
        put(buf, size, pos, "  drops %llu", (unsigned long long)(s->dropped + s->skipped));
    if (s->n_queues > 0) {
        put(buf, size, pos, "  q");
        for (int i = 0; i < s->n_queues; i++)
            put(buf, size, pos, " %zu/%zu", s->queues[i].level, s->queues[i].capacity);
    }
    put(buf, size, pos, "  |");
    for (int i = 0; i < s->n_slots; i++)
        put(buf, size, pos, " %s %.1f", s->slot_names[i], w->service[i].mean);
    put(buf, size, pos, " ms");
}

char *vg_stats_format_line(const vg_stats_summary *s, char *buf, size_t size) {
    size_t pos = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    format_line_at(s, buf, size, &pos);
    return buf;
}

char *vg_stats_format_progress(const vg_stats_summary *s, char *buf, size_t size) {
    size_t pos = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (s->frames_expected > 0) {
        enum { WIDTH = 24 };
        uint64_t done = s->total.frames + s->dropped + s->skipped;
        double   frac = VGI_MIN(1.0, (double)done / (double)s->frames_expected);
        int      fill = (int)(frac * WIDTH + 0.5);
        char     bar[WIDTH + 1];
        for (int i = 0; i < WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[WIDTH] = '\0';
        put(buf, size, &pos, "[%s] %3d%%  %llu/%lld  ", bar, (int)(frac * 100.0),
            (unsigned long long)done, (long long)s->frames_expected);
        double rate = s->window.fps > 0 ? s->window.fps : s->total.fps;
        if (rate > 0 && (int64_t)done < s->frames_expected) {
            long eta = (long)ceil((double)(s->frames_expected - (int64_t)done) / rate);
            put(buf, size, &pos, "ETA %ld:%02ld  ", eta / 60, eta % 60);
        } else {
            put(buf, size, &pos, "ETA -:--  ");
        }
    }
    format_line_at(s, buf, size, &pos);
    return buf;
}

/* ---- JSON ------------------------------------------------------------------ */

static json_t *dist_json(const vg_dist *d) {
    return json_pack("{s:I, s:f, s:f, s:f, s:f}", "n", (json_int_t)d->n, "mean", d->mean, "p50",
                     d->p50, "p95", d->p95, "max", d->max);
}

static json_t *view_json(const vg_stats_summary *s, const vg_stats_view *v) {
    json_t *o =
        json_pack("{s:I, s:f, s:f, s:o, s:f, s:i, s:I, s:f}", "frames", (json_int_t)v->frames,
                  "span_s", v->span_s, "fps", v->fps, "latency_ms", dist_json(&v->latency),
                  "persons_per_frame", v->persons_mean, "persons_max", (int)v->persons_max, "poses",
                  (json_int_t)v->poses, "poses_per_s", v->poses_per_s);
    json_t *stages = json_array();
    for (int i = 0; o && stages && i < s->n_slots; i++)
        json_array_append_new(stages, json_pack("{s:s, s:o, s:o}", "name", s->slot_names[i],
                                                "service_ms", dist_json(&v->service[i]),
                                                "queue_wait_ms", dist_json(&v->wait[i])));
    if (!o || !stages || json_object_set_new(o, "stages", stages) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

vg_status vg_stats_summary_json(const vg_stats_summary *s, char **out) {
    *out           = NULL;
    json_t *queues = json_array();
    for (int i = 0; queues && i < s->n_queues; i++)
        json_array_append_new(queues,
                              json_pack("{s:s, s:I, s:I, s:I, s:I}", "name", s->queues[i].name,
                                        "capacity", (json_int_t)s->queues[i].capacity, "level",
                                        (json_int_t)s->queues[i].level, "max_level",
                                        (json_int_t)s->queues[i].max_level, "dropped",
                                        (json_int_t)s->queues[i].dropped));
    json_t *root = json_pack("{s:I, s:I, s:I, s:I, s:f, s:f, s:I, s:o, s:o, s:o?}", "frames_in",
                             (json_int_t)s->frames_in, "frames_out", (json_int_t)s->total.frames,
                             "dropped", (json_int_t)s->dropped, "skipped", (json_int_t)s->skipped,
                             "elapsed_s", s->elapsed_s, "fps", s->total.fps, "percentile_frames",
                             (json_int_t)s->pct_frames, "total", view_json(s, &s->total), "window",
                             view_json(s, &s->window), "queues", queues);
    if (!root)
        return VG_E_NOMEM;
    /* Headline numbers at the top level, for scripts. */
    json_object_set_new(root, "latency_ms", dist_json(&s->total.latency));
    json_object_set_new(root, "poses_per_s", json_real(s->total.poses_per_s));
    json_object_set_new(root, "persons_per_frame", json_real(s->total.persons_mean));
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(6) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        return VG_E_NOMEM;
    *out = vg_strdup(text);
    free(text);
    return *out ? VG_OK : VG_E_NOMEM;
}

vg_status vg_stats_write_json(const vg_stats_summary *s, const char *path) {
    char     *text = NULL;
    vg_status st   = vg_stats_summary_json(s, &text);
    if (st != VG_OK)
        return st;
    FILE *fp = fopen(path, "w");
    if (!fp) {
        vg_free(text);
        return VG_E_IO;
    }
    bool ok = fputs(text, fp) >= 0 && fputc('\n', fp) != EOF;
    ok      = fclose(fp) == 0 && ok;
    vg_free(text);
    return ok ? VG_OK : VG_E_IO;
}
