#include "vigil/vigil.h"

#include "vigil_version.h"

const char *vg_version(void) {
    return VG_VERSION_STRING;
}
