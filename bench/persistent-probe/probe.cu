// What a persistent decode kernel could gain before the compiler builds one (issue 12).
//
// Streams the weight bytes of a Llama decode step's GEMVs (4-bit weights and an f16 scale per 32, as
// q4f16_1 stores them: rows x cols/2 + rows x cols/16 bytes) layer by layer, each matrix's rows reduced
// against the previous matrix's output, in four structures with the same per-row code:
//
//   kernels     one kernel per matrix, the step captured as one CUDA graph (what jmlc runs today)
//   layer       one persistent kernel per layer, a grid barrier between its matrices, captured likewise
//   step        one persistent kernel for the whole step, a grid barrier between every two matrices
//   step+pf     as step, each block asking the L2 for its first rows of the next matrix before it waits
//   kernels+pdl as kernels, each a programmatic dependent launch that asks the L2 for its first rows before
//               it waits for the previous kernel
//
// and the bare costs: a graph's kernel boundary against a grid barrier, each with no work. The grids
// are what fits the device at once (the occupancy API), so every block of a persistent kernel is
// resident; a barrier that waits too long traps instead of hanging.
//
// Correctness: each row is reduced by one warp in a fixed order whatever the grid, so every structure
// must leave the same final vector; the program compares them and fails if they differ by more than
// 1e-4 (a barrier that let a block read a vector before it was complete would move rows by ~1e-3).
//
// Build: nvcc -O3 -arch=sm_90 -o probe probe.cu
// Run:   ./probe [--shape 7b|13b|8b] [--layers N (the model's)] [--replays 20] [--blocks-per-sm 4]

#include <cuda_runtime.h>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "../probe-common/cuda-graph.cuh" // CK, capture

constexpr int THREADS = 256, WARPS = THREADS / 32, IN_FLIGHT = 4; // 16-byte loads a lane issues before using any

// One weight matrix: rows of `chunks` 16-byte chunks; x has `cols` floats.
struct Mat {
    const uint4* w;
    int rows, cols, chunks;
};

// Up to 4 matrices a layer, up to 80 layers: the step kernel walks them all.
constexpr int MAX_MATS = 4 * 80;
struct Step {
    Mat m[MAX_MATS];
    int n;
};
__constant__ Step c_step;

__device__ __forceinline__ uint4 ld_stream(const uint4* p) {
    uint4 v;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];" : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
    return v;
}

// y[row] = the mean of x[chunk * 32 mod cols] over the row's chunks weighted by the bits set in each
// chunk, plus a small offset by row: memory-bound like the real GEMV, no load can be dropped, the values
// stay near 1 through any number of matrices, and a block that read a stale x would change them. Rows go
// to warps in a grid-stride loop.
// x and y are plain pointers on purpose: a persistent kernel writes a vector in one matrix and reads it in
// the next, so its loads must not take the read-only (non-coherent) path that const __restrict__ allows.
__device__ void gemv(const Mat& m, const float* x, float* y, int block, int blocks) {
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    for (int row = block * WARPS + warp; row < m.rows; row += blocks * WARPS) {
        const uint4* r = m.w + (size_t)row * m.chunks;
        float acc = 0.f, bits = 0.f;
        for (int c0 = lane; c0 < m.chunks; c0 += 32 * IN_FLIGHT) {
            uint4 v[IN_FLIGHT];
#pragma unroll
            for (int u = 0; u < IN_FLIGHT; u++) {
                int c = c0 + 32 * u;
                v[u] = c < m.chunks ? ld_stream(r + c) : make_uint4(0, 0, 0, 0);
            }
#pragma unroll
            for (int u = 0; u < IN_FLIGHT; u++) {
                int c = c0 + 32 * u;
                if (c < m.chunks) {
                    float p = (float)(__popc(v[u].x) + __popc(v[u].y) + __popc(v[u].z) + __popc(v[u].w));
                    acc += x[(c * 32) % m.cols] * p;
                    bits += p;
                }
            }
        }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            acc += __shfl_xor_sync(0xffffffffu, acc, o);
            bits += __shfl_xor_sync(0xffffffffu, bits, o);
        }
        if (lane == 0) y[row] = acc / fmaxf(bits, 1.f) + 1e-3f * (row % 13);
    }
}

