/*
 * video_io_test.c - video in and out through FFmpeg: source classification,
 * decoding real clips (frame count, size, monotonic pts), image folders and
 * globs in sorted order, bad inputs with clear errors, corrupt data skipped,
 * and H.264 MP4 output checked with ffprobe (playable, frame count, size,
 * rate).
 *
 * Reference values: frame counts and sizes of ../shared/data/video come from
 * `ffprobe -count_packets` on those files (mmpose_street_540p.mp4: 5 frames,
 * 960x540, 5 fps; openpose_street_dance_720p.mp4: 205 frames, 1280x720,
 * 50 fps).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavutil/frame.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixfmt.h>

#include "media_util.h"
#include "test.h"
#include "vigil/log.h"
#include "vigil/video.h"

static char *shared_path(const char *sub) {
    return strdup(vg_test_require_shared(sub));
}

static vg_video_in *open_in(const char *uri, vg_video_in_params *pp) {
    vg_video_in_params p = pp ? *pp : vg_video_in_params_default();
    p.uri                = uri;
    vg_video_in *v       = NULL;
    char         msg[512];
    vg_status    st = vg_video_in_open(&p, &v, msg, sizeof(msg));
    VG_CHECK_MSG(st == VG_OK, "open %s: %s (%s)", uri, vg_status_name(st), msg);
    return v;
}

static void test_classify(void) {
    VG_CHECK_INT_EQ(vg_source_kind_of("rtsp://10.0.0.2/stream"), VG_SOURCE_STREAM);
    VG_CHECK_INT_EQ(vg_source_kind_of("tcp://127.0.0.1:9000"), VG_SOURCE_STREAM);
    VG_CHECK_INT_EQ(vg_source_kind_of("udp://@:1234"), VG_SOURCE_STREAM);
    VG_CHECK_INT_EQ(vg_source_kind_of("https://example.org/a.m3u8"), VG_SOURCE_STREAM);
    VG_CHECK_INT_EQ(vg_source_kind_of("/dev/video0"), VG_SOURCE_CAMERA);
    VG_CHECK_INT_EQ(vg_source_kind_of("clip.mp4"), VG_SOURCE_FILE);
    VG_CHECK_INT_EQ(vg_source_kind_of("photo.JPG"), VG_SOURCE_IMAGE);
    VG_CHECK_INT_EQ(vg_source_kind_of("frames/*.png"), VG_SOURCE_IMAGES);
    VG_CHECK_INT_EQ(vg_source_kind_of("/"), VG_SOURCE_IMAGES);
    VG_CHECK_STR_EQ(vg_source_kind_name(VG_SOURCE_CAMERA), "camera");
}

/* Decodes a whole clip; checks count, size, index and pts. */
static void decode_clip(const char *sub, int64_t want_frames, int w, int h, int fps) {
    char         *path = shared_path(sub);
    vg_video_in  *v    = open_in(path, NULL);
    vg_video_info info;
    vg_video_in_get_info(v, &info);
    VG_CHECK(!info.live);
    VG_CHECK_INT_EQ(info.kind, VG_SOURCE_FILE);
    VG_CHECK_INT_EQ(info.width, w);
    VG_CHECK_INT_EQ(info.height, h);
    VG_CHECK_INT_EQ(info.frame_rate.num / info.frame_rate.den, fps);
    VG_CHECK_INT_EQ(info.nb_frames, want_frames);

    AVFrame            *f = av_frame_alloc();
    vg_video_frame_info fi;
    int64_t             n = 0, last_pts = INT64_MIN;
    double              last_t = -1;
    vg_status           st;
    while ((st = vg_video_in_read(v, f, &fi)) == VG_OK) {
        VG_CHECK_INT_EQ(fi.index, n);
        VG_CHECK_INT_EQ(f->width, w);
        VG_CHECK_INT_EQ(f->height, h);
        VG_CHECK_MSG(fi.pts > last_pts, "frame %lld: pts %lld after %lld", (long long)n,
                     (long long)fi.pts, (long long)last_pts);
        VG_CHECK(fi.time_s > last_t);
        VG_CHECK(fi.capture_ns > 0);
        VG_CHECK_INT_EQ(f->pts, fi.pts);
        if (n == 0)
            VG_CHECK_NEAR(fi.time_s, 0.0, 1e-9);
        last_pts = fi.pts;
        last_t   = fi.time_s;
        n++;
    }
    VG_CHECK_STATUS(st, VG_E_EOF);
    VG_CHECK_INT_EQ(n, want_frames);
    /* the clip spans (n-1) frame intervals, within one frame */
    VG_CHECK_NEAR(last_t, (double)(n - 1) / fps, 1.0 / fps);
    VG_CHECK_STATUS(vg_video_in_read(v, f, &fi), VG_E_EOF);
    vg_video_in_stats s;
    vg_video_in_get_stats(v, &s);
    VG_CHECK_INT_EQ(s.frames, want_frames);
    VG_CHECK_INT_EQ(s.corrupt_frames + s.corrupt_packets, 0);
    av_frame_free(&f);
    vg_video_in_close(v);
    free(path);
}

