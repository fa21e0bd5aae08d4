/*
 * HIP on CUDA, for testing jmlc's ROCm runtime on an NVIDIA GPU: the hip* and hiprtc* calls jmlc's
 * FFM bindings make (engine/.../runtime/rocm/Hip.java), each forwarded to the CUDA driver API or to
 * NVRTC, as AMD's HIP does on NVIDIA. Nothing more: it is no HIP implementation, only the subset
 * jmlc calls, with HIP 6.3's C signatures and hipDeviceProp_tR0600 layout. The device reports
 * gcnArchName "sm_NN", which jmlc takes as HIP on NVIDIA: CUDA's target, CUDA C kernels.
 *
 * The CUDA driver and NVRTC are opened at first use (dlopen), so the library builds against cuda.h
 * alone and loads anywhere; without a driver, hipGetDeviceCount says why. The driver is
 * $JMLC_CUDA_LIBRARY, else libcuda.so.1; NVRTC is $JMLC_NVRTC_LIBRARY, else libnvrtc.so.13, .12 or
 * libnvrtc.so on the loader's path.
 *
 * With JMLC_HIP_ON_CUDA_TRACE=FILE it counts the calls that show what ran (kernel launches, graph
 * captures and replays, code objects loaded, copies) and writes the counts to FILE whenever a stream
 * is destroyed (jmlc closes its device) and at exit.
 *
 * Build: gcc -O2 -shared -fPIC -I<CUDA>/include hip_on_cuda.c -o libhip_on_cuda.so -ldl -lpthread
 * Use:   JMLC_HIP_LIBRARY=/path/libhip_on_cuda.so jmlc ... --device rocm:0   (bench/rocm-on-cuda.sh)
 */
#include <cuda.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
#define EXPORT extern "C" __attribute__((visibility("default")))
#else
#define EXPORT __attribute__((visibility("default")))
#endif
typedef int hipError_t;
typedef CUstream hipStream_t;
typedef CUevent hipEvent_t;
typedef CUmodule hipModule_t;
typedef CUfunction hipFunction_t;
typedef CUgraph hipGraph_t;
typedef CUgraphExec hipGraphExec_t;
typedef void* hipGraphNode_t;

/* hipError_t values this library returns besides CUDA's own (HIP numbers them as CUDA does) */
enum { hipSuccess = 0, hipErrorInvalidValue = 1, hipErrorInsufficientDriver = 35, hipErrorNoDevice = 100, hipErrorInvalidDevice = 101 };

/* ---- the CUDA driver API, opened at first use; a name cuda.h maps to a versioned symbol (cuMemAlloc_v2) is looked up by that ---- */
#define STR_(x) #x
#define STR(x) STR_(x)
#define CUDA_CALLS(X) X(cuInit) X(cuDriverGetVersion) X(cuDeviceGetCount) X(cuDeviceGet) X(cuDeviceGetName) X(cuDeviceTotalMem) \
    X(cuDeviceGetAttribute) X(cuDevicePrimaryCtxRetain) X(cuCtxSetCurrent) X(cuCtxGetCurrent) X(cuGetErrorName) X(cuGetErrorString) \
    X(cuMemGetInfo) X(cuMemAlloc) X(cuMemFree) X(cuMemAllocHost) X(cuMemFreeHost) X(cuMemcpyHtoDAsync) X(cuMemcpyDtoHAsync) \
    X(cuMemcpyDtoDAsync) X(cuMemsetD8Async) X(cuStreamCreate) X(cuStreamSynchronize) X(cuStreamDestroy) X(cuModuleLoadData) \
    X(cuModuleGetFunction) X(cuModuleUnload) X(cuLaunchKernel) X(cuStreamBeginCapture) X(cuStreamEndCapture) X(cuGraphInstantiate) \
    X(cuGraphLaunch) X(cuGraphExecDestroy) X(cuGraphDestroy) X(cuEventCreate) X(cuEventRecord) X(cuEventSynchronize) \
    X(cuEventElapsedTime) X(cuEventDestroy)
#define DECLARE(f) static __typeof__(&f) p_##f;
CUDA_CALLS(DECLARE)