// Every block arrives once per barrier; the counter only grows, so generation g is complete at (g+1) * blocks
// arrivals, and every launch sharing a counter must use the same grid (each does whole generations).
__device__ void grid_barrier(unsigned long long* counter) {
    __syncthreads();
    if (threadIdx.x == 0) {
        unsigned long long blocks = gridDim.x;
        __threadfence();
        unsigned long long old = atomicAdd(counter, 1ull);
        unsigned long long target = (old / blocks + 1) * blocks, seen, start, now;
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
        do {
            asm volatile("ld.acquire.gpu.global.u64 %0, [%1];" : "=l"(seen) : "l"(counter) : "memory");
            asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
            if (seen < target && now - start > 2000000000ull) { // 2 s
                printf("grid barrier stuck: block %d saw %llu of %llu arrivals (are all %d blocks resident?)\n", blockIdx.x, seen, target, gridDim.x);
                __trap();
            }
        } while (seen < target);
        __threadfence();
    }
    __syncthreads();
}

// The L2 fetch of this block's first rows of `m` (its first grid-stride tile: WARPS consecutive rows).
__device__ void prefetch_first_rows(const Mat& m, int block) {
    int row0 = block * WARPS;
    if (threadIdx.x != 0 || row0 >= m.rows) return;
    int rows = min(WARPS, m.rows - row0);
    const char* p = (const char*)(m.w + (size_t)row0 * m.chunks);
    unsigned bytes = (unsigned)rows * m.chunks * 16u; // a multiple of 16, as the instruction needs
    asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;" :: "l"(p), "r"(bytes) : "memory");
}

// vectors[i] is matrix i's input, vectors[i+1] its output (ping-pong of two buffers).
__global__ void __launch_bounds__(THREADS) one_matrix(int i, float* v0, float* v1) {
    const Mat& m = c_step.m[i];
    gemv(m, i % 2 ? v1 : v0, i % 2 ? v0 : v1, blockIdx.x, gridDim.x);
}

// As one_matrix, launched as a programmatic dependent of the previous kernel: its blocks start while
// the previous one drains, ask the L2 for their first rows, then wait for it; it lets the next kernel
// launch once its own rows are done.
__global__ void __launch_bounds__(THREADS) one_matrix_pdl(int i, float* v0, float* v1) {
    const Mat& m = c_step.m[i];
    prefetch_first_rows(m, blockIdx.x);
    asm volatile("griddepcontrol.wait;" ::: "memory");
    gemv(m, i % 2 ? v1 : v0, i % 2 ? v0 : v1, blockIdx.x, gridDim.x);
    asm volatile("griddepcontrol.launch_dependents;");
}

template <bool PREFETCH>
__global__ void __launch_bounds__(THREADS) matrices(int first, int count, float* v0, float* v1, unsigned long long* counter) {
    for (int i = first; i < first + count; i++) {
        gemv(c_step.m[i], i % 2 ? v1 : v0, i % 2 ? v0 : v1, blockIdx.x, gridDim.x);
        if (i + 1 < first + count) {
            if (PREFETCH) prefetch_first_rows(c_step.m[i + 1], blockIdx.x);
            grid_barrier(counter);
        }
    }
}

// Random bits, different for every matrix.
__global__ void fill(uint4* w, size_t n, uint32_t seed) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        uint32_t h[4];
        for (int k = 0; k < 4; k++) {
            uint32_t x = (uint32_t)(i * 4 + k) * 0x9E3779B1u ^ seed * 0x85EBCA77u;
            x ^= x >> 16; x *= 0x7FEB352Du; x ^= x >> 15; x *= 0x846CA68Bu; x ^= x >> 16;
            h[k] = x;
        }
        w[i] = make_uint4(h[0], h[1], h[2], h[3]);
    }
}

__global__ void empty_kernel(int* sink) {
    if (threadIdx.x == 0 && blockIdx.x == 0 && sink[0] == -12345) sink[1] = 1;
}

__global__ void __launch_bounds__(THREADS) barriers_only(int n, unsigned long long* counter) {
    for (int i = 0; i < n; i++) grid_barrier(counter);
}

struct Shape { const char* name; int hidden, inter, qkvRows; };

static std::vector<float> fetch(const float* d, int n) {
    std::vector<float> h(n);
    CK(cudaMemcpy(h.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost));
    return h;
}

// The median of `replays` launches of a graph (after one warm-up launch), in microseconds.
static double time_graph(cudaGraphExec_t g, cudaStream_t s, int replays) {
    std::vector<float> ms = replay_ms(g, s, replays);
    return ms[ms.size() / 2] * 1000.0;
}


