/*
 * bench_pipeline_test.c - `vigil bench pipeline`: bad options are refused
 * with a message naming them (exit 2) before anything loads; a short sweep
 * of the default models (centernet + movenet-thunder, ground-truth boxes,
 * person counts 0 and 2, 2 measured frames each) writes a CSV with the
 * documented columns and one row per variant and person count, whose
 * figures are consistent (poses per frame = persons with --boxes gt, FPS and
 * latency positive, poses/s = 0 without persons), and a three-panel SVG.
 * argv[1] is the vigil executable. Needs ../shared/data and the default
 * models; skipped without them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/media_util.h"
#include "run_util.h"
#include "test.h"

static char *g_tmp;

#define EXPECT(args, code, want)                                                                   \
    do {                                                                                           \
        int rc_ = ru_vigil_run(g_tmp, args);                                                       \
        VG_CHECK_MSG(rc_ == (code), "vigil %s: exit %d, expected %d; stderr: %s", args, rc_, code, \
                     ru_err);                                                                      \
        VG_CHECK_MSG(strstr(ru_err, want) != NULL, "vigil %s: stderr lacks '%s': %s", args, want,  \
                     ru_err);                                                                      \
    } while (0)

static void test_usage(void) {
    EXPECT("bench pipeline --frobnicate", 2, "unknown option '--frobnicate'");
    EXPECT("bench pipeline --persons 1,x", 2, "bad value '1,x' for --persons");
    EXPECT("bench pipeline --persons 1,1", 2, "bad value '1,1' for --persons");
    EXPECT("bench pipeline --frames 1", 2, "--frames >= 2");
    EXPECT("bench pipeline --boxes some", 2, "--boxes 'some'");
    EXPECT("bench pipeline --variants pipelined,fast", 2, "unknown or repeated variant 'fast'");
    EXPECT("bench pipeline --video a.mp4 --gt b.json", 2, "not both");
    EXPECT("bench pipeline --video a.mp4 --boxes gt", 2, "no ground truth");
    EXPECT("bench pipeline --detector /nonexistent/det", 1, "/nonexistent/det");
    VG_CHECK_INT_EQ(ru_vigil_run(g_tmp, "bench pipeline --help"), 0);
}

/* Splits a CSV line in place; returns the number of fields. */
static int split(char *line, char **fields, int cap) {
    int n                       = 0;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *p = line; n < cap;) {
        fields[n++] = p;
        char *c     = strchr(p, ',');
        if (!c)
            break;
        *c = '\0';
        p  = c + 1;
    }
    return n;
}

static int column(char **head, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(head[i], name))
            return i;
    vg_test_fail(__FILE__, __LINE__, "CSV has no column '%s'", name);
    return 0;
}

