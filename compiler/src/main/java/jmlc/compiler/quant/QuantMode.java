package jmlc.compiler.quant;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.QuantScheme;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The quantization modes a user names ({@code --quant q4f16_1}), MLC's names: {@code q<bits>f<activation bits>}.
 *
 * <p>{@code weights} is how matmul and embedding weights are stored; {@code dense} the storage of
 * unquantized weights; {@code kvCache} the KV cache's element type; {@code activations} the element type of the
 * activations only a matmul reads ({@code HalfMatmulInputs}); the residual stream and norms' inputs are f32.
 */
public enum QuantMode {
    Q4F16_1("q4f16_1", QuantScheme.Q4F16_1, DType.F16, DType.F16),
    Q4F32_1("q4f32_1", QuantScheme.Q4F32_1, DType.F32, DType.F32),
    Q8F16("q8f16", QuantScheme.Q8F16, DType.F16, DType.F16),
    /** GGUF Q4_0's own format (zero point 8), so Q4_0 files load without requantizing. */
    Q4_0("q4_0", QuantScheme.GGUF_Q4_0, DType.F16, DType.F16),
    Q0F16("q0f16", null, DType.F16, DType.F16),
    Q0F32("q0f32", null, DType.F32, DType.F32);

    private final String id;
    private final QuantScheme scheme;
    private final DType dense;
    private final DType kvCache;

    QuantMode(String id, QuantScheme scheme, DType dense, DType kvCache) {
        this.id = id;
        this.scheme = scheme;
        this.dense = dense;
        this.kvCache = kvCache;
    }

    public String id() {
        return id;
    }

    /** The group quantization of matmul weights, or {@code null} for q0 modes (dense weights). */
    public QuantScheme scheme() {
        return scheme;
    }

    /** Element type of weights kept dense (norms; all weights in q0 modes). */
    public DType denseType() {
        return dense;
    }

    /** f16 in the {@code f16} modes (MLC's activation bits), else f32. */
    public DType activations() {
        return dense == DType.F16 ? DType.F16 : DType.F32;
    }

    public DType kvCacheType() {
        return kvCache;
    }

    /** {@code chosen} where a user named a KV cache type, else this mode's. */
    public DType kvCacheType(DType chosen) {
        return chosen != null ? chosen : kvCache;
    }

    public static QuantMode parse(String s) {
        for (QuantMode m : values()) if (m.id.equalsIgnoreCase(s)) return m;
        throw new IllegalArgumentException("unknown quantization '" + s + "': expected one of " + names());
    }

    public static String names() {
        return Arrays.stream(values()).map(QuantMode::id).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return id;
    }
}
