/*
 * live_test.c - live sources on loopback: an ffmpeg process publishes a
 * clip as MPEG-TS over TCP (127.0.0.1 only); vigil connects, the publisher
 * is killed and restarted, and vigil must reconnect by itself and keep
 * delivering frames with monotonic pts. Also: giving up after the
 * configured attempts, and interrupting a reconnect loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/frame.h>

#include "media_util.h"
#include "test.h"
#include "vigil/clock.h"
#include "vigil/thread.h"
#include "vigil/video.h"

static int test_port(int offset) {
    return 20000 + (int)(getpid() % 20000) + offset;
}

/* ffmpeg -re -i clip -c copy -f mpegts tcp://127.0.0.1:PORT?listen=1 */
static pid_t publish(const char *clip, int port) {
    char url[128];
    snprintf(url, sizeof(url), "tcp://127.0.0.1:%d?listen=1", port);
    const char *argv[] = {"ffmpeg", "-v",   "error", "-re",    "-i", clip, "-an",
                          "-c:v",   "copy", "-f",    "mpegts", url,  NULL};
    pid_t       pid    = mu_spawn(argv);
    VG_CHECK(pid > 0);
    return pid;
}

static void test_tcp_reconnect(void) {
    mu_require_ffmpeg();
    char *clip = strdup(vg_test_require_shared("data/video/openpose_street_dance_720p.mp4"));
    int   port = test_port(0);
    pid_t pub  = publish(clip, port);

    char uri[128];
    snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", port);
    vg_video_in_params p     = vg_video_in_params_default();
    p.uri                    = uri;
    p.reconnect_attempts     = 40;
    p.reconnect_delay_ns     = 100 * VG_NS_PER_MS;
    p.reconnect_max_delay_ns = 400 * VG_NS_PER_MS;
    p.open_timeout_ns        = 3 * VG_NS_PER_S;
    p.io_timeout_ns          = 3 * VG_NS_PER_S;
    vg_video_in *v           = NULL;
    char         msg[512];
    int64_t      t0 = vg_clock_ns();
    /* the publisher needs a moment to listen: the first open retries */
    vg_status st = vg_video_in_open(&p, &v, msg, sizeof(msg));
    if (st != VG_OK)
        mu_kill(pub);
    VG_CHECK_MSG(st == VG_OK, "open %s: %s", uri, msg);
    vg_video_info info;
    vg_video_in_get_info(v, &info);
    VG_CHECK(info.live);
    VG_CHECK_INT_EQ(info.kind, VG_SOURCE_STREAM);
    VG_CHECK_INT_EQ(info.width, 1280);
    VG_CHECK_INT_EQ(info.nb_frames, -1);

    AVFrame            *f = av_frame_alloc();
    vg_video_frame_info fi;
    int64_t             last_pts = INT64_MIN, last_index = -1, before = 0, after = 0;
    pid_t               pub2 = -1;
    vg_video_in_stats   s    = {0};
    while (vg_clock_ns() - t0 < 20 * VG_NS_PER_S) {
        st = vg_video_in_read(v, f, &fi);
        if (st != VG_OK)
            break;
        VG_CHECK(fi.pts > last_pts);
        VG_CHECK(fi.index > last_index);
        last_pts   = fi.pts;
        last_index = fi.index;
        vg_video_in_get_stats(v, &s);
        if (s.reconnects == 0) {
            if (++before == 25) {
                /* cut the stream, then bring it back */
                mu_kill(pub);
                pub  = -1;
                pub2 = publish(clip, port);
            }
        } else if (++after == 25) {
            break;
        }
    }
    mu_kill(pub);
    mu_kill(pub2);
    printf("  %lld frames before the cut, %lld after; %lld reconnect(s); %.1f s\n",
           (long long)before, (long long)after, (long long)s.reconnects,
           (double)(vg_clock_ns() - t0) / 1e9);
    VG_CHECK_MSG(st == VG_OK, "read: %s: %s", vg_status_name(st), vg_video_in_errmsg(v));
    VG_CHECK(before >= 25);
    VG_CHECK(s.reconnects >= 1);
    VG_CHECK_INT_EQ(after, 25);
    av_frame_free(&f);
    vg_video_in_close(v);
    free(clip);
}

