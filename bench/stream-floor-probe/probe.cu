// How fast can one kernel read N bytes on this card, with no arithmetic at all (issue 12)?
//
// The decode GEMVs take about 4 to 5 us a kernel more than their bytes at the read bandwidth. This probe
// separates what any reading kernel pays (launch, ramp, tail) from what jmlc's GEMV adds: kernels that only
// read (16-byte loads, a few in flight a thread, XOR-folded so nothing is elided), each block taking row
// tiles of 64 KiB as the GEMV does (tile b, b + grid, ...), timed
//   1. alone: one size a launch, 20 launches in a graph, each on other bytes (a rotation past the L2);
//   2. as a decode step: the 7B GEMVs' byte counts (qkv, o, gate/up, down; 32 layers, 128 launches) in one
//      graph, plain and as programmatic dependents (the next kernel's blocks launch as this one's finish);
//   3. (both) with every block first staging the x row in shared memory, as a GEMV's prologue does: f32 or f16,
//      before its first loads or with them in flight, plainly or with a norm: what staging x costs; and what would
//      hide it: 16 loads in flight instead of 8, or the row read once a thread block cluster of 2 or 4 (sm_90);
//   4. (both) with a block's first loads issued before its grid dependency's wait (weights: no kernel of the step writes
//      them), and with that wait a spin on the previous launch's counter of finished blocks instead of
//      griddepcontrol.wait (the whole grid done and its writes flushed);
//   5. (both) with each block holding shared memory it does not use, as jmlc's GEMV holds its ring: 90 KiB at 2 blocks
//      an SM leaves no room for the next kernel's blocks until this one's leave (as jmlc's ring of 4 stages), 50 KiB
//      at 2 an SM leaves room for 2 more, 100 KiB at 1 for 1 more: whether a boundary is cheap only where the next
//      kernel's blocks fit beside this one's.
// Sizes are the 7B q4f16_1 matrices' packed weights plus scales.
//
// Build: nvcc -O3 -std=c++17 -arch=sm_90 -o probe probe.cu      Run: ./probe

#include <cuda_runtime.h>
#include <cstdint>
#include <cstdio>
#include <vector>
#include <string>

#include <cooperative_groups.h>

#include "../probe-common/cuda-graph.cuh" // CK, capture, replay_ms

namespace cg = cooperative_groups;

static constexpr int TILE = 64 * 1024; // bytes a block reads at a time, as a GEMV row tile (32 rows of 2 KiB)

