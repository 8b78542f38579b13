/*
 * run_cli_test.c - `vigil run` refuses bad settings before anything runs:
 * usage errors (exit 2), --config files (groups, keys, values, command line
 * wins), models that do not load and devices that do not exist (exit 1, a
 * message naming the culprit, no output file created, no frame processed).
 * argv[1] is the vigil executable. The device cases need the default models
 * (skipped without them); the rest needs only ffmpeg for a tiny test clip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/media_util.h"
#include "run_util.h"
#include "test.h"

static char *g_tmp;
static char  g_clip[512];

#define EXPECT(args, code, ...)                                                                    \
    do {                                                                                           \
        int rc_ = ru_vigil_run(g_tmp, args);                                                       \
        VG_CHECK_MSG(rc_ == (code), "vigil %s: exit %d, expected %d; stderr: %s", args, rc_, code, \
                     ru_err);                                                                      \
        const char *want_[] = {__VA_ARGS__};                                                       \
        for (size_t i_ = 0; i_ < sizeof(want_) / sizeof(want_[0]); i_++)                           \
            VG_CHECK_MSG(strstr(ru_err, want_[i_]) != NULL, "vigil %s: stderr lacks '%s': %s",     \
                         args, want_[i_], ru_err);                                                 \
    } while (0)

static bool exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static void make_clip(void) {
    mu_require_ffmpeg();
    if (g_clip[0])
        return;
    snprintf(g_clip, sizeof(g_clip), "%s/clip.mp4", g_tmp);
    const char *argv[] = {"ffmpeg",    "-v",    "error",    "-y",
                          "-f",        "lavfi", "-i",       "testsrc=size=160x120:rate=10",
                          "-frames:v", "5",     "-pix_fmt", "yuv420p",
                          g_clip,      NULL};
    VG_CHECK_INT_EQ(mu_run(argv, NULL, 0), 0);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    VG_CHECK(f);
    fputs(text, f);
    fclose(f);
}

static void test_usage(void) {
    EXPECT("run", 2, "no input given");
    EXPECT("run --input x.mp4 --frobnicate", 2, "unknown option '--frobnicate'");
    EXPECT("run --input x.mp4 --live sometimes", 2, "--live 'sometimes'", "auto, on or off");
    EXPECT("run --input x.mp4 --drop middle", 2, "--drop 'middle'");
    EXPECT("run --input x.mp4 --pose-batch 0", 2, "--pose-batch '0'");
    EXPECT("run --input x.mp4 --queue", 2, "--queue needs a value");
    EXPECT("run --input x.mp4 --threshold 2", 2, "--threshold '2'", "0..1");
    EXPECT("run --input x.mp4 --display-screenshot a.png", 2, "needs --display");
    VG_CHECK_INT_EQ(ru_vigil_run(g_tmp, "run --help"), 0);
    /* A missing input is named before any model is loaded. */
    EXPECT("run --input /nonexistent/clip.mp4", 1, "/nonexistent/clip.mp4");
}

