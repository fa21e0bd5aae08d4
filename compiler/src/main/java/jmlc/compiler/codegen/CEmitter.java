package jmlc.compiler.codegen;

import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Capabilities;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.kernel.Stmt;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import jmlc.compiler.kernel.Shared;

/**
 * Prints kernel IR as C for the C-family GPU languages: one self-contained source file per kernel
 * (prelude, then the kernel). Expressions print fully parenthesised; f16 values are raw 16-bit
 * patterns converted by the prelude's helpers. What differs between CUDA and HIP is a handful of
 * hooks ({@link CudaEmitter}, {@link HipEmitter}: tinygrad's renderer idea); statements that only
 * some GPUs have ({@code mma}, {@code ldmatrix}, grid dependencies, prefetch) print through hooks
 * that a dialect without them leaves failing, since {@code KernelCheck} keeps them out of its kernels.
 */
public abstract class CEmitter extends StructuredCode implements CodeGenerator {

    // ---- the dialect's hooks ----

    /** Includes and helpers every kernel file starts with (f16 conversions, packed f16 math). */
    protected abstract String prelude();

    /** Before the kernel's name: {@code extern "C" __global__ void}. */
    protected String kernelPrefix() {
        return "extern \"C\" __global__ void";
    }

    /** The launch-bounds attribute for a block of {@code threads}. */
    protected String launchBounds(int threads) {
        return "__launch_bounds__(" + threads + ")";
    }

    /** A thread or block coordinate as an int: {@code (int)threadIdx.x}. */
    protected String builtin(Expr.Builtin.Kind kind, int axis) {
        return "(int)" + BUILTINS.get(kind) + "." + "xyz".charAt(axis);
    }

    /** The block-wide barrier statement. */
    protected String barrier() {
        return "__syncthreads();";
    }

    /** The subgroup's barrier statement ({@link Stmt.SubgroupBarrier}): CUDA's warp-wide {@code __syncwarp}, a memory fence among its lanes. */
    protected String subgroupBarrier() {
        return "__syncwarp();";
    }

    /** The kernel attribute that launches it in clusters of {@code x * y * z} blocks ({@link Stmt.ClusterBarrier}). */
    protected String clusterDims(int x, int y, int z) {
        throw new UnsupportedOperationException(language() + " has no thread block clusters: the rules must not emit cluster barriers for this target");
    }

    /** The barrier across a block's cluster. */
    protected String clusterBarrier() {
        throw new UnsupportedOperationException(language() + " has no thread block clusters: the rules must not emit cluster barriers for this target");
    }

    /** {@code array[index]} of type {@code t} in the shared memory of the block of rank {@code rank} in this block's cluster. */
    protected String sharedLoadByRank(String array, String index, String rank, KType t) {
        throw new UnsupportedOperationException(language() + " has no distributed shared memory: the rules must not read another block's shared memory for this target");
    }

    /** A butterfly shuffle of {@code value} with the lane {@code mask} away, within the subgroup. */
    protected abstract String shuffleXor(String value, int mask);

    /** A warp-wide {@code mma} step: {@code acc += a · b}. */
    protected String mma(List<String> acc, List<String> a, List<String> b) {
        throw new UnsupportedOperationException(language() + " has no mma.sync: the GEMM rule must not emit it for this target");
    }

    /** A subgroup-wide 16×16×16 matrix step of an AMD matrix unit (WMMA, MFMA): {@code acc += a · b}. */
    protected String matrix16(Capabilities.MatrixUnit unit, List<String> acc, List<String> a, List<String> b) {
        throw new UnsupportedOperationException(language() + " has no " + unit + ": the GEMM rule must not emit it for this target");
    }

    /** {@code c + Σ a.byte[i] · b.byte[i]}, signed bytes of two u32 words, into an i32. */
    protected String dot4(String a, String b, String c) {
        throw new UnsupportedOperationException(language() + " has no dot4: the rules must not emit it for this target");
    }

    /** {@code c + a.lo · b.lo + a.hi · b.hi} of two f16 pairs (raw u32 words) into an f32. */
    protected String dot2(String a, String b, String c) {
        throw new UnsupportedOperationException(language() + " has no dot2: the rules must not emit it for this target");
    }

