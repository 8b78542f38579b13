/*
 * display.c - the SDL2 display sink: a window that shows annotated frames.
 *
 * DESIGN
 * open() (the caller's thread, before the run) initialises SDL video and
 * creates the window, a software renderer and a streaming ARGB8888 texture
 * (BGRA bytes on little-endian, the annotator's canvas layout), so that a
 * missing display stops the run before it starts. write() (the writer
 * thread) uploads the annotated picture, presents it and polls events: the
 * window's close button, q or Esc call on_quit (a stop request). close()
 * optionally reads the last picture back from the renderer into a PNG (the
 * test's screenshot), then destroys everything. SDL is only ever used by one
 * thread at a time: threads are created after open() and joined before
 * close(). Without VG_WITH_DISPLAY the create function reports
 * VG_E_UNSUPPORTED.
 */
#include <stdio.h>
#include <string.h>

#include "vigil/alloc.h"
#include "vigil/analytics.h"
#include "vigil/log.h"

#define LOG_CTX "display"

vg_display_sink_params vg_display_sink_params_default(void) {
    return (vg_display_sink_params){.title = "vigil", .max_width = 1280};
}

#ifdef VG_HAVE_SDL2

#include <SDL.h>

typedef struct display_sink {
    vg_display_sink_params p;
    char                   title[128];
    char                  *shot;
    SDL_Window            *win;
    SDL_Renderer          *ren;
    SDL_Texture           *tex;
    int                    w, h;
    bool                   sdl_up;
    bool                   quit_sent;
    bool                   presented;
} display_sink;

bool vg_display_available(void) {
    return true;
}

static void display_teardown(display_sink *s) {
    if (s->tex)
        SDL_DestroyTexture(s->tex);
    if (s->ren)
        SDL_DestroyRenderer(s->ren);
    if (s->win)
        SDL_DestroyWindow(s->win);
    s->tex = NULL;
    s->ren = NULL;
    s->win = NULL;
    if (s->sdl_up)
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
    s->sdl_up = false;
}

static vg_status display_open(void *ctx, const vg_video_info *info) {
    display_sink *s = ctx;
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
        vg_log(LOG_CTX, VG_LOG_ERROR,
               "cannot open a display (%s); run without --display, or set DISPLAY (for a "
               "virtual one: xvfb-run vigil run ...)",
               SDL_GetError());
        return VG_E_DEVICE;
    }
    s->sdl_up = true;
    s->w      = info->width > 0 ? info->width : 640;
    s->h      = info->height > 0 ? info->height : 480;
    int ww = s->w, wh = s->h;
    if (s->p.max_width > 0 && ww > s->p.max_width) {
        wh = (int)((int64_t)wh * s->p.max_width / ww);
        ww = s->p.max_width;
    }
    s->win = SDL_CreateWindow(s->title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, ww, wh,
                              SDL_WINDOW_SHOWN | SDL_WINDOW_RESIZABLE);
    if (s->win)
        s->ren = SDL_CreateRenderer(s->win, -1, SDL_RENDERER_SOFTWARE);
    if (s->ren)
        s->tex = SDL_CreateTexture(s->ren, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STREAMING,
                                   s->w, s->h);
    if (!s->tex) {
        vg_log(LOG_CTX, VG_LOG_ERROR, "cannot create the display window: %s", SDL_GetError());
        display_teardown(s);
        return VG_E_DEVICE;
    }
    SDL_SetRenderDrawColor(s->ren, 0, 0, 0, 255);
    SDL_RenderClear(s->ren);
    SDL_RenderPresent(s->ren);
    return VG_OK;
}

static void poll_events(display_sink *s) {
    SDL_Event e;
    while (SDL_PollEvent(&e)) {
        bool quit = e.type == SDL_QUIT ||
                    (e.type == SDL_WINDOWEVENT && e.window.event == SDL_WINDOWEVENT_CLOSE) ||
                    (e.type == SDL_KEYDOWN &&
                     (e.key.keysym.sym == SDLK_q || e.key.keysym.sym == SDLK_ESCAPE));
        if (quit && !s->quit_sent && s->p.on_quit) {
            s->quit_sent = true;
            s->p.on_quit(s->p.quit_user);
        }
    }
}

