// Would a shared-memory ring of asynchronous copies make jmlc's decode GEMVs faster (issue 12)?
//
// jmlc's f16 GEMV (GemvHalfRule) keeps its weights in flight in registers: a lane loads a batch of
// 16-byte chunks (4 rows x 1 chunk, or 2 rows x 2 chunks) and the next batch before it uses the current
// one, so a warp has one batch, 2 KB, in flight, and its first loads go out only after the prologue
// (waiting for the previous kernel, staging x, the norm's reduction). Nsight Compute put about 4 to 5 us
// a GEMV outside streaming (ramp, tail, launch). This probe runs jmlc's own emitted kernels (the script
// emits them with `jmlc compile`) against a hand-written GEMV with the same arithmetic whose lanes copy
// their chunks and scales into a per-lane ring of S stages in shared memory with cp.async (sm_80+): S-1
// batches in flight without registers, the first S-1 issued before the prologue.
//
// Each structure runs a 7B decode step's GEMVs (per layer: qkv with the norm prologue, o with the
// residual, gate/up with the norm and silu-mul pairs, down with the residual; 32 layers, each with
// its own weights, 3.6 GB) captured as one CUDA graph; then each matrix alone, replayed over the 32
// layers' copies (past the L2). Outputs of every variant must match the emitted kernels' (relative
// 1e-3 of the largest value; summation orders differ only in the norm's reduction).
//
// Build: nvcc -O3 -arch=sm_90 -I<dir with emitted.cuh> -o probe probe.cu
// Run:   ./probe [--replays 20]

#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cstring>
#include <string>
#include <functional>
#include <vector>

#include "emitted.cuh" // namespaces e_qkv, e_o, e_gu, e_down with the emitted kernels; macros below

#include "../probe-common/cuda-graph.cuh" // CK, capture

// ---- the asynchronous-copy GEMV ----

__device__ __forceinline__ unsigned smem(const void* p) { return (unsigned)__cvta_generic_to_shared(p); }
__device__ __forceinline__ void cp16(void* s, const void* g) { asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" :: "r"(smem(s)), "l"(g) : "memory"); }
__device__ __forceinline__ void cp4(void* s, const void* g) { asm volatile("cp.async.ca.shared.global [%0], [%1], 4;" :: "r"(smem(s)), "l"(g) : "memory"); }
__device__ __forceinline__ void commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }
template <int N> __device__ __forceinline__ void wait_pending() { asm volatile("cp.async.wait_group %0;" :: "n"(N) : "memory"); }

