package jmlc.compiler.kernel;

import java.util.List;

/** Statements of the kernel IR: structured control flow over locals, buffers and shared arrays. */
public sealed interface Stmt {

    /** Declares {@code var} with an initial value. */
    record Let(Expr.Var var, Expr init) implements Stmt {
        public Let {
            if (!var.type().equals(init.type())) throw new IllegalArgumentException("let " + var.name() + ": " + var.type() + " = " + init.type());
        }
    }

    record Assign(Expr.Var var, Expr value) implements Stmt {
        public Assign {
            if (!var.type().equals(value.type())) throw new IllegalArgumentException("assign " + var.name() + ": " + var.type() + " = " + value.type());
        }
    }

    /** {@code buffer[index] = value}, index in units of the value's type. */
    record Store(Buffer buffer, Expr index, Expr value) implements Stmt {
        public Store {
            if (buffer.readOnly()) throw new IllegalArgumentException("buffer " + buffer.name() + " is read-only");
            if (!value.type().element().equals(buffer.element()))
                throw new IllegalArgumentException("cannot store " + value.type() + " into " + buffer.element() + " buffer " + buffer.name());
        }
    }

    record SharedStore(Shared array, Expr index, Expr value) implements Stmt {
        public SharedStore {
            if (!value.type().equals(array.element())) throw new IllegalArgumentException("cannot store " + value.type() + " into " + array);
        }
    }

    /** {@code for (i = lo; i < hi; i += step)}; {@code unroll} > 1 asks the compiler to unroll. */
    record For(Expr.Var index, Expr lo, Expr hi, Expr step, int unroll, Stmt body) implements Stmt {}

    record If(Expr cond, Stmt then, Stmt otherwise) implements Stmt {
        public If {
            if (cond.type() != KType.BOOL && !cond.type().equals(KType.BOOL)) throw new IllegalArgumentException("if needs a bool, found " + cond.type());
        }
    }

    record Block(List<Stmt> body) implements Stmt {
        public Block {
            body = List.copyOf(body);
        }
    }

    /** All threads of the block wait here; shared-memory writes before are visible after. */
    record Barrier() implements Stmt {}

    /**
     * The threads of one subgroup (CUDA's warp: {@code __syncwarp}) wait here, every lane of it reaching it together;
     * shared-memory writes of a lane before it (an asynchronous copy it waited for among them) are visible to the
     * subgroup's other lanes after it, and their reads before it are done before its writes after it.
     */
    record SubgroupBarrier() implements Stmt {}

    /**
     * Every thread of every block of the grid waits here; global-memory writes before it are visible to
     * every thread after it. Only where every thread reaches it (the body's top level or a plain block in it,
     * not a loop or branch), in a persistent kernel ({@link Kernel#tiles()}),
     * on a target with {@link Capabilities#gridBarrier()}: the runtime launches such a kernel with no more
     * blocks than the device holds at once and asks the driver to guarantee they are all resident
     * (CUDA's cooperative launch), or the blocks that arrived would wait for ones that never start.
     * {@code counter} is a u32 word of device memory, zero before the first launch, that the barrier
     * leaves as it found it in its low 31 bits: arrivals add to it, the last one flips its top bit.
     */
    record GridBarrier(Buffer counter) implements Stmt {
        public GridBarrier {
            if (counter.readOnly() || !counter.element().equals(KType.U32))
                throw new IllegalArgumentException("a grid barrier counts in a writable u32 buffer, not " + counter);
        }
    }

    /**
     * Every thread of every block of this block's cluster waits here (the kernel is launched in clusters of
     * {@code x * y * z} blocks, the same at each of its cluster barriers); shared-memory writes before it are
     * visible to the cluster's other blocks after it ({@link Expr.SharedLoad} with a rank). Only where every
     * thread reaches it (the body's top level or a plain block in it), on a target with
     * {@link Capabilities#clusters()}. A block whose shared memory others read must not leave before they have: a
     * cluster barrier follows the last such read.
     * CUDA: {@code barrier.cluster.arrive.release} and {@code barrier.cluster.wait.acquire}.
     */
    record ClusterBarrier(int x, int y, int z) implements Stmt {
        public ClusterBarrier {
            if (x < 1 || y < 1 || z < 1 || x * y * z > 8)
                throw new IllegalArgumentException("a cluster holds 1 to 8 blocks (the portable size), not " + x + "x" + y + "x" + z);
        }

        /** Blocks in a cluster. */
        public int blocks() {
            return x * y * z;
        }
    }

