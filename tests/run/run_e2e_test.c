/*
 * run_e2e_test.c - `vigil run` end to end on a real clip with the real
 * default models (CenterNet + MoveNet Thunder): frames in == frames out,
 * JSON Lines valid and in order with 17 keypoints per person, the annotated
 * MP4 playable at the source's size and rate, the stats summary consistent;
 * sequential and pipelined schedules give the same results; SIGINT in the
 * middle of a run still leaves a playable MP4 and a complete JSONL, with exit
 * status 0; the clip paced as a live camera drops frames, counts every drop
 * and keeps the latency bounded. argv[1] is the vigil executable.
 *
 * Runs are kept short (--frames, --max-persons) so each case stays within
 * about a minute on a small CPU. Needs ../shared (the clip), the default
 * models and ffmpeg/ffprobe; skips with the reason otherwise.
 * $VIGIL_TEST_BACKEND picks the backend (default: the engine's, cpu when
 * built).
 */
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../io/media_util.h"
#include "run_util.h"
#include "test.h"

#define CLIP    "data/video/openpose_street_dance_720p.mp4"
#define NFRAMES 3

static char *g_tmp;

static void check_frames(const ru_frame *fr, int n, int want) {
    VG_CHECK_INT_EQ(n, want);
    int with_persons = 0;
    for (int i = 0; i < n; i++) {
        VG_CHECK_MSG(fr[i].index == i, "line %d holds frame %lld (out of order or lost)", i + 1,
                     fr[i].index);
        with_persons += fr[i].n_persons > 0;
        for (int k = 0; k < fr[i].n_persons; k++) {
            const ru_person *p = &fr[i].persons[k];
            VG_CHECK_MSG(p->n_kp == 17, "frame %d person %d has %d keypoints, want 17", i, k,
                         p->n_kp);
            VG_CHECK_MSG(p->box[2] > p->box[0] && p->box[3] > p->box[1],
                         "frame %d person %d: empty box", i, k);
            VG_CHECK(p->score >= 0.0f && p->score <= 1.0f);
        }
    }
    /* The clip shows two dancers in the foreground in every frame. */
    VG_CHECK_MSG(with_persons == n, "only %d of %d frames have a person", with_persons, n);
}

static json_t *load_json(const char *path) {
    json_error_t je;
    json_t      *o = json_load_file(path, 0, &je);
    VG_CHECK_MSG(o != NULL, "%s: %s", path, je.text);
    return o;
}

static ru_frame g_a[64], g_b[64];

