package jmlc.compiler.schedule;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Capabilities;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.kernel.Shared;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Assembles one {@link KernelCall} while a rule writes the kernel: each buffer the kernel declares
 * is bound to its graph value, weight part, constant or scratch at the same time, so parameters
 * and bindings cannot drift apart.
 */
public final class LaunchBuilder {
    private final String name;
    private final String summary;
    private final Capabilities caps;
    private final List<Buffer> buffers = new ArrayList<>();
    private final List<Arg> args = new ArrayList<>();
    private final List<Expr.Var> scalars = new ArrayList<>();
    private final List<Shared> shared = new ArrayList<>();
    private final Map<String, Integer> knobs = new LinkedHashMap<>();
    public final K.Body body = new K.Body();
    private int[] block = {1, 1, 1};
    private Expr[] grid = {K.c(1), K.c(1), K.c(1)};

    /** Rules start one with {@link ScheduleContext#launch}; {@code caps} are the target's. */
    public LaunchBuilder(String name, String summary, Capabilities caps) {
        this.name = name.replaceAll("[^A-Za-z0-9_]", "_");
        this.summary = summary;
        this.caps = caps;
    }

    /** Kernel element type of a graph value's buffer. */
    public static KType elementOf(DType d) {
        return switch (d) {
            case F32 -> KType.F32;
            case F16 -> KType.F16;
            case I32 -> KType.I32;
            case I8 -> KType.I8;
            case U32, Q4, Q8 -> KType.U32;
            default -> throw new IllegalArgumentException("no kernel buffer type for " + d);
        };
    }

    private Buffer add(Buffer b, Arg a) {
        buffers.add(b);
        args.add(a);
        return b;
    }

    /** A read-only buffer holding {@code v}: a param's (dense) weight data, or the value's buffer. */
    public Buffer input(String n, Value v) {
        if (v.kind() == Value.Kind.PARAM) return weightData(n, v);
        return add(new Buffer(n, elementOf(v.type().dtype()), true), new Arg.Tensor(v));
    }

    public Buffer output(String n, Value v) {
        return add(new Buffer(n, elementOf(v.type().dtype()), false), new Arg.Tensor(v));
    }

    /** Packed values (u32 words) of a quantized param, or the values of a dense one. */
    public Buffer weightData(String n, Value param) {
        return add(new Buffer(n, elementOf(param.type().dtype()), true, true), new Arg.WeightData(param));
    }

    public Buffer weightScales(String n, Value param) {
        return add(new Buffer(n, elementOf(param.type().quant().scaleType()), true, true), new Arg.WeightScales(param));
    }

    /** The f16 scales of the int8 KV cache {@code cache} (read, or written where {@code written}). */
    public Buffer kvScales(String n, Value cache, boolean written) {
        return add(new Buffer(n, KType.F16, !written), new Arg.StateScales(cache));
    }

    public Buffer constant(String n, String id, float[] values) {
        return add(new Buffer(n, KType.F32, true, true), new Arg.Constant(id, values));
    }

    public Buffer scratch(String n, String id, KType element, long elements) {
        return add(new Buffer(n, element, false), new Arg.Scratch(id, elements * element.bytes()));
    }

    /** The i32 scalar {@code seq}: tokens in this step (1 in decode). */
    public Expr.Var seq() {
        for (Expr.Var v : scalars) if (v.name().equals("seq")) return v;
        Expr.Var v = K.var("seq", KType.I32);
        scalars.add(v);
        return v;
    }

    /**
     * Rows of a {@code [rows, cols]} activation: a constant when fixed (after last_row), else
     * {@code seq}. A fixed count is added to the kernel's name, since it changes the launch.
     */
    public Expr rows(Value v) {
        var d = v.type().shape().dim(0);
        if (!d.isFixed()) return seq();
        fixedRows = (int) d.size();
        return K.c(fixedRows);
    }

    private int fixedRows;

    public Shared shared(String n, KType element, int size) {
        Shared s = new Shared(n, element, size);
        shared.add(s);
        return s;
    }

    public LaunchBuilder knob(String k, int v) {
        knobs.put(k, v);
        return this;
    }

    public LaunchBuilder block(int x) {
        this.block = new int[] {x, 1, 1};
        return this;
    }

    public LaunchBuilder grid(Expr x, Expr y) {
        return grid(x, y, K.c(1));
    }

    public LaunchBuilder grid(Expr x, Expr y, Expr z) {
        this.grid = new Expr[] {x, y, z};
        return this;
    }

    public LaunchBuilder grid(Expr x) {
        return grid(x, K.c(1));
    }

    /**
     * The grid's x blocks take {@code tiles} tiles in a grid-stride loop (persistent blocks): any number
     * of them computes the same, so a runtime may launch fewer where fewer fit at once ({@link Kernel#tiles()}).
     */
    public LaunchBuilder persistent(int tiles) {
        this.tiles = tiles;
        return this;
    }

    private int tiles;

    public KernelCall build() {
        String n = name + halfActivations() + (fixedRows > 0 ? "_row" + fixedRows : "");
        return new KernelCall(Kernel.checked(n, buffers, scalars, shared, body.build(), block, grid, knobs, summary, tiles, caps), args);
    }

    /**
     * {@code _NAME16} for each buffer holding an activation stored as f16 ({@code HalfMatmulInputs}): the same rule
     * over the same shapes writes different code for it, so the kernel's name says so.
     */
    private String halfActivations() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < args.size(); i++)
            if (args.get(i) instanceof Arg.Tensor t && t.value().isHalfActivation())
                sb.append('_').append(buffers.get(i).name()).append("16");
        return sb.toString();
    }

    /** {@code ceil(a / b)} for a positive constant b. */
    public static Expr ceilDiv(Expr a, int b) {
        return K.div(K.add(a, K.c(b - 1)), K.c(b));
    }
}
