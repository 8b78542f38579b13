/*
 * video_out.c - encode pictures to H.264 (libx264) and mux them into MP4.
 *
 * DESIGN
 * open() builds the whole chain at once (muxer, encoder, stream, file,
 * header), so a bad path or a missing encoder fails before any frame is
 * produced. write() converts the picture with swscale when its format or
 * size differs from the encoder's yuv420p (the scaler context is cached and
 * the destination frame reused, so nothing is allocated per frame once the
 * input format is stable); a picture already in the right format is passed
 * by reference, with no pixel copy. Input pts are rescaled to the encoder's
 * time base (1/frame_rate) and forced to increase. close() drains the
 * encoder and writes the trailer; with `fragmented`, the MP4 is written as
 * self-contained fragments, so even a killed process leaves a playable file.
 * One thread uses a handle at a time.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include "core/core_impl.h"
#include "io/io_impl.h"
#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/video.h"

struct vg_video_out {
    vg_video_out_params p;
    AVFormatContext    *oc;
    AVCodecContext     *enc;
    AVStream           *st;
    AVPacket           *pkt;
    AVFrame            *conv; /* yuv420p scratch, reused */
    AVFrame            *ref;  /* shallow reference for pass-through */
    struct SwsContext  *sws;
    AVRational          in_tb;
    bool                header_written;
    int64_t             first_in_pts;
    int64_t             last_pts;
    int64_t             frames;
    char                errmsg[512];
};

static vg_status fail(vg_video_out *v, vg_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static vg_status fail(vg_video_out *v, vg_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->errmsg, sizeof(v->errmsg), fmt, ap);
    va_end(ap);
    return st;
}

vg_video_out_params vg_video_out_params_default(void) {
    return (vg_video_out_params){.crf = 23, .preset = "ultrafast"};
}

/* Frees everything without finalising. */
static void free_out(vg_video_out *v) {
    if (v->oc && v->oc->pb && !(v->oc->oformat->flags & AVFMT_NOFILE))
        avio_closep(&v->oc->pb);
    avformat_free_context(v->oc);
    avcodec_free_context(&v->enc);
    av_packet_free(&v->pkt);
    av_frame_free(&v->conv);
    av_frame_free(&v->ref);
    sws_freeContext(v->sws);
    vg_free(v);
}

