/*
 * backend.c - the backend registry and device strings.
 *
 * The registry lists the backends compiled into this build ("ref" always,
 * "cpu" with oneDNN, "cuda" with the CUDA toolkit). Device strings name
 * either a set of CPU cores ("cpu:0-1") or one GPU ("cuda:0"); a GPU device
 * is driven by one host thread unless a thread count is given.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend_impl.h"
#include "core/core_impl.h"

static const struct {
    const char           *name;
    vgi_backend_create_fn create;
} registry[] = {
    {"ref", vgi_ref_backend_create},
#ifdef VG_HAVE_CPU_DNNL
    {"cpu", vgi_cpu_dnnl_backend_create},
#endif
#ifdef VG_HAVE_CUDA
    {"cuda", vgi_cuda_backend_create},
#endif
};

vgi_backend_create_fn vgi_backend_find(const char *name) {
    for (size_t i = 0; i < VGI_ARRAY_SIZE(registry); i++)
        if (!strcmp(registry[i].name, name))
            return registry[i].create;
    return NULL;
}

void vgi_backend_destroy(vgi_backend *b) {
    if (!b || !b->iface)
        return;
    if (b->iface->destroy)
        b->iface->destroy(b->ctx);
    b->iface = NULL;
    b->ctx   = NULL;
}

/* "cuda" or "cuda:N": one GPU, driven by `threads` host threads (default 1). */
static vg_status parse_cuda(const char *text, int threads, vgi_device *out, vgi_err *err) {
    long ordinal = 0;
    if (text[4] == ':') {
        const char *digits = text + 5;
        char       *end    = NULL;
        errno              = 0;
        ordinal            = strtol(digits, &end, 10);
        if (!*digits || *digits < '0' || *digits > '9' || *end || errno || ordinal > 255)
            return vgi_err_set(err, VG_E_INVALID_ARG,
                               "device '%s': malformed GPU index (expected cuda or cuda:N, "
                               "e.g. cuda:0)",
                               text);
    } else if (text[4]) {
        return vgi_err_set(err, VG_E_INVALID_ARG,
                           "device '%s' is not supported; use cpu, cpu:N-M, cuda or cuda:N", text);
    }
    if (!vgi_backend_find("cuda"))
        return vgi_err_set(err, VG_E_UNSUPPORTED,
                           "device '%s' needs a build with the cuda backend (cmake "
                           "-DVG_WITH_CUDA=ON on a machine with the CUDA toolkit)",
                           text);
    out->kind    = VGI_DEVICE_CUDA;
    out->ordinal = (int)ordinal;
    vg_cpuset_clear(&out->cpus);
    out->n_threads = threads > 0 ? threads : 1;
    return VG_OK;
}

vg_status vgi_device_parse(const char *text, int threads, vgi_device *out, vgi_err *err) {
    memset(out, 0, sizeof(*out));
    if (!text)
        text = "cpu";
    snprintf(out->name, sizeof(out->name), "%s", text);
    out->kind      = VGI_DEVICE_CPU;
    out->precision = VGI_PRECISION_FP32;
    if (!strncmp(text, "cuda", 4))
        return parse_cuda(text, threads, out, err);
    vg_cpuset avail;
    if (vg_cpuset_available(&avail))
        vg_cpuset_clear(&avail);
    if (!strcmp(text, "cpu")) {
        vg_cpuset_clear(&out->cpus);
        int n          = vg_cpuset_count(&avail);
        out->n_threads = threads > 0 ? threads : (n > 0 ? n : 1);
        return VG_OK;
    }
    if (strncmp(text, "cpu:", 4))
        return vgi_err_set(
            err, VG_E_INVALID_ARG,
            "device '%s' is not supported; use cpu, cpu:N, cpu:N-M, cpu:N,M, cuda or "
            "cuda:N",
            text);
    if (vg_cpuset_parse(text + 4, &out->cpus))
        return vgi_err_set(err, VG_E_INVALID_ARG,
                           "device '%s': malformed core list (expected e.g. cpu:0-1)", text);
    for (int c = 0; c < VG_CPUSET_MAX; c++)
        if (vg_cpuset_has(&out->cpus, c) && vg_cpuset_count(&avail) && !vg_cpuset_has(&avail, c))
            return vgi_err_set(err, VG_E_DEVICE,
                               "device '%s': core %d is not available to this process", text, c);
    int n          = vg_cpuset_count(&out->cpus);
    out->n_threads = threads > 0 ? threads : (n > 0 ? n : 1);
    return VG_OK;
}