/* ---- NVRTC, as nvrtc.h declares it (declared here so that cuda.h is the only header needed) ---- */
typedef int nvrtcResult;
typedef struct _nvrtcProgram* nvrtcProgram;
static nvrtcResult (*p_nvrtcVersion)(int*, int*);
static nvrtcResult (*p_nvrtcCreateProgram)(nvrtcProgram*, const char*, const char*, int, const char* const*, const char* const*);
static nvrtcResult (*p_nvrtcCompileProgram)(nvrtcProgram, int, const char* const*);
static nvrtcResult (*p_nvrtcGetProgramLogSize)(nvrtcProgram, size_t*);
static nvrtcResult (*p_nvrtcGetProgramLog)(nvrtcProgram, char*);
static nvrtcResult (*p_nvrtcGetCUBINSize)(nvrtcProgram, size_t*);
static nvrtcResult (*p_nvrtcGetCUBIN)(nvrtcProgram, char*);
static nvrtcResult (*p_nvrtcDestroyProgram)(nvrtcProgram*);
static const char* (*p_nvrtcGetErrorString)(nvrtcResult);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int cudaStatus = hipErrorInsufficientDriver, nvrtcLoaded;
static char reason[768] = "not initialized";

static void load(void) {
    const char* driver = getenv("JMLC_CUDA_LIBRARY");
    if (!driver || !*driver) driver = "libcuda.so.1";
    void* cuda = dlopen(driver, RTLD_NOW | RTLD_LOCAL);
    if (!cuda) {
        snprintf(reason, sizeof reason, "HIP on CUDA: %s could not be loaded (no NVIDIA driver?): %s", driver, dlerror());
        return;
    }
#define LOAD(f) p_##f = (__typeof__(&f)) dlsym(cuda, STR(f)); \
    if (!p_##f) { snprintf(reason, sizeof reason, "HIP on CUDA: %s has no %s (a driver older than CUDA 12?)", driver, STR(f)); return; }
    CUDA_CALLS(LOAD)
    CUresult r = p_cuInit(0);
    if (r != CUDA_SUCCESS) {
        const char* n = "?";
        p_cuGetErrorName(r, &n);
        snprintf(reason, sizeof reason, "HIP on CUDA: cuInit failed with %s (%d)", n, (int) r);
        cudaStatus = (int) r;
        return;
    }
    cudaStatus = hipSuccess;
    const char* env = getenv("JMLC_NVRTC_LIBRARY");
    const char* names[] = {env, "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"};
    void* nvrtc = NULL;
    for (size_t i = 0; i < sizeof names / sizeof *names && !nvrtc; i++)
        if (names[i] && *names[i]) nvrtc = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!nvrtc) return;
#define LOAD_RTC(f) *(void**) &p_##f = dlsym(nvrtc, #f); if (!p_##f) return;
    LOAD_RTC(nvrtcVersion) LOAD_RTC(nvrtcCreateProgram) LOAD_RTC(nvrtcCompileProgram) LOAD_RTC(nvrtcGetProgramLogSize) LOAD_RTC(nvrtcGetProgramLog)
    LOAD_RTC(nvrtcGetCUBINSize) LOAD_RTC(nvrtcGetCUBIN) LOAD_RTC(nvrtcDestroyProgram) LOAD_RTC(nvrtcGetErrorString)
    nvrtcLoaded = 1;
}

/* The driver ready, or why not. */
static hipError_t ready(void) {
    pthread_once(&once, load);
    return cudaStatus;
}

/* One retained primary context per device; a thread that never chose a device works on device 0, as in HIP. */
#define MAX_DEVICES 64
static CUcontext contexts[MAX_DEVICES];
static pthread_mutex_t contextLock = PTHREAD_MUTEX_INITIALIZER;

static hipError_t use(int device) {
    hipError_t e = ready();
    if (e) return e;
    if (device < 0 || device >= MAX_DEVICES) return hipErrorInvalidDevice;
    pthread_mutex_lock(&contextLock);
    CUresult r = CUDA_SUCCESS;
    if (!contexts[device]) {
        CUdevice d;
        r = p_cuDeviceGet(&d, device);
        if (r == CUDA_SUCCESS) r = p_cuDevicePrimaryCtxRetain(&contexts[device], d);
    }
    pthread_mutex_unlock(&contextLock);
    return r == CUDA_SUCCESS ? (hipError_t) p_cuCtxSetCurrent(contexts[device]) : (r == CUDA_ERROR_INVALID_DEVICE ? hipErrorInvalidDevice : (hipError_t) r);
}

