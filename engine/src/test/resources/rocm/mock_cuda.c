/*
 * A stand-in for the CUDA driver and NVRTC, for testing jmlc's ROCm runtime and the HIP-on-CUDA
 * library in CI, where there is no GPU: one device ("Mock GPU", sm_90, 4 SMs) whose memory is host
 * memory (zeroed when allocated). Only what the HIP-on-CUDA library calls. NVRTC "compiles" a source into the bytes
 * "MOCKCUBIN:" + its text (a source containing #error fails with a log). Launches run on the host:
 * a kernel named "probe" (float* x, int n, int add) does x[i] += add for i < n, as its CUDA source
 * would; any other kernel is counted and does nothing. Stream capture records launches into a
 * graph; a graph launch runs them again. Every launch, graph launch and kernel run is counted
 * (mock_counts). Build: gcc -shared -fPIC -I<cuda include> mock_cuda.c -o libmockcuda.so
 */
#include <cuda.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

typedef struct { char name[128]; void* args[8]; int nargs; unsigned grid[3], block[3]; } Launch;
typedef struct { Launch launches[4096]; int n; } Graph;
struct CUstream_st { int capturing; Graph* graph; };
struct CUmod_st { char* text; };
struct CUfunc_st { char name[128]; };
struct CUctx_st { int device; };
struct CUevent_st { int recorded; };

static struct CUctx_st primary = {0};
static __thread CUcontext current;
static unsigned long launches, graphLaunches, probeRuns, otherRuns;

EXPORT void mock_counts(unsigned long* out) { out[0] = launches; out[1] = graphLaunches; out[2] = probeRuns; out[3] = otherRuns; }

EXPORT CUresult cuInit(unsigned flags) { (void) flags; return CUDA_SUCCESS; }
EXPORT CUresult cuDriverGetVersion(int* v) { *v = 13000; return CUDA_SUCCESS; }
EXPORT CUresult cuDeviceGetCount(int* n) { *n = 1; return CUDA_SUCCESS; }
EXPORT CUresult cuDeviceGet(CUdevice* d, int ordinal) { if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE; *d = 0; return CUDA_SUCCESS; }
EXPORT CUresult cuDeviceGetName(char* name, int len, CUdevice d) { (void) d; snprintf(name, len, "Mock GPU"); return CUDA_SUCCESS; }
EXPORT CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice d) { (void) d; *bytes = 1UL << 30; return CUDA_SUCCESS; }

EXPORT CUresult cuDeviceGetAttribute(int* v, CUdevice_attribute a, CUdevice d) {
    (void) d;
    switch (a) {
        case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *v = 9; break;
        case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *v = 0; break;
        case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *v = 4; break;
        case CU_DEVICE_ATTRIBUTE_WARP_SIZE: *v = 32; break;
        case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK: *v = 48 * 1024; break;
        case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *v = 1024; break;
        case CU_DEVICE_ATTRIBUTE_CLOCK_RATE: *v = 1980000; break;
        case CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE: *v = 2619000; break;
        case CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH: *v = 5120; break;
        case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE: *v = 50 << 20; break;
        default: *v = 0;
    }
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext* c, CUdevice d) { (void) d; *c = &primary; return CUDA_SUCCESS; }
EXPORT CUresult cuCtxSetCurrent(CUcontext c) { current = c; return CUDA_SUCCESS; }
EXPORT CUresult cuCtxGetCurrent(CUcontext* c) { *c = current; return CUDA_SUCCESS; }

EXPORT CUresult cuGetErrorName(CUresult r, const char** s) {
    *s = r == CUDA_SUCCESS ? "CUDA_SUCCESS" : r == CUDA_ERROR_INVALID_VALUE ? "CUDA_ERROR_INVALID_VALUE" : r == CUDA_ERROR_INVALID_CONTEXT ? "CUDA_ERROR_INVALID_CONTEXT" : "CUDA_ERROR_UNKNOWN";
    return CUDA_SUCCESS;
}
EXPORT CUresult cuGetErrorString(CUresult r, const char** s) { return cuGetErrorName(r, s); }

/* every call that needs a context fails without one, as the driver does */
#define NEED_CONTEXT() do { if (!current) return CUDA_ERROR_INVALID_CONTEXT; } while (0)

