/*
 * commands.h - the CLI's sub-commands. Each is `int cmd_x(int argc, char **argv)`
 * with argv[0] the sub-command's name; it returns the process exit code.
 * To add one: declare it here, add it to the table in main.c.
 */
#ifndef VG_APPS_COMMANDS_H
#define VG_APPS_COMMANDS_H

int cmd_models(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_onnx_test(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_bench_pipeline(int argc, char **argv); /* `vigil bench pipeline` */
int cmd_infer(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_detect(int argc, char **argv);
int cmd_pose(int argc, char **argv);
int cmd_run(int argc, char **argv);

#endif
