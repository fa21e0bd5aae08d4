package jmlc.engine.format.tensor;

/**
 * Element types of checkpoint tensors, as stored on disk.
 *
 * <p>Quantized types store blocks of {@link #blockSize()} consecutive values of a row (along the
 * last, fastest-varying dimension) in {@link #blockBytes()} bytes, little-endian:
 * <pre>
 * Q4_0  18 bytes per 32 values: f16 d, then 16 bytes qs;
 *       value j (0..15) = ((qs[j] &amp; 0xF) - 8)·d, value j+16 = ((qs[j] &gt;&gt; 4) - 8)·d
 * Q8_0  34 bytes per 32 values: f16 d, then 32 int8 qs; value j = qs[j]·d
 * </pre>
 * (ggml's {@code block_q4_0} and {@code block_q8_0} in ggml-common.h.)
 */
public enum TensorDType {
    F32(1, 4),
    F16(1, 2),
    BF16(1, 2),
    Q4_0(32, 18),
    Q8_0(32, 34);

    private final int blockSize;
    private final int blockBytes;

    TensorDType(int blockSize, int blockBytes) {
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** Values per block: 1 for plain floats, 32 for the ggml block types. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int blockBytes() {
        return blockBytes;
    }

    public boolean isQuantized() {
        return blockSize > 1;
    }

    /**
     * Bytes taken by {@code numel} values, or -1 if {@code numel} is not a whole number of blocks
     * or the size does not fit in a long.
     */
    public long byteSize(long numel) {
        if (numel < 0 || numel % blockSize != 0) return -1;
        long blocks = numel / blockSize;
        if (blocks > Long.MAX_VALUE / blockBytes) return -1;
        return blocks * blockBytes;
    }
}
