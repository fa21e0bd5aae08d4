package jmlc.compiler.codegen;

import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Capabilities;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.kernel.MatrixTile;
import jmlc.compiler.kernel.Shared;
import jmlc.compiler.kernel.Stmt;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Prints kernel IR as a GLSL 4.50 compute shader for Vulkan, the second code generator over the
 * same scheduled kernels as CUDA and HIP.
 *
 * <p>The kernel ABI (what the Vulkan runtime binds): no descriptor sets. Buffers are device
 * addresses ({@code VK_KHR_buffer_device_address}) in one push-constant block, in the kernel's
 * buffer order, 8 bytes each (a {@code uvec2}, low word first), followed by its i32 scalars, 4 bytes each; so a runtime's device
 * addresses are plain 64-bit numbers, as on CUDA, and an address into the middle of a buffer works.
 * The workgroup size is the kernel's block, written into the shader. A buffer is read through
 * {@code buffer_reference} types, one per element type the kernel reads or writes it as (a vector
 * load of 16 bytes is a {@code uvec4} reference): buffers the kernel only reads (inputs, and the
 * scratch an earlier kernel wrote) through {@code readonly} references, those it stores to through
 * plain ones. Not {@code coherent}: no kernel talks to another workgroup of its own dispatch (the
 * kernel IR has no atomics; dispatches are ordered by pipeline barriers), and the workgroup-scope
 * barrier makes a workgroup's own buffer writes visible to it, as in CUDA. A coherent reference is a
 * device-scope access: every load of it a load the driver may not cache in the SM (the decode
 * attention read its KV cache and the combine its partials that way while they were coherent).
 * f16 values travel as 16-bit patterns in {@code uint} ({@code uint16_t} in buffers); packed f16x2 arithmetic runs on {@code f16vec2}. Shuffles are
 * subgroup shuffles: the runtime must run the pipeline with full subgroups of the target's
 * subgroup size, laid out in invocation order.
 *
 * <p>Needs {@code bufferDeviceAddress}, {@code storageBuffer16BitAccess},
 * subgroup shuffles, {@code shaderFloat16} where the target has f16 arithmetic, and
 * {@code cooperativeMatrix} (VK_KHR_cooperative_matrix) where it has cooperative matrices: a
 * {@link MatrixTile} is a {@code coopmat} at subgroup scope. Barriers are workgroup-scope
 * {@code controlBarrier}s (GL_KHR_memory_scope_semantics). Knob values are
 * literals in the code where they shape it (unrolled loops, array sizes, the workgroup size); a knob
 * the kernel only computes with ({@link Expr.Knob}) is a specialization constant {@code knob_NAME},
 * ids in name order ({@link #specializationConstants}), its value the default: kernels that differ
 * only in such knobs compile to one SPIR-V module, and the runtime specializes each pipeline.
 */
public final class GlslEmitter extends StructuredCode implements CodeGenerator {
    private final Capabilities caps;

    public GlslEmitter(Capabilities caps) {
        this.caps = caps;
    }

    @Override
    public String language() {
        return "GLSL compute";
    }

    @Override
    public String fileExtension() {
        return "comp";
    }

    /** A buffer seen as elements of one type, read-only or written: one {@code buffer_reference} type each. */
    private record View(KType type, boolean readOnly) {
        String refType() {
            return (readOnly ? "RO_" : "RW_") + typeTag(type);
        }
    }

    /** What one kernel's body uses, collected before printing. */
    private final class Uses {
        /** The element types each buffer is read or written as, by buffer name, in first use. */
        private final java.util.Map<String, Set<KType>> typesPerBuffer = new java.util.LinkedHashMap<>();
        /** The buffers this kernel stores to (a scratch or output buffer another kernel only reads stays out). */
        private final Set<String> stored = new java.util.HashSet<>();
        final Set<MatrixTile> tiles = new LinkedHashSet<>();
        /** Knob values left open ({@link Expr.Knob}), by name: the specialization constants, ids in name order. */
        final java.util.SortedMap<String, Integer> knobs = new TreeMap<>();
        boolean f16x2, dot4;

        void knob(Expr.Knob n) {
            Integer was = knobs.putIfAbsent(n.name(), n.value());
            if (was != null && was != n.value())
                throw new IllegalArgumentException("knob " + n.name() + " has two values in one kernel: " + was + " and " + n.value());
        }

        void load(Buffer b, KType t) {
            typesPerBuffer.computeIfAbsent(b.name(), k -> new LinkedHashSet<>()).add(t);
        }

        void store(Buffer b, KType t) {
            load(b, t);
            stored.add(b.name());
        }

        /** The views of one buffer: read-only where this kernel never stores to it. */
        Set<View> views(String buffer) {
            Set<View> out = new LinkedHashSet<>();
            for (KType t : typesPerBuffer.getOrDefault(buffer, Set.of())) out.add(new View(t, !stored.contains(buffer)));
            return out;
        }

        Set<View> views() {
            Set<View> out = new LinkedHashSet<>();
            for (String b : typesPerBuffer.keySet()) out.addAll(views(b));
            return out;
        }
    }

    /**
     * SPIR-V's OpSDot (SPV_KHR_integer_dot_product, opcode 4450) on two 32-bit words of packed signed
     * bytes (PackedVectorFormat4x8Bit, the literal 0), through GL_EXT_spirv_intrinsics: the GLSL
     * extension that names it (GL_EXT_integer_dot_product) is newer than the shaderc jmlc runs and
     * the glslang CI has. Capabilities DotProduct (6019) and DotProductInput4x8BitPacked (6018).
     */
    private static final String DOT4 = """
            // c + the dot product of two words' signed bytes: OpSDot, PackedVectorFormat4x8Bit
            spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6019, 6018], id = 4450)
            int jmlc_sdot4(uint a, uint b, spirv_literal int packedVectorFormat);
            """;

    @Override
    public String emit(Kernel k) {
        Uses uses = new Uses();
        collect(k.body(), uses);
        StringBuilder sb = new StringBuilder();
        sb.append("// ").append(k.name()).append(": ").append(k.summary()).append('\n');
        if (!k.knobs().isEmpty())
            sb.append("// knobs: ").append(new TreeMap<>(k.knobs()).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "))).append('\n');
        sb.append("// launch: block ").append(k.block()[0]).append('x').append(k.block()[1]).append('x').append(k.block()[2])
                .append(", grid (").append(expr(k.grid()[0])).append(", ").append(expr(k.grid()[1]))
                .append(", ").append(expr(k.grid()[2])).append(")").append(k.tiles() > 0 ? "; x blocks persistent over " + k.tiles() + " tiles" : "")
                .append("; full subgroups of ").append(caps.subgroupSize()).append(" invocations\n");
        sb.append("// push constants: ");
        List<String> abi = new ArrayList<>();
        for (int i = 0; i < k.buffers().size(); i++) abi.add(k.buffers().get(i).name() + " @" + 8 * i);
        for (int i = 0; i < k.scalars().size(); i++) abi.add(k.scalars().get(i).name() + " @" + (8 * k.buffers().size() + 4 * i));
        sb.append(abi.isEmpty() ? "none" : String.join(", ", abi)).append('\n');
        sb.append("#version 450\n");
        sb.append("#extension GL_EXT_buffer_reference : require\n");
        sb.append("#extension GL_EXT_buffer_reference_uvec2 : require\n");
        sb.append("#extension GL_EXT_shader_16bit_storage : require\n");
        sb.append("#extension GL_KHR_shader_subgroup_basic : require\n");
        sb.append("#extension GL_KHR_shader_subgroup_shuffle : require\n");
        sb.append("#extension GL_EXT_control_flow_attributes : require\n");
        sb.append("#extension GL_KHR_memory_scope_semantics : require\n");
        boolean tiles = !uses.tiles.isEmpty();
        if (uses.f16x2 || tiles) sb.append("#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require\n");
        if (tiles) sb.append("#extension GL_KHR_cooperative_matrix : require\n");
        if (uses.dot4) sb.append("#extension GL_EXT_spirv_intrinsics : require\n");
        boolean bytes = uses.views().stream().anyMatch(v -> v.type().equals(KType.I8));
        if (bytes && caps.storage8()) sb.append("#extension GL_EXT_shader_8bit_storage : require\n");
        sb.append('\n');
        sb.append("layout(local_size_x = ").append(k.block()[0]).append(", local_size_y = ").append(k.block()[1])
                .append(", local_size_z = ").append(k.block()[2]).append(") in;\n\n");
        int id = 0;
        for (var e : uses.knobs.entrySet())
            sb.append("layout(constant_id = ").append(id++).append(") const int knob_").append(e.getKey()).append(" = ").append(e.getValue()).append(";\n");
        if (!uses.knobs.isEmpty()) sb.append('\n');
        for (View v : uses.views())
            sb.append("layout(buffer_reference, std430, buffer_reference_align = ").append(elementAlign(v.type())).append(") ")
                    .append(v.readOnly() ? "readonly " : "").append("buffer ").append(v.refType()).append(" { ").append(elementType(v.type())).append(" v[]; };\n");
        if (!k.buffers().isEmpty() || !k.scalars().isEmpty()) {
            sb.append("layout(push_constant, std430) uniform Args {");
            for (Buffer b : k.buffers()) sb.append(" uvec2 ").append(param(b.name())).append(';');
            for (Expr.Var s : k.scalars()) sb.append(" int ").append(param(s.name())).append(';');
            sb.append(" } args;\n");
        }
        for (Shared s : k.shared()) sb.append("shared ").append(type(s.element(), false)).append(' ').append(name(s.name())).append('[').append(s.size()).append("];\n");
        sb.append(PRELUDE);
        if (uses.f16x2) sb.append(F16X2);
        if (uses.dot4) sb.append(DOT4);
        sb.append("\nvoid main() {\n");
        for (Buffer b : k.buffers())
            for (View v : uses.views(b.name()))
                sb.append("  ").append(v.refType()).append(' ').append(ref(b, v.type())).append(" = ").append(v.refType()).append("(args.").append(param(b.name())).append(");\n");
        for (Expr.Var s : k.scalars()) sb.append("  int ").append(name(s.name())).append(" = args.").append(param(s.name())).append(";\n");
        for (MatrixTile t : uses.tiles) sb.append("  ").append(tileType(t)).append(' ').append(tileName(t)).append(";\n");
        stmts(sb, ((Stmt.Block) k.body()).body(), 1);
        return sb.append("}\n").toString();
    }

    private static final String PRELUDE = """

            // f16 values travel as 16-bit patterns in a uint
            float jmlc_h2f(uint h) { return unpackHalf2x16(h).x; }
            uint jmlc_f2h(float f) { return packHalf2x16(vec2(f, 0.0)); }
            """;

    private static final String F16X2 = """
            // f16x2: two halves in a uint, computed on f16vec2
            uint jmlc_hadd2(uint a, uint b) { return packFloat2x16(unpackFloat2x16(a) + unpackFloat2x16(b)); }
            uint jmlc_hsub2(uint a, uint b) { return packFloat2x16(unpackFloat2x16(a) - unpackFloat2x16(b)); }
            uint jmlc_hmul2(uint a, uint b) { return packFloat2x16(unpackFloat2x16(a) * unpackFloat2x16(b)); }
            uint jmlc_hfma2(uint a, uint b, uint c) { return packFloat2x16(fma(unpackFloat2x16(a), unpackFloat2x16(b), unpackFloat2x16(c))); }
            """;

    // ---- what the body uses ----

    private void collect(Stmt s, Uses u) {
        switch (s) {
            case Stmt.Let l -> collect(l.init(), u);
            case Stmt.Assign a -> collect(a.value(), u);
            case Stmt.Store st -> {
                u.store(st.buffer(), st.value().type());
                collect(st.index(), u);
                collect(st.value(), u);
            }
            case Stmt.SharedStore st -> { collect(st.index(), u); collect(st.value(), u); }
            case Stmt.For f -> { collect(f.lo(), u); collect(f.hi(), u); collect(f.step(), u); collect(f.body(), u); }
            case Stmt.If f -> { collect(f.cond(), u); collect(f.then(), u); collect(f.otherwise(), u); }
            case Stmt.Block b -> b.body().forEach(x -> collect(x, u));
            case Stmt.Mma m -> throw unsupported("matrix instructions (" + m.unit() + ")");
            case Stmt.LdMatrix l -> throw unsupported("ldmatrix");
            case Stmt.GridDependency g -> throw unsupported("grid dependencies");
            case Stmt.Prefetch p -> throw unsupported("L2 prefetch");
            case Stmt.AsyncCopy _, Stmt.AsyncCommit _, Stmt.AsyncWait _, Stmt.BulkCopy _, Stmt.CopyBarrier _ -> throw unsupported("asynchronous copies to shared memory");
            case Stmt.TileFill t -> u.tiles.add(t.acc());
            case Stmt.TileLoad t -> { u.tiles.add(t.tile()); collect(t.index(), u); }
            case Stmt.TileMma t -> { u.tiles.add(t.acc()); u.tiles.add(t.a()); u.tiles.add(t.b()); }
            case Stmt.TileStore t -> { u.tiles.add(t.acc()); collect(t.index(), u); }
            case Stmt.Barrier b -> { }
            case Stmt.SubgroupBarrier b -> { }
            case Stmt.GridBarrier g -> throw unsupported("grid barriers (Vulkan promises no co-resident workgroups)");
            case Stmt.ClusterBarrier c -> throw unsupported("thread block clusters");
            case Stmt.Return r -> { }
            case Stmt.Comment c -> { }
        }
    }

    private static UnsupportedOperationException unsupported(String what) {
        return new UnsupportedOperationException("GLSL has no " + what + ": the rules must not emit it for a Vulkan target");
    }

    private void collect(Expr e, Uses u) {
        if (e.type().equals(KType.F16X2) && (e instanceof Expr.Binary || e instanceof Expr.Fma)) u.f16x2 = true;
        switch (e) {
            case Expr.Load l -> { u.load(l.buffer(), l.type()); collect(l.index(), u); }
            case Expr.Binary b -> { collect(b.a(), u); collect(b.b(), u); }
            case Expr.Unary x -> collect(x.a(), u);
            case Expr.Fma f -> { collect(f.a(), u); collect(f.b(), u); collect(f.c(), u); }
            case Expr.Dot2 d -> throw unsupported("dot2");
            case Expr.Dot4 d -> { u.dot4 = true; collect(d.a(), u); collect(d.b(), u); collect(d.c(), u); }
            case Expr.Cast c -> collect(c.a(), u);
            case Expr.Bitcast c -> collect(c.a(), u);
            case Expr.SharedLoad l -> collect(l.index(), u);
            case Expr.Lane l -> collect(l.vector(), u);
            case Expr.Pack p -> p.lanes().forEach(x -> collect(x, u));
            case Expr.HalfOf h -> collect(h.word(), u);
            case Expr.HalvesToWord h -> { collect(h.lo(), u); collect(h.hi(), u); }
            case Expr.Select s -> { collect(s.cond(), u); collect(s.a(), u); collect(s.b(), u); }
            case Expr.ShuffleXor s -> collect(s.value(), u);
            case Expr.Const c -> { }
            case Expr.Knob n -> u.knob(n);
            case Expr.Var v -> { }
            case Expr.Builtin b -> { }
        }
    }

    /**
     * The kernel's open knob values ({@link Expr.Knob}) in specialization-constant order: the id of
     * each is its index here. The shader declares each as {@code layout(constant_id = i) const int
     * knob_NAME = value;}, and the runtime passes the same values when it makes the pipeline.
     */
    public java.util.SortedMap<String, Integer> specializationConstants(Kernel k) {
        Uses uses = new Uses();
        collect(k.body(), uses);
        return java.util.Collections.unmodifiableSortedMap(uses.knobs);
    }

    // ---- statements ----

    @Override
    void leaf(StringBuilder sb, Stmt s, String ind) {
        switch (s) {
            case Stmt.Let l -> sb.append(ind).append(type(l.var().type(), false)).append(' ').append(name(l.var().name())).append(" = ").append(expr(l.init())).append(";\n");
            case Stmt.Assign a -> sb.append(ind).append(name(a.var().name())).append(" = ").append(expr(a.value())).append(";\n");
            case Stmt.Store st when st.value().type().equals(KType.I8) && !caps.storage8() -> {
                // no 8-bit storage: clear the byte in its word, then set it (atomics: the word's other bytes may be another invocation's)
                String w = ref(st.buffer(), KType.I8) + ".v[jmlc_i >> 2]";
                sb.append(ind).append("{ int jmlc_i = ").append(expr(st.index())).append("; uint jmlc_s = uint(jmlc_i & 3) * 8u;\n")
                        .append(ind).append("  atomicAnd(").append(w).append(", ~(0xffu << jmlc_s));\n")
                        .append(ind).append("  atomicOr(").append(w).append(", (uint(").append(expr(st.value())).append(") & 0xffu) << jmlc_s); }\n");
            }
            case Stmt.Store st -> {
                String v = expr(st.value());
                if (st.value().type().equals(KType.F16)) v = "uint16_t(" + v + ")";
                if (st.value().type().equals(KType.I8)) v = "int8_t(" + v + ")";
                sb.append(ind).append(ref(st.buffer(), st.value().type())).append(".v[").append(expr(st.index())).append("] = ").append(v).append(";\n");
            }
            case Stmt.SharedStore st -> sb.append(ind).append(name(st.array().name())).append('[').append(expr(st.index())).append("] = ").append(expr(st.value())).append(";\n");
            // writes to shared and buffer memory before the barrier are visible to the workgroup after it: one
            // barrier at workgroup scope. GLSL's memoryBarrierBuffer() and memoryBarrierShared() are device-scope fences,
            // which NVIDIA's driver compiles to MEMBAR.SC.GPU: a wait of microseconds for every block at every barrier
            case Stmt.Barrier b -> sb.append(ind).append("controlBarrier(gl_ScopeWorkgroup, gl_ScopeWorkgroup, gl_StorageSemanticsBuffer | gl_StorageSemanticsShared, gl_SemanticsAcquireRelease);\n");
            case Stmt.SubgroupBarrier b -> sb.append(ind).append("subgroupMemoryBarrierShared(); subgroupBarrier();\n");
            case Stmt.GridBarrier g -> throw unsupported("grid barriers (Vulkan promises no co-resident workgroups)");
            case Stmt.ClusterBarrier c -> throw unsupported("thread block clusters");
            case Stmt.Return r -> sb.append(ind).append("return;\n");
            case Stmt.Comment c -> sb.append(ind).append("// ").append(c.text()).append('\n');
            case Stmt.Mma m -> throw unsupported("matrix instructions (" + m.unit() + ")");
            case Stmt.LdMatrix l -> throw unsupported("ldmatrix");
            case Stmt.GridDependency g -> throw unsupported("grid dependencies");
            case Stmt.Prefetch p -> throw unsupported("L2 prefetch");
            case Stmt.AsyncCopy _, Stmt.AsyncCommit _, Stmt.AsyncWait _, Stmt.BulkCopy _, Stmt.CopyBarrier _ -> throw unsupported("asynchronous copies to shared memory");
            case Stmt.TileFill t -> sb.append(ind).append(tileName(t.acc())).append(" = ").append(tileType(t.acc())).append('(').append(floatLiteral(t.value())).append(");\n");
            // the shared array is u32 words of f16 pairs: index and stride count words (the array's elements)
            case Stmt.TileLoad t -> sb.append(ind).append("coopMatLoad(").append(tileName(t.tile())).append(", ").append(name(t.array().name())).append(", uint(")
                    .append(expr(t.index())).append("), ").append(t.stride()).append("u, ")
                    .append(t.columnMajor() ? "gl_CooperativeMatrixLayoutColumnMajor" : "gl_CooperativeMatrixLayoutRowMajor").append(");\n");
            case Stmt.TileMma t -> sb.append(ind).append(tileName(t.acc())).append(" = coopMatMulAdd(").append(tileName(t.a())).append(", ")
                    .append(tileName(t.b())).append(", ").append(tileName(t.acc())).append(");\n");
            // the subgroup's lanes read the stored tile after it and may still be reading the last one before it
            case Stmt.TileStore t -> sb.append(ind).append("subgroupMemoryBarrierShared(); subgroupBarrier();\n")
                    .append(ind).append("coopMatStore(").append(tileName(t.acc())).append(", ").append(name(t.array().name())).append(", uint(")
                    .append(expr(t.index())).append("), ").append(t.stride()).append("u, gl_CooperativeMatrixLayoutRowMajor);\n")
                    .append(ind).append("subgroupMemoryBarrierShared(); subgroupBarrier();\n");
            case Stmt.For _, Stmt.If _, Stmt.Block _ -> throw new IllegalStateException("printed by StructuredCode.stmt");
        }
    }

    /** A tile's GLSL type: {@code coopmat<float16_t | float, gl_ScopeSubgroup, 16, 16, use>}. */
    private static String tileType(MatrixTile t) {
        String use = switch (t.use()) {
            case A -> "gl_MatrixUseA";
            case B -> "gl_MatrixUseB";
            case ACC -> "gl_MatrixUseAccumulator";
        };
        return "coopmat<" + (t.use() == MatrixTile.Use.ACC ? "float" : "float16_t") + ", gl_ScopeSubgroup, " + MatrixTile.SIZE + ", " + MatrixTile.SIZE + ", " + use + ">";
    }

    private static String tileName(MatrixTile t) {
        return "tile_" + t.name();
    }

    @Override
    String varName(Expr.Var v) {
        return name(v.name());
    }

    @Override
    String varType(Expr.Var v) {
        return type(v.type(), false);
    }

    @Override
    String unrollHint(Stmt.For f) {
        return f.unroll() == 1 ? "[[dont_unroll]]" : "";
    }

    // ---- names and types ----

    /** GLSL words a kernel IR name must not be (keywords, reserved words, builtin function names used here). */
    private static final Set<String> RESERVED = Set.of("input", "output", "sample", "patch", "filter", "common", "partition", "active", "half",
            "fixed", "unsigned", "long", "short", "superp", "namespace", "using", "template", "sizeof", "cast", "inline", "noinline", "volatile",
            "public", "static", "extern", "external", "interface", "class", "union", "enum", "typedef", "goto", "switch", "default", "case",
            "in", "out", "inout", "uniform", "buffer", "shared", "coherent", "restrict", "readonly", "writeonly", "precise", "invariant", "smooth",
            "flat", "centroid", "layout", "struct", "attribute", "varying", "subroutine", "discard", "return", "break", "continue", "do", "while",
            "for", "if", "else", "true", "false", "lowp", "mediump", "highp", "precision", "resource", "args", "main", "exp", "log", "min", "max",
            "fma", "abs", "sqrt", "barrier", "float", "int", "uint", "bool", "vec2", "vec4", "uvec2", "uvec4", "ivec2", "ivec4", "mat2", "mat3", "mat4",
            "double", "void", "dvec2", "image", "texture", "sampler");

    /** A kernel IR name as a GLSL identifier (reserved words and names with {@code __} or {@code gl_} get a suffix). */
    static String name(String n) {
        return RESERVED.contains(n) || n.startsWith("gl_") || n.contains("__") ? n.replace("__", "_u_") + "_" : n;
    }

    private static String param(String n) {
        return "b_" + n;
    }

    /** The local reference through which {@code b} is accessed as {@code t}. */
    private static String ref(Buffer b, KType t) {
        return name(b.name()) + "_" + typeTag(t);
    }

    private static String typeTag(KType t) {
        return t.scalar().name().toLowerCase() + (t.lanes() > 1 ? "x" + t.lanes() : "");
    }

    /** A buffer view's element type: {@code int8_t} for i8 with 8-bit storage, else its 32-bit word. */
    private String elementType(KType t) {
        return t.equals(KType.I8) && !caps.storage8() ? "uint" : type(t, true);
    }

    private int elementAlign(KType t) {
        return t.equals(KType.I8) && !caps.storage8() ? 4 : Math.min(16, t.bytes());
    }

    /** The GLSL type of a value ({@code inBuffer}: as a buffer element, where f16 is {@code uint16_t}). */
    static String type(KType t, boolean inBuffer) {
        String base = switch (t.scalar()) {
            case BOOL -> "bool";
            case I32 -> "int";
            case U32 -> "uint";
            case F32 -> "float";
            case F16 -> inBuffer ? "uint16_t" : "uint";
            case I8 -> inBuffer ? "int8_t" : "int";
        };
        if (t.lanes() == 1) return base;
        return switch (t.scalar()) {
            case U32 -> "uvec" + t.lanes();
            case I32 -> "ivec" + t.lanes();
            case F32 -> "vec" + t.lanes();
            case F16 -> {
                // a pair of halves packed in a u32, in a register or a buffer (an f16 output stored two at once)
                if (t.lanes() != 2) throw new IllegalArgumentException("f16 vectors are f16x2, not " + t);
                yield "uint";
            }
            case BOOL, I8 -> throw new IllegalArgumentException("no " + t.scalar().name().toLowerCase() + " vectors");
        };
    }

    // ---- expressions ----

    String expr(Expr e) {
        return switch (e) {
            case Expr.Const c -> constant(c);
            case Expr.Knob n -> "knob_" + n.name();
            case Expr.Var v -> name(v.name());
            case Expr.Builtin b -> builtin(b);
            case Expr.Binary b -> binary(b);
            case Expr.Unary u -> unary(u);
            case Expr.Fma f -> (f.type().equals(KType.F16X2) ? "jmlc_hfma2(" : "fma(") + expr(f.a()) + ", " + expr(f.b()) + ", " + expr(f.c()) + ")";
            case Expr.Dot2 d -> throw unsupported("dot2");
            case Expr.Dot4 d -> "(" + expr(d.c()) + " + jmlc_sdot4(" + expr(d.a()) + ", " + expr(d.b()) + ", 0))";
            case Expr.Cast c -> cast(c);
            case Expr.Bitcast c -> bitcast(c);
            case Expr.Load l -> load(l);
            case Expr.SharedLoad l -> {
                if (l.rank() != null) throw unsupported("distributed shared memory (another workgroup's shared memory)");
                yield name(l.array().name()) + "[" + expr(l.index()) + "]";
            }
            case Expr.Lane l -> l.vector().type().equals(KType.F16X2)
                    ? "(" + expr(l.vector()) + (l.lane() == 1 ? " >> 16" : " & 0xffffu") + ")"
                    : expr(l.vector()) + "." + "xyzw".charAt(l.lane());
            case Expr.Pack p -> p.type().equals(KType.F16X2)
                    ? "(" + expr(p.lanes().get(0)) + " | (" + expr(p.lanes().get(1)) + " << 16))"
                    : type(p.type(), false) + "(" + p.lanes().stream().map(this::expr).collect(Collectors.joining(", ")) + ")";
            case Expr.HalfOf h -> "(" + expr(h.word()) + (h.high() ? " >> 16" : " & 0xffffu") + ")";
            case Expr.HalvesToWord h -> "(" + expr(h.lo()) + " | (" + expr(h.hi()) + " << 16))";
            case Expr.Select s -> "(" + expr(s.cond()) + " ? " + expr(s.a()) + " : " + expr(s.b()) + ")";
            case Expr.ShuffleXor s -> "subgroupShuffleXor(" + expr(s.value()) + ", " + s.mask() + ")";
        };
    }

    /** A load: f16 and i8 widened to their 32-bit registers; without 8-bit storage, a byte cut from its word (sign-extended). */
    private String load(Expr.Load l) {
        String r = ref(l.buffer(), l.type()), i = expr(l.index());
        if (l.type().equals(KType.F16)) return "uint(" + r + ".v[" + i + "])";
        if (l.type().equals(KType.I8))
            return caps.storage8() ? "int(" + r + ".v[" + i + "])" : "bitfieldExtract(int(" + r + ".v[(" + i + ") >> 2]), ((" + i + ") & 3) * 8, 8)";
        return r + ".v[" + i + "]";
    }

    private static String builtin(Expr.Builtin b) {
        String v = switch (b.kind()) {
            case THREAD -> "gl_LocalInvocationID";
            case BLOCK -> "gl_WorkGroupID";
            case BLOCK_DIM -> "gl_WorkGroupSize";
            case GRID_DIM -> "gl_NumWorkGroups";
        };
        return "int(" + v + "." + "xyz".charAt(b.axis()) + ")";
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

    /** A float exactly: the shortest decimal that reads back as the same float (GLSL has no hex floats). */
    static String floatLiteral(float f) {
        if (Float.isNaN(f)) return "uintBitsToFloat(0x7fc00000u)";
        if (Float.isInfinite(f)) return f > 0 ? "uintBitsToFloat(0x7f800000u)" : "uintBitsToFloat(0xff800000u)";
        if (f == (int) f && Math.abs(f) < 1e7) return (int) f + ".0";
        String s = Float.toString(f).replace('E', 'e');
        return s.contains(".") || s.contains("e") ? s : s + ".0";
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
        return switch (b.op()) {
            case MIN -> "min(" + expr(b.a()) + ", " + expr(b.b()) + ")";
            case MAX -> "max(" + expr(b.a()) + ", " + expr(b.b()) + ")";
            default -> "(" + expr(b.a()) + " " + b.op().symbol + " " + expr(b.b()) + ")";
        };
    }

    private String unary(Expr.Unary u) {
        String a = expr(u.a());
        return switch (u.op()) {
            case NEG -> "(-" + a + ")";
            case NOT -> u.a().type().scalar() == KType.Scalar.BOOL ? "(!" + a + ")" : "(~" + a + ")";
            case EXP -> "exp(" + a + ")";
            case LOG -> "log(" + a + ")";
            case SQRT -> "sqrt(" + a + ")";
            case RSQRT -> "inversesqrt(" + a + ")";
            case ABS -> "abs(" + a + ")";
        };
    }

    private String cast(Expr.Cast c) {
        KType from = c.a().type(), to = c.type();
        String a = expr(c.a());
        if (from.scalar() == KType.Scalar.F16 && to.scalar() == KType.Scalar.F32) return "jmlc_h2f(" + a + ")";
        if (from.scalar() == KType.Scalar.F32 && to.scalar() == KType.Scalar.F16) return "jmlc_f2h(" + a + ")";
        if (from.scalar() == KType.Scalar.F16) return type(to, false) + "(jmlc_h2f(" + a + "))";
        if (to.scalar() == KType.Scalar.F16) return "jmlc_f2h(float(" + a + "))";
        if (from.equals(to)) return a;
        return type(to, false) + "(" + a + ")";
    }

    private String bitcast(Expr.Bitcast c) {
        KType from = c.a().type(), to = c.type();
        String a = expr(c.a());
        if (from.equals(KType.U32) && to.equals(KType.F32)) return "uintBitsToFloat(" + a + ")";
        if (from.equals(KType.I32) && to.equals(KType.F32)) return "intBitsToFloat(" + a + ")";
        if (from.equals(KType.F32) && to.equals(KType.U32)) return "floatBitsToUint(" + a + ")";
        if (from.equals(KType.F32) && to.equals(KType.I32)) return "floatBitsToInt(" + a + ")";
        if (from.isInt() && to.isInt() && !from.isVector()) return type(to, false) + "(" + a + ")";
        // f16x2 is a uint register already: reinterpreting is free
        if ((from.equals(KType.U32) && to.equals(KType.F16X2)) || (from.equals(KType.F16X2) && to.equals(KType.U32))) return a;
        throw new IllegalArgumentException("no bitcast from " + from + " to " + to + " in GLSL");
    }
}
