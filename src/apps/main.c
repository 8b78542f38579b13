/*
 * main.c - the vigil command-line tool: dispatches to sub-commands.
 */
#include <stdio.h>
#include <string.h>

#include "apps/commands.h"
#include "vigil/vigil.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"infer", cmd_infer, "run a model once on raw tensor files, write outputs + outputs.json"},
    {"model", cmd_model, "'model info PATH': signature, op counts, parameters, weight bytes"},
    {"bench", cmd_bench, "latency, p90, peak RSS and per-op profile of a model"},
    {"models", cmd_models, "list the fetched models and their signatures"},
    {"detect", cmd_detect, "detect objects in images: annotated PNGs + COCO results JSON"},
    {"pose", cmd_pose, "detect persons and their keypoints in images (top-down)"},
    {"run", cmd_run, "the video pipeline: detect + pose on video, annotated MP4/JSONL/display"},
    {"eval", cmd_eval, "COCO AP/AR of a results file against a ground truth"},
    {"onnx-test", cmd_onnx_test, "run ONNX backend conformance tests"},
};

static void usage(FILE *f) {
    fprintf(f,
            "vigil %s - real-time video analytics\n\nusage: vigil <command> [options]\n\n"
            "commands:\n",
            vg_version());
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'vigil <command> --help' describes a command's options.\n"
               "Environment: VIGIL_LOG_LEVEL=error|warn|info|debug|trace\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("vigil %s\n", vg_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "vigil: unknown command '%s'; run 'vigil --help' for the list\n", argv[1]);
    return 2;
}