static void test_decode_540p(void) {
    decode_clip("data/video/mmpose_street_540p.mp4", 5, 960, 540, 5);
}

static void test_decode_720p(void) {
    decode_clip("data/video/openpose_street_dance_720p.mp4", 205, 1280, 720, 50);
}

static void test_decode_mpeg4(void) {
    decode_clip("data/video/mmtracking_pedestrians_1080p_mpeg4.mp4", 8, 1920, 1080, 3);
}

static void test_missing_file(void) {
    vg_video_in_params p = vg_video_in_params_default();
    p.uri                = "/nonexistent/clip.mp4";
    vg_video_in *v       = (vg_video_in *)1;
    char         msg[512];
    VG_CHECK_STATUS(vg_video_in_open(&p, &v, msg, sizeof(msg)), VG_E_NOT_FOUND);
    VG_CHECK(v == NULL);
    VG_CHECK_MSG(strstr(msg, "/nonexistent/clip.mp4") != NULL, "message: %s", msg);
    p.uri = NULL;
    VG_CHECK_STATUS(vg_video_in_open(&p, &v, msg, sizeof(msg)), VG_E_INVALID_ARG);
    /* malformed demuxer options are the caller's mistake, named in the message */
    p.uri        = vg_test_require_shared("data/video/mmpose_street_540p.mp4");
    p.av_options = "probesize";
    VG_CHECK_STATUS(vg_video_in_open(&p, &v, msg, sizeof(msg)), VG_E_INVALID_ARG);
    VG_CHECK_MSG(strstr(msg, "av_options 'probesize'") != NULL, "message: %s", msg);
    p.av_options = "probesize=65536";
    VG_CHECK_OK(vg_video_in_open(&p, &v, msg, sizeof(msg)));
    vg_video_in_close(v);
}

