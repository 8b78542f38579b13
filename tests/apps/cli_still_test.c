/*
 * cli_still_test.c - `vigil detect` / `vigil pose` reject bad arguments and
 * missing files with exit code 2 (usage) or 1 (runtime) and a message that
 * names the culprit and says what to do. No models are needed: every case
 * fails before a model would be loaded. argv[1] is the vigil executable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static const char *vigil_exe = "vigil";
static char        g_err[8192];
static char        g_tmp[64];

/* Runs `vigil ARGS` with stdout discarded; stderr lands in g_err. */
static int run_vigil(const char *args) {
    char errf[128], cmd[4096];
    snprintf(errf, sizeof(errf), "%s/err.txt", g_tmp);
    snprintf(cmd, sizeof(cmd), "'%s' %s > /dev/null 2> '%s'", vigil_exe, args, errf);
    int rc   = system(cmd);
    g_err[0] = '\0';
    FILE *f  = fopen(errf, "r");
    if (f) {
        size_t n = fread(g_err, 1, sizeof(g_err) - 1, f);
        g_err[n] = '\0';
        fclose(f);
    }
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

#define EXPECT(args, code, ...)                                                                    \
    do {                                                                                           \
        int rc_ = run_vigil(args);                                                                 \
        VG_CHECK_MSG(rc_ == (code), "vigil %s: exit %d, expected %d; stderr: %s", args, rc_, code, \
                     g_err);                                                                       \
        const char *want_[] = {__VA_ARGS__};                                                       \
        for (size_t i_ = 0; i_ < sizeof(want_) / sizeof(want_[0]); i_++)                           \
            VG_CHECK_MSG(strstr(g_err, want_[i_]) != NULL, "vigil %s: stderr lacks '%s': %s",      \
                         args, want_[i_], g_err);                                                  \
    } while (0)

static void test_usage_errors(void) {
    EXPECT("pose", 2, "no image given");
    EXPECT("detect", 2, "no image given");
    EXPECT("pose x.jpg --frobnicate", 2, "unknown option '--frobnicate'");
    EXPECT("detect x.jpg --pose movenet-thunder", 2, "unknown option '--pose'");
    EXPECT("detect x.jpg --gt-boxes", 2, "unknown option '--gt-boxes'");
    EXPECT("pose x.jpg --detector", 2, "--detector needs a value");
    EXPECT("pose x.jpg --threshold 1.5", 2, "--threshold '1.5'", "0..1");
    EXPECT("pose x.jpg --threshold abc", 2, "--threshold 'abc'");
    EXPECT("pose x.jpg --max-batch 0", 2, "--max-batch '0'");
    EXPECT("pose x.jpg --gt-boxes", 2, "--gt-boxes needs --gt");
    EXPECT("detect x.jpg --gt-only", 2, "--gt-only needs --gt");
    VG_CHECK_INT_EQ(run_vigil("pose --help"), 0);
    VG_CHECK_INT_EQ(run_vigil("detect --help"), 0);
}

static void test_missing_files(void) {
    /* An image that does not exist: named, before any model is loaded. */
    EXPECT("pose /nonexistent/dir/person.jpg", 1, "/nonexistent/dir/person.jpg", "No such file",
           "check the image path");
    /* A folder without images. */
    char args[512];
    snprintf(args, sizeof(args), "detect '%s'", g_tmp);
    EXPECT(args, 1, g_tmp, "no image files");

    /* A real (if broken) image file but no models: says how to get them. */
    char img[128];
    snprintf(img, sizeof(img), "%s/a.jpg", g_tmp);
    FILE *f = fopen(img, "wb");
    VG_CHECK(f);
    fputs("not an image", f);
    fclose(f);
    snprintf(args, sizeof(args), "pose '%s' --detector '%s/no-such-model'", img, g_tmp);
    EXPECT(args, 1, "detector model", "no-such-model", "not found", "make models");
    snprintf(args, sizeof(args), "detect '%s' --detector nosuchname", img);
    setenv("VIGIL_MODELS", g_tmp, 1);
    EXPECT(args, 1, "nosuchname", "VIGIL_MODELS");
    unsetenv("VIGIL_MODELS");

    /* A missing or broken ground truth file is named. */
    snprintf(args, sizeof(args), "pose '%s' --gt '%s/missing_gt.json'", img, g_tmp);
    EXPECT(args, 1, "missing_gt.json");
    snprintf(args, sizeof(args), "pose '%s' --gt '%s' --gt-boxes", img, img);
    EXPECT(args, 1, "a.jpg");

    /* An output folder that cannot be created. */
    snprintf(args, sizeof(args), "detect '%s' --out /proc/vigil_cannot_create", img);
    EXPECT(args, 1, "/proc/vigil_cannot_create");
    unlink(img);
}

int main(int argc, char **argv) {
    if (argc > 1) {
        vigil_exe = argv[1];
        argv[1]   = argv[0];
        argc--;
        argv++;
    }
    snprintf(g_tmp, sizeof(g_tmp), "/tmp/vigil_cli_still_XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    static const vg_test_case cases[] = {
        {"usage errors exit 2 and say why", test_usage_errors},
        {"missing files exit 1 and name the file", test_missing_files},
        {NULL, NULL},
    };
    int  rc = vg_test_main(argc, argv, cases);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_tmp);
    return rc;
}