static void test_pipelined_vs_sequential(void) {
    const char *clip   = vg_test_require_shared(CLIP);
    const char *models = ru_require_models();
    mu_require_ffmpeg();
    char args[4096], why[512], path[600];
    for (int seq = 0; seq < 2; seq++) {
        snprintf(args, sizeof(args),
                 "run --input '%s' --detector '%s/centernet' --pose '%s/movenet-thunder' "
                 "--frames %d --max-persons 2 --json '%s/%s.jsonl' --output '%s/%s.mp4' "
                 "--stats '%s/%s.json' --quiet%s%s",
                 clip, models, models, NFRAMES, g_tmp, seq ? "seq" : "pipe", g_tmp,
                 seq ? "seq" : "pipe", g_tmp, seq ? "seq" : "pipe", ru_backend_arg(),
                 seq ? " --sequential" : "");
        int rc = ru_vigil_run(g_tmp, args);
        VG_CHECK_MSG(rc == 0, "vigil %s: exit %d: %s", args, rc, ru_err);
    }
    /* Frames in == frames out, valid and in order. */
    snprintf(path, sizeof(path), "%s/pipe.jsonl", g_tmp);
    int na = ru_read_jsonl(path, g_a, 64, why, sizeof(why));
    VG_CHECK_MSG(na >= 0, "%s", why);
    check_frames(g_a, na, NFRAMES);
    snprintf(path, sizeof(path), "%s/seq.jsonl", g_tmp);
    int nb = ru_read_jsonl(path, g_b, 64, why, sizeof(why));
    VG_CHECK_MSG(nb >= 0, "%s", why);
    check_frames(g_b, nb, NFRAMES);

    /* The MP4: playable, source size and rate, every frame. */
    mu_probe_info pi;
    snprintf(path, sizeof(path), "%s/pipe.mp4", g_tmp);
    VG_CHECK_MSG(mu_probe(path, &pi), "%s is not playable", path);
    VG_CHECK_STR_EQ(pi.codec, "h264");
    VG_CHECK_INT_EQ(pi.width, 1280);
    VG_CHECK_INT_EQ(pi.height, 720);
    VG_CHECK_INT_EQ(pi.frames, NFRAMES);
    VG_CHECK_NEAR((double)pi.rate_num / pi.rate_den, 50.0, 0.01);

    /* The stats summary agrees. */
    snprintf(path, sizeof(path), "%s/pipe.json", g_tmp);
    json_t *st = load_json(path);
    VG_CHECK_INT_EQ(json_integer_value(json_object_get(st, "frames_in")), NFRAMES);
    VG_CHECK_INT_EQ(json_integer_value(json_object_get(st, "frames_out")), NFRAMES);
    VG_CHECK_INT_EQ(json_integer_value(json_object_get(st, "dropped")), 0);
    VG_CHECK(json_real_value(json_object_get(json_object_get(st, "latency_ms"), "mean")) > 0);
    json_t *stages = json_object_get(json_object_get(st, "total"), "stages");
    VG_CHECK_INT_EQ(json_array_size(stages), 5);
    const char *names[] = {"read", "pre", "detect", "pose", "write"};
    for (size_t i = 0; i < 5; i++)
        VG_CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(stages, i), "name")),
                        names[i]);
    json_decref(st);

    /* Same results from both schedules: the same stage functions, sessions and
     * devices run on the same pictures, so the numbers agree to the printed
     * precision (6 significant digits); 1e-3 px / 1e-4 score allows for the
     * last printed digit. */
    for (int i = 0; i < NFRAMES; i++) {
        VG_CHECK_INT_EQ(g_a[i].n_persons, g_b[i].n_persons);
        VG_CHECK_INT_EQ(g_a[i].n_dets, g_b[i].n_dets);
        for (int k = 0; k < g_a[i].n_persons; k++) {
            const ru_person *p = &g_a[i].persons[k], *q = &g_b[i].persons[k];
            for (int c = 0; c < 4; c++)
                VG_CHECK_NEAR(p->box[c], q->box[c], 1e-3);
            VG_CHECK_NEAR(p->score, q->score, 1e-4);
            for (int j = 0; j < 17; j++) {
                VG_CHECK_NEAR(p->kp[j][0], q->kp[j][0], 1e-3);
                VG_CHECK_NEAR(p->kp[j][1], q->kp[j][1], 1e-3);
                VG_CHECK_NEAR(p->kp[j][2], q->kp[j][2], 1e-4);
            }
        }
    }
}

/* Starts vigil with argv (NULL-terminated, after the executable), stderr
 * into errf. Returns the pid. */
