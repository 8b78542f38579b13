/*
 * still.h - the shared driver of `vigil detect` and `vigil pose`: images in,
 * annotated PNGs and a COCO results file out.
 */
#ifndef VG_APPS_STILL_H
#define VG_APPS_STILL_H

typedef enum still_mode {
    STILL_DETECT = 0,
    STILL_POSE,
} still_mode;

/* Runs the command; argv[0] is "detect" or "pose". Returns the exit code. */
int still_main(still_mode mode, int argc, char **argv);

#endif