static void test_give_up(void) {
    char uri[128];
    snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", test_port(1)); /* nobody listens */
    vg_video_in_params p = vg_video_in_params_default();
    p.uri                = uri;
    p.reconnect_attempts = 3;
    p.reconnect_delay_ns = 20 * VG_NS_PER_MS;
    vg_video_in *v       = NULL;
    char         msg[512];
    int64_t      t0 = vg_clock_ns();
    VG_CHECK_STATUS(vg_video_in_open(&p, &v, msg, sizeof(msg)), VG_E_IO);
    VG_CHECK(v == NULL);
    VG_CHECK_MSG(strstr(msg, "3 reconnect attempts") != NULL, "message: %s", msg);
    /* 20 + 40 + 80 ms of backoff, far from any timeout */
    VG_CHECK((vg_clock_ns() - t0) < 2 * VG_NS_PER_S);
}

typedef struct interrupter {
    vg_video_in *v;
    int64_t      delay_ns;
} interrupter;

static void *interrupt_later(void *arg) {
    interrupter *it = arg;
    vg_sleep_ns(it->delay_ns);
    vg_video_in_interrupt(it->v);
    return NULL;
}

/* A stop request during an outage (the source reconnecting forever) must end
 * the read promptly. */
static void test_interrupt_during_outage(void) {
    mu_require_ffmpeg();
    char *clip = strdup(vg_test_require_shared("data/video/mmpose_street_540p.mp4"));
    int   port = test_port(2);
    pid_t pub  = publish(clip, port);
    char  uri[128];
    snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", port);
    vg_video_in_params p     = vg_video_in_params_default();
    p.uri                    = uri;
    p.reconnect_attempts     = -1; /* forever */
    p.reconnect_delay_ns     = 50 * VG_NS_PER_MS;
    p.reconnect_max_delay_ns = 200 * VG_NS_PER_MS;
    vg_video_in *v           = NULL;
    char         msg[512];
    vg_status    st = vg_video_in_open(&p, &v, msg, sizeof(msg));
    mu_kill(pub); /* the 5-frame clip is sent at once; nothing comes back */
    VG_CHECK_MSG(st == VG_OK, "open %s: %s", uri, msg);
    interrupter      it = {.v = v, .delay_ns = 600 * VG_NS_PER_MS};
    vg_thread       *th = NULL;
    vg_thread_params tp = {.name = "interrupter"};
    VG_CHECK_OK(vg_thread_create(&tp, interrupt_later, &it, &th));
    int64_t  t0 = vg_clock_ns();
    AVFrame *f  = av_frame_alloc();
    int      n  = 0;
    while ((st = vg_video_in_read(v, f, NULL)) == VG_OK)
        n++;
    double waited = (double)(vg_clock_ns() - t0) / 1e9;
    vg_thread_join(th, NULL);
    printf("  %d frames, then the outage; read returned %s after %.2f s\n", n, vg_status_name(st),
           waited);
    VG_CHECK_STATUS(st, VG_E_CLOSED);
    VG_CHECK(waited >= 0.5 && waited < 1.5);
    av_frame_free(&f);
    vg_video_in_close(v);
    free(clip);
}

/* Interrupting a paced (realtime) read returns at once. */
static void test_interrupt_paced(void) {
    const char        *clip = vg_test_require_shared("data/video/mmpose_street_540p.mp4");
    vg_video_in_params p    = vg_video_in_params_default();
    p.uri                   = clip;
    p.live                  = VG_LIVE_ON;
    p.realtime              = true;
    vg_video_in *v          = NULL;
    VG_CHECK_OK(vg_video_in_open(&p, &v, NULL, 0));
    AVFrame *f = av_frame_alloc();
    VG_CHECK_OK(vg_video_in_read(v, f, NULL)); /* t = 0 */
    int64_t          t0 = vg_clock_ns();
    interrupter      it = {.v = v, .delay_ns = 30 * VG_NS_PER_MS};
    vg_thread       *th = NULL;
    vg_thread_params tp = {.name = "interrupter"};
    VG_CHECK_OK(vg_thread_create(&tp, interrupt_later, &it, &th));
    /* the next frame is due 200 ms later (5 fps) */
    VG_CHECK_STATUS(vg_video_in_read(v, f, NULL), VG_E_CLOSED);
    vg_thread_join(th, NULL);
    VG_CHECK((vg_clock_ns() - t0) < 150 * VG_NS_PER_MS);
    av_frame_free(&f);
    vg_video_in_close(v);
}

static const vg_test_case cases[] = {
    {"tcp stream cut and restarted is reconnected", test_tcp_reconnect},
    {"unreachable live source gives up after the attempts", test_give_up},
    {"interrupt during an outage", test_interrupt_during_outage},
    {"interrupt ends a paced live read at once", test_interrupt_paced},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