vg_status vg_video_out_open(const vg_video_out_params *p, vg_video_out **out, char *errmsg,
                            size_t errmsg_size) {
    *out = NULL;
    if (errmsg && errmsg_size)
        errmsg[0] = '\0';
    if (!p || !p->path || !p->path[0] || p->width < 2 || p->height < 2 || p->frame_rate.num <= 0 ||
        p->frame_rate.den <= 0) {
        if (errmsg)
            snprintf(errmsg, errmsg_size,
                     "video output needs a path, a size of at least 2x2 and a frame rate > 0");
        return VG_E_INVALID_ARG;
    }
    vgi_av_log_init();
    vg_video_out *v = vg_calloc(1, sizeof(*v));
    if (!v)
        return VG_E_NOMEM;
    vg_status st;
    int       ret;
    v->p        = *p;
    v->p.width  = p->width & ~1;
    v->p.height = p->height & ~1;
    v->in_tb =
        p->time_base.num > 0 && p->time_base.den > 0 ? p->time_base : av_inv_q(p->frame_rate);
    v->first_in_pts = AV_NOPTS_VALUE;
    v->last_pts     = -1;
    if (!(v->pkt = av_packet_alloc()) || !(v->conv = av_frame_alloc()) ||
        !(v->ref = av_frame_alloc())) {
        st = VG_E_NOMEM;
        goto fail;
    }

    ret = avformat_alloc_output_context2(&v->oc, NULL, NULL, p->path);
    if (ret < 0 || !v->oc)
        ret = avformat_alloc_output_context2(&v->oc, NULL, "mp4", p->path);
    if (ret < 0 || !v->oc) {
        st = vgi_av_status(ret, v->errmsg, sizeof(v->errmsg), "'%s': cannot set up the muxer",
                           p->path);
        goto fail;
    }
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    if (!codec)
        codec = avcodec_find_encoder(AV_CODEC_ID_H264);
    if (!codec) {
        st = fail(v, VG_E_UNSUPPORTED,
                  "'%s': this FFmpeg has no H.264 encoder; install libavcodec with libx264",
                  p->path);
        goto fail;
    }
    if (!(v->enc = avcodec_alloc_context3(codec))) {
        st = VG_E_NOMEM;
        goto fail;
    }
    v->enc->width        = v->p.width;
    v->enc->height       = v->p.height;
    v->enc->pix_fmt      = AV_PIX_FMT_YUV420P;
    v->enc->time_base    = av_inv_q(p->frame_rate);
    v->enc->framerate    = p->frame_rate;
    v->enc->thread_count = p->threads;
    v->enc->gop_size     = VGI_MAX(1, (int)(2 * av_q2d(p->frame_rate) + 0.5));
    if (v->oc->oformat->flags & AVFMT_GLOBALHEADER)
        v->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary *eopts = NULL;
    if (!strcmp(codec->name, "libx264")) {
        char crf[16];
        snprintf(crf, sizeof(crf), "%d", p->crf);
        av_dict_set(&eopts, "preset", p->preset ? p->preset : "ultrafast", 0);
        av_dict_set(&eopts, "crf", crf, 0);
    }
    ret = avcodec_open2(v->enc, codec, &eopts);
    av_dict_free(&eopts);
    if (ret < 0) {
        st = vgi_av_status(ret, v->errmsg, sizeof(v->errmsg), "'%s': cannot open the %s encoder",
                           p->path, codec->name);
        goto fail;
    }
    if (!(v->st = avformat_new_stream(v->oc, NULL))) {
        st = VG_E_NOMEM;
        goto fail;
    }
    if ((ret = avcodec_parameters_from_context(v->st->codecpar, v->enc)) < 0) {
        st = vgi_av_status(ret, v->errmsg, sizeof(v->errmsg), "'%s': stream parameters", p->path);
        goto fail;
    }
    v->st->time_base      = v->enc->time_base;
    v->st->avg_frame_rate = p->frame_rate;
    v->st->r_frame_rate   = p->frame_rate;
    if (!(v->oc->oformat->flags & AVFMT_NOFILE) &&
        (ret = avio_open(&v->oc->pb, p->path, AVIO_FLAG_WRITE)) < 0) {
        st = vgi_av_status(ret, v->errmsg, sizeof(v->errmsg), "cannot create '%s'", p->path);
        if (st == VG_E_NOT_FOUND || st == VG_E_INVALID_ARG)
            st = VG_E_IO; /* a missing folder: still an I/O failure for the caller */
        goto fail;
    }
    AVDictionary *mopts = NULL;
    if (p->fragmented)
        av_dict_set(&mopts, "movflags", "frag_keyframe+empty_moov+default_base_moof", 0);
    ret = avformat_write_header(v->oc, &mopts);
    av_dict_free(&mopts);
    if (ret < 0) {
        st = vgi_av_status(ret, v->errmsg, sizeof(v->errmsg), "'%s': cannot write the header",
                           p->path);
        goto fail;
    }
    v->header_written = true;
    *out              = v;
    return VG_OK;

fail:
    if (errmsg)
        snprintf(errmsg, errmsg_size, "%s", v->errmsg[0] ? v->errmsg : vg_status_str(st));
    free_out(v);
    return st;
}