    /** Leaves the kernel for this thread (only before any barrier the others still reach). */
    record Return() implements Stmt {}

    /**
     * Subgroup-wide matrix step {@code D += A · B}, f16 operands, f32 accumulators, in the register
     * layout of {@code unit} ({@link Capabilities.MatrixUnit}): PTX {@code mma.sync.m16n8k16.row.col.f32.f16.f16.f32}
     * (A 16×16 in four u32 registers of two halves a lane, B 16×8 in two, D 16×8 in four f32), AMD
     * RDNA3 WMMA 16×16×16 (8, 8, 8) or CDNA MFMA 16×16×16 (2, 2, 4). All lanes of the subgroup must
     * execute it.
     */
    record Mma(Capabilities.MatrixUnit unit, List<Expr.Var> acc, List<Expr> a, List<Expr> b) implements Stmt {
        public Mma {
            acc = List.copyOf(acc);
            a = List.copyOf(a);
            b = List.copyOf(b);
            if (unit == Capabilities.MatrixUnit.NONE) throw new IllegalArgumentException("an mma needs a matrix unit");
            if (acc.size() != unit.accRegs || a.size() != unit.aRegs || b.size() != unit.bRegs)
                throw new IllegalArgumentException(unit + " takes " + unit.accRegs + " accumulators, " + unit.aRegs + " A and " + unit.bRegs + " B registers");
            for (Expr.Var v : acc) if (!v.type().equals(KType.F32)) throw new IllegalArgumentException("mma accumulators are f32");
            for (Expr e : a) if (!e.type().equals(KType.U32)) throw new IllegalArgumentException("mma A registers are u32 (two f16)");
            for (Expr e : b) if (!e.type().equals(KType.U32)) throw new IllegalArgumentException("mma B registers are u32 (two f16)");
        }

        /** PTX's m16n8k16 step. */
        public Mma(List<Expr.Var> acc, List<Expr> a, List<Expr> b) {
            this(Capabilities.MatrixUnit.MMA_M16N8K16, acc, a, b);
        }
    }

    /**
     * Sets every element of the subgroup's accumulator tile {@code acc} to {@code value}
     * ({@link MatrixTile}; all lanes of the subgroup execute it).
     */
    record TileFill(MatrixTile acc, float value) implements Stmt {
        public TileFill {
            if (acc.use() != MatrixTile.Use.ACC) throw new IllegalArgumentException("only an accumulator tile is filled, not " + acc);
        }
    }

    /**
     * Loads the subgroup's operand tile {@code tile} (16×16 f16) from the u32 shared array {@code array}
     * of f16 pairs (low half first): element (r, c) is half {@code c % 2} of word {@code index + r·stride + c/2}
     * row-major, or half {@code r % 2} of word {@code index + c·stride + r/2} column-major. {@code index}
     * (i32) is the same in every lane and a multiple of 4 words, as is {@code stride} (16-byte rows); all
     * lanes of the subgroup execute it.
     */
    record TileLoad(MatrixTile tile, Shared array, Expr index, int stride, boolean columnMajor) implements Stmt {
        public TileLoad {
            if (tile.use() == MatrixTile.Use.ACC) throw new IllegalArgumentException("an accumulator tile is filled, not loaded: " + tile);
            if (!array.element().equals(KType.U32)) throw new IllegalArgumentException("operand tiles load from a u32 array of f16 pairs, not " + array);
            if (!index.type().equals(KType.I32)) throw new IllegalArgumentException("tile index is i32");
            if (stride < MatrixTile.SIZE / 2 || stride % 4 != 0) throw new IllegalArgumentException("tile row stride " + stride + " words: at least 8 and a multiple of 4");
        }
    }

    /** {@code acc += a · b} on the subgroup's tiles (f16 products summed in f32); all lanes of the subgroup execute it. */
    record TileMma(MatrixTile acc, MatrixTile a, MatrixTile b) implements Stmt {
        public TileMma {
            if (acc.use() != MatrixTile.Use.ACC || a.use() != MatrixTile.Use.A || b.use() != MatrixTile.Use.B)
                throw new IllegalArgumentException("tile mma takes an accumulator, an A and a B tile: " + acc + ", " + a + ", " + b);
        }
    }

