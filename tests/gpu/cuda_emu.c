/*
 * cuda_emu.c - host emulation of the CUDA runtime, cuDNN, cuBLAS and the cuda
 * backend's kernel launchers (see cuda_emu.h). Single-threaded, for tests.
 *
 * The kernels are emulated with the very element functions the device code
 * uses (cuda_impl.h); cuDNN's forward convolution with the backend's direct
 * convolution element, driven only by the descriptors (formats, dims, pads,
 * strides, dilations, groups), so the emulation checks what the backend tells
 * cuDNN; cuBLAS's strided batched GEMM is a plain column-major loop.
 */
#include "cuda_emu.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda_impl.h"
#include "vigil/tensor.h"

/* ---- device memory ----------------------------------------------------------------------- */

#define MAX_ALLOCS 8192

static struct {
    char  *p;
    size_t n;
} g_dev[MAX_ALLOCS];
static int g_n_dev;
static int g_cudnn = 1;

int vgi_emu_live_allocations(void) {
    return g_n_dev;
}

void vgi_emu_set_cudnn(int available) {
    g_cudnn = available;
}

static bool is_dev(const void *p, size_t bytes) {
    for (int i = 0; i < g_n_dev; i++)
        if ((const char *)p >= g_dev[i].p && (const char *)p + bytes <= g_dev[i].p + g_dev[i].n)
            return true;
    return false;
}

static void need_dev(const void *p, size_t bytes, const char *what) {
    if (bytes && !is_dev(p, bytes)) {
        fprintf(stderr, "cuda emulation: %s: %zu bytes at %p are not in device memory\n", what,
                bytes, p);
        abort();
    }
}

cudaError_t cudaMalloc(void **p, size_t n) {
    if (g_n_dev == MAX_ALLOCS)
        return cudaErrorMemoryAllocation;
    char *m = malloc(n ? n : 1);
    if (!m)
        return cudaErrorMemoryAllocation;
    memset(m, 0xff, n); /* NaN poison: reads before writes show */
    g_dev[g_n_dev].p   = m;
    g_dev[g_n_dev++].n = n;
    *p                 = m;
    return cudaSuccess;
}

cudaError_t cudaFree(void *p) {
    if (!p)
        return cudaSuccess;
    for (int i = 0; i < g_n_dev; i++)
        if (g_dev[i].p == p) {
            free(p);
            g_dev[i] = g_dev[--g_n_dev];
            return cudaSuccess;
        }
    fprintf(stderr, "cuda emulation: cudaFree of %p, not a device allocation\n", p);
    abort();
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t n, enum cudaMemcpyKind kind) {
    if (kind == cudaMemcpyHostToDevice) {
        need_dev(dst, n, "cudaMemcpy H2D destination");
        if (is_dev(src, n ? n : 1))
            abort();
    } else if (kind == cudaMemcpyDeviceToHost) {
        need_dev(src, n, "cudaMemcpy D2H source");
        if (is_dev(dst, n ? n : 1))
            abort();
    }
    memcpy(dst, src, n);
    return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, enum cudaMemcpyKind kind,
                            cudaStream_t s) {
    (void)s;
    return cudaMemcpy(dst, src, n, kind);
}

cudaError_t cudaMemsetAsync(void *dst, int value, size_t n, cudaStream_t s) {
    (void)s;
    need_dev(dst, n, "cudaMemsetAsync");
    memset(dst, value, n);
    return cudaSuccess;
}

cudaError_t cudaGetDeviceCount(int *n) {
    *n = 1;
    return cudaSuccess;
}

cudaError_t cudaSetDevice(int d) {
    return d == 0 ? cudaSuccess : cudaErrorInvalidDevice;
}

const char *cudaGetErrorString(cudaError_t e) {
    return e == cudaSuccess ? "no error (emulated)" : "error (emulated)";
}

const char *cudaGetErrorName(cudaError_t e) {
    return e == cudaSuccess ? "cudaSuccess" : "cudaError";
}

cudaError_t cudaGetLastError(void) {
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t *free_b, size_t *total_b) {
    *free_b = *total_b = (size_t)1 << 30;
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t s) {
    (void)s;
    return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned int flags) {
    (void)flags;
    *s = (cudaStream_t)(uintptr_t)0x5157;
    return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t s) {
    (void)s;
    return cudaSuccess;
}

cudaError_t cudaHostAlloc(void **p, size_t n, unsigned int flags) {
    (void)flags;
    *p = aligned_alloc(4096, (n + 4095) & ~(size_t)4095);
    return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}

cudaError_t cudaFreeHost(void *p) {
    free(p);
    return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *p, int d) {
    (void)d;
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "emulated GPU");
    p->major = 9, p->minor = 0, p->totalGlobalMem = (size_t)1 << 30, p->multiProcessorCount = 1;
    return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int *v) {
    *v = 13000;
    return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int *v) {
    *v = 13000;
    return cudaSuccess;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t s, enum cudaStreamCaptureMode mode) {
    (void)s, (void)mode;
    return cudaErrorStreamCaptureUnsupported;
}

cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *g) {
    (void)s;
    *g = NULL;
    return cudaErrorStreamCaptureInvalidated;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t *e, cudaGraph_t g, unsigned long long flags) {
    (void)e, (void)g, (void)flags;
    return cudaErrorNotSupported;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t e, cudaStream_t s) {
    (void)e, (void)s;
    abort(); /* never instantiated */
}

cudaError_t cudaGraphDestroy(cudaGraph_t g) {
    (void)g;
    return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t e) {
    (void)e;
    return cudaSuccess;
}

/* ---- cuDNN ---------------------------------------------------------------------------------- */

struct cudnnTensorStruct {
    cudnnTensorFormat_t fmt;
    cudnnDataType_t     dt;
    int                 n, c, h, w;
};
struct cudnnFilterStruct {
    cudnnTensorFormat_t fmt;
    cudnnDataType_t     dt;
    int                 k, c, h, w;
};
struct cudnnConvolutionStruct {
    int pad_h, pad_w, u, v, dh, dw, groups;
};
struct cudnnActivationStruct {
    cudnnActivationMode_t mode;
};

#define DNN_NEW(type, out)                                                                         \
    do {                                                                                           \
        if (!g_cudnn)                                                                              \
            return CUDNN_STATUS_NOT_SUPPORTED;                                                     \
        *(out) = calloc(1, sizeof(**(out)));                                                       \
        return *(out) ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_ALLOC_FAILED;                          \
    } while (0)