    /**
     * The name under which the dialect calls a C math function the emitter prints ({@code fmaxf},
     * {@code fminf}, {@code fmaf}, {@code fabsf}, {@code __expf}, {@code logf}, {@code sqrtf},
     * {@code rsqrtf}): by default the same name.
     */
    protected String mathFunction(String name) {
        return name;
    }

    /** A warp-wide {@code ldmatrix.x4} into {@code dst} from {@code array[index]}. */
    protected String ldmatrix(List<String> dst, String array, String index) {
        throw new UnsupportedOperationException(language() + " has no ldmatrix: the GEMM rule must not emit it for this target");
    }

    /** Waits for (or lets launch) the kernels this one depends on; "" where launches are serialized anyway. */
    protected String gridDependency(Stmt.GridDependency.Kind kind) {
        return "";
    }

    /** Starts copying {@code bytes} from global {@code src} to shared {@code dst} (both pointer expressions) without waiting. */
    protected String asyncCopy(String dst, String src, int bytes) {
        throw new UnsupportedOperationException(language() + " has no asynchronous copies to shared memory: a rule must not emit them for this target");
    }

    /** Closes this thread's asynchronous copies since the last commit into a group. */
    protected String asyncCommit() {
        throw new UnsupportedOperationException(language() + " has no asynchronous copies to shared memory");
    }

    /** Waits until at most {@code pending} of this thread's latest groups of copies are in flight. */
    protected String asyncWait(int pending) {
        throw new UnsupportedOperationException(language() + " has no asynchronous copies to shared memory");
    }

    /** Starts one copy of {@code bytes} (an expression) from global {@code src} to shared {@code dst}, completing on the copy barrier at {@code bar} (pointers). */
    protected String bulkCopy(String dst, String src, String bytes, String bar) {
        throw new UnsupportedOperationException(language() + " has no bulk copies to shared memory: a rule must not emit them for this target");
    }

    /** {@link Stmt.CopyBarrier}'s {@code op} on the barrier at {@code bar} (a pointer), with its argument ({@code null} for INIT). */
    protected String copyBarrier(Stmt.CopyBarrier.Op op, String bar, String arg) {
        throw new UnsupportedOperationException(language() + " has no copy barriers (mbarrier): a rule must not emit them for this target");
    }

    /** A prefetch of {@code bytes} from {@code address} into L2 in one instruction; "" where the target has none. */
    protected String prefetchL2Range(String address, String bytes) {
        return "";
    }

    /** A prefetch of the line at {@code address} into L2; "" where the target has none. */
    protected String prefetchL2(String address) {
        return "";
    }

    // ---- the kernel ----

