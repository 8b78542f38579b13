/*
 * cmd_pose.c - `vigil pose IMAGE...`: detector -> person crops (batched) ->
 * top-down pose model on still images; annotated PNGs and a COCO keypoint
 * results file (driver in still.c).
 */
#include "apps/commands.h"
#include "apps/still.h"

int cmd_pose(int argc, char **argv) {
    return still_main(STILL_POSE, argc, argv);
}