static pid_t spawn_vigil(const char *const *args, const char *errf) {
    pid_t pid = fork();
    if (pid == 0) {
        int fd  = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int nul = open("/dev/null", O_RDWR);
        if (fd >= 0)
            dup2(fd, 2);
        if (nul >= 0) {
            dup2(nul, 0);
            dup2(nul, 1);
        }
        const char *argv[64];
        int         n = 0;
        argv[n++]     = ru_vigil;
        for (; args[n - 1] && n < 63; n++)
            argv[n] = args[n - 1];
        argv[n] = NULL;
        execv(ru_vigil, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static void test_sigint(void) {
    const char *clip   = vg_test_require_shared(CLIP);
    const char *models = ru_require_models();
    mu_require_ffmpeg();
    char det[4200], pose[4200], jl[600], mp4[600], errf[600], backend[64] = "";
    snprintf(det, sizeof(det), "%s/centernet", models);
    snprintf(pose, sizeof(pose), "%s/movenet-thunder", models);
    snprintf(jl, sizeof(jl), "%s/int.jsonl", g_tmp);
    snprintf(mp4, sizeof(mp4), "%s/int.mp4", g_tmp);
    snprintf(errf, sizeof(errf), "%s/int.err", g_tmp);
    const char *b = getenv("VIGIL_TEST_BACKEND");
    if (b && *b)
        snprintf(backend, sizeof(backend), "%s", b);
    const char *args[] = {"run",
                          "--input",
                          clip,
                          "--detector",
                          det,
                          "--pose",
                          pose,
                          "--frames",
                          "100",
                          "--max-persons",
                          "1",
                          "--queue",
                          "1",
                          "--json",
                          jl,
                          "--output",
                          mp4,
                          "--quiet",
                          backend[0] ? "--backend" : NULL,
                          backend,
                          NULL};
    pid_t       pid    = spawn_vigil(args, errf);
    VG_CHECK(pid > 0);
    /* Wait for the first written frame (the models are loaded and running). */
    time_t t0 = time(NULL);
    while (mu_count_lines(jl) < 1 && time(NULL) - t0 < 240) {
        int   status;
        pid_t w = waitpid(pid, &status, WNOHANG);
        VG_CHECK_MSG(w == 0, "vigil ended before the interrupt (status %d)", status);
        usleep(100 * 1000);
    }
    long before = mu_count_lines(jl);
    VG_CHECK_MSG(before >= 1, "no frame written within 240 s");
    VG_CHECK_INT_EQ(kill(pid, SIGINT), 0);
    int status = 0;
    VG_CHECK(waitpid(pid, &status, 0) == pid);
    char *err = vg_test_read_file(errf, NULL);
    VG_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                 "vigil did not exit 0 after SIGINT (status 0x%x): %s", status, err ? err : "");
    free(err);
    char      why[512];
    ru_frame *fr = g_a;
    int       n  = ru_read_jsonl(jl, fr, 64, why, sizeof(why));
    VG_CHECK_MSG(n >= 0, "%s", why);
    VG_CHECK_MSG(n >= before && n < 100, "%d frames written, expected an early stop", n);
    for (int i = 0; i < n; i++)
        VG_CHECK_INT_EQ(fr[i].index, i);
    mu_probe_info pi;
    VG_CHECK_MSG(mu_probe(mp4, &pi), "%s is not playable after SIGINT", mp4);
    VG_CHECK_INT_EQ(pi.frames, n);
}

/* A file paced at its frame rate and treated as live (a simulated camera at
 * 50 fps) is faster than the models: frames are dropped before the expensive
 * stages, every drop is counted, and the latency stays bounded by the frames
 * the queues can hold. */
static void test_live_drops(void) {
    const char *clip   = vg_test_require_shared(CLIP);
    const char *models = ru_require_models();
    char        args[4096], path[600], why[512];
    snprintf(args, sizeof(args),
             "run --input '%s' --detector '%s/centernet' --pose '%s/movenet-thunder' "
             "--realtime --live on --frames 50 --queue 2 --max-persons 2 --json '%s/live.jsonl' "
             "--stats '%s/live.json' --quiet%s",
             clip, models, models, g_tmp, g_tmp, ru_backend_arg());
    int rc = ru_vigil_run(g_tmp, args);
    VG_CHECK_MSG(rc == 0, "vigil %s: exit %d: %s", args, rc, ru_err);
    snprintf(path, sizeof(path), "%s/live.json", g_tmp);
    json_t   *st      = load_json(path);
    long long in      = json_integer_value(json_object_get(st, "frames_in"));
    long long out     = json_integer_value(json_object_get(st, "frames_out"));
    long long dropped = json_integer_value(json_object_get(st, "dropped"));
    long long skipped = json_integer_value(json_object_get(st, "skipped"));
    VG_CHECK_INT_EQ(in, 50);
    VG_CHECK_MSG(dropped > 0, "no frame dropped although the models are slower than 50 fps");
    VG_CHECK_INT_EQ(out + dropped + skipped, in);
    /* Bounded latency: at most (queue slots + threads) frames ahead of the
     * slowest stage, each taking at most that stage's longest service time. */
    json_t *stages  = json_object_get(json_object_get(st, "total"), "stages");
    double  slowest = 0;
    for (size_t i = 0; i < json_array_size(stages); i++) {
        double mx = json_real_value(
            json_object_get(json_object_get(json_array_get(stages, i), "service_ms"), "max"));
        slowest = mx > slowest ? mx : slowest;
    }
    double lat_max = json_real_value(json_object_get(json_object_get(st, "latency_ms"), "max"));
    double bound   = (4 * 2 + 5) * slowest;
    VG_CHECK_MSG(lat_max <= bound, "latency max %.0f ms > bound %.0f ms", lat_max, bound);
    json_decref(st);
    /* The JSONL holds the frames written, in increasing index order. */
    snprintf(path, sizeof(path), "%s/live.jsonl", g_tmp);
    int n = ru_read_jsonl(path, g_a, 64, why, sizeof(why));
    VG_CHECK_MSG(n >= 0, "%s", why);
    VG_CHECK_INT_EQ(n, out);
    for (int i = 1; i < n; i++)
        VG_CHECK_MSG(g_a[i].index > g_a[i - 1].index, "frame %lld after %lld", g_a[i].index,
                     g_a[i - 1].index);
}

static const vg_test_case cases[] = {
    {"pipelined and sequential: no loss, in order, same results", test_pipelined_vs_sequential},
    {"SIGINT mid-run: playable MP4, complete JSONL, exit 0", test_sigint},
    {"paced clip as a live source: drops counted, latency bounded", test_live_drops},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return ru_main(argc, argv, cases, &g_tmp);
}
