/*
 * vigil/video.h - video in (demux + decode) and video out (encode + mux)
 * through FFmpeg.
 *
 * Input: one vg_video_in reads any source FFmpeg can open and hands out
 * decoded pictures (AVFrame, native pixel format) with a frame index, a pts
 * and a capture timestamp:
 *   - a video file ("clip.mp4"), a single image ("person.jpg"),
 *   - a folder of images or a glob ("frames/", "frames/img_*.png"), read in
 *     sorted (strcmp) order as a clip at params.image_rate,
 *   - a stream URL (rtsp://, rtmp://, http(s)://, tcp://, udp://, rtp://,
 *     srt://),
 *   - a V4L2 camera ("/dev/video0").
 * Sources are classified as live (streams, cameras) or not (files, images).
 * A live source that ends, errors or stays silent for params.io_timeout_ns
 * is reopened with exponential backoff (params.reconnect_*), without the
 * caller noticing anything but a gap; its pts stay monotonic across
 * reconnects. Corrupt packets and pictures are skipped with a warning naming
 * the frame index.
 *
 * Output: vg_video_out writes an H.264 (libx264) MP4 at a given size and
 * frame rate from pictures of any pixel format and size (converted with
 * swscale to yuv420p); no audio. vg_video_out_close() writes the trailer, so
 * a run that is stopped early still leaves a playable file.
 *
 * Thread safety: one handle is used by one thread at a time, except
 * vg_video_in_interrupt(), which may be called from any thread and from a
 * signal handler.
 */
#ifndef VG_VIDEO_H
#define VG_VIDEO_H

#include <stdbool.h>
#include <stdint.h>

#include <libavutil/frame.h>
#include <libavutil/rational.h>

#include "vigil/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- input --------------------------------------------------------------- */

typedef enum vg_source_kind {
    VG_SOURCE_FILE = 0, /* a video file */
    VG_SOURCE_IMAGE,    /* one image file */
    VG_SOURCE_IMAGES,   /* a folder or glob of images */
    VG_SOURCE_STREAM,   /* a network URL */
    VG_SOURCE_CAMERA,   /* a V4L2 device */
} vg_source_kind;

typedef enum vg_live_mode {
    VG_LIVE_AUTO = 0, /* streams and cameras are live; http(s) when it has no duration */
    VG_LIVE_ON,       /* treat as live (e.g. a file paced with params.realtime) */
    VG_LIVE_OFF,      /* treat as a file: no reconnects, no read timeout */
} vg_live_mode;

/* What a source is; filled by vg_video_in_get_info(). Also what sinks need
 * to open (vg_sink_iface.open). */
typedef struct vg_video_info {
    vg_source_kind kind;
    bool           live;
    int            width, height; /* of the first picture */
    int            pix_fmt;       /* enum AVPixelFormat of the decoder */
    AVRational     time_base;     /* of vg_video_frame_info.pts */
    AVRational     frame_rate;    /* nominal; 25/1 when the source does not say */
    int64_t        nb_frames;     /* known or estimated frame count; -1 unknown (live) */
    const char    *codec;         /* decoder name; borrowed, valid until close */
    const char    *uri;           /* as given; borrowed, valid until close */
} vg_video_info;

/* Per-picture data returned by vg_video_in_read(). */
typedef struct vg_video_frame_info {
    int64_t index;      /* 0-based position in decode order; skipped corrupt
                           pictures keep their index, so gaps show them */
    int64_t pts;        /* in vg_video_info.time_base; monotonic */
    double  time_s;     /* pts relative to the first picture, seconds */
    int64_t capture_ns; /* vg_clock_ns() when the picture left the decoder */
    int32_t image;      /* image sets: index into the sorted list; else -1 */
} vg_video_frame_info;

/* Counters of a vg_video_in (totals since open). */
typedef struct vg_video_in_stats {
    int64_t frames;          /* pictures returned */
    int64_t corrupt_packets; /* packets the decoder rejected */
    int64_t corrupt_frames;  /* pictures flagged corrupt and skipped */
    int64_t reconnects;      /* successful reopens of a live source */
} vg_video_in_stats;

typedef struct vg_video_in_params {
    const char *uri;                   /* required; see the list at the top */
    const char *format;                /* force a demuxer ("v4l2", "mpegts"); NULL: probe */
    const char *av_options;            /* demuxer/protocol options "k=v,k=v" (e.g.
                                          "rtsp_transport=tcp,video_size=640x480"); may be NULL */
    vg_live_mode live;                 /* default VG_LIVE_AUTO */
    bool         realtime;             /* pace reading at the pts (simulate a live camera
                                          with a file); default false */
    int decode_threads;                /* 0: FFmpeg's automatic choice; live sources use
                                          slice threads only (no frame-thread latency) */
    AVRational image_rate;             /* frame rate given to image sets; default 1/1 */
    int        reconnect_attempts;     /* per outage, live only; < 0: forever; default 10 */
    int64_t    reconnect_delay_ns;     /* first backoff delay; default 500 ms */
    int64_t    reconnect_max_delay_ns; /* backoff cap (doubling); default 5 s */
    int64_t    open_timeout_ns;        /* network opens; default 10 s; 0: none */
    int64_t    io_timeout_ns;          /* live: silence that counts as a disconnect;
                                          default 5 s; 0: none */
    int max_corrupt_run;               /* consecutive corrupt packets/pictures before
                                          giving up with VG_E_FORMAT; default 100 */
} vg_video_in_params;

typedef struct vg_video_in vg_video_in;

/* Defaults as documented beside each field (uri NULL). */
vg_video_in_params vg_video_in_params_default(void);

