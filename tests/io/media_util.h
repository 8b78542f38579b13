/*
 * media_util.h - helpers for the io and pipeline tests: temporary folders,
 * running FFmpeg's command-line tools (ffmpeg, ffprobe) and reading back
 * what they report.
 */
#ifndef VG_TEST_MEDIA_UTIL_H
#define VG_TEST_MEDIA_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Creates a fresh folder under $TMPDIR (or /tmp); returns a static-free
 * malloc'ed path, NULL on failure. */
char *mu_tmpdir(void);
/* Removes a folder and everything in it. */
void mu_rmtree(const char *dir);

/* True if prog is found on PATH. */
bool mu_have(const char *prog);
/* Skips the current case unless ffmpeg and ffprobe are installed. */
void mu_require_ffmpeg(void);

/* Runs argv (NULL-terminated) and waits; stdout goes to out (NUL-terminated,
 * may be NULL), stderr to /dev/null. Returns the exit code, -1 on failure. */
int mu_run(const char *const argv[], char *out, size_t out_size);

/* Starts argv in the background (stdin/stdout/stderr to /dev/null). Returns
 * the pid or -1. */
pid_t mu_spawn(const char *const argv[]);
/* Kills (SIGKILL) and reaps a process from mu_spawn. */
void mu_kill(pid_t pid);

typedef struct mu_probe_info {
    char codec[32];
    int  width, height;
    int  rate_num, rate_den;
    long frames; /* decoded by ffprobe (-count_frames) */
} mu_probe_info;

/* Probes the first video stream of path with ffprobe. False if ffprobe
 * fails (the file is not playable). */
bool mu_probe(const char *path, mu_probe_info *out);

/* Counts lines of a text file; -1 if it cannot be read. */
long mu_count_lines(const char *path);

#endif /* VG_TEST_MEDIA_UTIL_H */