__device__ __forceinline__ float h2f(unsigned short h) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f; }
__device__ __forceinline__ unsigned short f2h(float f) { unsigned short h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f)); return h; }
__device__ __forceinline__ unsigned hsub2(unsigned a, unsigned b) { unsigned d; asm("sub.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b)); return d; }
__device__ __forceinline__ unsigned hmul2(unsigned a, unsigned b) { unsigned d; asm("mul.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b)); return d; }
__device__ __forceinline__ unsigned hfma2(unsigned a, unsigned b, unsigned c) { unsigned d; asm("fma.rn.f16x2 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c)); return d; }
__device__ __forceinline__ unsigned and_or(unsigned a, unsigned b, unsigned c) { unsigned d; asm("lop3.b32 %0, %1, %2, %3, 0xEA;" : "=r"(d) : "r"(a), "r"(b), "r"(c)); return d; }

// one u32 word (8 nibbles, q4f16_1 with zero 7) against the staged x pairs, into p (as GemvHalfTile, nibbles=1)
__device__ __forceinline__ unsigned word_dot(unsigned w, uint4 xq, unsigned p, bool first) {
    const unsigned Z = (0x6400u + 7u) * 0x10001u, SIXTEENTH = 0x2C002C00u, MZ = (0xD400u + 16u * 7u) * 0x10001u;
    unsigned wh = w >> 8;
    unsigned q0 = hsub2(and_or(w, 0x000F000Fu, 0x64006400u), Z);
    p = first ? hmul2(q0, xq.x) : hfma2(q0, xq.x, p);
    p = hfma2(hfma2(and_or(w, 0x00F000F0u, 0x64006400u), SIXTEENTH, MZ), xq.y, p);
    p = hfma2(hsub2(and_or(wh, 0x000F000Fu, 0x64006400u), Z), xq.z, p);
    p = hfma2(hfma2(and_or(wh, 0x00F000F0u, 0x64006400u), SIXTEENTH, MZ), xq.w, p);
    return p;
}

enum { NORM = 1, RES = 2, PAIRS = 4 };

// Shared memory: x staged as the emitted kernels stage it (uint4 per word, word j of chunk c at (j%4)*chunks + c),
// then the ring: S stages x RPW rows x threads of 16-byte chunks, the same of 4-byte scale words, then a float a warp.
__host__ __device__ inline size_t async_smem(int k, int threads, int rpw, int stages) {
    return (size_t)(k / 8) * 16 + (size_t)stages * rpw * threads * 20 + (threads / 32) * 4;
}

template <int FLAGS, int RPW, int S>
__global__ void __launch_bounds__(256) gemv_async(const float* __restrict__ x, const float* __restrict__ g, const uint4* __restrict__ w,
        const unsigned short* __restrict__ scales, const float* __restrict__ res, float* __restrict__ y, int n, int k) {
    extern __shared__ uint4 sm[];
    const int threads = blockDim.x, tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
    const int words = k / 8, chunks = words / 4, groups = k / 32;
    uint4* xs = sm;
    uint4* rw = xs + words;
    unsigned* rs = (unsigned*)(rw + S * RPW * threads);
    float* red = (float*)(rs + S * RPW * threads);
    const int blockRows = (threads / 32) * RPW, tiles = (n + blockRows - 1) / blockRows;
    const int iters = (chunks + 31) / 32;
    const int myTiles = tiles > (int)blockIdx.x ? (tiles - (int)blockIdx.x + (int)gridDim.x - 1) / (int)gridDim.x : 0;
    const int batches = myTiles * iters;
    auto issue = [&](int j) {
        if (j < batches) {
            int t = blockIdx.x + (j / iters) * gridDim.x, c = lane + (j % iters) * 32, slot = j % S;
            if (c < chunks) {
#pragma unroll
                for (int i = 0; i < RPW; i++) {
                    int row = min(t * blockRows + warp * RPW + i, n - 1);
                    cp16(&rw[(slot * RPW + i) * threads + tid], &w[(size_t)row * chunks + c]);
                    cp4(&rs[(slot * RPW + i) * threads + tid], &((const unsigned*)scales)[((size_t)row * groups + c) / 2]);
                }
            }
        }
        commit();
    };
#pragma unroll
    for (int j = 0; j < S - 1; j++) issue(j);
    // prologue: x (normed) staged as f16 pairs
    float inv = 1.f;
    if (FLAGS & NORM) {
        float ss = 0.f;
        for (int i = tid; i < k / 4; i += threads) {
            float4 v = ((const float4*)x)[i];
            ss = fmaf(v.x, v.x, ss); ss = fmaf(v.y, v.y, ss); ss = fmaf(v.z, v.z, ss); ss = fmaf(v.w, v.w, ss);
        }
        for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
        if (lane == 0) red[warp] = ss;
        __syncthreads();
        float total = red[0];
        for (int i = 1; i < threads / 32; i++) total += red[i];
        inv = rsqrtf(total / (float)k + 1e-5f);
    }
    for (int j = tid; j < words; j += threads) {
        float4 a = ((const float4*)x)[2 * j], b = ((const float4*)x)[2 * j + 1];
        if (FLAGS & NORM) {
            float4 ga = ((const float4*)g)[2 * j], gb = ((const float4*)g)[2 * j + 1];
            a = make_float4(a.x * ga.x * inv, a.y * ga.y * inv, a.z * ga.z * inv, a.w * ga.w * inv);
            b = make_float4(b.x * gb.x * inv, b.y * gb.y * inv, b.z * gb.z * inv, b.w * gb.w * inv);
        }
        xs[(j % 4) * chunks + j / 4] = make_uint4(f2h(a.x) | (unsigned)f2h(b.x) << 16, f2h(a.y) | (unsigned)f2h(b.y) << 16,
                                                  f2h(a.z) | (unsigned)f2h(b.z) << 16, f2h(a.w) | (unsigned)f2h(b.w) << 16);
    }
    __syncthreads();
    float acc[RPW];
#pragma unroll
    for (int i = 0; i < RPW; i++) acc[i] = 0.f;
#pragma unroll 1
    for (int j = 0; j < batches; j++) {
        issue(j + S - 1);
        wait_pending<S - 1>();
        int it = j % iters, c = lane + it * 32, slot = j % S;
        if (c < chunks) {
            uint4 xq0 = xs[c], xq1 = xs[chunks + c], xq2 = xs[2 * chunks + c], xq3 = xs[3 * chunks + c];
#pragma unroll
            for (int i = 0; i < RPW; i++) {
                uint4 wv = rw[(slot * RPW + i) * threads + tid];
                unsigned sw = rs[(slot * RPW + i) * threads + tid];
                float sc = h2f((unsigned short)(c & 1 ? sw >> 16 : sw));
                unsigned p = word_dot(wv.x, xq0, 0u, true);
                p = word_dot(wv.y, xq1, p, false);
                p = word_dot(wv.z, xq2, p, false);
                p = word_dot(wv.w, xq3, p, false);
                acc[i] = fmaf(h2f((unsigned short)p) + h2f((unsigned short)(p >> 16)), sc, acc[i]);
            }
        }
        if (it == iters - 1) {
            int t = blockIdx.x + (j / iters) * gridDim.x, row0 = t * blockRows + warp * RPW;
#pragma unroll
            for (int i = 0; i < RPW; i++)
                for (int o = 16; o > 0; o >>= 1) acc[i] += __shfl_xor_sync(0xffffffffu, acc[i], o);
            if (lane == 0) {
#pragma unroll
                for (int i = 0; i < RPW; i++) {
                    int row = row0 + i;
                    if (row >= n) continue;
                    if (FLAGS & PAIRS) {
                        if (i % 2 == 0) y[row / 2] = acc[i] / (1.f + __expf(-acc[i])) * acc[i + 1];
                    } else {
                        y[row] = (FLAGS & RES) ? acc[i] + res[row] : acc[i];
                    }
                }
            }
#pragma unroll
            for (int i = 0; i < RPW; i++) acc[i] = 0.f;
        }
    }
}

// ---- host ----

struct Matrix {
    int n, k;
    uint4* w;
    unsigned short* s;
    size_t bytes() const { return (size_t)n * k / 2 + (size_t)n * k / 32 * 2; }
};

__global__ void fill_words(unsigned* p, size_t n, unsigned seed) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        unsigned h = (unsigned)i * 2654435761u ^ seed;
        h ^= h >> 15; h *= 2246822519u; h ^= h >> 13; h *= 3266489917u; h ^= h >> 16;
        p[i] = h;
    }
}
__global__ void fill_scales(unsigned short* p, size_t n, unsigned seed, float scale) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        unsigned h = (unsigned)i * 2246822519u ^ seed;
        h ^= h >> 13; h *= 3266489917u; h ^= h >> 16;
        p[i] = __half_as_ushort(__float2half(scale * (0.5f + (h & 1023) / 1024.f)));
    }
}
__global__ void fill_floats(float* p, int n, unsigned seed, float lo, float hi) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        unsigned h = (unsigned)i * 2654435761u ^ seed;
        h ^= h >> 15; h *= 2246822519u; h ^= h >> 13;
        p[i] = lo + (hi - lo) * ((h & 65535) / 65536.f);
    }
}