// Each block takes tiles blockIdx.x, + gridDim.x, ...; a thread reads LOADS 16-byte words of a tile at once,
// all in flight before any is used. DEPENDENT: wait for the previous grid first (programmatic dependent launch)
// and let the next one launch once this block has issued its last loads.
// STAGE: what every block does with the x row (xWords 16-byte words, L2-resident) before it uses its first
// loads, as a GEMV's prologue does: 0 nothing; 1 copies it into shared memory before its first loads; 2 the same
// with its first loads in flight (as jmlc's ring GEMV issues its first batches before the prologue); 3 as 2, then
// a norm: a block-wide sum of squares, and x read again beside a gain row of as many words.
// CLUSTER > 1 (sm_90 thread block clusters): the blocks of a cluster share the staging, each reading 1/CLUSTER of the
// row from the L2 and writing it into every block's shared memory of the cluster (distributed shared memory), then a
// cluster barrier: the L2 serves a row a cluster instead of a row a block.
// PREWAIT (with DEPENDENT): a block issues its first LOADS loads before it waits for the previous grid, as jmlc's ring
// GEMV copies its first batches of weights (which no kernel of the step writes) before its grid dependency's wait.
// FLAG (with DEPENDENT): the wait is not griddepcontrol.wait (the whole previous grid done and flushed) but thread 0
// spinning on the previous launch's counter, which each of its blocks raises as it ends (a fence, one atomic): what a
// finer-grained dependency than the grid's would save at each boundary.
template <int LOADS, bool DEPENDENT, int STAGE, int CLUSTER = 1, bool PREWAIT = false, bool FLAG = false>
__global__ void __launch_bounds__(256) read_tiles(const uint4* __restrict__ p, long words, unsigned* __restrict__ sink,
                                                  const uint4* __restrict__ x, int xWords, unsigned* flags, int launch, int prevBlocks) {
    extern __shared__ uint4 xs[];
    __shared__ float partial[8];
    auto wait = [&] {
        if (!FLAG) { asm volatile("griddepcontrol.wait;" ::: "memory"); return; }
        if (threadIdx.x == 0 && launch > 0) {
            unsigned seen;
            for (;;) {
                asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(seen) : "l"(flags + launch - 1) : "memory");
                if (seen >= (unsigned)prevBlocks) break;
                __nanosleep(32);
            }
        }
        __syncthreads();
    };
    if (DEPENDENT && !PREWAIT) wait();
    auto stage = [&] {
        if (STAGE == 3) {
            float ss = 0;
            for (int i = threadIdx.x; i < xWords; i += blockDim.x) {
                uint4 v = __ldg(x + i);
                float a = __uint_as_float(v.x), b = __uint_as_float(v.y), c = __uint_as_float(v.z), d = __uint_as_float(v.w);
                ss += a * a + b * b + c * c + d * d;
            }
            for (int o = 16; o > 0; o /= 2) ss += __shfl_xor_sync(0xffffffffu, ss, o);
            if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = ss;
            __syncthreads();
            float r = 0;
            for (int w = 0; w < 8; w++) r += partial[w];
            for (int i = threadIdx.x; i < xWords; i += blockDim.x) {
                uint4 v = __ldg(x + i), g = __ldg(x + xWords + i);
                xs[i] = make_uint4(__float_as_uint(__uint_as_float(v.x) * __uint_as_float(g.x) * r), v.y ^ g.y, v.z ^ g.z, v.w ^ g.w);
            }
        } else if (CLUSTER > 1) {
            cg::cluster_group cluster = cg::this_cluster();
            const int part = (xWords + CLUSTER - 1) / CLUSTER, from = (int)cluster.block_rank() * part, to = min(xWords, from + part);
            for (int i = from + threadIdx.x; i < to; i += blockDim.x) {
                uint4 v = __ldg(x + i);
#pragma unroll
                for (int r = 0; r < CLUSTER; r++) cluster.map_shared_rank(xs, r)[i] = v;
            }
            cluster.sync();
            return;
        } else {
            for (int i = threadIdx.x; i < xWords; i += blockDim.x) xs[i] = __ldg(x + i);
        }
        __syncthreads();
    };
    if (STAGE == 1) stage();
    const long tileWords = TILE / 16, tiles = (words + tileWords - 1) / tileWords;
    unsigned acc = 0;
    bool first = true;
    for (long t = blockIdx.x; t < tiles; t += gridDim.x) {
        const long base = t * tileWords;
        if (DEPENDENT && t + gridDim.x >= tiles) asm volatile("griddepcontrol.launch_dependents;");
        for (long i = threadIdx.x; i < tileWords; i += (long)blockDim.x * LOADS) {
            uint4 v[LOADS];
#pragma unroll
            for (int u = 0; u < LOADS; u++) {
                long at = base + i + (long)u * blockDim.x;
                v[u] = at < words && i + (long)u * blockDim.x < tileWords ? __ldg(p + at) : make_uint4(0, 0, 0, 0);
            }
            if (DEPENDENT && PREWAIT && first) wait();
            if (STAGE >= 2 && first) stage();
            first = false;
#pragma unroll
            for (int u = 0; u < LOADS; u++) acc ^= v[u].x ^ v[u].y ^ v[u].z ^ v[u].w;
        }
    }
    if (STAGE != 0) acc ^= xs[threadIdx.x % xWords].x;
    if (acc == 0x9e3779b9u) sink[threadIdx.x] = acc; // never in practice; keeps the loads
    if (FLAG) {
        __syncthreads();
        if (threadIdx.x == 0) { __threadfence(); atomicAdd(flags + launch, 1u); }
    }
}

using Kernel = void (*)(const uint4*, long, unsigned*, const uint4*, int, unsigned*, int, int);

// held: shared memory a block holds without using it (KiB; variants that stage no x), to bound the blocks an SM holds
struct Variant { const char* name; Kernel k; int blocksPerSm; bool dependent; int xBytesPerColumn; int cluster = 1; bool flag = false; int held = 0; };

static unsigned* flags; // a counter a launch of a graph (FLAG variants), zeroed at the graph's start

// the blocks a launch of `bytes` uses (tiles dealt evenly, as GemvHalfRule does)
static int gridOf(const Variant& v, int sms, long bytes) {
    long tiles = (bytes + TILE - 1) / TILE;
    int grid = (int)std::min<long>(tiles, (long)sms * v.blocksPerSm);
    long rounds = (tiles + grid - 1) / grid;
    grid = (int)((tiles + rounds - 1) / rounds);
    if (v.cluster > 1) grid = std::max(v.cluster, grid / v.cluster * v.cluster);
    return grid;
}