/*
 * Classifies a source string without opening it (see vg_source_kind).
 * Returns VG_SOURCE_FILE for anything that is not recognisably another kind.
 */
vg_source_kind vg_source_kind_of(const char *uri);

/* Short name of a kind ("file", "image", "images", "stream", "camera"). */
const char *vg_source_kind_name(vg_source_kind k);

/*
 * Opens a source and its video decoder. A live source whose first open fails
 * is retried like a reconnect (so a camera or stream may come up late).
 * Returns VG_OK, or:
 *   VG_E_INVALID_ARG  no uri, or bad av_options text
 *   VG_E_NOT_FOUND    no such file, or an empty folder/glob
 *   VG_E_FORMAT       not a readable video/image, or no video stream
 *   VG_E_UNSUPPORTED  no decoder/demuxer/protocol for it
 *   VG_E_IO           open failed (network: after the reconnect attempts)
 *   VG_E_CLOSED       interrupted by vg_video_in_interrupt()
 *   VG_E_NOMEM
 * On failure *out is NULL and, if errmsg is not NULL, a message naming the
 * source and what to do is written into errmsg (always NUL-terminated).
 * Caller frees with vg_video_in_close().
 */
vg_status vg_video_in_open(const vg_video_in_params *p, vg_video_in **out, char *errmsg,
                           size_t errmsg_size);

/* Closes the source and frees it. NULL is a no-op. */
void vg_video_in_close(vg_video_in *v);

/*
 * Decodes the next picture into dst (which is unreferenced first; on VG_OK it
 * holds a new reference to the decoder's buffer, dst->pts set to info->pts).
 * info may be NULL. Returns:
 *   VG_OK        a picture
 *   VG_E_EOF     end of the file / image set (not returned for live sources
 *                unless reconnecting gave up; see VG_E_IO)
 *   VG_E_CLOSED  vg_video_in_interrupt() was called
 *   VG_E_IO      a live source could not be reopened within the attempts,
 *                or a file read failed
 *   VG_E_FORMAT  more than max_corrupt_run corrupt packets in a row
 *   VG_E_NOMEM
 * vg_video_in_errmsg() tells more after a failure.
 */
vg_status vg_video_in_read(vg_video_in *v, AVFrame *dst, vg_video_frame_info *info);

/*
 * Makes a blocking open/read/backoff return VG_E_CLOSED as soon as possible,
 * now and for every later call. Async-signal-safe (one atomic store); MT safe.
 */
void vg_video_in_interrupt(vg_video_in *v);

/* Fills *out; pointers in it are borrowed and valid until close. */
void vg_video_in_get_info(const vg_video_in *v, vg_video_info *out);
void vg_video_in_get_stats(const vg_video_in *v, vg_video_in_stats *out);

/* The last error message ("" if none). Borrowed; valid until the next call on v. */
const char *vg_video_in_errmsg(const vg_video_in *v);

/* ---- output -------------------------------------------------------------- */

typedef struct vg_video_out_params {
    const char *path;      /* required; the container follows the extension
                              (.mp4, .mkv, .mov), MP4 when unknown */
    int        width;      /* required; rounded down to even (yuv420p) */
    int        height;     /* required; rounded down to even */
    AVRational frame_rate; /* required, > 0 */
    AVRational time_base;  /* of the pts given to vg_video_out_write();
                              {0, 0}: 1/frame_rate (pts = frame number) */
    int         crf;       /* x264 constant rate factor; default 23 */
    const char *preset;    /* x264 preset; default "ultrafast": about 3x the speed of
                              "veryfast" for 3x the bytes, so the writer keeps up
                              with real time on small CPUs */
    int  threads;          /* encoder threads; 0: automatic */
    bool fragmented;       /* fragmented MP4: playable even if the process is
                              killed before close; default false */
} vg_video_out_params;

typedef struct vg_video_out vg_video_out;

/* Defaults as documented beside each field (path NULL, size 0). */
vg_video_out_params vg_video_out_params_default(void);

/*
 * Creates the file and the H.264 encoder. Returns VG_OK, VG_E_INVALID_ARG
 * (missing path, size < 2 or bad rate), VG_E_UNSUPPORTED (no libx264 / H.264
 * encoder in this FFmpeg), VG_E_IO (cannot create the file) or VG_E_NOMEM.
 * On failure *out is NULL and errmsg (if not NULL) says why. Caller must
 * vg_video_out_close().
 */
vg_status vg_video_out_open(const vg_video_out_params *p, vg_video_out **out, char *errmsg,
                            size_t errmsg_size);

/*
 * Encodes one picture (borrowed; not modified) of any pixel format and size
 * with presentation time pts in params.time_base (AV_NOPTS_VALUE: the next
 * frame slot). Pts that do not increase are moved up to keep the stream
 * valid. Returns VG_OK, VG_E_IO (write failed), VG_E_INVALID_ARG (unusable
 * picture), VG_E_BACKEND (encoder error) or VG_E_NOMEM.
 */
vg_status vg_video_out_write(vg_video_out *v, const AVFrame *pic, int64_t pts);

/* Frames encoded so far. */
int64_t vg_video_out_frames(const vg_video_out *v);

/* The last error message ("" if none). Borrowed; valid until the next call on v. */
const char *vg_video_out_errmsg(const vg_video_out *v);

/*
 * Flushes the encoder, writes the trailer, closes the file and frees v, in
 * every case. Returns the first error met while finalising (VG_OK when the
 * file is complete); errmsg (if not NULL) says why. NULL is a no-op (VG_OK).
 */
vg_status vg_video_out_close(vg_video_out *v, char *errmsg, size_t errmsg_size);

#ifdef __cplusplus
}
#endif

#endif /* VG_VIDEO_H */