int main(int argc, char** argv) {
    int layers = 0, replays = 20, perSm = 4; // jmlc's decode GEMVs run 4 blocks of 256 threads an SM
    std::string shape = "7b";
    for (int a = 1; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--layers")) layers = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--replays")) replays = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--shape")) shape = argv[a + 1];
        else if (!strcmp(argv[a], "--blocks-per-sm")) perSm = atoi(argv[a + 1]);
        else { fprintf(stderr, "unknown option %s\n", argv[a]); return 2; }
    }
    Shape sh = shape == "13b" ? Shape{"Llama-2-13B", 5120, 13824, 3 * 5120}
             : shape == "8b"  ? Shape{"Llama-3-8B", 4096, 14336, 4096 + 2 * 1024}
                              : Shape{"Llama-2-7B", 4096, 11008, 3 * 4096};
    if (layers == 0) layers = shape == "13b" ? 40 : 32;
    if (layers < 1 || 4 * layers > MAX_MATS) { fprintf(stderr, "--layers: 1 to %d\n", MAX_MATS / 4); return 2; }

    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    int sms = prop.multiProcessorCount;

    // q4f16_1 bytes a row: cols/2 of nibbles + cols/32 f16 scales = cols * 9 / 16
    struct Dims { int rows, cols; };
    const Dims per_layer[4] = {{sh.qkvRows, sh.hidden}, {sh.hidden, sh.hidden}, {2 * sh.inter, sh.hidden}, {sh.hidden, sh.inter}};
    const char* names[4] = {"qkv", "o", "gate/up", "down"};
    Step step{};
    step.n = 4 * layers;
    size_t total = 0;
    std::vector<uint4*> allocs;
    for (int l = 0; l < layers; l++)
        for (int j = 0; j < 4; j++) {
            Dims d = per_layer[j];
            int chunks = d.cols * 9 / 16 / 16;
            size_t bytes = (size_t)d.rows * chunks * 16;
            uint4* w;
            CK(cudaMalloc(&w, bytes));
            fill<<<1024, 256>>>(w, bytes / 16, 4 * l + j + 1);
            CK(cudaGetLastError());
            allocs.push_back(w);
            step.m[4 * l + j] = Mat{w, d.rows, d.cols, chunks};
            total += bytes;
        }
    CK(cudaMemcpyToSymbol(c_step, &step, sizeof(step)));
    int maxRows = 2 * sh.inter > sh.qkvRows ? 2 * sh.inter : sh.qkvRows;
    float *v0, *v1;
    int* sink;
    unsigned long long* counters;
    CK(cudaMalloc(&v0, maxRows * sizeof(float)));
    CK(cudaMalloc(&v1, maxRows * sizeof(float)));
    CK(cudaMalloc(&sink, 2 * sizeof(int)));
    CK(cudaMalloc(&counters, 8 * sizeof(unsigned long long)));
    CK(cudaMemset(sink, 0, 2 * sizeof(int)));
    CK(cudaMemset(counters, 0, 8 * sizeof(unsigned long long)));
    std::vector<float> ones(maxRows, 1.f);

    // one grid for every structure: perSm blocks an SM, at most what every kernel fits (the persistent ones need all resident)
    int fit = perSm;
    for (const void* k : {(const void*)one_matrix, (const void*)one_matrix_pdl, (const void*)matrices<false>, (const void*)matrices<true>, (const void*)barriers_only}) {
        int occ;
        CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&occ, k, THREADS, 0));
        fit = std::min(fit, occ);
    }
    if (fit < 1) { fprintf(stderr, "no block fits an SM (--blocks-per-sm must be at least 1)\n"); return 2; }
    const int grid = sms * fit;
    printf("%s on %s (%d SMs), %d layers: %.1f MB of weights a step; grids of %d blocks of %d threads\n",
           sh.name, prop.name, sms, layers, total / 1e6, grid, THREADS);

    cudaStream_t s;
    CK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    auto reset = [&] { CK(cudaMemcpyAsync(v0, ones.data(), maxRows * sizeof(float), cudaMemcpyHostToDevice, s)); };
    const int n = 4 * layers;
    float* last = (n - 1) % 2 ? v0 : v1; // matrix i reads v[i % 2] and writes v[(i + 1) % 2]

    struct Row { const char* name; double us; std::vector<float> out; };
    std::vector<Row> rows;

    cudaGraphExec_t gk = capture(s, [&] { for (int i = 0; i < n; i++) one_matrix<<<grid, THREADS, 0, s>>>(i, v0, v1); });
    cudaGraphExec_t gl = capture(s, [&] { for (int l = 0; l < layers; l++) matrices<false><<<grid, THREADS, 0, s>>>(4 * l, 4, v0, v1, counters + 0); });
    cudaGraphExec_t gs = capture(s, [&] { matrices<false><<<grid, THREADS, 0, s>>>(0, n, v0, v1, counters + 1); });
    cudaGraphExec_t gp = capture(s, [&] { matrices<true><<<grid, THREADS, 0, s>>>(0, n, v0, v1, counters + 2); });
    cudaGraphExec_t gd = capture(s, [&] {
        cudaLaunchAttribute attr{};
        attr.id = cudaLaunchAttributeProgrammaticStreamSerialization;
        attr.val.programmaticStreamSerializationAllowed = 1;
        cudaLaunchConfig_t cfg{};
        cfg.gridDim = dim3(grid);
        cfg.blockDim = dim3(THREADS);
        cfg.stream = s;
        cfg.attrs = &attr;
        cfg.numAttrs = 1;
        for (int i = 0; i < n; i++) CK(cudaLaunchKernelEx(&cfg, one_matrix_pdl, i, v0, v1));
    });
    const char* labels[5] = {"kernels (a graph of one kernel a matrix)", "layer (a persistent kernel a layer)", "step (one persistent kernel)",
                             "step+pf (and L2 prefetch before each barrier)", "kernels+pdl (dependent launches, L2 prefetch)"};
    cudaGraphExec_t graphs[5] = {gk, gl, gs, gp, gd};
    for (int v = 0; v < 5; v++) {
        reset();
        CK(cudaStreamSynchronize(s));
        double us = time_graph(graphs[v], s, replays);
        reset();
        CK(cudaGraphLaunch(graphs[v], s));
        CK(cudaStreamSynchronize(s));
        rows.push_back({labels[v], us, fetch(last, per_layer[3].rows)});
    }

    // the plain read ceiling of this access pattern: one kernel a matrix, each timed alone (no boundaries)
    double alone = 0;
    for (int j = 0; j < 4; j++) {
        cudaGraphExec_t g1 = capture(s, [&] { for (int r = 0; r < 8; r++) for (int l = 0; l < layers; l += std::max(1, layers / 8)) one_matrix<<<grid, THREADS, 0, s>>>(4 * l + j, v0, v1); });
        int launches = 0;
        for (int l = 0; l < layers; l += std::max(1, layers / 8)) launches++;
        double us = time_graph(g1, s, replays) / (8.0 * launches);
        Dims d = per_layer[j];
        double bytes = (double)d.rows * (d.cols * 9 / 16);
        printf("  %-8s %6d x %-6d %7.1f us in a graph of its own kind (%.0f GB/s)\n", names[j], d.rows, d.cols, us, bytes / us / 1e3);
        alone += us * layers;
        CK(cudaGraphExecDestroy(g1));
    }

    printf("\n%-48s %10s %9s %18s\n", "structure", "us a step", "GB/s", "max diff to first");
    bool same = true;
    for (auto& r : rows) {
        double diff = 0;
        for (size_t i = 0; i < r.out.size(); i++) diff = std::max(diff, (double)std::fabs(r.out[i] - rows[0].out[i]));
        printf("%-48s %10.1f %9.0f %18.2e\n", r.name, r.us, total / r.us / 1e3, diff);
        same &= diff <= 1e-4;
    }
    printf("%-48s %10.1f %9.0f\n", "sum of the matrices timed by kind", alone, total / alone / 1e3);

    // bare costs: 200 empty dependent kernels in a graph against 200 grid barriers in one kernel
    const int reps = 200;
    for (int g : {1, sms, grid}) {
        cudaGraphExec_t ge = capture(s, [&] { for (int r = 0; r < reps; r++) empty_kernel<<<g, THREADS, 0, s>>>(sink); });
        double usK = time_graph(ge, s, replays) / reps;
        CK(cudaGraphExecDestroy(ge));
        // each grid its own counter (every launch sharing one must have the same grid)
        cudaGraphExec_t gb = capture(s, [&] { barriers_only<<<g, THREADS, 0, s>>>(reps, counters + 3 + (g == 1 ? 0 : g == sms ? 1 : 2)); });
        double usB = time_graph(gb, s, replays) / reps;
        CK(cudaGraphExecDestroy(gb));
        printf("grid of %4d blocks: a graph's kernel boundary %.2f us, a grid barrier %.2f us\n", g, usK, usB);
    }
    for (auto g : graphs) CK(cudaGraphExecDestroy(g));
    for (auto w : allocs) CK(cudaFree(w));
    if (!same) {
        printf("FAILED: the structures' final vectors differ by more than 1e-4 (a barrier let a block read an incomplete vector)\n");
        return 1;
    }
    printf("final vectors equal across structures (within 1e-4)\n");
    return 0;
}