cudnnStatus_t cudnnCreate(cudnnHandle_t *h) {
    *h = (cudnnHandle_t)(uintptr_t)0xd00;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroy(cudnnHandle_t h) {
    (void)h;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetStream(cudnnHandle_t h, cudaStream_t s) {
    (void)h, (void)s;
    return CUDNN_STATUS_SUCCESS;
}
const char *cudnnGetErrorString(cudnnStatus_t s) {
    return s == CUDNN_STATUS_SUCCESS ? "success (emulated)" : "failure (emulated)";
}
void cudnnGetLastErrorString(char *message, size_t max_size) {
    if (message && max_size)
        message[0] = '\0';
}
size_t cudnnGetVersion(void) {
    return 91300;
}
cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t *d) {
    DNN_NEW(struct cudnnTensorStruct, d);
}
cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t d) {
    free(d);
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t d, cudnnTensorFormat_t f,
                                         cudnnDataType_t dt, int n, int c, int h, int w) {
    d->fmt = f, d->dt = dt, d->n = n, d->c = c, d->h = h, d->w = w;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t *d) {
    DNN_NEW(struct cudnnFilterStruct, d);
}
cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t d) {
    free(d);
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t d, cudnnDataType_t dt,
                                         cudnnTensorFormat_t f, int k, int c, int h, int w) {
    d->fmt = f, d->dt = dt, d->k = k, d->c = c, d->h = h, d->w = w;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t *d) {
    DNN_NEW(struct cudnnConvolutionStruct, d);
}
cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t d) {
    free(d);
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t d, int pad_h, int pad_w,
                                              int u, int v, int dh, int dw,
                                              cudnnConvolutionMode_t mode,
                                              cudnnDataType_t        compute) {
    if (mode != CUDNN_CROSS_CORRELATION || compute != CUDNN_DATA_FLOAT)
        return CUDNN_STATUS_BAD_PARAM;
    d->pad_h = pad_h, d->pad_w = pad_w, d->u = u, d->v = v, d->dh = dh, d->dw = dw, d->groups = 1;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolutionGroupCount(cudnnConvolutionDescriptor_t d, int g) {
    d->groups = g;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t d, cudnnMathType_t m) {
    (void)d, (void)m;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnGetConvolution2dForwardOutputDim(const cudnnConvolutionDescriptor_t cd,
                                                    const cudnnTensorDescriptor_t      x,
                                                    const cudnnFilterDescriptor_t w, int *n, int *c,
                                                    int *h, int *wo) {
    if (x->c != w->c * cd->groups || x->fmt != w->fmt || x->dt != w->dt)
        return CUDNN_STATUS_BAD_PARAM;
    *n  = x->n;
    *c  = w->k;
    *h  = (x->h + 2 * cd->pad_h - ((w->h - 1) * cd->dh + 1)) / cd->u + 1;
    *wo = (x->w + 2 * cd->pad_w - ((w->w - 1) * cd->dw + 1)) / cd->v + 1;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnCreateActivationDescriptor(cudnnActivationDescriptor_t *d) {
    DNN_NEW(struct cudnnActivationStruct, d);
}
cudnnStatus_t cudnnDestroyActivationDescriptor(cudnnActivationDescriptor_t d) {
    free(d);
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetActivationDescriptor(cudnnActivationDescriptor_t d,
                                           cudnnActivationMode_t mode, cudnnNanPropagation_t nan,
                                           double coef) {
    (void)nan, (void)coef;
    d->mode = mode;
    return CUDNN_STATUS_SUCCESS;
}

static int g_algo_flip; /* alternate the "best" algorithm so both fusion paths run */

/* Two results, fastest first, rotating through: GEMM clearly fastest (no IDENTITY
 * fusion), GEMM slightly faster (fusion with IMPLICIT_PRECOMP_GEMM and its larger
 * workspace), IMPLICIT_PRECOMP_GEMM fastest. */
static void fill_perf(cudnnConvolutionFwdAlgoPerf_t *p, int *got) {
    int   v     = g_algo_flip++ % 3;
    bool  gemm0 = v < 2;
    float t1    = v == 0 ? 1.5f : 1.05f;
    memset(p, 0, 2 * sizeof(*p));
    p[0].algo =
        gemm0 ? CUDNN_CONVOLUTION_FWD_ALGO_GEMM : CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
    p[1].algo =
        gemm0 ? CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM : CUDNN_CONVOLUTION_FWD_ALGO_GEMM;
    p[0].memory = 4096;
    p[1].memory = 8192;
    p[0].time   = 1.0f;
    p[1].time   = t1;
    p[0].status = p[1].status = CUDNN_STATUS_SUCCESS;
    *got                      = 2;
}

cudnnStatus_t cudnnFindConvolutionForwardAlgorithmEx(
    cudnnHandle_t h, const cudnnTensorDescriptor_t xd, const void *x,
    const cudnnFilterDescriptor_t wd, const void *w, const cudnnConvolutionDescriptor_t cd,
    const cudnnTensorDescriptor_t yd, void *y, const int req, int *got,
    cudnnConvolutionFwdAlgoPerf_t *perf, void *ws, size_t ws_bytes) {
    (void)h, (void)xd, (void)wd, (void)cd, (void)yd, (void)req, (void)ws_bytes;
    need_dev(x, 1, "Find x");
    need_dev(w, 1, "Find w");
    need_dev(y, 1, "Find y");
    if (ws)
        need_dev(ws, ws_bytes, "Find workspace");
    fill_perf(perf, got);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(
    cudnnHandle_t h, const cudnnTensorDescriptor_t xd, const cudnnFilterDescriptor_t wd,
    const cudnnConvolutionDescriptor_t cd, const cudnnTensorDescriptor_t yd, const int req,
    int *got, cudnnConvolutionFwdAlgoPerf_t *perf) {
    (void)h, (void)xd, (void)wd, (void)cd, (void)yd, (void)req;
    fill_perf(perf, got);
    return CUDNN_STATUS_SUCCESS;
}

static vgi_cu_act4 act4_of(cudnnTensorFormat_t f, int n, int c, int h, int w) {
    vgi_cu_act4 a = {n, c, h, w, 0, 0, 0, 0};
    if (f == CUDNN_TENSOR_NHWC)
        a.sc = 1, a.sw = c, a.sh = (int64_t)w * c, a.sn = (int64_t)h * w * c;
    else
        a.sw = 1, a.sh = w, a.sc = (int64_t)h * w, a.sn = (int64_t)c * h * w;
    return a;
}

static cudnnStatus_t emu_conv(const cudnnTensorDescriptor_t xd, const void *x,
                              const cudnnFilterDescriptor_t wd, const void *w,
                              const cudnnConvolutionDescriptor_t cd, size_t ws_bytes, void *ws,
                              const cudnnTensorDescriptor_t yd, void *y, const float *bias,
                              const void *z, float zscale, int act) {
    int n, c, h, wo;
    if (cudnnGetConvolution2dForwardOutputDim(cd, xd, wd, &n, &c, &h, &wo) || n != yd->n ||
        c != yd->c || h != yd->h || wo != yd->w || yd->dt != xd->dt || yd->fmt != xd->fmt ||
        ws_bytes < 4096)
        return CUDNN_STATUS_BAD_PARAM;
    int    dt = xd->dt == CUDNN_DATA_HALF ? 1 : 0;
    size_t es = dt ? 2 : 4;
    need_dev(x, (size_t)xd->n * xd->c * xd->h * xd->w * es, "conv x");
    need_dev(w, (size_t)wd->k * wd->c * wd->h * wd->w * es, "conv w");
    need_dev(y, (size_t)yd->n * yd->c * yd->h * yd->w * es, "conv y");
    need_dev(ws, ws_bytes, "conv workspace");
    vgi_cu_conv_args a;
    memset(&a, 0, sizeof(a));
    a.x  = act4_of(xd->fmt, xd->n, xd->c, xd->h, xd->w);
    a.y  = act4_of(yd->fmt, yd->n, yd->c, yd->h, yd->w);
    a.kh = wd->h, a.kw = wd->w, a.sh = cd->u, a.sw = cd->v, a.dh = cd->dh, a.dw = cd->dw;
    a.pad_t = cd->pad_h, a.pad_l = cd->pad_w, a.groups = cd->groups;
    int64_t C = wd->c, KH = wd->h, KW = wd->w;
    if (wd->fmt == CUDNN_TENSOR_NHWC) /* KRSC */
        a.wso = KH * KW * C, a.wsh = KW * C, a.wsw = C, a.wsi = 1;
    else /* KCRS */
        a.wso = C * KH * KW, a.wsi = KH * KW, a.wsh = KW, a.wsw = 1;
    a.w           = w;
    a.bias        = bias;
    a.act         = VGI_CU_ACT_NONE;
    int64_t total = a.y.N * a.y.C * a.y.H * a.y.W;
    if (z)
        need_dev(z, (size_t)total * es, "conv z");
    for (int64_t i = 0; i < total; i++) {
        int64_t b, co, oh, ow;
        vgi_cu_split4(&a.y, i, &b, &co, &oh, &ow);
        float   v = vgi_cu_conv_elem(&a, dt, x, b, co, oh, ow);
        int64_t o = b * a.y.sn + co * a.y.sc + oh * a.y.sh + ow * a.y.sw;
        if (z) /* read even when zscale is 0: cuDNN does not promise to skip it */
            v += zscale * vgi_cu_ld(z, o, dt);
        v = vgi_cu_act_apply(act, 0.0f, 0.0f, v);
        if (dt)
            ((uint16_t *)y)[o] = vg_f32_to_f16(v);
        else
            ((float *)y)[o] = v;
    }
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t h, const void *alpha,
                                      const cudnnTensorDescriptor_t xd, const void *x,
                                      const cudnnFilterDescriptor_t wd, const void *w,
                                      const cudnnConvolutionDescriptor_t cd,
                                      cudnnConvolutionFwdAlgo_t algo, void *ws, size_t wsb,
                                      const void *beta, const cudnnTensorDescriptor_t yd, void *y) {
    (void)h, (void)algo;
    if (*(const float *)alpha != 1.0f || *(const float *)beta != 0.0f)
        return CUDNN_STATUS_BAD_PARAM;
    return emu_conv(xd, x, wd, w, cd, wsb, ws, yd, y, NULL, NULL, 0.0f, VGI_CU_ACT_NONE);
}

cudnnStatus_t cudnnConvolutionBiasActivationForward(
    cudnnHandle_t h, const void *alpha1, const cudnnTensorDescriptor_t xd, const void *x,
    const cudnnFilterDescriptor_t wd, const void *w, const cudnnConvolutionDescriptor_t cd,
    cudnnConvolutionFwdAlgo_t algo, void *ws, size_t wsb, const void *alpha2,
    const cudnnTensorDescriptor_t zd, const void *z, const cudnnTensorDescriptor_t bd,
    const void *bias, const cudnnActivationDescriptor_t ad, const cudnnTensorDescriptor_t yd,
    void *y) {
    (void)h, (void)z;
    float a2 = *(const float *)alpha2;
    if (*(const float *)alpha1 != 1.0f || (a2 != 0.0f && a2 != 1.0f) || zd != yd ||
        bd->c != yd->c || bd->n != 1 || bd->h != 1 || bd->w != 1 || bd->dt != yd->dt ||
        (ad->mode != CUDNN_ACTIVATION_RELU && ad->mode != CUDNN_ACTIVATION_IDENTITY))
        return CUDNN_STATUS_BAD_PARAM;
    /* cuDNN's documented restriction */
    if (ad->mode == CUDNN_ACTIVATION_IDENTITY &&
        algo != CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM)
        return CUDNN_STATUS_NOT_SUPPORTED;
    /* cuDNN 9 wants the bias in y's type (a float bias with half y is refused:
     * "biasType != biasTensor->getDataType()"); it adds it in float */
    bool half = bd->dt == CUDNN_DATA_HALF;
    need_dev(bias, (size_t)bd->c * (half ? 2 : 4), "conv bias");
    if (a2 != 0.0f && z == y) /* the backend passes z only as a separate residual */
        abort();
    float *bf = NULL;
    if (half) {
        if (!(bf = malloc((size_t)bd->c * sizeof(float))))
            abort();
        for (int i = 0; i < bd->c; i++)
            bf[i] = vg_f16_to_f32(((const uint16_t *)bias)[i]);
    }
    cudnnStatus_t st =
        emu_conv(xd, x, wd, w, cd, wsb, ws, yd, y, half ? bf : bias, z, a2,
                 ad->mode == CUDNN_ACTIVATION_RELU ? VGI_CU_ACT_RELU : VGI_CU_ACT_NONE);
    free(bf);
    return st;
}

static void bwd_perf(cudnnConvolutionBwdDataAlgoPerf_t *p, int *got) {
    memset(p, 0, sizeof(*p));
    p->algo   = CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
    p->status = CUDNN_STATUS_SUCCESS;
    p->memory = 2048;
    *got      = 1;
}

cudnnStatus_t cudnnFindConvolutionBackwardDataAlgorithmEx(
    cudnnHandle_t h, const cudnnFilterDescriptor_t wd, const void *w,
    const cudnnTensorDescriptor_t dyd, const void *dy, const cudnnConvolutionDescriptor_t cd,
    const cudnnTensorDescriptor_t dxd, void *dx, const int req, int *got,
    cudnnConvolutionBwdDataAlgoPerf_t *perf, void *ws, size_t wsb) {
    (void)h, (void)wd, (void)dyd, (void)cd, (void)dxd, (void)req;
    need_dev(w, 1, "bwd Find w");
    need_dev(dy, 1, "bwd Find dy");
    need_dev(dx, 1, "bwd Find dx");
    if (ws)
        need_dev(ws, wsb, "bwd Find workspace");
    bwd_perf(perf, got);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(
    cudnnHandle_t h, const cudnnFilterDescriptor_t wd, const cudnnTensorDescriptor_t dyd,
    const cudnnConvolutionDescriptor_t cd, const cudnnTensorDescriptor_t dxd, const int req,
    int *got, cudnnConvolutionBwdDataAlgoPerf_t *perf) {
    (void)h, (void)wd, (void)dyd, (void)cd, (void)dxd, (void)req;
    bwd_perf(perf, got);
    return CUDNN_STATUS_SUCCESS;
}

/* dx = the transposed convolution of dy: checked against the forward geometry (dx -> dy). */
cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t h, const void *alpha,
                                           const cudnnFilterDescriptor_t wd, const void *w,
                                           const cudnnTensorDescriptor_t dyd, const void *dy,
                                           const cudnnConvolutionDescriptor_t cd,
                                           cudnnConvolutionBwdDataAlgo_t algo, void *ws, size_t wsb,
                                           const void *beta, const cudnnTensorDescriptor_t dxd,
                                           void *dx) {
    (void)h, (void)algo;
    int n, c, hh, ww;
    if (*(const float *)alpha != 1.0f || *(const float *)beta != 0.0f ||
        cudnnGetConvolution2dForwardOutputDim(cd, dxd, wd, &n, &c, &hh, &ww) || n != dyd->n ||
        c != dyd->c || hh != dyd->h || ww != dyd->w || wsb < 2048 || dyd->dt != dxd->dt ||
        dyd->fmt != dxd->fmt)
        return CUDNN_STATUS_BAD_PARAM;
    int    dt = dyd->dt == CUDNN_DATA_HALF;
    size_t es = dt ? 2 : 4;
    need_dev(dy, (size_t)dyd->n * dyd->c * dyd->h * dyd->w * es, "bwd dy");
    need_dev(dx, (size_t)dxd->n * dxd->c * dxd->h * dxd->w * es, "bwd dx");
    need_dev(w, (size_t)wd->k * wd->c * wd->h * wd->w * es, "bwd w");
    need_dev(ws, wsb, "bwd workspace");
    vgi_cu_conv_args a;
    memset(&a, 0, sizeof(a));
    a.x  = act4_of(dyd->fmt, dyd->n, dyd->c, dyd->h, dyd->w);
    a.y  = act4_of(dxd->fmt, dxd->n, dxd->c, dxd->h, dxd->w);
    a.kh = wd->h, a.kw = wd->w, a.sh = cd->u, a.sw = cd->v, a.dh = cd->dh, a.dw = cd->dw;
    a.pad_t = cd->pad_h, a.pad_l = cd->pad_w, a.groups = cd->groups;
    int64_t C = wd->c, KH = wd->h, KW = wd->w;
    if (wd->fmt == CUDNN_TENSOR_NHWC)
        a.wso = KH * KW * C, a.wsh = KW * C, a.wsw = C, a.wsi = 1;
    else
        a.wso = C * KH * KW, a.wsi = KH * KW, a.wsh = KW, a.wsw = 1;
    a.w = w;
    for (int64_t i = 0; i < a.y.N * a.y.C * a.y.H * a.y.W; i++) {
        int64_t b, co, oh, ow;
        vgi_cu_split4(&a.y, i, &b, &co, &oh, &ow);
        float   v = vgi_cu_deconv_elem(&a, dt, dy, b, co, oh, ow);
        int64_t o = b * a.y.sn + co * a.y.sc + oh * a.y.sh + ow * a.y.sw;
        if (dt)
            ((uint16_t *)dx)[o] = vg_f32_to_f16(v);
        else
            ((float *)dx)[o] = v;
    }
    return CUDNN_STATUS_SUCCESS;
}

/* ---- cuBLAS --------------------------------------------------------------------------------- */

cublasStatus_t cublasCreate(cublasHandle_t *h) {
    *h = (cublasHandle_t)(uintptr_t)0xb1a5;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDestroy(cublasHandle_t h) {
    (void)h;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t s) {
    (void)h, (void)s;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t m) {
    (void)h, (void)m;
    return CUBLAS_STATUS_SUCCESS;
}
const char *cublasGetStatusString(cublasStatus_t s) {
    return s == CUBLAS_STATUS_SUCCESS ? "success (emulated)" : "failure (emulated)";
}
cublasStatus_t cublasGetProperty(libraryPropertyType t, int *v) {
    *v = t == MAJOR_VERSION ? 13 : 0;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t h, cublasOperation_t ta,
                                          cublasOperation_t tb, int m, int n, int k,
                                          const void *alpha, const void *A, cudaDataType at,
                                          int lda, long long sa, const void *B, cudaDataType bt,
                                          int ldb, long long sb, const void *beta, void *C,
                                          cudaDataType ct, int ldc, long long sc, int batch,
                                          cublasComputeType_t comp, cublasGemmAlgo_t algo) {
    (void)h, (void)algo;
    if (at != bt || at != ct || (at != CUDA_R_32F && at != CUDA_R_16F) ||
        comp != CUBLAS_COMPUTE_32F)
        return CUBLAS_STATUS_INVALID_VALUE;
    int   dt = at == CUDA_R_16F;
    float al = *(const float *)alpha, be = *(const float *)beta;
    for (int bi = 0; bi < batch; bi++) {
        const char *Ab = (const char *)A + (size_t)(bi * sa) * (dt ? 2 : 4);
        const char *Bb = (const char *)B + (size_t)(bi * sb) * (dt ? 2 : 4);
        char       *Cb = (char *)C + (size_t)(bi * sc) * (dt ? 2 : 4);
        need_dev(Cb, (size_t)((int64_t)(n - 1) * ldc + m) * (dt ? 2 : 4), "gemm C");
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                float acc = 0.0f;
                for (int l = 0; l < k; l++) {
                    int64_t ai = ta == CUBLAS_OP_N ? i + (int64_t)l * lda : l + (int64_t)i * lda;
                    int64_t bj = tb == CUBLAS_OP_N ? l + (int64_t)j * ldb : j + (int64_t)l * ldb;
                    acc += vgi_cu_ld(Ab, ai, dt) * vgi_cu_ld(Bb, bj, dt);
                }
                int64_t ci = i + (int64_t)j * ldc;
                float   v  = al * acc + (be != 0.0f ? be * vgi_cu_ld(Cb, ci, dt) : 0.0f);
                if (dt)
                    ((uint16_t *)Cb)[ci] = vg_f32_to_f16(v);
                else
                    ((float *)Cb)[ci] = v;
            }
    }
    return CUBLAS_STATUS_SUCCESS;
}

/* ---- kernels ----------------------------------------------------------------------------------
 */

static void st(void *p, int64_t i, int dt, float v) {
    if (dt)
        ((uint16_t *)p)[i] = vg_f32_to_f16(v);
    else
        ((float *)p)[i] = v;
}

static size_t esz(int dt) {
    return dt ? 2 : 4;
}

int vgi_cu_convert(void *s, const void *src, vgi_cu_dt sdt, void *dst, vgi_cu_dt ddt, int64_t n) {
    (void)s;
    need_dev(src, (size_t)n * esz(sdt), "convert src");
    need_dev(dst, (size_t)n * esz(ddt), "convert dst");
    for (int64_t i = 0; i < n; i++)
        st(dst, i, ddt, vgi_cu_ld(src, i, sdt));
    return 0;
}

int vgi_cu_unary(void *s, vgi_cu_dt dt, int kind, float a, float b, const void *x, void *y,
                 int64_t n) {
    (void)s;
    need_dev(x, (size_t)n * esz(dt), "unary x");
    need_dev(y, (size_t)n * esz(dt), "unary y");
    for (int64_t i = 0; i < n; i++)
        st(y, i, dt, vgi_cu_act_apply(kind, a, b, vgi_cu_ld(x, i, dt)));
    return 0;
}

int vgi_cu_bias_act(void *s, vgi_cu_dt dt, void *y, const float *bias, const void *z, int64_t n,
                    int64_t C, int64_t inner, int act, float a, float b) {
    (void)s;
    need_dev(y, (size_t)n * esz(dt), "bias_act y");
    if (bias)
        need_dev(bias, (size_t)C * 4, "bias_act bias");
    if (z)
        need_dev(z, (size_t)n * esz(dt), "bias_act z");
    for (int64_t i = 0; i < n; i++) {
        float v = vgi_cu_ld(y, i, dt);
        if (bias)
            v = v + bias[(i / inner) % C];
        if (z)
            v = v + vgi_cu_ld(z, i, dt);
        st(y, i, dt, vgi_cu_act_apply(act, a, b, v));
    }
    return 0;
}

static int64_t nd_numel(const vgi_cu_nd *nd) {
    int64_t n = 1;
    for (int d = 0; d < nd->nd; d++)
        n *= nd->dims[d];
    return n;
}

int vgi_cu_binary(void *s, vgi_cu_dt dt, int op, const void *a, const void *b, void *out,
                  const vgi_cu_nd *nd, int act, float act_a, float act_b) {
    (void)s;
    int64_t n = nd_numel(nd);
    for (int64_t i = 0; i < n; i++) {
        int64_t off[3];
        vgi_cu_nd_offsets(nd, 3, i, off);
        need_dev((const char *)a + off[1] * (int64_t)esz(dt), esz(dt), "binary a");
        need_dev((const char *)b + off[2] * (int64_t)esz(dt), esz(dt), "binary b");
        need_dev((char *)out + off[0] * (int64_t)esz(dt), esz(dt), "binary out");
        float v = vgi_cu_bin_apply(op, vgi_cu_ld(a, off[1], dt), vgi_cu_ld(b, off[2], dt));
        st(out, off[0], dt, vgi_cu_act_apply(act, act_a, act_b, v));
    }
    return 0;
}

int vgi_cu_copy_nd(void *s, size_t es, const void *src, void *dst, const vgi_cu_nd *nd) {
    (void)s;
    int64_t n = nd_numel(nd);
    for (int64_t i = 0; i < n; i++) {
        int64_t off[3];
        vgi_cu_nd_offsets(nd, 2, i, off);
        const char *sp = (const char *)src + off[1] * (int64_t)es;
        char       *dp = (char *)dst + off[0] * (int64_t)es;
        need_dev(sp, es, "copy src");
        need_dev(dp, es, "copy dst");
        memcpy(dp, sp, es);
    }
    return 0;
}

int vgi_cu_fill(void *s, vgi_cu_dt dt, void *dst, int64_t n, float value) {
    (void)s;
    need_dev(dst, (size_t)n * esz(dt), "fill");
    for (int64_t i = 0; i < n; i++)
        st(dst, i, dt, value);
    return 0;
}

int vgi_cu_pool(void *s, vgi_cu_dt dt, const void *x, void *y, const vgi_cu_pool_args *a) {
    (void)s;
    need_dev(x, (size_t)(a->x.N * a->x.C * a->x.H * a->x.W) * esz(dt), "pool x");
    need_dev(y, (size_t)(a->y.N * a->y.C * a->y.H * a->y.W) * esz(dt), "pool y");
    for (int64_t i = 0; i < a->y.N * a->y.C * a->y.H * a->y.W; i++) {
        int64_t b, c, oh, ow;
        vgi_cu_split4(&a->y, i, &b, &c, &oh, &ow);
        st(y, b * a->y.sn + c * a->y.sc + oh * a->y.sh + ow * a->y.sw, dt,
           vgi_cu_pool_elem(a, dt, x, b, c, oh, ow));
    }
    return 0;
}

int vgi_cu_resize(void *s, vgi_cu_dt dt, const void *x, void *y, const vgi_cu_resize_args *a) {
    (void)s;
    need_dev(x, (size_t)(a->x.N * a->x.C * a->x.H * a->x.W) * esz(dt), "resize x");
    need_dev(y, (size_t)(a->y.N * a->y.C * a->y.H * a->y.W) * esz(dt), "resize y");
    need_dev(a->row, (size_t)a->y.H * 12, "resize rows");
    need_dev(a->col, (size_t)a->y.W * 12, "resize cols");
    need_dev(a->wy, (size_t)a->y.H * 4, "resize wy");
    need_dev(a->wx, (size_t)a->y.W * 4, "resize wx");
    for (int64_t i = 0; i < a->y.N * a->y.C * a->y.H * a->y.W; i++) {
        int64_t b, c, oh, ow;
        vgi_cu_split4(&a->y, i, &b, &c, &oh, &ow);
        st(y, b * a->y.sn + c * a->y.sc + oh * a->y.sh + ow * a->y.sw, dt,
           vgi_cu_resize_elem(a, dt, x, b, c, oh, ow));
    }
    return 0;
}

int vgi_cu_conv_direct(void *s, vgi_cu_dt dt, const void *x, void *y, const vgi_cu_conv_args *a) {
    (void)s;
    need_dev(x, (size_t)(a->x.N * a->x.C * a->x.H * a->x.W) * esz(dt), "direct conv x");
    need_dev(y, (size_t)(a->y.N * a->y.C * a->y.H * a->y.W) * esz(dt), "direct conv y");
    for (int64_t i = 0; i < a->y.N * a->y.C * a->y.H * a->y.W; i++) {
        int64_t b, c, oh, ow;
        vgi_cu_split4(&a->y, i, &b, &c, &oh, &ow);
        st(y, b * a->y.sn + c * a->y.sc + oh * a->y.sh + ow * a->y.sw, dt,
           vgi_cu_conv_elem(a, dt, x, b, c, oh, ow));
    }
    return 0;
}

int vgi_cu_deconv_direct(void *s, vgi_cu_dt dt, const void *x, void *y, const vgi_cu_conv_args *a) {
    (void)s;
    need_dev(x, (size_t)(a->x.N * a->x.C * a->x.H * a->x.W) * esz(dt), "direct deconv x");
    need_dev(y, (size_t)(a->y.N * a->y.C * a->y.H * a->y.W) * esz(dt), "direct deconv y");
    for (int64_t i = 0; i < a->y.N * a->y.C * a->y.H * a->y.W; i++) {
        int64_t b, c, oh, ow;
        vgi_cu_split4(&a->y, i, &b, &c, &oh, &ow);
        st(y, b * a->y.sn + c * a->y.sc + oh * a->y.sh + ow * a->y.sw, dt,
           vgi_cu_deconv_elem(a, dt, x, b, c, oh, ow));
    }
    return 0;
}

int vgi_cu_softmax(void *s, vgi_cu_dt dt, const void *x, void *y, int64_t outer, int64_t A,
                   int64_t inner, bool lg) {
    (void)s;
    need_dev(x, (size_t)(outer * A * inner) * esz(dt), "softmax x");
    need_dev(y, (size_t)(outer * A * inner) * esz(dt), "softmax y");
    for (int64_t p = 0; p < outer; p++)
        for (int64_t q = 0; q < inner; q++) {
            int64_t base = p * A * inner + q;
            float   m = -INFINITY, sum = 0.0f;
            for (int64_t a = 0; a < A; a++)
                m = fmaxf(m, vgi_cu_ld(x, base + a * inner, dt));
            for (int64_t a = 0; a < A; a++)
                sum += expf(vgi_cu_ld(x, base + a * inner, dt) - m);
            for (int64_t a = 0; a < A; a++) {
                float v = vgi_cu_ld(x, base + a * inner, dt) - m;
                st(y, base + a * inner, dt, lg ? v - logf(sum) : expf(v) / sum);
            }
        }
    return 0;
}

int vgi_cu_reduce(void *s, vgi_cu_dt dt, const void *x, void *y, const vgi_cu_reduce_args *a) {
    (void)s;
    need_dev(y, (size_t)a->n_out * esz(dt), "reduce y");
    for (int64_t o = 0; o < a->n_out; o++) {
        int64_t base = 0, rem = o;
        for (int d = a->nk - 1; d >= 0; d--) {
            base += (rem % a->kdims[d]) * a->kst[d];
            rem /= a->kdims[d];
        }
        double res = a->op == 4 ? 1.0 : 0.0;
        for (int64_t k = 0; k < a->n_red; k++) {
            int64_t off = base, r = k;
            for (int d = a->nr - 1; d >= 0; d--) {
                off += (r % a->rdims[d]) * a->rst[d];
                r /= a->rdims[d];
            }
            need_dev((const char *)x + off * (int64_t)esz(dt), esz(dt), "reduce x");
            double v = vgi_cu_ld(x, off, dt);
            switch (a->op) {
            case 0:
                res += v;
                break;
            case 1:
                res += (double)(float)(v / (double)a->n_red);
                break;
            case 2:
                if (k == 0 || v > res || v != v)
                    res = v;
                break;
            case 3:
                if (k == 0 || v < res || v != v)
                    res = v;
                break;
            default:
                res *= v;
                break;
            }
        }
        st(y, o, dt, (float)res);
    }
    return 0;
}

int vgi_cu_argmax(void *s, vgi_cu_dt dt, const void *x, void *out, bool out_i64, int64_t outer,
                  int64_t A, int64_t inner, bool is_min, bool last) {
    (void)s;
    need_dev(x, (size_t)(outer * A * inner) * esz(dt), "argmax x");
    need_dev(out, (size_t)(outer * inner) * (out_i64 ? 8 : 4), "argmax out");
    for (int64_t i = 0; i < outer * inner; i++) {
        int64_t p = i / inner, q = i - p * inner, base = p * A * inner + q, best = 0;
        float   bv = vgi_cu_ld(x, base, dt);
        for (int64_t a = 1; a < A; a++) {
            float v      = vgi_cu_ld(x, base + a * inner, dt);
            bool  better = is_min ? (v < bv || (last && v == bv)) : (v > bv || (last && v == bv));
            if (better)
                bv = v, best = a;
        }
        if (out_i64)
            ((int64_t *)out)[i] = best;
        else
            ((int32_t *)out)[i] = (int32_t)best;
    }
    return 0;
}