EXPORT CUresult cuMemGetInfo_v2(size_t* free, size_t* total) { NEED_CONTEXT(); *free = 1UL << 29; *total = 1UL << 30; return CUDA_SUCCESS; }
EXPORT CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t n) {
    NEED_CONTEXT();
    void* m = aligned_alloc(256, (n + 255) / 256 * 256);
    if (!m) return CUDA_ERROR_OUT_OF_MEMORY;
    memset(m, 0, n);
    *p = (CUdeviceptr) (uintptr_t) m;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuMemFree_v2(CUdeviceptr p) { NEED_CONTEXT(); free((void*) (uintptr_t) p); return CUDA_SUCCESS; }
EXPORT CUresult cuMemAllocHost_v2(void** p, size_t n) { NEED_CONTEXT(); *p = aligned_alloc(4096, (n + 4095) / 4096 * 4096); return *p ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY; }
EXPORT CUresult cuMemFreeHost(void* p) { NEED_CONTEXT(); free(p); return CUDA_SUCCESS; }
EXPORT CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void* s, size_t n, CUstream st) { (void) st; NEED_CONTEXT(); memcpy((void*) (uintptr_t) d, s, n); return CUDA_SUCCESS; }
EXPORT CUresult cuMemcpyDtoHAsync_v2(void* d, CUdeviceptr s, size_t n, CUstream st) { (void) st; NEED_CONTEXT(); memcpy(d, (void*) (uintptr_t) s, n); return CUDA_SUCCESS; }
EXPORT CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr d, CUdeviceptr s, size_t n, CUstream st) { (void) st; NEED_CONTEXT(); memmove((void*) (uintptr_t) d, (void*) (uintptr_t) s, n); return CUDA_SUCCESS; }
EXPORT CUresult cuMemsetD8Async(CUdeviceptr d, unsigned char v, size_t n, CUstream st) { (void) st; NEED_CONTEXT(); memset((void*) (uintptr_t) d, v, n); return CUDA_SUCCESS; }

EXPORT CUresult cuStreamCreate(CUstream* s, unsigned flags) { (void) flags; NEED_CONTEXT(); *s = calloc(1, sizeof(struct CUstream_st)); return CUDA_SUCCESS; }
EXPORT CUresult cuStreamSynchronize(CUstream s) { (void) s; return CUDA_SUCCESS; }
EXPORT CUresult cuStreamDestroy_v2(CUstream s) { free(s); return CUDA_SUCCESS; }

EXPORT CUresult cuModuleLoadData(CUmodule* m, const void* image) {
    NEED_CONTEXT();
    if (strncmp((const char*) image, "MOCKCUBIN:", 10) != 0) return CUDA_ERROR_INVALID_IMAGE;
    *m = calloc(1, sizeof(struct CUmod_st));
    (*m)->text = strdup((const char*) image);
    return CUDA_SUCCESS;
}
EXPORT CUresult cuModuleGetFunction(CUfunction* f, CUmodule m, const char* name) {
    if (!strstr(m->text, name)) return CUDA_ERROR_NOT_FOUND;
    *f = calloc(1, sizeof(struct CUfunc_st));
    snprintf((*f)->name, sizeof (*f)->name, "%s", name);
    return CUDA_SUCCESS;
}
EXPORT CUresult cuModuleUnload(CUmodule m) { free(m->text); free(m); return CUDA_SUCCESS; }

/* runs a launch on the host: probe(float* x, int n, int add) as its source says, anything else not at all */
static void run(const Launch* l) {
    if (strcmp(l->name, "probe") == 0) {
        float* x = *(float**) l->args[0];
        int n = *(int*) l->args[1], add = *(int*) l->args[2];
        for (int i = 0; i < n; i++) x[i] += (float) add;
        probeRuns++;
    } else {
        otherRuns++;
    }
}