/* The driver ready and a context current on this thread. */
static hipError_t on(void) {
    hipError_t e = ready();
    if (e) return e;
    CUcontext c = NULL;
    p_cuCtxGetCurrent(&c);
    return c ? hipSuccess : use(0);
}

#define CALL(expr) do { hipError_t e_ = on(); if (e_) return e_; return (hipError_t) (expr); } while (0)

/* ---- call counts (JMLC_HIP_ON_CUDA_TRACE) ---- */
enum { T_LAUNCH, T_BEGIN_CAPTURE, T_END_CAPTURE, T_INSTANTIATE, T_GRAPH_LAUNCH, T_MODULE_LOAD, T_RTC_COMPILE, T_MEMCPY, T_MALLOC, T_EVENT_RECORD, T_COUNT };
static const char* const traceNames[T_COUNT] = {"hipModuleLaunchKernel", "hipStreamBeginCapture", "hipStreamEndCapture", "hipGraphInstantiate",
    "hipGraphLaunch", "hipModuleLoadData", "hiprtcCompileProgram", "hipMemcpyAsync", "hipMalloc", "hipEventRecord"};
static unsigned long traceCounts[T_COUNT];
#define COUNT(t) __atomic_fetch_add(&traceCounts[t], 1, __ATOMIC_RELAXED)

static void writeTrace(void) {
    const char* path = getenv("JMLC_HIP_ON_CUDA_TRACE");
    FILE* f = path && *path ? fopen(path, "w") : NULL;
    if (!f) return;
    for (int i = 0; i < T_COUNT; i++) fprintf(f, "%s %lu\n", traceNames[i], __atomic_load_n(&traceCounts[i], __ATOMIC_RELAXED));
    fclose(f);
}

__attribute__((destructor)) static void atExit(void) { writeTrace(); }

/* ---- version, devices ---- */

/* HIP_VERSION of the API it follows, 6.3, with the CUDA driver's version as the patch number. */
EXPORT hipError_t hipRuntimeGetVersion(int* v) {
    hipError_t e = ready();
    int driver = 0;
    if (!e) p_cuDriverGetVersion(&driver);
    *v = 6 * 10000000 + 3 * 100000 + driver;
    return hipSuccess;
}

EXPORT hipError_t hipGetDeviceCount(int* n) {
    *n = 0;
    hipError_t e = ready();
    if (e) return e;
    CUresult r = p_cuDeviceGetCount(n);
    if (r != CUDA_SUCCESS) return (hipError_t) r;
    return *n == 0 ? hipErrorNoDevice : hipSuccess;
}

EXPORT hipError_t hipSetDevice(int device) { return use(device); }

EXPORT hipError_t hipDeviceGetName(char* name, int len, int device) {
    hipError_t e = ready();
    CUdevice d;
    if (e) return e;
    if (p_cuDeviceGet(&d, device) != CUDA_SUCCESS) return hipErrorInvalidDevice;
    return (hipError_t) p_cuDeviceGetName(name, len, d);
}

EXPORT hipError_t hipDeviceTotalMem(size_t* bytes, int device) {
    hipError_t e = ready();
    CUdevice d;
    if (e) return e;
    if (p_cuDeviceGet(&d, device) != CUDA_SUCCESS) return hipErrorInvalidDevice;
    return (hipError_t) p_cuDeviceTotalMem(bytes, d);
}

/* Offsets in HIP 6.3's hipDeviceProp_tR0600 (x86-64; jmlc reads the same, Hip.PropLayout.R0600). */
enum { PROP_SIZE = 1472, P_TOTAL_GLOBAL_MEM = 288, P_SHARED_MEM_PER_BLOCK = 296, P_WARP_SIZE = 308, P_MAX_THREADS_PER_BLOCK = 320,
       P_CLOCK_RATE = 348, P_MULTIPROCESSOR_COUNT = 388, P_MEMORY_CLOCK_RATE = 608, P_MEMORY_BUS_WIDTH = 612, P_L2_CACHE_SIZE = 616,
       P_GCN_ARCH_NAME = 1160 };

