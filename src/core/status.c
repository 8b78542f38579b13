/*
 * status.c - readable messages for vg_status.
 */
#include "vigil/status.h"

#include <stdarg.h>
#include <stdio.h>

#include "core/core_impl.h"

static const struct {
    const char *name;
    const char *text;
} status_table[VG_STATUS_COUNT] = {
    [VG_OK]            = {"VG_OK", "success"},
    [VG_E_NOMEM]       = {"VG_E_NOMEM", "out of memory"},
    [VG_E_INVALID_ARG] = {"VG_E_INVALID_ARG", "invalid argument"},
    [VG_E_UNSUPPORTED] = {"VG_E_UNSUPPORTED", "not supported"},
    [VG_E_FORMAT]      = {"VG_E_FORMAT", "malformed data"},
    [VG_E_IO]          = {"VG_E_IO", "input/output error"},
    [VG_E_BACKEND]     = {"VG_E_BACKEND", "compute backend error"},
    [VG_E_TIMEOUT]     = {"VG_E_TIMEOUT", "timed out"},
    [VG_E_AGAIN]       = {"VG_E_AGAIN", "try again"},
    [VG_E_EOF]         = {"VG_E_EOF", "end of stream"},
    [VG_E_CLOSED]      = {"VG_E_CLOSED", "closed"},
    [VG_E_NOT_FOUND]   = {"VG_E_NOT_FOUND", "not found"},
    [VG_E_SHAPE]       = {"VG_E_SHAPE", "shape or type mismatch"},
    [VG_E_DEVICE]      = {"VG_E_DEVICE", "device unavailable"},
    [VG_E_INTERNAL]    = {"VG_E_INTERNAL", "internal error (a bug in vigil; please report it)"},
};

const char *vg_status_str(vg_status s) {
    if ((int)s < 0 || s >= VG_STATUS_COUNT || !status_table[s].text)
        return "unknown status";
    return status_table[s].text;
}

const char *vg_status_name(vg_status s) {
    if ((int)s < 0 || s >= VG_STATUS_COUNT || !status_table[s].name)
        return "VG_E_?";
    return status_table[s].name;
}

vg_status vgi_errf(char *err, size_t n, vg_status st, const char *fmt, ...) {
    if (err && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
    return st;
}