EXPORT CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                               unsigned shared, CUstream s, void** params, void** extra) {
    (void) shared; (void) extra;
    NEED_CONTEXT();
    if (gx == 0 || gy == 0 || gz == 0 || bx * by * bz == 0 || bx * by * bz > 1024) return CUDA_ERROR_INVALID_VALUE;
    Launch l = {.grid = {gx, gy, gz}, .block = {bx, by, bz}};
    snprintf(l.name, sizeof l.name, "%s", f->name);
    launches++;
    if (strcmp(f->name, "probe") == 0) {
        /* parameters are read when launched, as the driver does: a graph keeps copies */
        static float* xs[4096]; static int ns[4096], adds[4096]; static int k;
        int i = k++ % 4096;
        xs[i] = *(float**) params[0]; ns[i] = *(int*) params[1]; adds[i] = *(int*) params[2];
        l.args[0] = &xs[i]; l.args[1] = &ns[i]; l.args[2] = &adds[i]; l.nargs = 3;
    }
    if (s && s->capturing) {
        if (s->graph->n == 4096) return CUDA_ERROR_OUT_OF_MEMORY;
        s->graph->launches[s->graph->n++] = l;
        return CUDA_SUCCESS;
    }
    run(&l);
    return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamBeginCapture_v2(CUstream s, CUstreamCaptureMode mode) {
    (void) mode;
    if (!s || s->capturing) return CUDA_ERROR_ILLEGAL_STATE;
    s->capturing = 1;
    s->graph = calloc(1, sizeof(Graph));
    return CUDA_SUCCESS;
}
EXPORT CUresult cuStreamEndCapture(CUstream s, CUgraph* g) {
    if (!s || !s->capturing) return CUDA_ERROR_ILLEGAL_STATE;
    s->capturing = 0;
    *g = (CUgraph) s->graph;
    s->graph = NULL;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuGraphInstantiateWithFlags(CUgraphExec* e, CUgraph g, unsigned long long flags) {
    (void) flags;
    Graph* copy = malloc(sizeof(Graph));
    memcpy(copy, g, sizeof(Graph));
    *e = (CUgraphExec) copy;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuGraphLaunch(CUgraphExec e, CUstream s) {
    (void) s;
    NEED_CONTEXT();
    Graph* g = (Graph*) e;
    graphLaunches++;
    for (int i = 0; i < g->n; i++) run(&g->launches[i]);
    return CUDA_SUCCESS;
}
EXPORT CUresult cuGraphExecDestroy(CUgraphExec e) { free(e); return CUDA_SUCCESS; }
EXPORT CUresult cuGraphDestroy(CUgraph g) { free(g); return CUDA_SUCCESS; }

EXPORT CUresult cuEventCreate(CUevent* e, unsigned flags) { (void) flags; *e = calloc(1, sizeof(struct CUevent_st)); return CUDA_SUCCESS; }
EXPORT CUresult cuEventRecord(CUevent e, CUstream s) { (void) s; e->recorded = 1; return CUDA_SUCCESS; }
EXPORT CUresult cuEventSynchronize(CUevent e) { (void) e; return CUDA_SUCCESS; }
EXPORT CUresult cuEventElapsedTime_v2(float* ms, CUevent a, CUevent b) { *ms = a->recorded && b->recorded ? 0.5f : -1; return CUDA_SUCCESS; }
EXPORT CUresult cuEventDestroy_v2(CUevent e) { free(e); return CUDA_SUCCESS; }

/* ---- NVRTC ---- */
typedef struct { char* text; int failed; } Program;

EXPORT int nvrtcVersion(int* major, int* minor) { *major = 13; *minor = 0; return 0; }
EXPORT int nvrtcCreateProgram(Program** p, const char* src, const char* name, int nh, const char* const* h, const char* const* in) {
    (void) name; (void) nh; (void) h; (void) in;
    *p = calloc(1, sizeof(Program));
    (*p)->text = malloc(strlen(src) + 11);
    sprintf((*p)->text, "MOCKCUBIN:%s", src);
    return 0;
}
EXPORT int nvrtcCompileProgram(Program* p, int n, const char* const* options) {
    int arch = 0;
    for (int i = 0; i < n; i++) arch |= strcmp(options[i], "--gpu-architecture=sm_90") == 0;
    p->failed = !arch || strstr(p->text, "#error") != NULL;
    return p->failed ? 6 /* NVRTC_ERROR_COMPILATION */ : 0;
}
static const char* logOf(Program* p) { return p->failed ? "mock nvrtc: error: the source has #error, or no --gpu-architecture=sm_90" : ""; }
EXPORT int nvrtcGetProgramLogSize(Program* p, size_t* n) { *n = strlen(logOf(p)) + 1; return 0; }
EXPORT int nvrtcGetProgramLog(Program* p, char* log) { strcpy(log, logOf(p)); return 0; }
EXPORT int nvrtcGetCUBINSize(Program* p, size_t* n) { *n = strlen(p->text) + 1; return 0; }
EXPORT int nvrtcGetCUBIN(Program* p, char* out) { strcpy(out, p->text); return 0; }
EXPORT int nvrtcDestroyProgram(Program** p) { free((*p)->text); free(*p); *p = NULL; return 0; }
EXPORT const char* nvrtcGetErrorString(int r) { return r == 0 ? "NVRTC_SUCCESS" : "NVRTC_ERROR_COMPILATION"; }
