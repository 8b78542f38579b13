/*
 * cuda_emu.h - a host emulation of the CUDA runtime, cuDNN, cuBLAS and the cuda
 * backend's kernels, for testing the backend's host code (step building,
 * device-memory plan, copies, f16 conversions, cuDNN/cuBLAS arguments) on
 * machines without a GPU.
 *
 * Force-included (-include cuda_emu.h) before everything else when compiling
 * src/backends/cuda/cuda_backend.c and the tests for the emulated target: the
 * macros below rename every CUDA, cuDNN and cuBLAS entry point the backend
 * uses, and the backend's own exported functions, to vgi_emu_* names, so the
 * real libraries' declarations become declarations of the emulations
 * (tests/gpu/cuda_emu.c) and nothing clashes with the real backend in
 * libvigil. "Device" memory is host memory registered by the emulated
 * cudaMalloc, poisoned with NaN bytes; kernels and copies abort on pointers
 * that are not where the direction says.
 */
#ifndef VG_TESTS_CUDA_EMU_H
#define VG_TESTS_CUDA_EMU_H

#define cudaGetDeviceCount        vgi_emu_cudaGetDeviceCount
#define cudaSetDevice             vgi_emu_cudaSetDevice
#define cudaGetErrorString        vgi_emu_cudaGetErrorString
#define cudaGetErrorName          vgi_emu_cudaGetErrorName
#define cudaGetLastError          vgi_emu_cudaGetLastError
#define cudaMalloc                vgi_emu_cudaMalloc
#define cudaFree                  vgi_emu_cudaFree
#define cudaMemcpy                vgi_emu_cudaMemcpy
#define cudaMemcpyAsync           vgi_emu_cudaMemcpyAsync
#define cudaMemsetAsync           vgi_emu_cudaMemsetAsync
#define cudaMemGetInfo            vgi_emu_cudaMemGetInfo
#define cudaStreamSynchronize     vgi_emu_cudaStreamSynchronize
#define cudaStreamCreateWithFlags vgi_emu_cudaStreamCreateWithFlags
#define cudaStreamDestroy         vgi_emu_cudaStreamDestroy
#define cudaHostAlloc             vgi_emu_cudaHostAlloc
#define cudaFreeHost              vgi_emu_cudaFreeHost
#define cudaGetDeviceProperties   vgi_emu_cudaGetDeviceProperties
#define cudaDriverGetVersion      vgi_emu_cudaDriverGetVersion
#define cudaRuntimeGetVersion     vgi_emu_cudaRuntimeGetVersion
/* graph capture is not emulated: BeginCapture fails, the backend runs step by step */
#define cudaStreamBeginCapture vgi_emu_cudaStreamBeginCapture
#define cudaStreamEndCapture   vgi_emu_cudaStreamEndCapture
#define cudaGraphInstantiate   vgi_emu_cudaGraphInstantiate
#define cudaGraphLaunch        vgi_emu_cudaGraphLaunch
#define cudaGraphDestroy       vgi_emu_cudaGraphDestroy
#define cudaGraphExecDestroy   vgi_emu_cudaGraphExecDestroy