static void test_sweep(void) {
    const char *models = ru_require_models();
    const char *shared = vg_test_require_shared("data/annotations/person_keypoints_shared.json");
    (void)shared;
    const char *root = vg_test_shared_dir();
    char        args[8192], csv[600], svg[600];
    snprintf(csv, sizeof(csv), "%s/sweep.csv", g_tmp);
    snprintf(svg, sizeof(svg), "%s/sweep.svg", g_tmp);
    snprintf(args, sizeof(args),
             "bench pipeline --images '%s/data/images' --gt "
             "'%s/data/annotations/person_keypoints_shared.json' --detector '%s/centernet' "
             "--pose '%s/movenet-thunder' --persons 0,2 --frames 2 --warmup 1 "
             "--variants pipelined,sequential --csv '%s' --svg '%s'%s",
             root, root, models, models, csv, svg, ru_backend_arg());
    int rc = ru_vigil_run(g_tmp, args);
    VG_CHECK_MSG(rc == 0, "vigil %s: exit %d; stderr: %s", args, rc, ru_err);
    VG_CHECK_MSG(strstr(ru_err, "2 persons: ") != NULL, "no progress for 2 persons: %s", ru_err);

    FILE *f = fopen(csv, "r");
    VG_CHECK_MSG(f != NULL, "no CSV written at %s", csv);
    char line[4096], *head[64], *cells[64];
    VG_CHECK(fgets(line, sizeof(line), f) != NULL);
    char header[4096];
    snprintf(header, sizeof(header), "%s", line);
    int                      nh     = split(header, head, 64);
    static const char *const want[] = {
        "variant",         "persons",        "frames",         "poses_per_frame", "fps",
        "latency_mean_ms", "latency_p95_ms", "poses_per_s",    "pre_ms",          "detect_ms",
        "pose_ms",         "bound_fps",      "fps_over_bound", "bound_met"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        (void)column(head, nh, want[i]);
    int c_var = column(head, nh, "variant"), c_k = column(head, nh, "persons"),
        c_fr = column(head, nh, "frames"), c_ppf = column(head, nh, "poses_per_frame"),
        c_fps = column(head, nh, "fps"), c_lat = column(head, nh, "latency_mean_ms"),
        c_p95 = column(head, nh, "latency_p95_ms"), c_pps = column(head, nh, "poses_per_s"),
        c_det = column(head, nh, "detect_ms"), c_bound = column(head, nh, "bound_fps");
    int rows = 0, seen[2][2] = {{0, 0}, {0, 0}};
    while (fgets(line, sizeof(line), f)) {
        int n = split(line, cells, 64);
        VG_CHECK_INT_EQ(n, nh);
        if (n != nh)
            break;
        rows++;
        int v = !strcmp(cells[c_var], "pipelined")    ? 0
                : !strcmp(cells[c_var], "sequential") ? 1
                                                      : -1;
        int k = atoi(cells[c_k]);
        VG_CHECK_MSG(v >= 0 && (k == 0 || k == 2), "unexpected row %s,%s", cells[c_var],
                     cells[c_k]);
        if (v < 0 || (k != 0 && k != 2))
            continue;
        seen[v][k / 2]++;
        VG_CHECK_INT_EQ(atoi(cells[c_fr]), 2);
        /* Ground-truth boxes: exactly k poses per frame. */
        VG_CHECK_NEAR(atof(cells[c_ppf]), k, 1e-6);
        VG_CHECK_MSG(atof(cells[c_fps]) > 0 && atof(cells[c_lat]) > 0 &&
                         atof(cells[c_p95]) >= atof(cells[c_lat]) * 0.999 &&
                         atof(cells[c_det]) > 0 && atof(cells[c_bound]) > 0,
                     "implausible figures in row %s,%d", cells[c_var], k);
        if (k == 0)
            VG_CHECK_NEAR(atof(cells[c_pps]), 0.0, 1e-9);
        else
            VG_CHECK_MSG(atof(cells[c_pps]) > 0, "no poses/s at k = 2");
    }
    fclose(f);
    VG_CHECK_INT_EQ(rows, 4);
    for (int v = 0; v < 2; v++)
        for (int k = 0; k < 2; k++)
            VG_CHECK_INT_EQ(seen[v][k], 1);

    size_t size = 0;
    char  *text = vg_test_read_file(svg, &size);
    VG_CHECK_MSG(text != NULL && size > 1000, "no SVG written at %s", svg);
    if (!text)
        return;
    VG_CHECK(strstr(text, "<svg") != NULL);
    static const char *const panels[] = {"Frames per second", "End-to-end latency",
                                         "Poses per second",  "persons per frame",
                                         "pipelined",         "sequential"};
    for (size_t i = 0; i < sizeof(panels) / sizeof(panels[0]); i++)
        VG_CHECK_MSG(strstr(text, panels[i]) != NULL, "SVG lacks '%s'", panels[i]);
    free(text);
}

static const vg_test_case cases[] = {
    {"usage", test_usage},
    {"sweep", test_sweep},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return ru_main(argc, argv, cases, &g_tmp);
}