static int attribute(CUdevice_attribute a, CUdevice d) {
    int v = 0;
    p_cuDeviceGetAttribute(&v, a, d);
    return v;
}

EXPORT hipError_t hipGetDevicePropertiesR0600(void* prop, int device) {
    hipError_t e = ready();
    CUdevice d;
    if (e) return e;
    if (!prop) return hipErrorInvalidValue;
    if (p_cuDeviceGet(&d, device) != CUDA_SUCCESS) return hipErrorInvalidDevice;
    char* p = (char*) prop;
    memset(p, 0, PROP_SIZE);
    p_cuDeviceGetName(p, 256, d);
    size_t total = 0, shared = (size_t) attribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, d);
    p_cuDeviceTotalMem(&total, d);
    memcpy(p + P_TOTAL_GLOBAL_MEM, &total, sizeof total);
    memcpy(p + P_SHARED_MEM_PER_BLOCK, &shared, sizeof shared);
    struct { int at; CUdevice_attribute a; } ints[] = {
        {P_WARP_SIZE, CU_DEVICE_ATTRIBUTE_WARP_SIZE}, {P_MAX_THREADS_PER_BLOCK, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK},
        {P_CLOCK_RATE, CU_DEVICE_ATTRIBUTE_CLOCK_RATE}, {P_MULTIPROCESSOR_COUNT, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT},
        {P_MEMORY_CLOCK_RATE, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE}, {P_MEMORY_BUS_WIDTH, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH},
        {P_L2_CACHE_SIZE, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE}};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        int v = attribute(ints[i].a, d);
        memcpy(p + ints[i].at, &v, sizeof v);
    }
    snprintf(p + P_GCN_ARCH_NAME, 256, "sm_%d%d", attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d),
             attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d));
    return hipSuccess;
}

/* ---- errors: HIP's names for the numbers HIP and CUDA share; CUDA's text ---- */

EXPORT const char* hipGetErrorName(hipError_t e) {
    switch (e) {
        case 0: return "hipSuccess";
        case 1: return "hipErrorInvalidValue";
        case 2: return "hipErrorOutOfMemory";
        case 3: return "hipErrorNotInitialized";
        case 4: return "hipErrorDeinitialized";
        case 35: return "hipErrorInsufficientDriver";
        case 100: return "hipErrorNoDevice";
        case 101: return "hipErrorInvalidDevice";
        case 200: return "hipErrorInvalidImage";
        case 201: return "hipErrorInvalidContext";
        case 209: return "hipErrorNoBinaryForGpu";
        case 218: return "hipErrorInvalidKernelFile";
        case 300: return "hipErrorInvalidSource";
        case 400: return "hipErrorInvalidHandle";
        case 500: return "hipErrorNotFound";
        case 600: return "hipErrorNotReady";
        case 700: return "hipErrorIllegalAddress";
        case 701: return "hipErrorLaunchOutOfResources";
        case 702: return "hipErrorLaunchTimeOut";
        case 719: return "hipErrorLaunchFailure";
        case 801: return "hipErrorNotSupported";
        case 900: return "hipErrorStreamCaptureUnsupported";
        case 901: return "hipErrorStreamCaptureInvalidated";
        case 902: return "hipErrorStreamCaptureMerge";
        case 903: return "hipErrorStreamCaptureUnmatched";
        case 904: return "hipErrorStreamCaptureUnjoined";
        case 905: return "hipErrorStreamCaptureIsolation";
        case 906: return "hipErrorStreamCaptureImplicit";
        default: {
            const char* n = NULL;
            if (p_cuGetErrorName && p_cuGetErrorName((CUresult) e, &n) == CUDA_SUCCESS && n) return n;
            return "hipErrorUnknown";
        }
    }
}

EXPORT const char* hipGetErrorString(hipError_t e) {
    const char* s = NULL;
    if (cudaStatus != hipSuccess && (e == cudaStatus || e == hipErrorInsufficientDriver)) return reason;
    if (p_cuGetErrorString && p_cuGetErrorString((CUresult) e, &s) == CUDA_SUCCESS && s) return s;
    return hipGetErrorName(e);
}