#define cudnnCreate                            vgi_emu_cudnnCreate
#define cudnnDestroy                           vgi_emu_cudnnDestroy
#define cudnnSetStream                         vgi_emu_cudnnSetStream
#define cudnnGetErrorString                    vgi_emu_cudnnGetErrorString
#define cudnnGetLastErrorString                vgi_emu_cudnnGetLastErrorString
#define cudnnGetVersion                        vgi_emu_cudnnGetVersion
#define cudnnCreateTensorDescriptor            vgi_emu_cudnnCreateTensorDescriptor
#define cudnnDestroyTensorDescriptor           vgi_emu_cudnnDestroyTensorDescriptor
#define cudnnSetTensor4dDescriptor             vgi_emu_cudnnSetTensor4dDescriptor
#define cudnnCreateFilterDescriptor            vgi_emu_cudnnCreateFilterDescriptor
#define cudnnDestroyFilterDescriptor           vgi_emu_cudnnDestroyFilterDescriptor
#define cudnnSetFilter4dDescriptor             vgi_emu_cudnnSetFilter4dDescriptor
#define cudnnCreateConvolutionDescriptor       vgi_emu_cudnnCreateConvolutionDescriptor
#define cudnnDestroyConvolutionDescriptor      vgi_emu_cudnnDestroyConvolutionDescriptor
#define cudnnSetConvolution2dDescriptor        vgi_emu_cudnnSetConvolution2dDescriptor
#define cudnnSetConvolutionGroupCount          vgi_emu_cudnnSetConvolutionGroupCount
#define cudnnSetConvolutionMathType            vgi_emu_cudnnSetConvolutionMathType
#define cudnnGetConvolution2dForwardOutputDim  vgi_emu_cudnnGetConvolution2dForwardOutputDim
#define cudnnCreateActivationDescriptor        vgi_emu_cudnnCreateActivationDescriptor
#define cudnnDestroyActivationDescriptor       vgi_emu_cudnnDestroyActivationDescriptor
#define cudnnSetActivationDescriptor           vgi_emu_cudnnSetActivationDescriptor
#define cudnnFindConvolutionForwardAlgorithmEx vgi_emu_cudnnFindConvolutionForwardAlgorithmEx
#define cudnnGetConvolutionForwardAlgorithm_v7 vgi_emu_cudnnGetConvolutionForwardAlgorithm_v7
#define cudnnConvolutionForward                vgi_emu_cudnnConvolutionForward
#define cudnnConvolutionBiasActivationForward  vgi_emu_cudnnConvolutionBiasActivationForward
#define cudnnFindConvolutionBackwardDataAlgorithmEx                                                \
    vgi_emu_cudnnFindConvolutionBackwardDataAlgorithmEx
#define cudnnGetConvolutionBackwardDataAlgorithm_v7                                                \
    vgi_emu_cudnnGetConvolutionBackwardDataAlgorithm_v7
#define cudnnConvolutionBackwardData vgi_emu_cudnnConvolutionBackwardData

/* cublas_v2.h maps cublasCreate etc. to their _v2 names: rename those */
#define cublasCreate_v2            vgi_emu_cublasCreate
#define cublasDestroy_v2           vgi_emu_cublasDestroy
#define cublasSetStream_v2         vgi_emu_cublasSetStream
#define cublasSetMathMode          vgi_emu_cublasSetMathMode
#define cublasGetStatusString      vgi_emu_cublasGetStatusString
#define cublasGetProperty          vgi_emu_cublasGetProperty
#define cublasGemmStridedBatchedEx vgi_emu_cublasGemmStridedBatchedEx

/* the kernels' launchers */
#define vgi_cu_convert       vgi_emu_cu_convert
#define vgi_cu_unary         vgi_emu_cu_unary
#define vgi_cu_bias_act      vgi_emu_cu_bias_act
#define vgi_cu_binary        vgi_emu_cu_binary
#define vgi_cu_copy_nd       vgi_emu_cu_copy_nd
#define vgi_cu_fill          vgi_emu_cu_fill
#define vgi_cu_pool          vgi_emu_cu_pool
#define vgi_cu_resize        vgi_emu_cu_resize
#define vgi_cu_conv_direct   vgi_emu_cu_conv_direct
#define vgi_cu_deconv_direct vgi_emu_cu_deconv_direct
#define vgi_cu_softmax       vgi_emu_cu_softmax
#define vgi_cu_reduce        vgi_emu_cu_reduce
#define vgi_cu_argmax        vgi_emu_cu_argmax

/* the backend's exported functions (the real ones live in libvigil) */
#define vgi_cuda_backend_create vgi_emu_cuda_backend_create
#define vgi_cuda_device_info    vgi_emu_cuda_device_info
#define vgi_cuda_device_count   vgi_emu_cuda_device_count
#define vgi_cuda_supports       vgi_emu_cuda_supports

/* Test hooks (cuda_emu.c): live emulated device allocations, and whether the
 * emulated cuDNN refuses every descriptor (then convolutions use the backend's
 * direct kernel). */
int  vgi_emu_live_allocations(void);
void vgi_emu_set_cudnn(int available);

#endif /* VG_TESTS_CUDA_EMU_H */