static Matrix matrix(int n, int k, unsigned seed) {
    Matrix m{n, k, nullptr, nullptr};
    CK(cudaMalloc(&m.w, (size_t)n * k / 2));
    CK(cudaMalloc(&m.s, (size_t)n * k / 32 * 2));
    fill_words<<<1024, 256>>>((unsigned*)m.w, (size_t)n * k / 8, seed);
    // scales ~ 1/(8 sqrt(k)): a dot product of k values of size ~1 stays ~1
    fill_scales<<<1024, 256>>>(m.s, (size_t)n * k / 32, seed * 7 + 1, 0.125f / sqrtf((float)k));
    CK(cudaGetLastError());
    return m;
}

struct Layer { Matrix qkv, o, gu, down; float *g1, *g2; };
struct Vectors { float *x, *q, *h, *a; }; // x residual stream (4096), q qkv out (12288), h after o (4096), a gate/up out (11008)

enum Kind { QKV, O, GU, DOWN };
static const char* kind_name[] = {"qkv 12288x4096", "o 4096x4096", "gate/up 22016x4096", "down 4096x11008"};

// A variant: the emitted kernels (stages 0), or the async GEMV with `warps` warps and `stages` stages.
struct Variant { int warps, stages; std::string name() const { return stages == 0 ? std::string("emitted (registers, 1 batch ahead)") : "async w" + std::to_string(warps) + " S" + std::to_string(stages); } };

static int sms, max_shared;

