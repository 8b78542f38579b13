/*
 * gpu_run_test.c - `vigil run` on a real clip with the detector and the pose
 * model on different devices: detector cpu:0-1 + pose cuda:0, the reverse,
 * both on cuda:0 (one stream per session), and pose cuda:0 in fp16. Each
 * run's JSON Lines must match a CPU-only run of the same frames.
 * argv[1] is the vigil executable. Needs a GPU (exit 77 otherwise), the
 * default models and ../shared (skips without them).
 *
 * Matching: frames in order, the same number of persons per frame (persons
 * are paired by nearest box centre, since near-equal detector scores may
 * order them differently). Tolerances, fp32: boxes 0.5 px and scores 1e-3
 * (detector outputs agree to ~1e-4 between backends, see gpu_hetero_test.c,
 * and boxes are scaled up to 1280x720); keypoints: 98% within 1.5 px and
 * 0.01 in score, all within 16 px (a keypoint whose heatmap has two
 * near-equal peaks may move by one heatmap cell, 720 px / 64 cells = 11 px
 * on a full-height person). fp16 pose: 90% within 4 px and 0.05, all within
 * 32 px.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/media_util.h"
#include "gpu_util.h"
#include "run_util.h"
#include "test.h"

#define CLIP    "data/video/openpose_street_dance_720p.mp4"
#define NFRAMES 4

static char    *g_tmp;
static ru_frame g_cpu[NFRAMES + 4], g_gpu[NFRAMES + 4];
static int      g_n_cpu = -1;

static int run_devices(const char *det, const char *pose, const char *prec, const char *tag,
                       ru_frame *out) {
    const char *clip   = vg_test_require_shared(CLIP);
    const char *models = ru_require_models();
    char        args[4096], path[600], why[512];
    snprintf(args, sizeof(args),
             "run --input '%s' --detector '%s/centernet' --pose '%s/movenet-thunder' --frames %d "
             "--max-persons 4 --det-device %s --pose-device %s%s%s --json '%s/%s.jsonl' --quiet",
             clip, models, models, NFRAMES, det, pose, prec ? " --precision " : "",
             prec ? prec : "", g_tmp, tag);
    int rc = ru_vigil_run(g_tmp, args);
    VG_CHECK_MSG(rc == 0, "vigil %s: exit %d: %s", args, rc, ru_err);
    snprintf(path, sizeof(path), "%s/%s.jsonl", g_tmp, tag);
    int n = ru_read_jsonl(path, out, NFRAMES + 4, why, sizeof(why));
    VG_CHECK_MSG(n >= 0, "%s", why);
    VG_CHECK_INT_EQ(n, NFRAMES);
    return n;
}

static void cpu_reference(void) {
    if (g_n_cpu < 0)
        g_n_cpu = run_devices("cpu:0-1", "cpu:0-1", NULL, "cpu", g_cpu);
}

static const ru_person *nearest(const ru_frame *f, const ru_person *p) {
    const ru_person *best = NULL;
    double           bd   = INFINITY;
    for (int k = 0; k < f->n_persons; k++) {
        const ru_person *q  = &f->persons[k];
        double           dx = (q->box[0] + q->box[2] - p->box[0] - p->box[2]) / 2;
        double           dy = (q->box[1] + q->box[3] - p->box[1] - p->box[3]) / 2;
        if (dx * dx + dy * dy < bd)
            bd = dx * dx + dy * dy, best = q;
    }
    return best;
}

static void compare(const char *det, const char *pose, const char *prec) {
    cpu_reference();
    char tag[64];
    snprintf(tag, sizeof(tag), "%s_%s_%s", det, pose, prec ? prec : "fp32");
    for (char *c = tag; *c; c++)
        if (*c == ':')
            *c = '-';
    int    n     = run_devices(det, pose, prec, tag, g_gpu);
    bool   fp16  = prec && !strcmp(prec, "fp16");
    double kp_px = fp16 ? 4.0 : 1.5, kp_sc = fp16 ? 0.05 : 0.01, kp_max = fp16 ? 32.0 : 16.0;
    double frac = fp16 ? 0.90 : 0.98;
    int    n_kp = 0, n_close = 0;
    double worst_box = 0, worst_kp = 0;
    for (int i = 0; i < n; i++) {
        const ru_frame *a = &g_cpu[i], *b = &g_gpu[i];
        VG_CHECK_INT_EQ(b->index, a->index);
        VG_CHECK_MSG(a->n_persons == b->n_persons, "frame %d: %d persons on cpu, %d on %s/%s", i,
                     a->n_persons, b->n_persons, det, pose);
        for (int k = 0; k < a->n_persons; k++) {
            const ru_person *p = &a->persons[k], *q = nearest(b, p);
            VG_CHECK(q != NULL);
            for (int c = 0; c < 4; c++) {
                double d  = fabs(p->box[c] - q->box[c]);
                worst_box = d > worst_box ? d : worst_box;
                VG_CHECK_MSG(d <= 0.5, "frame %d person %d box[%d]: %g vs %g (tol 0.5 px)", i, k, c,
                             p->box[c], q->box[c]);
            }
            VG_CHECK_NEAR(p->score, q->score, 1e-3);
            for (int j = 0; j < 17 && j < p->n_kp; j++) {
                double d = hypot(p->kp[j][0] - q->kp[j][0], p->kp[j][1] - q->kp[j][1]);
                worst_kp = d > worst_kp ? d : worst_kp;
                VG_CHECK_MSG(d <= kp_max, "frame %d person %d keypoint %d moved %.1f px (max %g)",
                             i, k, j, d, kp_max);
                n_kp++;
                n_close += d <= kp_px && fabs(p->kp[j][2] - q->kp[j][2]) <= kp_sc;
            }
        }
    }
    printf("  %s + %s%s%s: %d frames, worst box |d| %.3f px, worst keypoint %.2f px, "
           "%d/%d keypoints within %.1f px / %.2f\n",
           det, pose, prec ? " " : "", prec ? prec : "", n, worst_box, worst_kp, n_close, n_kp,
           kp_px, kp_sc);
    VG_CHECK_MSG(n_kp > 0, "no persons in the clip's first frames");
    VG_CHECK_MSG(n_close >= frac * n_kp, "only %d of %d keypoints within tolerance (want %.0f%%)",
                 n_close, n_kp, frac * 100);
}

static void test_det_cpu_pose_gpu(void) {
    compare("cpu:0-1", "cuda:0", NULL);
}

static void test_det_gpu_pose_cpu(void) {
    compare("cuda:0", "cpu:0-1", NULL);
}

static void test_both_gpu(void) {
    compare("cuda:0", "cuda:0", NULL);
}

static void test_pose_fp16(void) {
    compare("cpu:0-1", "cuda:0", "fp16");
}

static const vg_test_case cases[] = {
    {"run: detector cpu:0-1, pose cuda:0", test_det_cpu_pose_gpu},
    {"run: detector cuda:0, pose cpu:0-1", test_det_gpu_pose_cpu},
    {"run: both on cuda:0", test_both_gpu},
    {"run: pose cuda:0 fp16", test_pose_fp16},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    if (!vg_test_gpu_present())
        return 77;
    return ru_main(argc, argv, cases, &g_tmp);
}
