// Times jmlc's decode GEMVs with parts cut away (bench/gemv-ablation/ablate.py says which), to find where a GEMV
// loses its time against a kernel that only reads (issue 12; bench/stream-floor-probe is that kernel):
//   1. each GEMV alone: its layer calls (each on its own weights, so nothing from the L2) in one graph as dependents;
//   2. a step's GEMVs (the 7B: qkv, o, gate/up, down a layer, 32 layers; no attention) in one graph as dependents,
//      as jmlc launches them (programmatic dependent launch, each kernel's own grid and shared memory).
// The ablated kernels compute nothing meaningful: this times, it checks no values (jmlc's suite checks the real ones).
//
// Build: python3 ablate.py EMIT_DIR ablated.cuh && nvcc -O3 -std=c++17 -arch=sm_90 -diag-suppress 177,550 -I. -o step step.cu
#include <cuda_runtime.h>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "../probe-common/cuda-graph.cuh" // CK, capture, replay_ms

// one GEMV as emitted (or ablated): its launch and its parameters as "name:kind,..." in order
struct Ablated { const char* kernel; const char* variant; const void* fn; int grid, block, smem; long n, k; const char* params; };
#include "ablated.cuh"

static constexpr int LAYERS = 32;

// per GEMV shape, each layer's packed 4-bit weights (n x k / 8 words) and f16 group scales (n x k / 32)
struct Weights { std::vector<void*> w, scales; long bytes; };

// activations, shared by every launch: large enough for any x, gain, residual or y of these shapes
struct Activations { void *xf32, *xf16, *g, *residual, *yf32, *yf16; };

static void launch(cudaStream_t s, const Ablated& a, const Weights& wt, int layer, const Activations& act) {
    void* ptrs[16]; // the pointer arguments' values: args holds their addresses, so they must not move
    int nptrs = 0;
    std::vector<void*> args;
    int seq = 1;
    char buf[256];
    std::strncpy(buf, a.params, sizeof buf - 1);
    buf[sizeof buf - 1] = 0;
    for (char* p = std::strtok(buf, ","); p; p = std::strtok(nullptr, ",")) {
        std::string spec(p), name = spec.substr(0, spec.find(':')), kind = spec.substr(spec.find(':') + 1);
        void* v;
        if (name == "seq") { args.push_back(&seq); continue; }
        if (name == "w") v = wt.w[layer];
        else if (name == "scales") v = wt.scales[layer];
        else if (name == "g") v = act.g;
        else if (name == "residual") v = act.residual;
        else if (name == "x") v = kind == "f32" ? act.xf32 : act.xf16;
        else if (name == "y") v = kind == "f32" ? act.yf32 : act.yf16;
        else { fprintf(stderr, "%s: parameter %s not known to this harness\n", a.kernel, name.c_str()); exit(1); }
        if (nptrs == 16) { fprintf(stderr, "%s: more pointer parameters than this harness holds\n", a.kernel); exit(1); }
        ptrs[nptrs] = v;
        args.push_back(&ptrs[nptrs++]);
    }
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = dim3(a.grid, 1, 1);
    cfg.blockDim = dim3(a.block, 1, 1);
    cfg.dynamicSmemBytes = a.smem;
    cfg.stream = s;
    cudaLaunchAttribute attr;
    attr.id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr.val.programmaticStreamSerializationAllowed = 1;
    cfg.attrs = &attr;
    cfg.numAttrs = 1;
    CK(cudaLaunchKernelExC(&cfg, a.fn, args.data()));
}

int main() {
    int sms;
    CK(cudaSetDevice(0));
    CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    printf("%s, %d SMs, L2 %d MB\n", prop.name, sms, prop.l2CacheSize >> 20);
    std::vector<std::string> kernels; // in the step's order
    std::map<std::string, Weights> weights;
    for (const Ablated& a : ABLATED) {
        CK(cudaFuncSetAttribute(a.fn, cudaFuncAttributeMaxDynamicSharedMemorySize, a.smem));
        if (weights.count(a.kernel)) continue;
        kernels.push_back(a.kernel);
        Weights& wt = weights[a.kernel];
        long wBytes = a.n * a.k / 2, sBytes = a.n * a.k / 32 * 2;
        wt.bytes = wBytes + sBytes;
        for (int l = 0; l < LAYERS; l++) {
            void *w, *sc;
            CK(cudaMalloc(&w, wBytes));
            CK(cudaMalloc(&sc, sBytes));
            CK(cudaMemset(w, 0x5a, wBytes));
            CK(cudaMemset(sc, 0x1c, sBytes)); // f16 0x1c1c: about 0.004, a plausible group scale
            wt.w.push_back(w);
            wt.scales.push_back(sc);
        }
    }
    Activations act;
    for (void** p : {&act.xf32, &act.xf16, &act.g, &act.residual, &act.yf32, &act.yf16}) {
        CK(cudaMalloc(p, 4 * 32768));
        CK(cudaMemset(*p, 0x3c, 4 * 32768));
    }
    cudaStream_t s;
    CK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    auto find = [](const std::string& kernel, const char* variant) -> const Ablated& {
        for (const Ablated& a : ABLATED)
            if (kernel == a.kernel && !std::strcmp(variant, a.variant)) return a;
        fprintf(stderr, "no %s variant of %s\n", variant, kernel.c_str());
        exit(1);
    };
    auto median = [](std::vector<float> v) { return v[v.size() / 2]; };

    printf("\n1. each GEMV alone: its %d layer calls in one graph as dependents (median of 15 replays), us a call and GB/s\n", LAYERS);
    printf("%-80s", "kernel");
    for (const char* v : VARIANTS) printf(" %20s", v);
    printf("\n");
    for (const std::string& kname : kernels) {
        printf("%-80s", kname.c_str());
        for (const char* v : VARIANTS) {
            const Ablated& a = find(kname, v);
            cudaGraphExec_t g = capture(s, [&] { for (int l = 0; l < LAYERS; l++) launch(s, a, weights[kname], l, act); });
            float us = median(replay_ms(g, s, 15)) * 1000 / LAYERS;
            printf("  %7.2f us %5.0f GB/s", us, weights[kname].bytes / (us * 1e3));
            CK(cudaGraphExecDestroy(g));
        }
        printf("\n");
    }

    long stepBytes = 0;
    for (const std::string& kname : kernels) stepBytes += weights[kname].bytes * LAYERS;
    printf("\n2. a step's GEMVs (%zu a layer, %d layers, %.2f GB) in one graph as dependents (median of 15 replays)\n",
           kernels.size(), LAYERS, stepBytes / 1e9);
    for (const char* v : VARIANTS) {
        cudaGraphExec_t g = capture(s, [&] {
            for (int l = 0; l < LAYERS; l++)
                for (const std::string& kname : kernels) launch(s, find(kname, v), weights[kname], l, act);
        });
        float ms = median(replay_ms(g, s, 15));
        printf("%-12s %7.3f ms  %5.0f GB/s  %6.2f us a launch\n", v, ms, stepBytes / (ms * 1e6), ms * 1000 / (LAYERS * kernels.size()));
        CK(cudaGraphExecDestroy(g));
    }
    return 0;
}
