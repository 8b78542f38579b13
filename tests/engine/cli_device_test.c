/*
 * cli_device_test.c - device, backend and precision options of the CLI in
 * any build: `vigil infer` and `vigil bench model` take --precision and
 * cuda devices, and refuse what cannot work with a message that says what
 * to do (fp16 on a CPU device; a cuda device in a build without CUDA, or a
 * CPU backend on a cuda device in one with it); `vigil run` rejects an
 * unknown --precision as a usage error. argv[1] is the vigil executable.
 * Uses the synthetic TF.js model of engine_util.c (no shared data needed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "backends/backend_impl.h"
#include "engine_util.h"
#include "test.h"

static const char *vigil_exe = "vigil";
static char        g_err[8192];

/* Runs `vigil ARGS` with stdout discarded; stderr into g_err. Returns the exit code. */
static int run(const char *dir, const char *args) {
    char cmd[8192], errf[4200];
    snprintf(errf, sizeof(errf), "%s/stderr.txt", dir);
    snprintf(cmd, sizeof(cmd), "'%s' %s >/dev/null 2>'%s'", vigil_exe, args, errf);
    int    rc = system(cmd);
    size_t n  = 0;
    char  *e  = vg_test_read_file(errf, &n);
    snprintf(g_err, sizeof(g_err), "%.*s", e ? (int)n : 0, e ? e : "");
    free(e);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void expect_err(const char *needle) {
    VG_CHECK_MSG(strstr(g_err, needle), "stderr lacks '%s': %s", needle, g_err);
}

static void test_infer_and_bench(void) {
    const char *dir = eng_tmpdir(1);
    VG_CHECK(dir && eng_synth_write(dir, false));
    float x[32];
    for (int i = 0; i < 32; i++)
        x[i] = (float)(i % 7) * 0.25f;
    VG_CHECK(eng_write(dir, "x.bin", x, sizeof(x)));
    char args[4096];
    bool cuda = vgi_backend_find("cuda") != NULL;

    /* fp32 spelled out works on the CPU; fp16 there is refused. */
    snprintf(args, sizeof(args),
             "infer --model '%s' --input 'x:0=%s/x.bin' --out '%s/o' "
             "--precision fp32",
             dir, dir, dir);
    VG_CHECK_MSG(run(dir, args) == 0, "%s", g_err);
    snprintf(args, sizeof(args),
             "infer --model '%s' --input 'x:0=%s/x.bin' --out '%s/o' "
             "--precision fp16",
             dir, dir, dir);
    VG_CHECK_INT_EQ(run(dir, args), 1);
    expect_err("precision fp16 needs a GPU device");
    snprintf(args, sizeof(args), "bench model '%s' --runs 1 --warmup 0 --precision fp16", dir);
    VG_CHECK_INT_EQ(run(dir, args), 1);
    expect_err("precision fp16 needs a GPU device");
    snprintf(args, sizeof(args), "bench model '%s' --runs 1 --warmup 0 --precision half", dir);
    VG_CHECK_INT_EQ(run(dir, args), 1);
    expect_err("unknown precision 'half'");

    /* A cuda device: needs the build, and a GPU backend. */
    snprintf(args, sizeof(args),
             "infer --model '%s' --input 'x:0=%s/x.bin' --out '%s/o' "
             "--device cuda:0 --backend cpu",
             dir, dir, dir);
    VG_CHECK_INT_EQ(run(dir, args), 1);
    expect_err(cuda ? "runs on CPU cores" : "needs a build with the cuda backend");
    snprintf(args, sizeof(args), "bench model '%s' --runs 1 --warmup 0 --device cuda:x", dir);
    VG_CHECK_INT_EQ(run(dir, args), 1);
    expect_err("malformed GPU index");
    eng_rmdir(dir);
}

static void test_run_precision_usage(void) {
    const char *dir = eng_tmpdir(1);
    VG_CHECK(dir);
    VG_CHECK_INT_EQ(run(dir, "run --input x.mp4 --precision fp8"), 2);
    expect_err("--precision 'fp8': give fp32 or fp16");
    VG_CHECK_INT_EQ(run(dir, "run --help"), 0);
    eng_rmdir(dir);
}

static const vg_test_case cases[] = {
    {"infer and bench: precision and devices", test_infer_and_bench},
    {"run: --precision is checked", test_run_precision_usage},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    if (argc > 1) {
        vigil_exe = argv[1];
        argv[1]   = argv[0];
        argc--;
        argv++;
    }
    return vg_test_main(argc, argv, cases);
}
