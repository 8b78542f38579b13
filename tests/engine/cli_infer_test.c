/*
 * cli_infer_test.c - `vigil infer` reproduces a golden case from the command
 * line (outputs.json in the golden format, raw outputs within the golden
 * tolerance), rejects a wrong-size input file, and `vigil model info` works;
 * `vigil bench model --profile` lists the nodes with their GFLOP/s.
 * argv[1] is the vigil executable.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "engine_util.h"
#include "test.h"

static const char *vigil_exe = "vigil";

static int run(const char *cmd) {
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_infer_golden(void) {
    const char *cdir = vg_test_require_shared("golden/movenet-lightning/coco_000000000785_p0");
    char        case_dir[4096], cmd[16384], p[4600];
    snprintf(case_dir, sizeof(case_dir), "%s", cdir);
    const char *out = eng_tmpdir(2);
    VG_CHECK(out);
    snprintf(cmd, sizeof(cmd),
             "'%s' infer --model '%s/models/movenet-lightning' --input 'input:0=%s/input.bin' "
             "--out '%s' --backend ref",
             vigil_exe, vg_test_shared_dir(), case_dir, out);
    VG_CHECK_INT_EQ(run(cmd), 0);
    snprintf(p, sizeof(p), "%s/outputs.json", out);
    json_error_t je;
    json_t      *got = json_load_file(p, 0, &je);
    snprintf(p, sizeof(p), "%s/case.json", case_dir);
    json_t *cj = json_load_file(p, 0, &je);
    VG_CHECK(got && cj && json_array_size(got) == 1);
    json_t *g = json_array_get(got, 0), *w = json_array_get(json_object_get(cj, "outputs"), 0);
    VG_CHECK_STR_EQ(json_string_value(json_object_get(g, "name")), "Identity:0");
    VG_CHECK_STR_EQ(json_string_value(json_object_get(g, "file")),
                    json_string_value(json_object_get(w, "file")));
    VG_CHECK_STR_EQ(json_string_value(json_object_get(g, "dtype")), "float32");
    VG_CHECK(json_equal(json_object_get(g, "shape"), json_object_get(w, "shape")));
    char   a[4600], b[4600];
    size_t na, nb;
    snprintf(a, sizeof(a), "%s/output_Identity_0.bin", out);
    snprintf(b, sizeof(b), "%s/output_Identity_0.bin", case_dir);
    float *fa = vg_test_read_file(a, &na), *fb = vg_test_read_file(b, &nb);
    VG_CHECK(fa && fb && na == nb);
    /* Golden tolerance for normalised coordinates and scores. */
    for (size_t i = 0; i < na / 4; i++)
        VG_CHECK_NEAR(fa[i], fb[i], 1e-4 + 1e-4 * fabs(fb[i]));
    free(fa);
    free(fb);
    json_decref(got);
    json_decref(cj);
    /* A file of the wrong size is an error. */
    snprintf(cmd, sizeof(cmd),
             "'%s' infer --model '%s/models/movenet-lightning' --input 'input:0=%s/case.json' "
             "--out '%s' 2>/dev/null",
             vigil_exe, vg_test_shared_dir(), case_dir, out);
    VG_CHECK(run(cmd) != 0);
    snprintf(cmd, sizeof(cmd), "'%s' model info '%s/models/movenet-lightning' > '%s/info.txt'",
             vigil_exe, vg_test_shared_dir(), out);
    VG_CHECK_INT_EQ(run(cmd), 0);
    snprintf(p, sizeof(p), "%s/info.txt", out);
    size_t n;
    char  *info = vg_test_read_file(p, &n);
    VG_CHECK(info && strstr(info, "input:0") && strstr(info, "parameters:") &&
             strstr(info, "conv"));
    free(info);
    eng_rmdir(out);
}

/* The synthetic model (engine_util.c): a 3x3 convolution with 216 multiply-accumulates,
 * then a multiply. JSON: both nodes with the convolution's MACs and a GFLOP/s that
 * matches them and its time; text: the slowest-nodes table. */
static void test_bench_profile(void) {
    const char *dir = eng_tmpdir(1);
    VG_CHECK(dir && eng_synth_write(dir, false));
    char cmd[8192], p[4200];
    snprintf(cmd, sizeof(cmd),
             "'%s' bench model '%s' --backend cpu --runs 3 --warmup 1 --profile --json "
             "> '%s/bench.json'",
             vigil_exe, dir, dir);
    VG_CHECK_INT_EQ(run(cmd), 0);
    snprintf(p, sizeof(p), "%s/bench.json", dir);
    json_error_t je;
    json_t      *j = json_load_file(p, 0, &je);
    VG_CHECK_MSG(j, "%s", je.text);
    json_t *nodes = json_object_get(j, "profile_nodes");
    VG_CHECK(json_is_array(nodes) && json_array_size(nodes) == 2);
    json_t *conv = json_array_get(nodes, 0), *mul = json_array_get(nodes, 1);
    VG_CHECK_STR_EQ(json_string_value(json_object_get(conv, "op")), "conv");
    VG_CHECK_STR_EQ(json_string_value(json_object_get(mul, "op")), "mul");
    VG_CHECK_INT_EQ(json_integer_value(json_object_get(conv, "macs")), 216);
    VG_CHECK_INT_EQ(json_integer_value(json_object_get(mul, "macs")), 0);
    double ms = json_real_value(json_object_get(conv, "ms"));
    double gf = json_real_value(json_object_get(conv, "gflops"));
    VG_CHECK(ms > 0 && gf > 0);
    /* 6 significant digits in the JSON */
    VG_CHECK_NEAR(gf, 2.0 * 216 / (ms * 1e6), 1e-4 * gf);
    json_decref(j);
    snprintf(cmd, sizeof(cmd),
             "'%s' bench model '%s' --backend cpu --runs 2 --warmup 0 --profile > '%s/bench.txt'",
             vigil_exe, dir, dir);
    VG_CHECK_INT_EQ(run(cmd), 0);
    snprintf(p, sizeof(p), "%s/bench.txt", dir);
    size_t n;
    char  *txt = vg_test_read_file(p, &n);
    VG_CHECK(txt && strstr(txt, "slowest nodes") && strstr(txt, "GFLOP/s"));
    free(txt);
    eng_rmdir(dir);
}

static const vg_test_case cases[] = {
    {"vigil infer reproduces a golden case", test_infer_golden},
    {"vigil bench model --profile lists the nodes", test_bench_profile},
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