static void test_config(void) {
    make_clip();
    char cfg[600], args[2048];
    snprintf(cfg, sizeof(cfg), "%s/run.ini", g_tmp);

    /* Settings come from the file: the detector path it names is what fails. */
    char text[2048];
    snprintf(text, sizeof(text),
             "# vigil run settings\n[source]\ninput=%s\nframes=3\n\n[detector]\n"
             "model=/nonexistent/detector-from-config\ndevice=cpu:0\n\n[pose]\nbatch=4\n\n"
             "[sink]\njson=%s/out.jsonl\n\n[pipeline]\nqueue=2\nsequential=false\n",
             g_clip, g_tmp);
    write_file(cfg, text);
    snprintf(args, sizeof(args), "run --config '%s'", cfg);
    EXPECT(args, 1, "/nonexistent/detector-from-config", "not found");
    /* The command line wins over the file. */
    snprintf(args, sizeof(args), "run --config '%s' --detector /nonexistent/from-cli", cfg);
    EXPECT(args, 1, "/nonexistent/from-cli");
    /* A pass-through run entirely configured by the file. */
    snprintf(text, sizeof(text),
             "[source]\ninput=%s\nframes=3\n[detector]\nmodel=none\n[sink]\njson=%s/cfg.jsonl\n"
             "[pipeline]\nqueue=2\nquiet=true\n",
             g_clip, g_tmp);
    write_file(cfg, text);
    snprintf(args, sizeof(args), "run --config '%s'", cfg);
    EXPECT(args, 0, "");
    char jl[600];
    snprintf(jl, sizeof(jl), "%s/cfg.jsonl", g_tmp);
    VG_CHECK_INT_EQ(mu_count_lines(jl), 3);

    /* Unknown groups/keys and bad values are named with the file. */
    write_file(cfg, "[source]\ninput=x.mp4\n[detector]\nmodle=centernet\n");
    snprintf(args, sizeof(args), "run --config '%s'", cfg);
    EXPECT(args, 2, "unknown setting [detector] modle", "run.ini");
    write_file(cfg, "[pipeline]\nqueue=lots\n");
    EXPECT(args, 2, "[pipeline] queue", "'lots'");
    write_file(cfg, "[sink]\ndisplay=maybe\n");
    EXPECT(args, 2, "[sink] display", "true or false");
    write_file(cfg, "this is not an ini file\n");
    EXPECT(args, 2, "run.ini");
    snprintf(args, sizeof(args), "run --config '%s/missing.ini'", g_tmp);
    EXPECT(args, 1, "missing.ini");
}

static void test_bad_model(void) {
    make_clip();
    char bad[600], args[2048], out[600];
    snprintf(bad, sizeof(bad), "%s/broken.onnx", g_tmp);
    write_file(bad, "this is not a model");
    snprintf(out, sizeof(out), "%s/never.mp4", g_tmp);
    snprintf(args, sizeof(args), "run --input '%s' --detector '%s' --output '%s'", g_clip, bad,
             out);
    EXPECT(args, 1, "cannot load detector model", "broken.onnx");
    VG_CHECK_MSG(!exists(out), "%s was created although the run never started", out);
    VG_CHECK_MSG(strstr(ru_err, " fps") == NULL, "the run started: %s", ru_err);
}

static void test_bad_device(void) {
    make_clip();
    const char *models = ru_require_models();
    char        args[4096], out[600];
    snprintf(out, sizeof(out), "%s/never.mp4", g_tmp);
    unlink(out);
    snprintf(args, sizeof(args),
             "run --input '%s' --detector '%s/centernet' --pose '%s/movenet-thunder' "
             "--det-device cpu:999 --output '%s'%s",
             g_clip, models, models, out, ru_backend_arg());
    EXPECT(args, 1, "cpu:999", "not available", "detector");
    VG_CHECK_MSG(!exists(out), "%s was created although the run never started", out);
    snprintf(args, sizeof(args),
             "run --input '%s' --detector '%s/centernet' --pose '%s/movenet-thunder' "
             "--pose-device cpu:x --output '%s'%s",
             g_clip, models, models, out, ru_backend_arg());
    EXPECT(args, 1, "cpu:x", "pose model");
    snprintf(args, sizeof(args),
             "run --input '%s' --detector '%s/centernet' --pose none --det-device cuda:0 "
             "--output '%s'",
             g_clip, models, out);
    EXPECT(args, 1, "cuda:0", "CUDA is not available");
    VG_CHECK_MSG(!exists(out), "%s was created although the run never started", out);
    /* A pose model given as detector is refused with what to do. */
    snprintf(args, sizeof(args), "run --input '%s' --detector '%s/movenet-thunder' --pose none",
             g_clip, models);
    EXPECT(args, 1, "not a detector");
}

static const vg_test_case cases[] = {
    {"usage errors", test_usage},
    {"config file", test_config},
    {"model that does not load", test_bad_model},
    {"device that does not exist", test_bad_device},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return ru_main(argc, argv, cases, &g_tmp);
}
