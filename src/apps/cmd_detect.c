/*
 * cmd_detect.c - `vigil detect IMAGE...`: one-stage detection on still
 * images; annotated PNGs and a COCO results file (driver in still.c).
 */
#include "apps/commands.h"
#include "apps/still.h"

int cmd_detect(int argc, char **argv) {
    return still_main(STILL_DETECT, argc, argv);
}