    /**
     * Stores the subgroup's accumulator tile into the f32 shared array {@code array}, row-major: element
     * (r, c) at {@code index + r·stride + c} ({@code index} the same in every lane, {@code stride} a
     * multiple of 4). The subgroup's lanes read what it stored after it, and it waits for their reads
     * of the region before (a subgroup barrier each side); all lanes of the subgroup execute it.
     */
    record TileStore(MatrixTile acc, Shared array, Expr index, int stride) implements Stmt {
        public TileStore {
            if (acc.use() != MatrixTile.Use.ACC) throw new IllegalArgumentException("only an accumulator tile is stored, not " + acc);
            if (!array.element().equals(KType.F32)) throw new IllegalArgumentException("accumulator tiles store into an f32 array, not " + array);
            if (!index.type().equals(KType.I32)) throw new IllegalArgumentException("tile index is i32");
            if (stride < MatrixTile.SIZE || stride % 4 != 0) throw new IllegalArgumentException("tile row stride " + stride + ": at least 16 and a multiple of 4");
        }
    }

    /**
     * Warp-wide load of four 8×8 f16 matrices from shared memory, PTX
     * {@code ldmatrix.sync.aligned.m8n8.x4.shared.b16}: lane l gives, in {@code index}, the word
     * index of row {@code l % 8} of matrix {@code l / 8} (four words, 16-byte aligned); lane l then
     * holds in {@code dst[j]} word {@code l % 4} of row {@code l / 4} of matrix j: the mma fragment
     * layout. All 32 lanes of the warp must execute it.
     */
    record LdMatrix(List<Expr.Var> dst, Shared array, Expr index) implements Stmt {
        public LdMatrix {
            dst = List.copyOf(dst);
            if (dst.size() != 4) throw new IllegalArgumentException("ldmatrix .x4 fills 4 registers");
            for (Expr.Var v : dst) if (!v.type().equals(KType.U32)) throw new IllegalArgumentException("ldmatrix registers are u32 (two f16)");
            if (!array.element().equals(KType.U32)) throw new IllegalArgumentException("ldmatrix reads a u32 shared array, not " + array);
            if (!index.type().equals(KType.I32)) throw new IllegalArgumentException("ldmatrix index is i32");
        }
    }

    /**
     * Programmatic dependent launch (Hopper): {@code WAIT} blocks until the kernels this one depends
     * on have finished and their writes are visible; everything before it may only read what no
     * earlier kernel writes (weights). {@code TRIGGER} lets the next kernel start launching now.
     * Where the target has no such mechanism, launches are serialized and these emit nothing.
     */
    record GridDependency(Kind kind) implements Stmt {
        public enum Kind { WAIT, TRIGGER }
    }

    /**
     * Asks the memory system to bring the line at {@code buffer[index]} into L2, without waiting; with
     * {@code bytes} (an I32, a multiple of 16, from a 16-byte aligned element) the whole range from it.
     */
    record Prefetch(Buffer buffer, Expr index, Expr bytes) implements Stmt {
        public Prefetch(Buffer buffer, Expr index) {
            this(buffer, index, null);
        }
    }

    /**
     * Starts a copy from global to shared memory that this thread does not wait for (PTX {@code cp.async},
     * sm_80+): {@code count} consecutive elements of {@code dst}'s type from {@code src}'s memory, starting at
     * element {@code srcIndex} of it read as that type, go to {@code dst[dstIndex ...]}. The copy moves 4, 8 or 16
     * bytes ({@code count} times a {@code u32}, {@code u32x2} or {@code u32x4}); both ends must start on that many
     * bytes ({@code dstIndex} and {@code srcIndex} multiples of {@code count}). The copy lands when an
     * {@link AsyncWait} of this thread finds its group ({@link AsyncCommit}) complete; until then the thread must
     * neither read nor write the elements, and other threads see them only after that wait and a barrier (a
     * {@link SubgroupBarrier} for the copier's subgroup). Only read-only buffers (weights) may be copied: their
     * memory does not change while the copy is in flight.
     */
    record AsyncCopy(Shared dst, Expr dstIndex, Buffer src, Expr srcIndex, int count) implements Stmt {
        public AsyncCopy {
            int bytes = dst.element().bytes() * count;
            if (dst.element().scalar() != KType.Scalar.U32 || count < 1 || (bytes != 4 && bytes != 8 && bytes != 16))
                throw new IllegalArgumentException("an asynchronous copy moves 4, 8 or 16 bytes into a u32, u32x2 or u32x4 array, not " + count + " of " + dst);
            if (!src.readOnly()) throw new IllegalArgumentException("an asynchronous copy reads a read-only buffer, not " + src.name());
            if (!dstIndex.type().equals(KType.I32) || !srcIndex.type().equals(KType.I32))
                throw new IllegalArgumentException("asynchronous copy indices are i32");
        }