/* Sends frame (NULL: flush) and writes every packet that comes out. */
static vg_status encode(vg_video_out *v, AVFrame *frame) {
    int ret = avcodec_send_frame(v->enc, frame);
    if (ret < 0 && !(ret == AVERROR_EOF && !frame))
        return vgi_av_status(ret, v->errmsg, sizeof(v->errmsg), "'%s': encoding frame %lld",
                             v->p.path, (long long)v->frames) == VG_E_NOMEM
                   ? VG_E_NOMEM
                   : VG_E_BACKEND;
    for (;;) {
        ret = avcodec_receive_packet(v->enc, v->pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return VG_OK;
        if (ret < 0)
            return vgi_av_status(ret, v->errmsg, sizeof(v->errmsg), "'%s': encoder", v->p.path) ==
                           VG_E_NOMEM
                       ? VG_E_NOMEM
                       : VG_E_BACKEND;
        av_packet_rescale_ts(v->pkt, v->enc->time_base, v->st->time_base);
        v->pkt->stream_index = v->st->index;
        ret                  = av_interleaved_write_frame(v->oc, v->pkt);
        av_packet_unref(v->pkt);
        if (ret < 0) {
            vg_status st =
                vgi_av_status(ret, v->errmsg, sizeof(v->errmsg), "writing '%s'", v->p.path);
            return st == VG_E_NOMEM ? st : VG_E_IO;
        }
    }
}

vg_status vg_video_out_write(vg_video_out *v, const AVFrame *pic, int64_t pts) {
    if (!pic || pic->width <= 0 || pic->height <= 0 || pic->format < 0 || !pic->data[0])
        return fail(v, VG_E_INVALID_ARG, "'%s': frame %lld has no picture", v->p.path,
                    (long long)v->frames);
    /* Pts in the encoder's time base (= frame slots), increasing. */
    int64_t enc_pts;
    if (pts == AV_NOPTS_VALUE) {
        enc_pts = v->last_pts + 1;
    } else {
        if (v->first_in_pts == AV_NOPTS_VALUE)
            v->first_in_pts = pts;
        enc_pts = av_rescale_q_rnd(pts - v->first_in_pts, v->in_tb, v->enc->time_base,
                                   AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX);
    }
    if (enc_pts <= v->last_pts)
        enc_pts = v->last_pts + 1;

    AVFrame *src = NULL;
    int      ret;
    if (pic->format == AV_PIX_FMT_YUV420P && pic->width == v->p.width &&
        pic->height == v->p.height) {
        if ((ret = av_frame_ref(v->ref, pic)) < 0)
            return VG_E_NOMEM;
        src = v->ref;
    } else {
        v->sws =
            sws_getCachedContext(v->sws, pic->width, pic->height, pic->format, v->p.width,
                                 v->p.height, AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL, NULL);
        if (!v->sws)
            return fail(v, VG_E_INVALID_ARG, "'%s': cannot convert %dx%d %s pictures", v->p.path,
                        pic->width, pic->height,
                        av_get_pix_fmt_name(pic->format) ? av_get_pix_fmt_name(pic->format) : "?");
        if (!v->conv->data[0]) {
            v->conv->format = AV_PIX_FMT_YUV420P;
            v->conv->width  = v->p.width;
            v->conv->height = v->p.height;
            if (av_frame_get_buffer(v->conv, 0) < 0)
                return VG_E_NOMEM;
        }
        /* The encoder may still hold the buffer from the previous frame. */
        if (av_frame_make_writable(v->conv) < 0)
            return VG_E_NOMEM;
        sws_scale(v->sws, (const uint8_t *const *)pic->data, pic->linesize, 0, pic->height,
                  v->conv->data, v->conv->linesize);
        src = v->conv;
    }
    src->pts       = enc_pts;
    src->pict_type = AV_PICTURE_TYPE_NONE; /* let the encoder choose key frames */
    vg_status st   = encode(v, src);
    if (src == v->ref)
        av_frame_unref(v->ref);
    if (st != VG_OK)
        return st;
    v->last_pts = enc_pts;
    v->frames++;
    return VG_OK;
}

int64_t vg_video_out_frames(const vg_video_out *v) {
    return v->frames;
}

const char *vg_video_out_errmsg(const vg_video_out *v) {
    return v->errmsg;
}

vg_status vg_video_out_close(vg_video_out *v, char *errmsg, size_t errmsg_size) {
    if (errmsg && errmsg_size)
        errmsg[0] = '\0';
    if (!v)
        return VG_OK;
    v->errmsg[0] = '\0';
    vg_status st = encode(v, NULL);
    int       ret;
    if (v->header_written && (ret = av_write_trailer(v->oc)) < 0 && st == VG_OK) {
        st = vgi_av_status(ret, v->errmsg, sizeof(v->errmsg), "'%s': writing the trailer",
                           v->p.path);
        if (st != VG_E_NOMEM)
            st = VG_E_IO;
    }
    if (v->oc->pb && !(v->oc->oformat->flags & AVFMT_NOFILE) &&
        (ret = avio_closep(&v->oc->pb)) < 0 && st == VG_OK) {
        vgi_av_status(ret, v->errmsg, sizeof(v->errmsg), "closing '%s'", v->p.path);
        st = VG_E_IO;
    }
    if (st != VG_OK) {
        vg_log("video-out", VG_LOG_ERROR, "%s", v->errmsg);
        if (errmsg)
            snprintf(errmsg, errmsg_size, "%s", v->errmsg);
    }
    free_out(v);
    return st;
}