template <int FLAGS, int RPW, int S>
static void launch_async(cudaStream_t st, int warps, const Matrix& m, const float* x, const float* g, const float* res, float* y) {
    auto kernel = gemv_async<FLAGS, RPW, S>;
    int threads = warps * 32;
    size_t shared = async_smem(m.k, threads, RPW, S);
    static bool configured = false; // one flag an instantiation: allow what the device lets a block opt in to
    if (!configured) {
        CK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, max_shared));
        configured = true;
    }
    int perSm = 0;
    CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&perSm, kernel, threads, shared));
    if (perSm == 0) { fprintf(stderr, "no block fits: %zu bytes shared\n", shared); exit(1); }
    int blockRows = warps * RPW, tiles = (m.n + blockRows - 1) / blockRows, maxBlocks = perSm * sms;
    int rounds = (tiles + maxBlocks - 1) / maxBlocks, blocks = (tiles + rounds - 1) / rounds;
    kernel<<<blocks, threads, shared, st>>>(x, g, m.w, m.s, res, y, m.n, m.k);
}

template <int S>
static void launch_kind_s(cudaStream_t st, Kind kind, int warps, const Layer& L, const Vectors& v) {
    switch (kind) {
        case QKV: launch_async<NORM, 4, S>(st, warps, L.qkv, v.x, L.g1, nullptr, v.q); break;
        case O: launch_async<RES, 2, S>(st, warps, L.o, v.q, nullptr, v.x, v.h); break;
        case GU: launch_async<NORM | PAIRS, 4, S>(st, warps, L.gu, v.h, L.g2, nullptr, v.a); break;
        case DOWN: launch_async<RES, 2, S>(st, warps, L.down, v.a, nullptr, v.h, v.x); break;
    }
}

static void launch(cudaStream_t st, Kind kind, const Variant& var, const Layer& L, const Vectors& v) {
    if (var.stages == 0) {
        switch (kind) {
            case QKV: EMITTED_QKV<<<EMITTED_QKV_GRID, 256, 0, st>>>(v.x, L.g1, (const unsigned*)L.qkv.w, L.qkv.s, v.q, 1); break;
            case O: EMITTED_O<<<EMITTED_O_GRID, 256, 0, st>>>(v.q, (const unsigned*)L.o.w, L.o.s, v.x, v.h, 1); break;
            case GU: EMITTED_GU<<<EMITTED_GU_GRID, 256, 0, st>>>(v.h, L.g2, (const unsigned*)L.gu.w, L.gu.s, v.a, 1); break;
            case DOWN: EMITTED_DOWN<<<EMITTED_DOWN_GRID, 256, 0, st>>>(v.a, (const unsigned*)L.down.w, L.down.s, v.h, v.x, 1); break;
        }
        return;
    }
    switch (var.stages) {
        case 2: launch_kind_s<2>(st, kind, var.warps, L, v); break;
        case 3: launch_kind_s<3>(st, kind, var.warps, L, v); break;
        case 4: launch_kind_s<4>(st, kind, var.warps, L, v); break;
        case 6: launch_kind_s<6>(st, kind, var.warps, L, v); break;
        case 8: launch_kind_s<8>(st, kind, var.warps, L, v); break;
        default: fprintf(stderr, "stages %d not built\n", var.stages); exit(1);
    }
}

static float graph_us(cudaStream_t st, int replays, const std::function<void()>& body) {
    cudaGraphExec_t exec = capture(st, body);
    for (int i = 0; i < 3; i++) CK(cudaGraphLaunch(exec, st));
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    CK(cudaEventRecord(a, st));
    for (int i = 0; i < replays; i++) CK(cudaGraphLaunch(exec, st));
    CK(cudaEventRecord(b, st));
    CK(cudaEventSynchronize(b));
    float ms;
    CK(cudaEventElapsedTime(&ms, a, b));
    CK(cudaGraphExecDestroy(exec));
    return 1000.f * ms / replays;
}