// k: the x row's length (columns) for the staging variants
// launch `index` of its graph; `prevBlocks` the grid of the launch before it (FLAG variants wait for its counter)
static void launch(cudaStream_t s, const Variant& v, int sms, const uint4* p, long bytes, unsigned* sink, const uint4* x, long k,
                   int index = 0, int prevBlocks = 0) {
    long words = bytes / 16;
    int grid = gridOf(v, sms, bytes);
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = dim3(grid);
    cfg.blockDim = dim3(256);
    cfg.stream = s;
    int xWords = (int)(k * v.xBytesPerColumn / 16);
    cfg.dynamicSmemBytes = v.xBytesPerColumn ? xWords * 16 : v.held * 1024;
    cudaLaunchAttribute attr[2];
    int attrs = 0;
    if (v.dependent) {
        attr[attrs].id = cudaLaunchAttributeProgrammaticStreamSerialization;
        attr[attrs++].val.programmaticStreamSerializationAllowed = 1;
    }
    if (v.cluster > 1) {
        attr[attrs].id = cudaLaunchAttributeClusterDimension;
        attr[attrs].val.clusterDim.x = v.cluster;
        attr[attrs].val.clusterDim.y = 1;
        attr[attrs++].val.clusterDim.z = 1;
    }
    cfg.attrs = attr;
    cfg.numAttrs = attrs;
    CK(cudaLaunchKernelEx(&cfg, v.k, p, words, sink, x, xWords, flags, index, prevBlocks));
}