static void test_not_a_video(void) {
    char *dir = mu_tmpdir();
    VG_CHECK(dir);
    char path[4096];
    snprintf(path, sizeof(path), "%s/notes.mp4", dir);
    FILE *fp = fopen(path, "w");
    VG_CHECK(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is not a video file at all\n", fp);
    fclose(fp);
    vg_video_in_params p = vg_video_in_params_default();
    p.uri                = path;
    vg_video_in *v       = NULL;
    char         msg[512];
    vg_status    st = vg_video_in_open(&p, &v, msg, sizeof(msg));
    VG_CHECK_MSG(st == VG_E_FORMAT, "got %s: %s", vg_status_name(st), msg);
    VG_CHECK_MSG(strstr(msg, "notes.mp4") != NULL, "message: %s", msg);
    /* an empty folder is "not found", with advice */
    snprintf(path, sizeof(path), "%s/empty", dir);
    VG_CHECK(mkdir(path, 0700) == 0);
    p.uri = path;
    VG_CHECK_STATUS(vg_video_in_open(&p, &v, msg, sizeof(msg)), VG_E_NOT_FOUND);
    VG_CHECK_MSG(strstr(msg, "no image files") != NULL, "message: %s", msg);
    mu_rmtree(dir);
    free(dir);
}

/* Writes a w x h single-colour PNG with ffmpeg's lavfi. */
static void make_png(const char *path, int w, int h, const char *colour) {
    char src[128];
    snprintf(src, sizeof(src), "color=c=%s:s=%dx%d", colour, w, h);
    const char *argv[] = {"ffmpeg", "-v", "error",     "-y", "-f", "lavfi",
                          "-i",     src,  "-frames:v", "1",  path, NULL};
    VG_CHECK_INT_EQ(mu_run(argv, NULL, 0), 0);
}

static void test_image_folder(void) {
    mu_require_ffmpeg();
    char *dir = mu_tmpdir();
    VG_CHECK(dir);
    char path[4096];
    /* created out of order, with sizes that reveal the order read */
    const char *names[]  = {"b.png", "c.png", "a.png"};
    int         widths[] = {64, 96, 32};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        make_png(path, widths[i], 48, "red");
    }
    snprintf(path, sizeof(path), "%s/readme.txt", dir);
    FILE *fp = fopen(path, "w");
    VG_CHECK(fp);
    fputs("not an image\n", fp);
    fclose(fp);

    vg_video_in_params p = vg_video_in_params_default();
    p.image_rate         = (AVRational){2, 1};
    vg_video_in  *v      = open_in(dir, &p);
    vg_video_info info;
    vg_video_in_get_info(v, &info);
    VG_CHECK_INT_EQ(info.kind, VG_SOURCE_IMAGES);
    VG_CHECK(!info.live);
    VG_CHECK_INT_EQ(info.nb_frames, 3);
    VG_CHECK_INT_EQ(info.frame_rate.num, 2);
    AVFrame            *f = av_frame_alloc();
    vg_video_frame_info fi;
    int                 want[] = {32, 64, 96}; /* a, b, c */
    for (int i = 0; i < 3; i++) {
        VG_CHECK_OK(vg_video_in_read(v, f, &fi));
        VG_CHECK_INT_EQ(fi.index, i);
        VG_CHECK_INT_EQ(fi.image, i);
        VG_CHECK_INT_EQ(fi.pts, i);
        VG_CHECK_NEAR(fi.time_s, i * 0.5, 1e-9);
        VG_CHECK_INT_EQ(f->width, want[i]);
        VG_CHECK_INT_EQ(f->height, 48);
    }
    VG_CHECK_STATUS(vg_video_in_read(v, f, &fi), VG_E_EOF);
    vg_video_in_close(v);

    /* a glob selects and sorts the same way */
    snprintf(path, sizeof(path), "%s/[bc].png", dir);
    v = open_in(path, NULL);
    VG_CHECK_OK(vg_video_in_read(v, f, &fi));
    VG_CHECK_INT_EQ(f->width, 64);
    VG_CHECK_OK(vg_video_in_read(v, f, &fi));
    VG_CHECK_INT_EQ(f->width, 96);
    VG_CHECK_STATUS(vg_video_in_read(v, f, &fi), VG_E_EOF);
    vg_video_in_close(v);

    /* a single image is a one-frame source */
    snprintf(path, sizeof(path), "%s/c.png", dir);
    v = open_in(path, NULL);
    vg_video_in_get_info(v, &info);
    VG_CHECK_INT_EQ(info.kind, VG_SOURCE_IMAGE);
    VG_CHECK_OK(vg_video_in_read(v, f, &fi));
    VG_CHECK_STATUS(vg_video_in_read(v, f, &fi), VG_E_EOF);
    vg_video_in_close(v);
    av_frame_free(&f);
    mu_rmtree(dir);
    free(dir);
}

static void test_shared_images_glob(void) {
    char *dir = shared_path("data/images");
    char  glob_path[4096];
    snprintf(glob_path, sizeof(glob_path), "%s/coco_*.jpg", dir);
    vg_video_in  *v = open_in(glob_path, NULL);
    vg_video_info info;
    vg_video_in_get_info(v, &info);
    VG_CHECK(info.nb_frames >= 2);
    AVFrame            *f = av_frame_alloc();
    vg_video_frame_info fi;
    int64_t             n = 0;
    while (vg_video_in_read(v, f, &fi) == VG_OK) {
        VG_CHECK(f->width > 0 && f->height > 0);
        VG_CHECK_INT_EQ(fi.image, n);
        n++;
    }
    VG_CHECK_INT_EQ(n, info.nb_frames);
    av_frame_free(&f);
    vg_video_in_close(v);
    free(dir);
}

/* Overwrites bytes in the middle of a copy of a clip: decoding goes on to
 * the end, damaged pictures are skipped and counted, nothing fails. */