        /** One element. */
        public AsyncCopy(Shared dst, Expr dstIndex, Buffer src, Expr srcIndex) {
            this(dst, dstIndex, src, srcIndex, 1);
        }

        /** Bytes the copy moves. */
        public int bytes() {
            return dst.element().bytes() * count;
        }
    }

    /** Closes this thread's asynchronous copies since its last commit into one group ({@code cp.async.commit_group}); an empty group is fine. */
    record AsyncCommit() implements Stmt {}

    /**
     * Waits until at most {@code pending} of this thread's most recently committed groups of asynchronous
     * copies are still in flight ({@code cp.async.wait_group}); the copies of every older group have landed.
     */
    record AsyncWait(int pending) implements Stmt {
        public AsyncWait {
            if (pending < 0 || pending > 7) throw new IllegalArgumentException("cp.async.wait_group takes 0 to 7 groups in flight, not " + pending);
        }
    }

    /**
     * A copy barrier (PTX {@code mbarrier}, sm_90+): the 8 bytes of element {@code index} of the u32x2 array {@code bars},
     * counting a phase's arrivals (one a phase here) and the bytes of the {@link BulkCopy}s that complete on it. Phases
     * are numbered from 0; phase {@code k}'s parity is {@code k mod 2}.
     * <ul>
     *   <li>{@code INIT}: this thread sets it up for one arrival a phase ({@code mbarrier.init}) and makes that visible
     *       to the copy engine ({@code fence.mbarrier_init}); its subgroup's other lanes use it after a subgroup barrier.
     *   <li>{@code EXPECT}: this thread arrives, and the phase also waits for {@code arg} more bytes of bulk copies
     *       ({@code mbarrier.arrive.expect_tx}): with one arrival a phase, it completes when they have landed.
     *   <li>{@code WAIT}: this thread waits until the last phase of parity {@code arg} (0 or 1) has completed
     *       ({@code mbarrier.try_wait.parity} in a loop); that phase's copies are then visible to it.
     * </ul>
     */
    record CopyBarrier(Op op, Shared bars, Expr index, Expr arg) implements Stmt {
        public enum Op { INIT, EXPECT, WAIT }

        public CopyBarrier {
            if (!bars.element().equals(KType.U32X2)) throw new IllegalArgumentException("copy barriers are u32x2 (8-byte) elements, not those of " + bars);
            if (!index.type().equals(KType.I32) || (op == Op.INIT) != (arg == null) || (arg != null && !arg.type().equals(KType.I32)))
                throw new IllegalArgumentException("a copy barrier's " + op + " takes an i32 index" + (op == Op.INIT ? " and nothing else" : " and an i32 argument"));
        }
    }

    /**
     * One instruction copies {@code count} consecutive elements of {@code dst}'s type (a multiple of 16 bytes, an i32)
     * from {@code src}'s memory, starting at element {@code srcIndex} of it read as that type, to {@code dst[dstIndex
     * ...]}, without this thread waiting ({@code cp.async.bulk} from global to shared memory, sm_90+). Both ends start
     * on 16 bytes. The copy's bytes complete on the current phase of the copy barrier {@code bars[barIndex]}
     * ({@link CopyBarrier}): until a wait for that phase, no thread may read or write the elements, and after it, the
     * waiting threads see them. Only read-only buffers (weights) may be copied.
     */
    record BulkCopy(Shared dst, Expr dstIndex, Buffer src, Expr srcIndex, Expr count, Shared bars, Expr barIndex) implements Stmt {
        public BulkCopy {
            if (!dst.element().equals(KType.U32X4) && !dst.element().equals(KType.U32))
                throw new IllegalArgumentException("a bulk copy goes into a u32 or u32x4 array, not " + dst);
            if (!src.readOnly()) throw new IllegalArgumentException("a bulk copy reads a read-only buffer, not " + src.name());
            if (!bars.element().equals(KType.U32X2)) throw new IllegalArgumentException("a bulk copy completes on a u32x2 copy barrier, not " + bars);
            for (Expr e : List.of(dstIndex, srcIndex, count, barIndex))
                if (!e.type().equals(KType.I32)) throw new IllegalArgumentException("a bulk copy's indices and count are i32");
        }
    }

    /** A comment carried into the generated source. */
    record Comment(String text) implements Stmt {}
}
