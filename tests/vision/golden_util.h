/*
 * golden_util.h - helpers for the vision tests that read the reference data in
 * ../shared (golden/ and onnx/): JSON, raw tensors, JPEG decoding as the
 * goldens did it (libjpeg-turbo defaults), sha256.
 */
#ifndef VG_TESTS_GOLDEN_UTIL_H
#define VG_TESTS_GOLDEN_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vigil/vision.h"

/* Parses a JSON file; fails the current test case on error. */
json_t *gu_load_json(const char *path);

/* Reads a whole file, failing the case if missing or not `expect_bytes` long
 * (expect_bytes 0: any size). Free with free(). */
void *gu_read(const char *path, size_t expect_bytes, size_t *size);

/* Decodes a JPEG with libjpeg(-turbo) defaults into packed RGB24 (malloc). */
uint8_t *gu_decode_jpeg(const char *path, int32_t *w, int32_t *h);

/* sha256 of a buffer as 64 lowercase hex characters. */
void gu_sha256_hex(const void *data, size_t n, char out[65]);

/* A double from an array element or object field (fails the case if absent). */
double gu_num(json_t *v);
double gu_field(json_t *obj, const char *key);

/* Output tensors of a golden case: loads every outputs[] file of case.json in
 * dir. Returns the count; data pointers must be freed with gu_free_tensors. */
int  gu_load_outputs(const char *dir, json_t *cj, vg_vis_tensor *outs, int max);
void gu_free_tensors(vg_vis_tensor *outs, int n);

#endif