static void test_corrupt_data(void) {
    char          *src = shared_path("data/video/openpose_street_dance_720p.mp4");
    size_t         size;
    unsigned char *data = vg_test_read_file(src, &size);
    VG_CHECK(data && size > 100000);
    /* damage 24 bursts of 64 bytes spread over the media data (the header
     * at the start and the index at the end stay intact) */
    for (int b = 0; b < 24; b++) {
        size_t at = size / 5 + (size_t)b * (size / 2 / 24);
        for (size_t i = 0; i < 64; i++)
            data[at + i] = (unsigned char)(0x5a ^ (i * 37));
    }
    char *dir = mu_tmpdir();
    char  path[4096];
    snprintf(path, sizeof(path), "%s/damaged.mp4", dir);
    FILE *fp = fopen(path, "wb");
    VG_CHECK(fp && fwrite(data, 1, size, fp) == size);
    fclose(fp);
    free(data);

    vg_log_level old = vg_log_get_level();
    vg_log_set_level(VG_LOG_ERROR); /* the expected warnings would flood the log */
    vg_video_in        *v = open_in(path, NULL);
    AVFrame            *f = av_frame_alloc();
    vg_video_frame_info fi;
    int64_t             n = 0, last = -1;
    vg_status           st;
    while ((st = vg_video_in_read(v, f, &fi)) == VG_OK) {
        VG_CHECK(fi.index > last);
        last = fi.index;
        n++;
    }
    vg_log_set_level(old);
    VG_CHECK_STATUS(st, VG_E_EOF);
    vg_video_in_stats s;
    vg_video_in_get_stats(v, &s);
    printf("  damaged clip: %lld frames delivered, %lld corrupt pictures, %lld corrupt packets\n",
           (long long)n, (long long)s.corrupt_frames, (long long)s.corrupt_packets);
    VG_CHECK(s.corrupt_frames + s.corrupt_packets > 0);
    VG_CHECK(n > 100);
    /* skipped pictures keep their index: delivered + skipped = last index + 1 */
    VG_CHECK_INT_EQ(n + s.corrupt_frames, last + 1);
    av_frame_free(&f);
    vg_video_in_close(v);
    mu_rmtree(dir);
    free(dir);
    free(src);
}

/* ---- output ------------------------------------------------------------------ */

/* A w x h RGB24 picture whose content moves with t. */
static AVFrame *make_rgb(int w, int h, int t) {
    AVFrame *f = av_frame_alloc();
    f->format  = AV_PIX_FMT_RGB24;
    f->width   = w;
    f->height  = h;
    VG_CHECK(av_frame_get_buffer(f, 0) == 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *px = f->data[0] + y * f->linesize[0] + 3 * x;
            px[0]       = (uint8_t)(x + 4 * t);
            px[1]       = (uint8_t)(y * 2);
            px[2]       = (uint8_t)((x ^ y) + t);
        }
    return f;
}

static void write_clip(const char *path, int w, int h, AVRational rate, int n, bool frag) {
    vg_video_out_params p = vg_video_out_params_default();
    p.path                = path;
    p.width               = w;
    p.height              = h;
    p.frame_rate          = rate;
    p.fragmented          = frag;
    vg_video_out *v       = NULL;
    char          msg[512];
    vg_status     st = vg_video_out_open(&p, &v, msg, sizeof(msg));
    VG_CHECK_MSG(st == VG_OK, "open %s: %s", path, msg);
    for (int i = 0; i < n; i++) {
        AVFrame *f = make_rgb(w, h, i);
        VG_CHECK_OK(vg_video_out_write(v, f, i));
        av_frame_free(&f);
    }
    VG_CHECK_INT_EQ(vg_video_out_frames(v), n);
    st = vg_video_out_close(v, msg, sizeof(msg));
    VG_CHECK_MSG(st == VG_OK, "close %s: %s", path, msg);
}