int main(int argc, char** argv) {
    int replays = 20, layers = 32;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--replays") && i + 1 < argc) replays = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--layers") && i + 1 < argc) layers = atoi(argv[++i]);
        else { fprintf(stderr, "usage: probe [--replays N] [--layers N]\n"); return 2; }
    }
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    sms = prop.multiProcessorCount;
    max_shared = (int)prop.sharedMemPerBlockOptin;
    printf("%s, %d SMs, %d KB shared a block at most\n", prop.name, sms, max_shared / 1024);
    std::vector<Layer> L(layers);
    size_t bytes = 0;
    for (int l = 0; l < layers; l++) {
        unsigned s = 1000u * (l + 1);
        L[l].qkv = matrix(12288, 4096, s + 1);
        L[l].o = matrix(4096, 4096, s + 2);
        L[l].gu = matrix(22016, 4096, s + 3);
        L[l].down = matrix(4096, 11008, s + 4);
        CK(cudaMalloc(&L[l].g1, 4096 * 4));
        CK(cudaMalloc(&L[l].g2, 4096 * 4));
        fill_floats<<<16, 256>>>(L[l].g1, 4096, s + 5, 0.5f, 1.5f);
        fill_floats<<<16, 256>>>(L[l].g2, 4096, s + 6, 0.5f, 1.5f);
        bytes += L[l].qkv.bytes() + L[l].o.bytes() + L[l].gu.bytes() + L[l].down.bytes();
    }
    Vectors v, x0;
    for (Vectors* vs : {&v, &x0}) {
        CK(cudaMalloc(&vs->x, 4096 * 4));
        CK(cudaMalloc(&vs->q, 12288 * 4));
        CK(cudaMalloc(&vs->h, 4096 * 4));
        CK(cudaMalloc(&vs->a, 11008 * 4));
    }
    fill_floats<<<16, 256>>>(x0.x, 4096, 77, -1.f, 1.f);
    CK(cudaDeviceSynchronize());
    printf("%d layers, %.2f GB of GEMV weights a step\n", layers, bytes / 1e9);
    cudaStream_t st;
    CK(cudaStreamCreate(&st));

    std::vector<Variant> variants = {{8, 0}, {4, 2}, {4, 3}, {4, 4}, {4, 6}, {4, 8}, {8, 2}, {8, 3}, {8, 4}, {8, 6}};
    int failures = 0;
    // correctness: each kernel of layer 0 once from the same inputs, against the emitted kernels
    auto run_layer = [&](const Variant& var, std::vector<float>* outs) {
        CK(cudaMemcpy(v.x, x0.x, 4096 * 4, cudaMemcpyDeviceToDevice));
        for (Kind kind : {QKV, O, GU, DOWN}) {
            launch(st, kind, var, L[0], v);
            CK(cudaStreamSynchronize(st));
            CK(cudaGetLastError());
            float* out = kind == QKV ? v.q : kind == O ? v.h : kind == GU ? v.a : v.x;
            int n = kind == QKV ? 12288 : kind == GU ? 11008 : 4096;
            outs[kind].resize(n);
            CK(cudaMemcpy(outs[kind].data(), out, n * 4, cudaMemcpyDeviceToHost));
        }
    };
    std::vector<float> ref[4];
    run_layer(variants[0], ref);
    for (size_t vi = 1; vi < variants.size(); vi++) {
        std::vector<float> got[4];
        run_layer(variants[vi], got);
        for (int kind = 0; kind < 4; kind++) {
            float maxRef = 0, maxDiff = 0;
            for (size_t i = 0; i < ref[kind].size(); i++) {
                maxRef = fmaxf(maxRef, fabsf(ref[kind][i]));
                maxDiff = fmaxf(maxDiff, fabsf(ref[kind][i] - got[kind][i]));
                if (!std::isfinite(got[kind][i])) maxDiff = INFINITY;
            }
            bool ok = maxDiff <= 1e-3f * maxRef;
            if (!ok || vi == 1) printf("check %-34s %-20s max |diff| %.3g of max |y| %.3g %s\n", variants[vi].name().c_str(), kind_name[kind], maxDiff, maxRef, ok ? "ok" : "FAILED");
            if (!ok) failures++;
        }
    }

    printf("\nstep: %d layers x (qkv, o, gate/up, down) in one graph, mean of %d replays\n", layers, replays);
    float base = 0;
    for (const Variant& var : variants) {
        float us = graph_us(st, replays, [&] { for (int l = 0; l < layers; l++) for (Kind kind : {QKV, O, GU, DOWN}) launch(st, kind, var, L[l], v); });
        if (var.stages == 0) base = us;
        printf("  %-36s %8.1f us  %6.0f GB/s  %+5.1f%%\n", var.name().c_str(), us, bytes / (us * 1e3), 100.0 * (us - base) / base);
    }
    printf("\neach matrix alone: %d launches over the layers' copies in one graph, us a launch\n", layers);
    for (Kind kind : {QKV, O, GU, DOWN}) {
        printf("  %s:", kind_name[kind]);
        size_t mb = kind == QKV ? L[0].qkv.bytes() : kind == O ? L[0].o.bytes() : kind == GU ? L[0].gu.bytes() : L[0].down.bytes();
        for (const Variant& var : variants) {
            float us = graph_us(st, replays, [&] { for (int l = 0; l < layers; l++) launch(st, kind, var, L[l], v); }) / layers;
            printf("  [%s] %.2f us %.0f GB/s", var.stages == 0 ? "emitted" : var.name().c_str() + 6, us, mb / (us * 1e3));
        }
        printf("\n");
    }
    if (failures) printf("\n%d checks FAILED\n", failures);
    return failures ? 1 : 0;
}