/* ---- memory ---- */

EXPORT hipError_t hipMemGetInfo(size_t* free, size_t* total) { CALL(p_cuMemGetInfo(free, total)); }

EXPORT hipError_t hipMalloc(void** ptr, size_t size) {
    CUdeviceptr d = 0;
    hipError_t e = on();
    if (e) return e;
    COUNT(T_MALLOC);
    CUresult r = p_cuMemAlloc(&d, size);
    *ptr = (void*) (uintptr_t) d;
    return (hipError_t) r;
}

EXPORT hipError_t hipFree(void* ptr) { CALL(p_cuMemFree((CUdeviceptr) (uintptr_t) ptr)); }
EXPORT hipError_t hipHostMalloc(void** ptr, size_t size, unsigned flags) { (void) flags; CALL(p_cuMemAllocHost(ptr, size)); }
EXPORT hipError_t hipHostFree(void* ptr) { CALL(p_cuMemFreeHost(ptr)); }

/* hipMemcpyKind: 1 host to device, 2 device to host, 3 device to device */
EXPORT hipError_t hipMemcpyAsync(void* dst, const void* src, size_t size, int kind, hipStream_t s) {
    COUNT(T_MEMCPY);
    switch (kind) {
        case 1: CALL(p_cuMemcpyHtoDAsync((CUdeviceptr) (uintptr_t) dst, src, size, s));
        case 2: CALL(p_cuMemcpyDtoHAsync(dst, (CUdeviceptr) (uintptr_t) src, size, s));
        case 3: CALL(p_cuMemcpyDtoDAsync((CUdeviceptr) (uintptr_t) dst, (CUdeviceptr) (uintptr_t) src, size, s));
        default: return hipErrorInvalidValue; /* jmlc names the direction of every copy */
    }
}

EXPORT hipError_t hipMemsetAsync(void* dst, int value, size_t size, hipStream_t s) {
    CALL(p_cuMemsetD8Async((CUdeviceptr) (uintptr_t) dst, (unsigned char) value, size, s));
}

/* ---- streams, modules, launches ---- */

EXPORT hipError_t hipStreamCreateWithFlags(hipStream_t* s, unsigned flags) {
    CALL(p_cuStreamCreate(s, (flags & 1) ? CU_STREAM_NON_BLOCKING : CU_STREAM_DEFAULT));
}
EXPORT hipError_t hipStreamSynchronize(hipStream_t s) { CALL(p_cuStreamSynchronize(s)); }
EXPORT hipError_t hipStreamDestroy(hipStream_t s) { writeTrace(); CALL(p_cuStreamDestroy(s)); }
EXPORT hipError_t hipModuleLoadData(hipModule_t* m, const void* image) { COUNT(T_MODULE_LOAD); CALL(p_cuModuleLoadData(m, image)); }
EXPORT hipError_t hipModuleGetFunction(hipFunction_t* f, hipModule_t m, const char* name) { CALL(p_cuModuleGetFunction(f, m, name)); }
EXPORT hipError_t hipModuleUnload(hipModule_t m) { CALL(p_cuModuleUnload(m)); }

EXPORT hipError_t hipModuleLaunchKernel(hipFunction_t f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                                        unsigned shared, hipStream_t s, void** params, void** extra) {
    COUNT(T_LAUNCH);
    CALL(p_cuLaunchKernel(f, gx, gy, gz, bx, by, bz, shared, s, params, extra));
}

/* ---- graphs: hipStreamCaptureMode numbers its modes as CUDA does (0 global, 1 thread-local, 2 relaxed) ---- */

EXPORT hipError_t hipStreamBeginCapture(hipStream_t s, int mode) { COUNT(T_BEGIN_CAPTURE); CALL(p_cuStreamBeginCapture(s, (CUstreamCaptureMode) mode)); }
EXPORT hipError_t hipStreamEndCapture(hipStream_t s, hipGraph_t* g) { COUNT(T_END_CAPTURE); CALL(p_cuStreamEndCapture(s, g)); }

