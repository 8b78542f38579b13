/*
 * run_util.h - helpers for the `vigil run` tests: running the CLI, finding
 * the default models and the shared clips, reading JSON Lines back.
 */
#ifndef VG_TEST_RUN_UTIL_H
#define VG_TEST_RUN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "test.h"

/* The vigil executable (argv[1] of the test). */
extern const char *ru_vigil;
/* stderr of the last ru_vigil_run(). */
extern char ru_err[16384];

/* main() of a CLI test: argv[1] is the vigil executable (taken out of argv
 * before the cases see it); *tmp is a fresh temporary folder while the cases
 * run, removed afterwards. Returns vg_test_main()'s exit code (1 if no
 * temporary folder could be made). */
int ru_main(int argc, char **argv, const vg_test_case *cases, char **tmp);

/* Runs `vigil ARGS` (a shell fragment) with stdout to /dev/null and stderr
 * into ru_err. Returns the exit code (-1 if it did not exit normally). */
int ru_vigil_run(const char *tmp, const char *args);

/* The models folder ($VIGIL_MODELS, else <source>/models) when it holds the
 * default models (centernet, movenet-thunder); otherwise skips the case. */
const char *ru_require_models(void);

/* " --backend X" when $VIGIL_TEST_BACKEND is set, else "" (engine default). */
const char *ru_backend_arg(void);

/* One frame of a JSON Lines file. */
typedef struct ru_person {
    float box[4];
    float score;
    int   n_kp;
    float kp[17][3];
} ru_person;

typedef struct ru_frame {
    long long index;
    int       n_persons;
    ru_person persons[32];
    int       n_dets;
} ru_frame;

/* Reads a JSON Lines file written by `vigil run --json`; checks every line is
 * a complete JSON object with the expected fields. Returns the number of
 * frames (up to cap) or -1 with a message in why. */
int ru_read_jsonl(const char *path, ru_frame *frames, int cap, char *why, size_t why_size);

#endif