static vg_status display_write(void *ctx, const vg_frame *f) {
    display_sink  *s = ctx;
    const AVFrame *pic;
    vg_status      st = vg_annotator_render(s->p.annotator, f, &pic);
    if (st != VG_OK)
        return st;
    if (pic->width != s->w || pic->height != s->h) {
        SDL_DestroyTexture(s->tex);
        s->w   = pic->width;
        s->h   = pic->height;
        s->tex = SDL_CreateTexture(s->ren, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STREAMING,
                                   s->w, s->h);
        if (!s->tex) {
            vg_log(LOG_CTX, VG_LOG_ERROR, "frame %lld: cannot resize the display texture: %s",
                   (long long)f->index, SDL_GetError());
            return VG_E_DEVICE;
        }
    }
    if (SDL_UpdateTexture(s->tex, NULL, pic->data[0], pic->linesize[0]) != 0 ||
        SDL_RenderClear(s->ren) != 0 || SDL_RenderCopy(s->ren, s->tex, NULL, NULL) != 0) {
        vg_log(LOG_CTX, VG_LOG_ERROR, "frame %lld: display update failed: %s", (long long)f->index,
               SDL_GetError());
        return VG_E_DEVICE;
    }
    SDL_RenderPresent(s->ren);
    s->presented = true;
    poll_events(s);
    return VG_OK;
}

/* Reads the window's picture back from the renderer into a PNG. */
static vg_status take_screenshot(display_sink *s) {
    int w = 0, h = 0;
    if (SDL_GetRendererOutputSize(s->ren, &w, &h) != 0 || w <= 0 || h <= 0)
        return VG_E_DEVICE;
    /* The back buffer is undefined after a present: draw the last picture again. */
    SDL_RenderClear(s->ren);
    SDL_RenderCopy(s->ren, s->tex, NULL, NULL);
    size_t   stride = (size_t)w * 4;
    uint8_t *buf    = vg_malloc(stride * (size_t)h);
    if (!buf)
        return VG_E_NOMEM;
    vg_status st = VG_OK;
    if (SDL_RenderReadPixels(s->ren, NULL, SDL_PIXELFORMAT_ARGB8888, buf, (int)stride) != 0) {
        vg_log(LOG_CTX, VG_LOG_ERROR, "cannot read the window back: %s", SDL_GetError());
        st = VG_E_DEVICE;
    } else {
        vg_image_view v = {buf, w, h, (int32_t)stride, VG_PIXFMT_BGRA};
        st              = vg_image_write_png(&v, s->shot);
        if (st != VG_OK)
            vg_log(LOG_CTX, VG_LOG_ERROR, "cannot write the screenshot %s", s->shot);
    }
    vg_free(buf);
    return st;
}

static vg_status display_close(void *ctx) {
    display_sink *s  = ctx;
    vg_status     st = VG_OK;
    if (s->shot && s->ren && s->presented)
        st = take_screenshot(s);
    display_teardown(s);
    return st;
}

static void display_destroy(void *ctx) {
    display_sink *s = ctx;
    display_teardown(s);
    vg_free(s->shot);
    vg_free(s);
}

static const vg_sink_iface display_iface = {
    .name    = "display",
    .open    = display_open,
    .write   = display_write,
    .close   = display_close,
    .destroy = display_destroy,
};

vg_status vg_display_sink_create(const vg_display_sink_params *p, vg_sink *out) {
    if (!p || !out || !p->annotator)
        return VG_E_INVALID_ARG;
    display_sink *s = vg_calloc(1, sizeof(*s));
    if (!s)
        return VG_E_NOMEM;
    s->p = *p;
    snprintf(s->title, sizeof(s->title), "%s", p->title ? p->title : "vigil");
    s->p.title           = s->title;
    s->p.screenshot_path = NULL;
    if (p->screenshot_path) {
        size_t len = strlen(p->screenshot_path) + 1;
        if (!(s->shot = vg_malloc(len))) {
            vg_free(s);
            return VG_E_NOMEM;
        }
        memcpy(s->shot, p->screenshot_path, len);
    }
    *out = (vg_sink){&display_iface, s};
    return VG_OK;
}

#else /* !VG_HAVE_SDL2 */

bool vg_display_available(void) {
    return false;
}

vg_status vg_display_sink_create(const vg_display_sink_params *p, vg_sink *out) {
    (void)p;
    if (out)
        *out = (vg_sink){NULL, NULL};
    return VG_E_UNSUPPORTED;
}

#endif
