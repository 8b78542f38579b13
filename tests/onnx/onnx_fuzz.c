/*
 * onnx_fuzz.c - libFuzzer target: arbitrary bytes through the ONNX loader,
 * the op check and the IR builder. Any crash, leak, sanitizer report or
 * unbounded allocation is a bug; error statuses are expected.
 */
#include <stddef.h>
#include <stdint.h>

#include "importers/onnx/onnx_impl.h"
#include "importers/onnx/onnx_import.h"
#include "vigil/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int quiet;
    if (!quiet) {
        vg_log_set_level(VG_LOG_QUIET);
        quiet = 1;
    }
    vgi_onnx_model *m;
    char            err[1024];
    if (vgi_onnx_model_load_buffer(data, size, NULL, &m, err, sizeof err) != VG_OK)
        return 0;
    if (vgi_onnx_model_check_ops(m, err, sizeof err) == VG_OK) {
        vgi_graph *g;
        vgi_err    e;
        if (vgi_onnx_build_graph(m, &g, &e) == VG_OK)
            vgi_graph_destroy(g);
    }
    vgi_onnx_model_destroy(m);
    return 0;
}
