/*
 * backend.c - the backend registry and device strings.
 */
#include <stdio.h>
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

vg_status vgi_device_parse(const char *text, int threads, vgi_device *out, vgi_err *err) {
    memset(out, 0, sizeof(*out));
    if (!text)
        text = "cpu";
    snprintf(out->name, sizeof(out->name), "%s", text);
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
        return vgi_err_set(err, VG_E_INVALID_ARG,
                           "device '%s' is not supported; use cpu, cpu:N, cpu:N-M or cpu:N,M",
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
