// What the standalone CUDA probes in bench/ share: a checked runtime call, and a stream's work captured
// as an instantiated CUDA graph (how jmlc runs a decode step), and the times of its replays.
#pragma once
#include <cuda_runtime.h>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <vector>

#define CK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
    fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); exit(1); } } while (0)

// The launches `body` makes on stream `s`, captured and instantiated (the graph itself is released).
template <typename F>
static cudaGraphExec_t capture(cudaStream_t s, F body) {
    cudaGraph_t g;
    cudaGraphExec_t e;
    CK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
    body();
    CK(cudaStreamEndCapture(s, &g));
    CK(cudaGraphInstantiate(&e, g, 0));
    CK(cudaGraphDestroy(g));
    return e;
}

// Milliseconds each of `replays` launches of graph `g` on stream `s` took, after one warm-up launch; sorted ascending.
static std::vector<float> replay_ms(cudaGraphExec_t g, cudaStream_t s, int replays) {
    CK(cudaGraphLaunch(g, s));
    CK(cudaStreamSynchronize(s));
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    std::vector<float> ms;
    for (int r = 0; r < replays; r++) {
        CK(cudaEventRecord(a, s));
        CK(cudaGraphLaunch(g, s));
        CK(cudaEventRecord(b, s));
        CK(cudaEventSynchronize(b));
        float t;
        CK(cudaEventElapsedTime(&t, a, b));
        ms.push_back(t);
    }
    CK(cudaEventDestroy(a));
    CK(cudaEventDestroy(b));
    std::sort(ms.begin(), ms.end());
    return ms;
}
