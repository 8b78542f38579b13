/*
 * engine_util.h - helpers shared by the engine tests: temporary model
 * folders and a small synthetic TF.js graph model.
 */
#ifndef VG_TESTS_ENGINE_UTIL_H
#define VG_TESTS_ENGINE_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Creates a fresh temporary folder; returns its path (static buffer per slot 0..3). */
const char *eng_tmpdir(int slot);
/* Removes the folder and its files (one level). */
void eng_rmdir(const char *dir);
/* Writes bytes to dir/name; returns false on failure. */
bool eng_write(const char *dir, const char *name, const void *data, size_t len);

/*
 * Writes the synthetic model into dir: input x float32 [1,4,4,2];
 * y = relu(conv_SAME_stride2(x, w) + b) * m with w uint8-quantised
 * (scale 0.01, min -1), b float16, m uint16-quantised (scale 0.001, min 0.5).
 * Output "out" [1,2,2,3]. eng_synth_expected() computes it naively.
 */
bool eng_synth_write(const char *dir, bool dynamic_batch);
void eng_synth_expected(const float *x, float *out);

#endif
