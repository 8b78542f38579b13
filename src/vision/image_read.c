/*
 * image_read.c - still images into packed RGB24.
 *
 * DESIGN: JPEG goes through libjpeg(-turbo) with its default decompression
 * settings (islow IDCT, fancy upsampling, RGB output), because that is the
 * decoder every reference result of the project was computed from and
 * FFmpeg's MJPEG decoder rounds differently (different IDCT, chroma
 * upsampling in swscale). libjpeg's fatal errors are turned into a longjmp
 * back to the reader so a corrupt file is an error, not an exit(). Every
 * other format is opened with libavformat (image2 demuxer picks it by its
 * content), decoded with libavcodec and converted with swscale (format
 * conversion only, no resampling).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "vigil/alloc.h"
#include "vigil/topdown.h"

static vg_status ierr(char *err, size_t n, vg_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static vg_status ierr(char *err, size_t n, vg_status st, const char *fmt, ...) {
    if (err && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
    return st;
}

void vg_rgb_image_free(vg_rgb_image *img) {
    if (!img)
        return;
    vg_free(img->data);
    memset(img, 0, sizeof(*img));
}

vg_image vg_rgb_image_view(const vg_rgb_image *img) {
    vg_image v = {img->data, img->width, img->height, img->stride};
    return v;
}

/* ---- JPEG (libjpeg) ------------------------------------------------------------ */

struct jerr_jmp {
    struct jpeg_error_mgr mgr;
    jmp_buf               jb;
    char                  msg[JMSG_LENGTH_MAX];
};