int main() {
    int dev = 0, sms;
    CK(cudaSetDevice(dev));
    CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, dev));
    // a pool larger than 7B's weights, so each launch of a rotation reads bytes the L2 does not hold
    const long pool = 4L << 30;
    uint4* p;
    unsigned* sink;
    CK(cudaMalloc(&p, pool));
    CK(cudaMalloc(&sink, 4096));
    CK(cudaMalloc(&flags, 4096));
    CK(cudaMemset(p, 1, pool));
    cudaStream_t s;
    CK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    printf("%s, %d SMs, L2 %d MB\n", prop.name, sms, prop.l2CacheSize >> 20);

    // the x row the staging variants copy (f32 or f16 a column), and a norm's gain row after it: written once, so L2-resident
    uint4* x;
    CK(cudaMalloc(&x, 2 * 4 * 11008));
    CK(cudaMemset(x, 0, 2 * 4 * 11008));
    std::vector<Variant> variants = {
        {"4 loads, 2 blocks/SM", read_tiles<4, false, 0>, 2, false, 0},
        {"4 loads, 4 blocks/SM", read_tiles<4, false, 0>, 4, false, 0},
        {"8 loads, 2 blocks/SM", read_tiles<8, false, 0>, 2, false, 0},
        {"8 loads, 4 blocks/SM", read_tiles<8, false, 0>, 4, false, 0},
        {"8 loads, 4 blocks/SM, dependents", read_tiles<8, true, 0>, 4, true, 0},
        // every block stages the x row first, as a GEMV's prologue does (dependents, 8 loads)
        {"dep, x f32 staged, then loads", read_tiles<8, true, 1>, 4, true, 4},
        {"dep, x f32 staged, loads in flight", read_tiles<8, true, 2>, 4, true, 4},
        {"dep, x f32 staged, loads in flight, 2/SM", read_tiles<8, true, 2>, 2, true, 4},
        {"dep, x f16 staged, loads in flight", read_tiles<8, true, 2>, 4, true, 2},
        {"dep, x f32 norm staged, loads in flight", read_tiles<8, true, 3>, 4, true, 4},
        // what would hide the staging: more loads in flight while it runs; a row a cluster of 2 or 4 blocks
        {"dep, x f32 staged, 16 loads in flight", read_tiles<16, true, 2>, 4, true, 4},
        {"dep, x f32 staged a cluster of 2, in flight", read_tiles<8, true, 2, 2>, 4, true, 4, 2},
        {"dep, x f32 staged a cluster of 4, in flight", read_tiles<8, true, 2, 4>, 4, true, 4, 4},
        {"dep, x f16 staged a cluster of 4, in flight", read_tiles<8, true, 2, 4>, 4, true, 2, 4},
        // the first loads issued before the grid dependency's wait (weights no kernel of the step writes)
        {"dep, first loads before the wait", read_tiles<8, true, 0, 1, true>, 4, true, 0},
        {"dep, first loads before the wait, 2/SM", read_tiles<8, true, 0, 1, true>, 2, true, 0},
        {"dep, before the wait, x f16 staged", read_tiles<8, true, 2, 1, true>, 4, true, 2},
        {"dep, 16 before the wait, x f16 staged", read_tiles<16, true, 2, 1, true>, 4, true, 2},
        {"dep, 16 before the wait, x f16, 2/SM", read_tiles<16, true, 2, 1, true>, 2, true, 2},
        {"dep, 16 before the wait, x f32 norm", read_tiles<16, true, 3, 1, true>, 4, true, 4},
        // the previous launch's counter instead of griddepcontrol.wait
        {"flag, first loads before the wait", read_tiles<8, true, 0, 1, true, true>, 4, true, 0, 1, true},
        {"flag, before the wait, x f16 staged", read_tiles<8, true, 2, 1, true, true>, 4, true, 2, 1, true},
        {"flag, 16 before the wait, x f32 norm", read_tiles<16, true, 3, 1, true, true>, 4, true, 4, 1, true},
        // shared memory held but not used: room, or none, for the next kernel's blocks beside this one's
        {"dep, before the wait, 2/SM, 90 KiB held", read_tiles<8, true, 0, 1, true>, 2, true, 0, 1, false, 90},
        {"dep, before the wait, 2/SM, 50 KiB held", read_tiles<8, true, 0, 1, true>, 2, true, 0, 1, false, 50},
        {"dep, before the wait, 1/SM, 100 KiB held", read_tiles<8, true, 0, 1, true>, 1, true, 0, 1, false, 100},
        {"dep, before the wait, 1/SM, 200 KiB held", read_tiles<8, true, 0, 1, true>, 1, true, 0, 1, false, 200},
        {"dep, 16 before the wait, 2/SM, 90 KiB held", read_tiles<16, true, 0, 1, true>, 2, true, 0, 1, false, 90},
    };
    struct Size { const char* name; long bytes; long k; };
    // 7B q4f16_1: packed weights (N x K / 2) plus f16 scales (N x K / 32 x 2); k: the x row's length
    auto q4 = [](long n, long k) { return n * k / 2 + n * (k / 32) * 2; };
    std::vector<Size> sizes = {{"o 4096x4096", q4(4096, 4096), 4096}, {"down 4096x11008", q4(4096, 11008), 11008},
                               {"qkv 12288x4096", q4(12288, 4096), 4096}, {"gate/up 22016x4096", q4(22016, 4096), 4096},
                               {"LM head 32000x4096", q4(32000, 4096), 4096}, {"256 MiB", 256L << 20, 4096}};
    for (auto& v : variants)
        if (v.xBytesPerColumn || v.held)
            CK(cudaFuncSetAttribute(v.k, cudaFuncAttributeMaxDynamicSharedMemorySize, std::max(4 * 11008, v.held * 1024)));

    // 1. one size at a time: 20 launches a graph over rotating bytes
    printf("\n1. one kernel a size (best of 7 graphs of 20 launches, each launch on other bytes)\n");
    for (auto& z : sizes) {
        long stride = (z.bytes + 4095) / 4096 * 4096;
        int launches = (int)std::min<long>(20, pool / stride);
        for (auto& v : variants) {
            int blocks = gridOf(v, sms, z.bytes);
            cudaGraphExec_t g = capture(s, [&] {
                CK(cudaMemsetAsync(flags, 0, 4096, s));
                for (int i = 0; i < launches; i++) launch(s, v, sms, p + i * stride / 16, z.bytes, sink, x, z.k, i, blocks);
            });
            float ms = replay_ms(g, s, 7)[0] / launches;
            CK(cudaGraphExecDestroy(g));
            printf("%-20s | %-42s | %7.2f us %6.0f GB/s\n", z.name, v.name, ms * 1e3, z.bytes / (ms * 1e-3) / 1e9);
        }
    }

    // 2. a 7B decode step's GEMV bytes: 32 layers x (qkv, o, gate/up, down), each layer on its own bytes
    long layer[4] = {q4(12288, 4096), q4(4096, 4096), q4(22016, 4096), q4(4096, 11008)}, layerK[4] = {4096, 4096, 4096, 11008};
    long stepBytes = 0;
    for (long b : layer) stepBytes += 32 * b;
    printf("\n2. a 7B step's 128 GEMV reads in one graph (%.2f GB)\n", stepBytes / 1e9);
    for (auto& v : variants) {
        cudaGraphExec_t g = capture(s, [&] {
            CK(cudaMemsetAsync(flags, 0, 4096, s));
            long off = 0;
            int index = 0, prev = 0;
            for (int l = 0; l < 32; l++)
                for (int m = 0; m < 4; m++) {
                    launch(s, v, sms, p + off / 16, layer[m], sink, x, layerK[m], index++, prev);
                    prev = gridOf(v, sms, layer[m]);
                    off += (layer[m] + 4095) / 4096 * 4096;
                }
        });
        float ms = replay_ms(g, s, 7)[0];
        CK(cudaGraphExecDestroy(g));
        printf("%-42s %8.3f ms  %6.0f GB/s  %.2f us a launch\n", v.name, ms, stepBytes / (ms * 1e-3) / 1e9, ms * 1e3 / 128);
    }
    CK(cudaFree(x));
    CK(cudaFree(p));
    CK(cudaFree(sink));
    return 0;
}
