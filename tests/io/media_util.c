/*
 * media_util.c - see media_util.h.
 */
#include "media_util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

extern char **environ;

char *mu_tmpdir(void) {
    const char *base = getenv("TMPDIR");
    char        tmpl[4096];
    snprintf(tmpl, sizeof(tmpl), "%s/vigil-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpl))
        return NULL;
    return strdup(tmpl);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void mu_rmtree(const char *dir) {
    if (dir)
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

bool mu_have(const char *prog) {
    const char *path = getenv("PATH");
    if (!path)
        return false;
    char *copy = strdup(path), *save = NULL;
    bool  found = false;
    for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
        char full[4096];
        snprintf(full, sizeof(full), "%s/%s", d, prog);
        found = access(full, X_OK) == 0;
    }
    free(copy);
    return found;
}

void mu_require_ffmpeg(void) {
    if (!mu_have("ffmpeg") || !mu_have("ffprobe"))
        VG_SKIP("ffmpeg/ffprobe not installed (Debian package ffmpeg)");
}

static pid_t spawn_io(const char *const argv[], int out_fd) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    else
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int   rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -1;
}

int mu_run(const char *const argv[], char *out, size_t out_size) {
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = spawn_io(argv, fds[1]);
    close(fds[1]);
    size_t n = 0;
    char   buf[4096];
    for (;;) {
        ssize_t r = read(fds[0], buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        for (ssize_t i = 0; i < r; i++)
            if (out && n + 1 < out_size)
                out[n++] = buf[i];
    }
    close(fds[0]);
    if (out && out_size)
        out[n] = '\0';
    if (pid < 0)
        return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

pid_t mu_spawn(const char *const argv[]) {
    return spawn_io(argv, -1);
}

void mu_kill(pid_t pid) {
    if (pid <= 0)
        return;
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
}

bool mu_probe(const char *path, mu_probe_info *out) {
    memset(out, 0, sizeof(*out));
    const char *argv[] = {"ffprobe",
                          "-v",
                          "error",
                          "-count_frames",
                          "-select_streams",
                          "v:0",
                          "-show_entries",
                          "stream=codec_name,width,height,r_frame_rate,nb_read_frames",
                          "-of",
                          "default=noprint_wrappers=1",
                          path,
                          NULL};
    char        text[4096];
    if (mu_run(argv, text, sizeof(text)) != 0)
        return false;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, "codec_name=", 11))
            snprintf(out->codec, sizeof(out->codec), "%s", line + 11);
        else if (!strncmp(line, "width=", 6))
            out->width = atoi(line + 6);
        else if (!strncmp(line, "height=", 7))
            out->height = atoi(line + 7);
        else if (!strncmp(line, "r_frame_rate=", 13))
            sscanf(line + 13, "%d/%d", &out->rate_num, &out->rate_den);
        else if (!strncmp(line, "nb_read_frames=", 15))
            out->frames = atol(line + 15);
    }
    return out->codec[0] != '\0';
}

long mu_count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long n = 0;
    int  c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/*
 * Under ThreadSanitizer: FFmpeg and x264 are not built with it, so their
 * internal atomics (reference counts of frame buffers, buffer pools, frame
 * threads) are invisible and every buffer they free on another thread looks
 * like a race. Suppress reports whose stacks pass through these libraries;
 * vigil's own synchronisation stays checked.
 */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void) {
    return "race:libavutil.so\n"
           "race:libavcodec.so\n"
           "race:libavformat.so\n"
           "race:libswscale.so\n"
           "race:libx264.so\n";
}