    @Override
    public String emit(Kernel k) {
        StringBuilder sb = new StringBuilder();
        sb.append("// ").append(k.name()).append(": ").append(k.summary()).append('\n');
        if (!k.knobs().isEmpty())
            sb.append("// knobs: ").append(new java.util.TreeMap<>(k.knobs()).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "))).append('\n');
        sb.append("// launch: block ").append(k.block()[0]).append('x').append(k.block()[1]).append('x').append(k.block()[2])
                .append(", grid (").append(expr(k.grid()[0])).append(", ").append(expr(k.grid()[1])).append(", ").append(expr(k.grid()[2])).append(")")
                .append(k.tiles() > 0 ? "; x blocks persistent over " + k.tiles() + " tiles" : "").append('\n');
        sb.append(prelude()).append('\n');
        List<String> params = new ArrayList<>();
        // a kernel with grid barriers reads, after one, what other blocks wrote before it, maybe through
        // another parameter bound to the same memory: its written buffers are not declared unaliased.
        // A kernel that waits for the kernels before it (a programmatic dependent) may start while they still
        // write its inputs: only its unchanging inputs (weights) are const __restrict__, which lets NVCC/NVRTC
        // load them through the non-coherent path as invariant, free to move: with its activations so declared,
        // ptxas hoisted the f16 GEMV's LDG.CONSTANT loads of x above griddepcontrol.wait (ACQBULK), and the
        // captured decode step computed NaN (H100, 2026-12-06)
        boolean barriers = k.gridBarriers(), dependent = k.waitsForGridDependency();
        for (Buffer b : k.buffers()) {
            boolean restrict = b.readOnly() ? b.unchanging() || !dependent : !barriers;
            params.add((b.readOnly() ? "const " : "") + type(b.element()) + (restrict ? "* __restrict__ " : "* ") + b.name());
        }
        for (Expr.Var s : k.scalars()) params.add(type(s.type()) + " " + s.name());
        int[] cluster = k.cluster();
        sb.append(kernelPrefix()).append(' ').append(k.clusterBarriers() ? clusterDims(cluster[0], cluster[1], cluster[2]) + " " : "").append(launchBounds(k.threadsPerBlock())).append(' ')
                .append(k.name()).append('(').append(String.join(", ", params)).append(") {\n");
        sharedDeclarations(sb, k);
        stmts(sb, ((Stmt.Block) k.body()).body(), 1);
        return sb.append("}\n").toString();
    }

    /** The kernel's shared arrays: static arrays. */
    void sharedDeclarations(StringBuilder sb, Kernel k) {
        for (Shared s : k.shared()) sb.append("  ").append(staticShared()).append(' ').append(type(s.element())).append(' ').append(s.name()).append('[').append(s.size()).append("];\n");
    }

    /** How a static shared array is declared, before its type. */
    protected String staticShared() {
        return "__shared__";
    }

    @Override
    void leaf(StringBuilder sb, Stmt s, String ind) {
        switch (s) {
            case Stmt.Let l -> sb.append(ind).append(type(l.var().type())).append(' ').append(l.var().name()).append(" = ").append(expr(l.init())).append(";\n");
            case Stmt.Assign a -> sb.append(ind).append(a.var().name()).append(" = ").append(expr(a.value())).append(";\n");
            case Stmt.Store st -> sb.append(ind).append(access(st.buffer(), st.index(), st.value().type(), false)).append(" = ").append(expr(st.value())).append(";\n");
            case Stmt.SharedStore st -> sb.append(ind).append(st.array().name()).append('[').append(expr(st.index())).append("] = ").append(expr(st.value())).append(";\n");
            case Stmt.Barrier b -> sb.append(ind).append(barrier()).append('\n');
            case Stmt.SubgroupBarrier b -> sb.append(ind).append(subgroupBarrier()).append('\n');
            case Stmt.GridBarrier g -> gridBarrier(sb, g.counter().name(), ind);
            case Stmt.ClusterBarrier c -> sb.append(ind).append(clusterBarrier()).append('\n');
            case Stmt.Return r -> sb.append(ind).append("return;\n");
            case Stmt.Comment c -> sb.append(ind).append("// ").append(c.text()).append('\n');
            case Stmt.Mma m -> {
                List<String> acc = m.acc().stream().map(Expr.Var::name).toList(), a = m.a().stream().map(this::expr).toList(), b = m.b().stream().map(this::expr).toList();
                sb.append(ind).append(m.unit() == Capabilities.MatrixUnit.MMA_M16N8K16 ? mma(acc, a, b) : matrix16(m.unit(), acc, a, b)).append('\n');
            }
            case Stmt.LdMatrix l -> sb.append(ind).append(ldmatrix(l.dst().stream().map(Expr.Var::name).toList(), l.array().name(), expr(l.index()))).append('\n');
            case Stmt.GridDependency g -> {
                String text = gridDependency(g.kind());
                if (!text.isEmpty()) sb.append(ind).append(text).append('\n');
            }
            case Stmt.Prefetch p -> {
                String address = "(" + p.buffer().name() + " + " + expr(p.index()) + ")";
                String text = p.bytes() == null ? prefetchL2(address) : prefetchL2Range(address, expr(p.bytes()));
                if (!text.isEmpty()) sb.append(ind).append(text).append('\n');
            }
            case Stmt.AsyncCopy c -> sb.append(ind).append(asyncCopy(c.dst().name() + " + " + expr(c.dstIndex()),
                    "((const " + type(c.dst().element()) + "*)" + c.src().name() + ") + " + expr(c.srcIndex()), c.bytes())).append('\n');
            case Stmt.AsyncCommit c -> sb.append(ind).append(asyncCommit()).append('\n');
            case Stmt.AsyncWait w -> sb.append(ind).append(asyncWait(w.pending())).append('\n');
            case Stmt.BulkCopy c -> sb.append(ind).append(bulkCopy(c.dst().name() + " + " + expr(c.dstIndex()),
                    "((const " + type(c.dst().element()) + "*)" + c.src().name() + ") + " + expr(c.srcIndex()),
                    expr(c.count()) + " * " + c.dst().element().bytes(), c.bars().name() + " + " + expr(c.barIndex()))).append('\n');
            case Stmt.CopyBarrier c -> sb.append(ind).append(copyBarrier(c.op(), c.bars().name() + " + " + expr(c.index()), c.arg() == null ? null : expr(c.arg()))).append('\n');
            case Stmt.TileFill _, Stmt.TileLoad _, Stmt.TileMma _, Stmt.TileStore _ ->
                    throw new UnsupportedOperationException("CUDA and HIP kernels have no cooperative matrix tiles: the rules must not emit them for these targets");
            case Stmt.For _, Stmt.If _, Stmt.Block _ -> throw new IllegalStateException("printed by StructuredCode.stmt");
        }
    }

    /**
     * The grid barrier, inline (so every kernel keeps the one prelude): block 0 adds 2^31 - (blocks - 1)
     * to the counter and every other block 1, so the word's top bit flips when the last block arrives and
     * its low bits end as they began (zero); each block's first thread spins on the top bit. The fences
     * make the writes before visible to every block after (release before the add, acquire after the
     * wait), and the block barriers carry that to the block's other threads. A wait of more than about
     * 2^32 clock cycles (seconds) traps: a block that never arrives (a grid larger than what stays
     * resident, a bug) fails the launch with an error instead of hanging the device.
     */
    void gridBarrier(StringBuilder sb, String counter, String ind) {
        String in = ind + "  ", in2 = in + "  ";
        sb.append(ind).append("{ // grid barrier (a cooperative launch: every block is resident)\n")
                .append(in).append(barrier()).append('\n')
                .append(in).append("if (threadIdx.x == 0 && threadIdx.y == 0 && threadIdx.z == 0) {\n")
                .append(in2).append("unsigned int blocks = gridDim.x * gridDim.y * gridDim.z;\n")
                .append(in2).append("unsigned int add = (blockIdx.x == 0 && blockIdx.y == 0 && blockIdx.z == 0) ? 0x80000000u - (blocks - 1u) : 1u;\n")
                .append(in2).append("__threadfence();\n")
                .append(in2).append("unsigned int before = atomicAdd(").append(counter).append(", add);\n")
                .append(in2).append("long long waited = clock64();\n")
                .append(in2).append("while (((before ^ *(volatile unsigned int*)").append(counter).append(") & 0x80000000u) == 0u)\n")
                .append(in2).append("  if (clock64() - waited > (1ll << 32)) __trap();\n")
                .append(in2).append("__threadfence();\n")
                .append(in).append("}\n")
                .append(in).append(barrier()).append('\n')
                .append(ind).append("}\n");
    }

    @Override
    String varName(Expr.Var v) {
        return v.name();
    }

    @Override
    String varType(Expr.Var v) {
        return type(v.type());
    }

    @Override
    String unrollHint(Stmt.For f) {
        return f.unroll() > 1 ? "#pragma unroll " + f.unroll() : f.unroll() == 1 ? "#pragma unroll 1" : "";
    }

    public String type(KType t) {
        String base = switch (t.scalar()) {
            case BOOL -> "bool";
            case I32 -> "int";
            case U32 -> "unsigned int";
            case F32 -> "float";
            case F16 -> "unsigned short";
            case I8 -> "signed char";
        };
        if (t.lanes() == 1) return base;
        return switch (t.scalar()) {
            case U32 -> "uint" + t.lanes();
            case F32 -> "float" + t.lanes();
            case I32 -> "int" + t.lanes();
            case F16 -> {
                if (t.lanes() != 2) throw new IllegalArgumentException("f16 vectors are f16x2 (one 32-bit register), not " + t);
                yield "unsigned int"; // a half2 register as raw bits; the prelude's jmlc_h*2 helpers do the arithmetic
            }
            case BOOL, I8 -> throw new IllegalArgumentException("no " + t.scalar().name().toLowerCase() + " vectors");
        };
    }

    /** {@code buf[i]} or, for a type other than the buffer's element, {@code ((const T*)buf)[i]}. */
    private String access(Buffer b, Expr index, KType t, boolean read) {
        if (t.equals(b.element())) return b.name() + "[" + expr(index) + "]";
        return "((" + (b.readOnly() ? "const " : "") + type(t) + "*)" + b.name() + ")[" + expr(index) + "]";
    }

    protected static final Map<Expr.Builtin.Kind, String> BUILTINS = Map.of(
            Expr.Builtin.Kind.THREAD, "threadIdx", Expr.Builtin.Kind.BLOCK, "blockIdx",
            Expr.Builtin.Kind.BLOCK_DIM, "blockDim", Expr.Builtin.Kind.GRID_DIM, "gridDim");

    public String expr(Expr e) {
        return switch (e) {
            case Expr.Const c -> constant(c);
            case Expr.Knob n -> Integer.toString(n.value()); // NVRTC and hiprtc compile each kernel for its values
            case Expr.Var v -> v.name();
            case Expr.Builtin b -> builtin(b.kind(), b.axis());
            case Expr.Binary b -> binary(b);
            case Expr.Unary u -> unary(u);
            case Expr.Fma f -> (f.type().equals(KType.F16X2) ? "jmlc_hfma2(" : mathFunction("fmaf") + "(") + expr(f.a()) + ", " + expr(f.b()) + ", " + expr(f.c()) + ")";
            case Expr.Dot2 d -> dot2(expr(d.a()), expr(d.b()), expr(d.c()));
            case Expr.Dot4 d -> dot4(expr(d.a()), expr(d.b()), expr(d.c()));
            case Expr.Cast c -> cast(c);
            case Expr.Bitcast c -> bitcast(c);
            case Expr.Load l -> access(l.buffer(), l.index(), l.type(), true);
            case Expr.SharedLoad l -> l.rank() == null ? l.array().name() + "[" + expr(l.index()) + "]"
                    : sharedLoadByRank(l.array().name(), expr(l.index()), expr(l.rank()), l.type());
            case Expr.Lane l -> l.vector().type().equals(KType.F16X2)
                    ? "((unsigned short)(" + expr(l.vector()) + (l.lane() == 1 ? " >> 16" : "") + "))"
                    : expr(l.vector()) + "." + "xyzw".charAt(l.lane());
            case Expr.Pack p -> p.type().equals(KType.F16X2)
                    ? "((unsigned int)" + expr(p.lanes().get(0)) + " | ((unsigned int)" + expr(p.lanes().get(1)) + " << 16))"
                    : "make_" + type(p.type()) + "(" + p.lanes().stream().map(this::expr).collect(Collectors.joining(", ")) + ")";
            case Expr.HalfOf h -> "((unsigned short)(" + expr(h.word()) + (h.high() ? " >> 16" : "") + "))";
            case Expr.HalvesToWord h -> "((unsigned int)" + expr(h.lo()) + " | ((unsigned int)" + expr(h.hi()) + " << 16))";
            case Expr.Select s -> "(" + expr(s.cond()) + " ? " + expr(s.a()) + " : " + expr(s.b()) + ")";
            case Expr.ShuffleXor s -> shuffleXor(expr(s.value()), s.mask());
        };
    }

    private String constant(Expr.Const c) {
        return switch (c.type().scalar()) {
            case I32, I8 -> Long.toString((long) c.value());
            case U32 -> Long.toString((long) c.value()) + "u";
            case BOOL -> c.value() != 0 ? "true" : "false";
            case F32 -> floatLiteral((float) c.value());
            case F16 -> "jmlc_f2h(" + floatLiteral((float) c.value()) + ")";
        };
    }

    static String floatLiteral(float f) {
        if (Float.isNaN(f)) return "__int_as_float(0x7fc00000)";
        if (Float.isInfinite(f)) return f > 0 ? "__int_as_float(0x7f800000)" : "__int_as_float(0xff800000)";
        if (f == (int) f && Math.abs(f) < 1e7) return (int) f + ".0f";
        return Float.toHexString(f) + "f";
    }

    private String binary(Expr.Binary b) {
        if (b.a().type().equals(KType.F16X2)) {
            String fn = switch (b.op()) {
                case ADD -> "jmlc_hadd2";
                case SUB -> "jmlc_hsub2";
                case MUL -> "jmlc_hmul2";
                default -> throw new IllegalArgumentException(b.op() + " is not defined on f16x2");
            };
            return fn + "(" + expr(b.a()) + ", " + expr(b.b()) + ")";
        }
        if (b.op() == Expr.BinOp.OR && b.type().equals(KType.U32) && b.a() instanceof Expr.Binary m && m.op() == Expr.BinOp.AND
                && m.b() instanceof Expr.Const && b.b() instanceof Expr.Const) {
            String fused = andOr(expr(m.a()), expr(m.b()), expr(b.b()));
            if (fused != null) return fused;
        }
        boolean fl = b.a().type().isFloat();
        return switch (b.op()) {
            case MIN -> (fl ? mathFunction("fminf") + "(" : "min(") + expr(b.a()) + ", " + expr(b.b()) + ")";
            case MAX -> (fl ? mathFunction("fmaxf") + "(" : "max(") + expr(b.a()) + ", " + expr(b.b()) + ")";
            default -> "(" + expr(b.a()) + " " + b.op().symbol + " " + expr(b.b()) + ")";
        };
    }

    /**
     * {@code (a & mask) | bits} of u32 constants as one instruction where the dialect has one (CUDA:
     * lop3; ptxas splits the C form into two, for an instruction takes only one immediate), else
     * null for the plain C. The 4-bit dequantization does this for every pair of weights.
     */
    protected String andOr(String a, String mask, String bits) {
        return null;
    }

    private String unary(Expr.Unary u) {
        String a = expr(u.a());
        return switch (u.op()) {
            case NEG -> "(-" + a + ")";
            case NOT -> u.a().type().scalar() == KType.Scalar.BOOL ? "(!" + a + ")" : "(~" + a + ")";
            case EXP -> mathFunction("__expf") + "(" + a + ")"; // the fast hardware exp (2 ulp): softmax and silu need no more
            case LOG -> mathFunction("logf") + "(" + a + ")";
            case SQRT -> mathFunction("sqrtf") + "(" + a + ")";
            case RSQRT -> mathFunction("rsqrtf") + "(" + a + ")";
            case ABS -> u.a().type().isFloat() ? mathFunction("fabsf") + "(" + a + ")" : "abs(" + a + ")";
        };
    }

    private String cast(Expr.Cast c) {
        KType from = c.a().type(), to = c.type();
        String a = expr(c.a());
        if (from.scalar() == KType.Scalar.F16 && to.scalar() == KType.Scalar.F32) return "jmlc_h2f(" + a + ")";
        if (from.scalar() == KType.Scalar.F32 && to.scalar() == KType.Scalar.F16) return "jmlc_f2h(" + a + ")";
        if (from.scalar() == KType.Scalar.F16) return "(" + type(to) + ")jmlc_h2f(" + a + ")";
        if (to.scalar() == KType.Scalar.F16) return "jmlc_f2h((float)" + a + ")";
        return "((" + type(to) + ")" + a + ")";
    }

    private String bitcast(Expr.Bitcast c) {
        KType from = c.a().type(), to = c.type();
        String a = expr(c.a());
        if (from.equals(KType.U32) && to.equals(KType.F32)) return "__uint_as_float(" + a + ")";
        if (from.equals(KType.I32) && to.equals(KType.F32)) return "__int_as_float(" + a + ")";
        if (from.equals(KType.F32) && to.equals(KType.U32)) return "__float_as_uint(" + a + ")";
        if (from.equals(KType.F32) && to.equals(KType.I32)) return "__float_as_int(" + a + ")";
        if (from.isInt() && to.isInt() && !from.isVector()) return "((" + type(to) + ")" + a + ")";
        // f16x2 is a u32 register already: reinterpreting is free
        if ((from.equals(KType.U32) && to.equals(KType.F16X2)) || (from.equals(KType.F16X2) && to.equals(KType.U32))) return a;
        throw new IllegalArgumentException("no bitcast from " + from + " to " + to + " in " + language());
    }
}