static void jpeg_error_exit_jmp(j_common_ptr cinfo) {
    struct jerr_jmp *e = (struct jerr_jmp *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    longjmp(e->jb, 1);
}

static void jpeg_emit_quiet(j_common_ptr cinfo, int level) {
    (void)cinfo;
    (void)level; /* warnings (e.g. premature end of data) are not fatal */
}

static vg_status read_jpeg(FILE *f, const char *path, vg_rgb_image *out, char *err, size_t n) {
    struct jpeg_decompress_struct cinfo;
    struct jerr_jmp               je;
    uint8_t *volatile pixels = NULL;
    memset(&cinfo, 0, sizeof(cinfo));
    cinfo.err           = jpeg_std_error(&je.mgr);
    je.mgr.error_exit   = jpeg_error_exit_jmp;
    je.mgr.emit_message = jpeg_emit_quiet;
    je.msg[0]           = '\0';
    if (setjmp(je.jb)) {
        jpeg_destroy_decompress(&cinfo);
        vg_free(pixels);
        return ierr(err, n, VG_E_FORMAT, "%s: not a readable JPEG (%s)", path, je.msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    jpeg_read_header(&cinfo, TRUE);
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_components != 3 || cinfo.output_width == 0 || cinfo.output_height == 0 ||
        cinfo.output_width > 65535 || cinfo.output_height > 65535) {
        jpeg_destroy_decompress(&cinfo);
        return ierr(err, n, VG_E_FORMAT, "%s: unsupported JPEG layout (%u x %u, %d components)",
                    path, cinfo.output_width, cinfo.output_height, cinfo.output_components);
    }
    const int32_t w = (int32_t)cinfo.output_width, h = (int32_t)cinfo.output_height;
    pixels = vg_malloc((size_t)w * 3 * (size_t)h);
    if (!pixels) {
        jpeg_destroy_decompress(&cinfo);
        return ierr(err, n, VG_E_NOMEM, "%s: out of memory for %d x %d pixels", path, w, h);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * (size_t)w * 3;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    out->data   = pixels;
    out->width  = w;
    out->height = h;
    out->stride = 3 * w;
    return VG_OK;
}

/* ---- everything else (FFmpeg) ------------------------------------------------- */

static vg_status read_ffmpeg(const char *path, vg_rgb_image *out, char *err, size_t n) {
    AVFormatContext *fmt      = NULL;
    AVCodecContext  *dec      = NULL;
    AVPacket        *pkt      = NULL;
    AVFrame         *frame    = NULL;
    vg_frame_rgb    *conv     = NULL;
    vg_status        st       = VG_E_FORMAT;
    char             why[160] = "";

    if (avformat_open_input(&fmt, path, NULL, NULL) < 0) {
        snprintf(why, sizeof(why), "FFmpeg cannot open it as an image");
        goto done;
    }
    if (avformat_find_stream_info(fmt, NULL) < 0) {
        snprintf(why, sizeof(why), "no stream information");
        goto done;
    }
    const AVCodec *codec = NULL;
    int            si    = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (si < 0 || !codec) {
        snprintf(why, sizeof(why), "no picture in it");
        goto done;
    }
    dec   = avcodec_alloc_context3(codec);
    pkt   = av_packet_alloc();
    frame = av_frame_alloc();
    if (!dec || !pkt || !frame) {
        st = VG_E_NOMEM;
        goto done;
    }
    if (avcodec_parameters_to_context(dec, fmt->streams[si]->codecpar) < 0 ||
        avcodec_open2(dec, codec, NULL) < 0) {
        snprintf(why, sizeof(why), "cannot open the %s decoder", codec->name);
        goto done;
    }
    bool got = false;
    while (!got) {
        int r = av_read_frame(fmt, pkt);
        if (r < 0) {
            avcodec_send_packet(dec, NULL); /* drain */
        } else if (pkt->stream_index != si) {
            av_packet_unref(pkt);
            continue;
        } else {
            avcodec_send_packet(dec, pkt);
            av_packet_unref(pkt);
        }
        int rr = avcodec_receive_frame(dec, frame);
        if (rr == 0)
            got = true;
        else if (r < 0)
            break;
    }
    if (!got) {
        snprintf(why, sizeof(why), "the %s decoder produced no picture", codec->name);
        goto done;
    }
    vg_image img;
    if ((st = vg_frame_rgb_create(&conv)) != VG_OK)
        goto done;
    if ((st = vg_frame_rgb_convert(conv, frame, &img)) != VG_OK) {
        snprintf(why, sizeof(why), "cannot convert its pixel format to RGB");
        goto done;
    }
    out->data = vg_malloc((size_t)img.width * 3 * (size_t)img.height);
    if (!out->data) {
        st = VG_E_NOMEM;
        goto done;
    }
    for (int32_t y = 0; y < img.height; y++)
        memcpy(out->data + (size_t)y * (size_t)img.width * 3, img.data + (size_t)y * img.stride,
               (size_t)img.width * 3);
    out->width  = img.width;
    out->height = img.height;
    out->stride = 3 * img.width;
    st          = VG_OK;
done:
    vg_frame_rgb_destroy(conv);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
    if (st == VG_E_NOMEM)
        return ierr(err, n, st, "%s: out of memory", path);
    if (st != VG_OK)
        return ierr(err, n, st,
                    "%s: not a readable image (%s); use JPEG, PNG or another format "
                    "FFmpeg decodes",
                    path, why[0] ? why : vg_status_str(st));
    return VG_OK;
}

vg_status vg_rgb_image_read(const char *path, vg_rgb_image *out, char *err, size_t err_len) {
    if (out)
        memset(out, 0, sizeof(*out));
    if (err && err_len)
        err[0] = '\0';
    if (!path || !out)
        return ierr(err, err_len, VG_E_INVALID_ARG, "vg_rgb_image_read: NULL argument");
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return ierr(err, err_len, e == ENOENT ? VG_E_NOT_FOUND : VG_E_IO,
                    "%s: cannot open (%s); check the path", path, strerror(e));
    }
    unsigned char magic[3] = {0, 0, 0};
    size_t        got      = fread(magic, 1, sizeof(magic), f);
    if (got == 0) {
        fclose(f);
        return ierr(err, err_len, VG_E_FORMAT, "%s: empty file, not an image", path);
    }
    vg_status st;
    if (got == 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF) {
        rewind(f);
        st = read_jpeg(f, path, out, err, err_len);
        fclose(f);
    } else {
        fclose(f);
        st = read_ffmpeg(path, out, err, err_len);
    }
    return st;
}
