/*
 * vigil/status.h - the one status enum of the whole project.
 *
 * Every fallible function returns a vg_status. The code says what kind of
 * failure happened; handles (model, pipeline, importer) keep a message that
 * says what exactly went wrong. VG_E_AGAIN and VG_E_EOF are normal control
 * flow for queues and decoders, not failures.
 */
#ifndef VG_STATUS_H
#define VG_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vg_status {
    VG_OK = 0,
    VG_E_NOMEM,       /* an allocation failed */
    VG_E_INVALID_ARG, /* the caller passed something unusable */
    VG_E_UNSUPPORTED, /* valid, but not implemented here (op, format, device) */
    VG_E_FORMAT,      /* malformed input data (model file, stream, tensor file) */
    VG_E_IO,          /* a read, write or open failed */
    VG_E_BACKEND,     /* a compute library (oneDNN, CUDA) reported an error */
    VG_E_TIMEOUT,     /* a wait ran out of time */
    VG_E_AGAIN,       /* nothing yet; try again (not a failure) */
    VG_E_EOF,         /* end of stream: no more data will come (not a failure) */
    VG_E_CLOSED,      /* the other end closed or the object was shut down */
    VG_E_NOT_FOUND,   /* a named file, tensor, node or device does not exist */
    VG_E_SHAPE,       /* tensor shapes or dtypes do not agree */
    VG_E_DEVICE,      /* the requested device is missing or unusable */
    VG_E_INTERNAL,    /* a bug in vigil: please report it */
    VG_STATUS_COUNT
} vg_status;

/*
 * Returns a short, static, human-readable description of s. Never NULL: an
 * out-of-range value gives "unknown status". MT safe.
 */
const char *vg_status_str(vg_status s);

/* Returns the enum name ("VG_E_FORMAT") of s; "VG_E_?" when out of range. MT safe. */
const char *vg_status_name(vg_status s);

#ifdef __cplusplus
}
#endif

#endif /* VG_STATUS_H */
