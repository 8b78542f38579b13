/*
 * manifest_fuzz.c - libFuzzer target: arbitrary bytes as a manifest JSON
 * through vg_manifest_parse. Any crash, leak or sanitizer report is a bug;
 * VG_E_FORMAT with a message is the expected answer to garbage.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/vision.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    vg_manifest m;
    char        err[512];
    if (vg_manifest_parse(s, "fuzz.json", &m, err, sizeof(err)) == VG_OK) {
        /* A parsed manifest must be usable: sizes and pairs in range. */
        if (m.n_keypoints > VG_MAX_KEYPOINTS || m.n_classes > VG_MANIFEST_MAX_CLASSES ||
            m.n_skeleton > VG_MANIFEST_MAX_PAIRS || m.n_levels > VG_MANIFEST_MAX_LEVELS)
            abort();
        vg_decoder *d = NULL;
        if (vg_decoder_create(&m, &d) == VG_OK)
            vg_decoder_destroy(d);
    }
    free(s);
    return 0;
}
