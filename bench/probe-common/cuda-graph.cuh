// What the standalone CUDA probes in bench/ share: a checked runtime call, and a stream's work captured
// as an instantiated CUDA graph (how jmlc runs a decode step).
#pragma once
#include <cuda_runtime.h>
#include <cstdio>
#include <cstdlib>

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