EXPORT hipError_t hipGraphInstantiate(hipGraphExec_t* exec, hipGraph_t g, hipGraphNode_t* errorNode, char* log, size_t logSize) {
    if (errorNode) *errorNode = NULL;
    if (log && logSize) log[0] = 0;
    COUNT(T_INSTANTIATE);
    CALL(p_cuGraphInstantiate(exec, g, 0));
}

EXPORT hipError_t hipGraphLaunch(hipGraphExec_t exec, hipStream_t s) { COUNT(T_GRAPH_LAUNCH); CALL(p_cuGraphLaunch(exec, s)); }
EXPORT hipError_t hipGraphExecDestroy(hipGraphExec_t exec) { CALL(p_cuGraphExecDestroy(exec)); }
EXPORT hipError_t hipGraphDestroy(hipGraph_t g) { CALL(p_cuGraphDestroy(g)); }

/* ---- events: HIP's flags are CUDA's (0 default, 1 blocking sync, 2 disable timing) ---- */

EXPORT hipError_t hipEventCreateWithFlags(hipEvent_t* ev, unsigned flags) { CALL(p_cuEventCreate(ev, flags)); }
EXPORT hipError_t hipEventRecord(hipEvent_t ev, hipStream_t s) { COUNT(T_EVENT_RECORD); CALL(p_cuEventRecord(ev, s)); }
EXPORT hipError_t hipEventSynchronize(hipEvent_t ev) { CALL(p_cuEventSynchronize(ev)); }
EXPORT hipError_t hipEventElapsedTime(float* ms, hipEvent_t start, hipEvent_t stop) { CALL(p_cuEventElapsedTime(ms, start, stop)); }
EXPORT hipError_t hipEventDestroy(hipEvent_t ev) { CALL(p_cuEventDestroy(ev)); }

/* ---- hiprtc on NVRTC: the options pass through (jmlc gives NVRTC's for a CUDA target), the code is a cubin ---- */

typedef nvrtcProgram hiprtcProgram;
enum { HIPRTC_ERROR_INTERNAL_ERROR = 11 };

static int rtc(void) {
    ready();
    return nvrtcLoaded;
}

EXPORT int hiprtcVersion(int* major, int* minor) { return rtc() ? p_nvrtcVersion(major, minor) : HIPRTC_ERROR_INTERNAL_ERROR; }

EXPORT int hiprtcCreateProgram(hiprtcProgram* p, const char* src, const char* name, int numHeaders, const char** headers, const char** includeNames) {
    return rtc() ? p_nvrtcCreateProgram(p, src, name, numHeaders, headers, includeNames) : HIPRTC_ERROR_INTERNAL_ERROR;
}

EXPORT int hiprtcCompileProgram(hiprtcProgram p, int n, const char** options) {
    COUNT(T_RTC_COMPILE);
    return rtc() ? p_nvrtcCompileProgram(p, n, options) : HIPRTC_ERROR_INTERNAL_ERROR;
}

EXPORT int hiprtcGetProgramLogSize(hiprtcProgram p, size_t* n) { return rtc() ? p_nvrtcGetProgramLogSize(p, n) : HIPRTC_ERROR_INTERNAL_ERROR; }
EXPORT int hiprtcGetProgramLog(hiprtcProgram p, char* log) { return rtc() ? p_nvrtcGetProgramLog(p, log) : HIPRTC_ERROR_INTERNAL_ERROR; }
EXPORT int hiprtcGetCodeSize(hiprtcProgram p, size_t* n) { return rtc() ? p_nvrtcGetCUBINSize(p, n) : HIPRTC_ERROR_INTERNAL_ERROR; }
EXPORT int hiprtcGetCode(hiprtcProgram p, char* code) { return rtc() ? p_nvrtcGetCUBIN(p, code) : HIPRTC_ERROR_INTERNAL_ERROR; }
EXPORT int hiprtcDestroyProgram(hiprtcProgram* p) { return rtc() ? p_nvrtcDestroyProgram(p) : HIPRTC_ERROR_INTERNAL_ERROR; }

EXPORT const char* hiprtcGetErrorString(int r) {
    if (!rtc()) return "HIP on CUDA: NVRTC could not be loaded (set JMLC_NVRTC_LIBRARY to libnvrtc.so.13)";
    return p_nvrtcGetErrorString(r);
}
