/*
 * cmd_model.c - `vigil model info PATH`: the model's signature, op counts
 * (after optimisation), parameter count and weight bytes.
 */
#include <stdio.h>
#include <string.h>

#include "apps/commands.h"
#include "vigil/model.h"
#include "vigil/vigil.h"

static void print_io(const char *role, const vg_io_info *io) {
    char buf[160];
    printf("  %-6s %-28s %-8s %s\n", role, io->name, vg_dtype_name(io->dtype),
           vg_shape_format(&io->shape, buf, sizeof(buf)));
}

int cmd_model(int argc, char **argv) {
    if (argc < 3 || strcmp(argv[1], "info")) {
        fprintf(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
                "usage: vigil model info PATH\n"
                "Prints a model's signature (-1 = symbolic dimension), op counts after\n"
                "optimisation, parameter count and weight bytes. PATH is a TF.js model folder,\n"
                "its model.json, or an .onnx file.\n");
        return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
    }
    vg_model *m = NULL;
    if (vg_model_load(argv[2], NULL, &m)) {
        fprintf(stderr, "vigil model info: %s\n", vg_model_errmsg(NULL));
        return 1;
    }
    vg_model_stats st;
    vg_model_get_stats(m, &st);
    printf("model: %s (%s)\n", argv[2], st.format);
    printf("signature:\n");
    for (int i = 0; i < vg_model_input_count(m); i++)
        print_io("input", vg_model_input(m, i));
    for (int i = 0; i < vg_model_output_count(m); i++)
        print_io("output", vg_model_output(m, i));
    const char *names[128];
    int         counts[128];
    int         n = vg_model_op_counts(m, names, counts, 128);
    printf("ops: %d nodes after optimisation (%d imported)\n", st.n_nodes, st.n_nodes_import);
    for (int i = 0; i < n && i < 128; i++)
        printf("  %-20s %d\n", names[i], counts[i]);
    printf("parameters: %lld\n", (long long)st.param_count);
    printf("weight bytes: %lld in memory (float32), %lld in the files\n",
           (long long)st.weight_bytes, (long long)st.file_weight_bytes);
    vg_model_destroy(m);
    return 0;
}