static void test_encode_mp4(void) {
    mu_require_ffmpeg();
    char *dir = mu_tmpdir();
    char  path[4096];
    snprintf(path, sizeof(path), "%s/out.mp4", dir);
    write_clip(path, 320, 240, (AVRational){15, 1}, 30, false);
    mu_probe_info pi;
    VG_CHECK_MSG(mu_probe(path, &pi), "ffprobe cannot read %s", path);
    VG_CHECK_STR_EQ(pi.codec, "h264");
    VG_CHECK_INT_EQ(pi.width, 320);
    VG_CHECK_INT_EQ(pi.height, 240);
    VG_CHECK_INT_EQ(pi.rate_num, 15);
    VG_CHECK_INT_EQ(pi.rate_den, 1);
    VG_CHECK_INT_EQ(pi.frames, 30);

    /* odd sizes round down to even (yuv420p), fractional rates survive */
    snprintf(path, sizeof(path), "%s/odd.mp4", dir);
    write_clip(path, 161, 121, (AVRational){30000, 1001}, 12, false);
    VG_CHECK(mu_probe(path, &pi));
    VG_CHECK_INT_EQ(pi.width, 160);
    VG_CHECK_INT_EQ(pi.height, 120);
    VG_CHECK_INT_EQ(pi.rate_num, 30000);
    VG_CHECK_INT_EQ(pi.rate_den, 1001);
    VG_CHECK_INT_EQ(pi.frames, 12);

    /* fragmented MP4 */
    snprintf(path, sizeof(path), "%s/frag.mp4", dir);
    write_clip(path, 128, 96, (AVRational){25, 1}, 20, true);
    VG_CHECK(mu_probe(path, &pi));
    VG_CHECK_INT_EQ(pi.frames, 20);
    mu_rmtree(dir);
    free(dir);
}

/* Decode a real clip and re-encode it: same size, rate and frame count. */
static void test_transcode(void) {
    mu_require_ffmpeg();
    char         *src = shared_path("data/video/openpose_street_dance_720p.mp4");
    vg_video_in  *in  = open_in(src, NULL);
    vg_video_info info;
    vg_video_in_get_info(in, &info);
    char *dir = mu_tmpdir();
    char  path[4096];
    snprintf(path, sizeof(path), "%s/copy.mp4", dir);
    vg_video_out_params p = vg_video_out_params_default();
    p.path                = path;
    p.width               = info.width;
    p.height              = info.height;
    p.frame_rate          = info.frame_rate;
    p.time_base           = info.time_base;
    p.preset              = "ultrafast";
    vg_video_out *out     = NULL;
    char          msg[512];
    VG_CHECK_OK(vg_video_out_open(&p, &out, msg, sizeof(msg)));
    AVFrame            *f = av_frame_alloc();
    vg_video_frame_info fi;
    int                 n = 0;
    while (n < 60 && vg_video_in_read(in, f, &fi) == VG_OK) {
        VG_CHECK_OK(vg_video_out_write(out, f, fi.pts));
        n++;
    }
    VG_CHECK_OK(vg_video_out_close(out, msg, sizeof(msg)));
    mu_probe_info pi;
    VG_CHECK(mu_probe(path, &pi));
    VG_CHECK_INT_EQ(pi.width, 1280);
    VG_CHECK_INT_EQ(pi.height, 720);
    VG_CHECK_INT_EQ(pi.rate_num, 50);
    VG_CHECK_INT_EQ(pi.frames, 60);
    av_frame_free(&f);
    vg_video_in_close(in);
    mu_rmtree(dir);
    free(dir);
    free(src);
}

static void test_output_errors(void) {
    vg_video_out_params p = vg_video_out_params_default();
    vg_video_out       *v = (vg_video_out *)1;
    char                msg[512];
    VG_CHECK_STATUS(vg_video_out_open(&p, &v, msg, sizeof(msg)), VG_E_INVALID_ARG);
    VG_CHECK(v == NULL);
    p.path       = "/nonexistent-dir/out.mp4";
    p.width      = 64;
    p.height     = 48;
    p.frame_rate = (AVRational){10, 1};
    VG_CHECK_STATUS(vg_video_out_open(&p, &v, msg, sizeof(msg)), VG_E_IO);
    VG_CHECK_MSG(strstr(msg, "/nonexistent-dir/out.mp4") != NULL, "message: %s", msg);
    VG_CHECK_OK(vg_video_out_close(NULL, NULL, 0));
}

static const vg_test_case cases[] = {
    {"classify sources", test_classify},
    {"decode 540p clip", test_decode_540p},
    {"decode 720p clip", test_decode_720p},
    {"decode mpeg4 1080p clip", test_decode_mpeg4},
    {"missing file", test_missing_file},
    {"not a video, empty folder", test_not_a_video},
    {"image folder, glob, single image", test_image_folder},
    {"shared images glob", test_shared_images_glob},
    {"corrupt data skipped", test_corrupt_data},
    {"encode mp4 checked by ffprobe", test_encode_mp4},
    {"transcode real clip", test_transcode},
    {"output errors", test_output_errors},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    return vg_test_main(argc, argv, cases);
}
