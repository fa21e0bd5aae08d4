package jmlc.compiler.kernel;

import jmlc.compiler.quant.Half;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static jmlc.compiler.kernel.SimulatedValues.*;

/**
 * Runs kernel IR on the CPU the way a GPU does: all threads of a block step through the program
 * together (SIMT), each statement under a mask of the threads it applies to, as divergent
 * branches and loops are executed. Barriers hold because every thread is at the same statement;
 * a warp shuffle reads its partner's value from the same step. Exact about what the emitters
 * print (i32/u32 wrap-around, f32 rounding, f16 conversions), so CI checks what generated kernels
 * compute without a GPU. Buffers are little-endian byte segments.
 *
 * <p>Requires what the GPU requires: barriers in control flow all threads of a block reach, and
 * shuffles whose partner lane is running. Since the simulated threads run in lockstep and blocks
 * one after another, a missing barrier would not change what they compute here, so memory is
 * watched for races instead (warps run in any order between barriers, blocks in any order):
 * a shared word one warp writes and another reads or writes, or one warp reads and another then
 * writes, with no barrier between; a global element written in a launch and read or written by
 * another block, or by another warp of its block with no barrier between (and the same for a
 * read followed by another's write). Lanes of one warp may share words without a barrier
 * (warp-synchronous code). Any of these fails the launch. A grid barrier ({@link Stmt.GridBarrier})
 * is the one thing that orders blocks: every block runs up to it before any runs past it, and the
 * watch starts afresh after it. A cluster barrier ({@link Stmt.ClusterBarrier}) runs the same way here (every block
 * of the grid up to it), but orders only shared memory: a block may read another's of its cluster by rank
 * ({@link Expr.SharedLoad}) only what that block wrote before a cluster barrier both passed since, the other
 * block may not write it again until the next one, and none may read it after the last (the other may have left).
 *
 * <p>Programmatic dependent launch lets a kernel start before the ones before it end, so what it does
 * before its grid dependency's wait ({@link Stmt.GridDependency}) may read only what none of them writes.
 * Between {@link #stepBegins()} calls the simulator holds kernels to that: a read (a load or an
 * asynchronous copy's source) before the block's wait of memory that an earlier launch since the call
 * wrote fails the launch. Memory earlier steps wrote (a KV cache's rows, the position) may be read there.
 *
 * <p>Each launch also counts its work as a GPU issues it: per block, the statements executed times
 * the warps with a lane running them (a loop's test and step count once an iteration). That
 * count, not wall time, is what a simulated device reports as a kernel's cost ({@link Cost}):
 * deterministic, so tests of the tuner can know which knobs are best.
 */
public final class KernelSimulator {

    private final int warpSize;

    /**
     * Global memory (2-byte units, by address) earlier launches wrote since {@link #stepBegins()}; null: not watched.
     * A launch's writes join it when the launch (or a grid barrier's phase) ends: a kernel may read its own writes.
     */
    private java.util.Set<Long> stepWrites;

    public KernelSimulator(int warpSize) {
        this.warpSize = warpSize;
    }

    /**
     * A step starts: from here to the next call, reading before a kernel's grid dependency wait what an earlier launch
     * of the step wrote fails (see the class comment). Until the first call nothing is watched.
     */
    public void stepBegins() {
        stepWrites = new java.util.HashSet<>();
    }

    /**
     * The work of one launch: warp instructions issued by each block, in launch order (x fastest).
     * Not a model of memory or latency: a count of what the kernel asks its warps to execute.
     */
    public record Cost(long[] blockIssues) {
        public long total() {
            long t = 0;
            for (long b : blockIssues) t += b;
            return t;
        }
    }

    /** Launches {@code k} over its grid with the given buffers (by name) and scalar values (by name); returns its work. */
    public Cost launch(Kernel k, Map<String, MemorySegment> buffers, Map<String, Integer> scalars) {
        return launch(k, buffers, scalars, null);
    }

    /**
     * As above over {@code launchGrid} where not null: what a runtime launched, which may be fewer
     * persistent blocks than the kernel's grid ({@link Kernel#tiles()}).
     */
    public Cost launch(Kernel k, Map<String, MemorySegment> buffers, Map<String, Integer> scalars, int[] launchGrid) {
        for (Buffer b : k.buffers()) if (!buffers.containsKey(b.name())) throw new IllegalArgumentException("kernel " + k.name() + ": no memory for buffer " + b.name());
        Map<String, Object> globals = new HashMap<>();
        for (Expr.Var s : k.scalars()) {
            Integer v = scalars.get(s.name());
            if (v == null) throw new IllegalArgumentException("kernel " + k.name() + ": no value for scalar " + s.name());
            globals.put(s.name(), v);
        }
        int[] grid = new int[3];
        GlobalAccess global = new GlobalAccess();
        Block probe = new Block(k, buffers, globals, new int[3], new int[] {1, 1, 1}, 1, global);
        for (int i = 0; i < 3; i++) grid[i] = launchGrid != null ? launchGrid[i] : (Integer) probe.eval(k.grid()[i], probe.all)[0];
        long[] issues = new long[Math.max(0, grid[0] * grid[1] * grid[2])];
        List<Stmt> top = ((Stmt.Block) k.body()).body();
        boolean phases = k.gridBarriers() || k.clusterBarriers();
        if (phases) top = KernelCheck.outsideControlFlow(top); // the barriers at the top, between plain blocks' statements
        if (!phases) { // one block after another, each made when it runs
            int next = 0;
            for (int bz = 0; bz < grid[2]; bz++)
                for (int by = 0; by < grid[1]; by++)
                    for (int bx = 0; bx < grid[0]; bx++) {
                        Block blk = new Block(k, buffers, globals, new int[] {bx, by, bz}, grid, k.threadsPerBlock(), global);
                        run(k, blk, top);
                        issues[next++] = blk.issued;
                    }
            written(global);
            return new Cost(issues);
        }
        // grid and cluster barriers: every block runs up to the next one before any goes past it; after a grid
        // barrier, any block may read what any other wrote before it, so the global race watch starts afresh
        List<Block> blocks = new ArrayList<>();
        for (int bz = 0; bz < grid[2]; bz++)
            for (int by = 0; by < grid[1]; by++)
                for (int bx = 0; bx < grid[0]; bx++) blocks.add(new Block(k, buffers, globals, new int[] {bx, by, bz}, grid, k.threadsPerBlock(), global));
        int[] cluster = k.cluster();
        for (int i = 0; i < 3; i++)
            if (grid[i] % cluster[i] != 0) throw new IllegalStateException("kernel " + k.name() + ": grid " + Arrays.toString(grid) + " is not a multiple of its cluster " + Arrays.toString(cluster));
        for (Block blk : blocks) blk.cluster = rank -> clusterPeer(blocks, blk, grid, cluster, rank);
        int from = 0;
        while (from <= top.size()) {
            int to = from;
            while (to < top.size() && !(top.get(to) instanceof Stmt.GridBarrier) && !(top.get(to) instanceof Stmt.ClusterBarrier)) to++;
            boolean last = to == top.size();
            for (Block blk : blocks) {
                blk.lastPhase = last;
                run(k, blk, top.subList(from, to));
                if (!last) blk.barrierAcrossBlocks();
            }
            written(blocks.getFirst().global);
            if (!last && top.get(to) instanceof Stmt.GridBarrier) {
                GlobalAccess fresh = new GlobalAccess();
                for (Block blk : blocks) blk.global = fresh;
            }
            from = to + 1;
        }
        for (int i = 0; i < blocks.size(); i++) issues[i] = blocks.get(i).issued;
        return new Cost(issues);
    }

    /**
     * A copy barrier ({@link Stmt.CopyBarrier}): phases completed; the current phase's arrivals still due (one a phase)
     * and bytes still awaited (expected less copied); the copies of the current phase, and of completed phases that no
     * wait has landed yet.
     */
    private static final class CopyBarrierState {
        int completed, arrivals = 1;
        long bytes;
        final List<Block.Landing> pending = new ArrayList<>(), done = new ArrayList<>();

        /** Completes the phase once its arrival is in and every byte it awaits has been copied. */
        void complete(java.util.function.Supplier<String> what) {
            if (arrivals != 0) return;
            if (bytes < 0) throw new IllegalStateException("copy barrier " + what.get() + ": its phase's copies moved " + -bytes + " bytes more than its arrival expected");
            if (bytes > 0) return;
            completed++;
            arrivals = 1;
            done.addAll(pending);
            pending.clear();
        }
    }

    /** The block of rank {@code rank} in {@code blk}'s cluster (ranks x first, then y, then z, as CUDA's {@code %cluster_ctarank}). */
    private static Block clusterPeer(List<Block> blocks, Block blk, int[] grid, int[] cluster, int rank) {
        int size = cluster[0] * cluster[1] * cluster[2];
        if (rank < 0 || rank >= size) throw new IllegalStateException("rank " + rank + " is not in a cluster of " + size + " blocks");
        int x = blk.bid[0] - blk.bid[0] % cluster[0] + rank % cluster[0];
        int y = blk.bid[1] - blk.bid[1] % cluster[1] + rank / cluster[0] % cluster[1];
        int z = blk.bid[2] - blk.bid[2] % cluster[2] + rank / (cluster[0] * cluster[1]);
        return blocks.get(x + grid[0] * (y + grid[1] * z));
    }

    /** What a launch (or a grid barrier's phase) wrote, for the reads of later launches before their wait. */
    private void written(GlobalAccess g) {
        if (stepWrites != null) stepWrites.addAll(g.written());
    }

    private static void run(Kernel k, Block blk, List<Stmt> stmts) {
        try {
            for (Stmt x : stmts) if (blk.any(blk.all)) blk.exec(x, blk.all);
        } catch (RuntimeException e) {
            throw new IllegalStateException("kernel " + k.name() + ", block " + Arrays.toString(blk.bid) + ": " + e.getMessage(), e);
        }
    }

    /** One block: per-variable arrays of per-thread values. */
    private final class Block {
        final Kernel k;
        final Map<String, MemorySegment> mem;
        final Map<String, Object[]> vars = new HashMap<>();
        final Map<String, Object[]> shared = new HashMap<>();
        final int n;
        final int[] bid, gdim;
        final int[][] tid;
        final boolean[] all, exited;

        GlobalAccess global;
        final int linearBlock;
        /** Whether the block has passed its grid dependency's wait (a kernel without one never waits: nothing runs early). */
        boolean waited;

        Block(Kernel k, Map<String, MemorySegment> mem, Map<String, Object> globals, int[] bid, int[] gdim, int n, GlobalAccess global) {
            this.k = k;
            this.global = global;
            this.linearBlock = bid[0] + gdim[0] * (bid[1] + gdim[1] * bid[2]);
            this.waited = !Kernel.waits(k.body());
            this.mem = mem;
            this.n = n;
            this.bid = bid;
            this.gdim = gdim;
            this.all = new boolean[n];
            this.warpSyncs = new int[(n + warpSize - 1) / warpSize];
            Arrays.fill(all, true);
            this.exited = new boolean[n];
            this.tid = new int[n][];
            for (int t = 0; t < n; t++) tid[t] = new int[] {t % k.block()[0], (t / k.block()[0]) % k.block()[1], t / (k.block()[0] * k.block()[1])};
            for (var e : globals.entrySet()) {
                Object[] v = new Object[n];
                Arrays.fill(v, e.getValue());
                vars.put(e.getKey(), v);
            }
            for (Shared s : k.shared()) {
                shared.put(s.name(), new Object[s.size()]);
                access.put(s.name(), new SharedAccess(s.size()));
            }
            this.open = new ArrayList[n];
            this.committed = new ArrayDeque[n];
        }

        /** An asynchronous copy's value on its way to {@code array[index]}. */
        record Landing(Shared array, int index, Object value) {}

        /** Per thread: its asynchronous copies since its last commit, and its committed groups, oldest first (made when first used). */
        final List<Landing>[] open;
        final ArrayDeque<List<Landing>>[] committed;
        /** Per shared array, the elements an asynchronous copy is on its way to: no thread may touch them until it lands. */
        final Map<String, BitSet> inFlight = new HashMap<>();

        /**
         * Starts the copies: the source is read now (only read-only buffers are copied, so now and later read the same),
         * and the value lands when the thread's wait finds its group complete ({@link #asyncWait}).
         */
        void asyncCopy(Stmt.AsyncCopy c, boolean[] mask) {
            Object[] di = eval(c.dstIndex(), mask), si = eval(c.srcIndex(), mask);
            MemorySegment m = mem.get(c.src().name());
            BitSet flying = inFlight.computeIfAbsent(c.dst().name(), x -> new BitSet());
            int count = c.count(), unit = c.dst().element().bytes();
            for (int t = 0; t < n; t++) if (live(mask, t)) {
                int d = (Integer) di[t], src = (Integer) si[t];
                if (d % count != 0 || src % count != 0)
                    throw new IllegalStateException("asynchronous copy of " + c.bytes() + " bytes from " + c.src().name() + " element " + src + " to " + c.dst().name() + "["
                            + d + "] by thread " + t + ": both ends must start on " + c.bytes() + " bytes");
                readBeforeWait(c.src(), m, (long) src * unit, c.bytes());
                if (open[t] == null) open[t] = new ArrayList<>();
                for (int e = 0; e < count; e++) open[t].add(startCopy(c.dst(), d + e, m, src + e, t, flying));
            }
        }

        /** A prefetch changes nothing, but its address is checked as a GPU would: in its buffer, and a range 16-byte aligned. */
        void prefetch(Stmt.Prefetch p, boolean[] mask) {
            Object[] idx = eval(p.index(), mask), bytes = p.bytes() == null ? null : eval(p.bytes(), mask);
            MemorySegment m = mem.get(p.buffer().name());
            long unit = p.buffer().element().bytes();
            for (int t = 0; t < n; t++) if (live(mask, t)) {
                long off = (Integer) idx[t] * unit, len = bytes == null ? 1 : (Integer) bytes[t];
                if (off < 0 || len <= 0 || off + len > m.byteSize())
                    throw new IndexOutOfBoundsException("prefetch of " + len + " bytes of " + p.buffer().name() + " at byte " + off + " outside its " + m.byteSize() + " bytes");
                if (bytes != null && ((m.address() + off) % 16 != 0 || len % 16 != 0))
                    throw new IllegalStateException("bulk prefetch of " + p.buffer().name() + " at byte " + off + ", " + len + " bytes: address and size must be multiples of 16");
            }
        }

        void asyncCommit(boolean[] mask) {
            for (int t = 0; t < n; t++) if (live(mask, t)) {
                if (committed[t] == null) committed[t] = new ArrayDeque<>();
                committed[t].addLast(open[t] == null ? List.of() : open[t]);
                open[t] = null;
            }
        }

        /** Lands every group of each thread but its latest {@code pending}: a write by that thread, as the race watch sees it. */
        void asyncWait(int pending, boolean[] mask) {
            for (int t = 0; t < n; t++) if (live(mask, t) && committed[t] != null)
                while (committed[t].size() > pending)
                    for (Landing l : committed[t].removeFirst()) land(l, t, true);
        }

        /** Thread {@code t} starts a copy of element {@code src} of {@code m} (read as {@code dst}'s type) to {@code dst[at]}: in flight until it lands. */
        Landing startCopy(Shared dst, int at, MemorySegment m, int src, int t, BitSet flying) {
            int i = checkShared(dst, at);
            access.get(dst.name()).overwrite(dst, i, t);
            flying.set(i);
            return new Landing(dst, i, read(m, src, dst.element()));
        }

        /**
         * A copy lands as thread {@code t}'s write: with {@code ownLane} (cp.async) its warp's other lanes see it only after a
         * subgroup barrier; without (a wait on a copy barrier) the whole waiting warp sees it at once.
         */
        void land(Landing l, int t, boolean ownLane) {
            inFlight.get(l.array().name()).clear(l.index());
            SharedAccess a = access.get(l.array().name());
            if (ownLane) a.land(l.array(), l.index(), t);
            else a.write(l.array(), l.index(), t);
            shared.get(l.array().name())[l.index()] = l.value();
        }

        /** Per u32x2 array used for copy barriers, each element's state (null until its {@code INIT}). */
        final Map<String, CopyBarrierState[]> copyBarriers = new HashMap<>();

        /**
         * One bulk copy per live thread: the source is read now (read-only), and the value lands at the first wait that
         * finds the barrier's phase complete; the bytes count against the phase at once (a copy here never fails).
         */
        void bulkCopy(Stmt.BulkCopy c, boolean[] mask) {
            Object[] di = eval(c.dstIndex(), mask), si = eval(c.srcIndex(), mask), ni = eval(c.count(), mask), bi = eval(c.barIndex(), mask);
            MemorySegment m = mem.get(c.src().name());
            BitSet flying = inFlight.computeIfAbsent(c.dst().name(), x -> new BitSet());
            int unit = c.dst().element().bytes();
            for (int t = 0; t < n; t++) if (live(mask, t)) {
                int d = (Integer) di[t], src = (Integer) si[t], count = (Integer) ni[t], bar = (Integer) bi[t], thread = t;
                long bytes = (long) count * unit, off = (long) src * unit;
                // the messages are built only where a check fails (a decode program makes millions of copies)
                java.util.function.Supplier<String> what = () -> "bulk copy of " + bytes + " bytes from " + c.src().name() + " byte " + off + " to " + c.dst().name() + "[" + d + "] by thread " + thread;
                if (count <= 0 || bytes % 16 != 0 || (long) d * unit % 16 != 0 || (m.address() + off) % 16 != 0)
                    throw new IllegalStateException(what.get() + ": size and both ends must be positive multiples of 16 bytes");
                if (off < 0 || off + bytes > m.byteSize()) throw new IndexOutOfBoundsException(what.get() + ": outside the buffer's " + m.byteSize() + " bytes");
                readBeforeWait(c.src(), m, off, (int) bytes);
                CopyBarrierState b = copyBarrier(c.bars(), bar, () -> "bulk copy by thread " + thread);
                for (int e = 0; e < count; e++) b.pending.add(startCopy(c.dst(), d + e, m, src + e, t, flying));
                b.bytes -= bytes;
                b.complete(() -> c.bars().name() + "[" + bar + "]");
            }
        }

        void copyBarrier(Stmt.CopyBarrier c, boolean[] mask) {
            Object[] idx = eval(c.index(), mask), arg = c.arg() == null ? null : eval(c.arg(), mask);
            CopyBarrierState[] states = copyBarriers.computeIfAbsent(c.bars().name(), x -> new CopyBarrierState[c.bars().size()]);
            for (int t = 0; t < n; t++) if (live(mask, t)) {
                int i = (Integer) idx[t], thread = t;
                java.util.function.Supplier<String> what = () -> "copy barrier " + c.bars().name() + "[" + i + "]";
                switch (c.op()) {
                    case INIT -> {
                        checkShared(c.bars(), i);
                        CopyBarrierState old = states[i];
                        if (old != null && (old.arrivals != 1 || old.bytes != 0 || !old.pending.isEmpty()))
                            throw new IllegalStateException(what.get() + " set up again by thread " + t + " while a phase of it is open");
                        states[i] = new CopyBarrierState();
                    }
                    case EXPECT -> {
                        CopyBarrierState b = copyBarrier(c.bars(), i, () -> "arrival of thread " + thread);
                        if (--b.arrivals < 0) throw new IllegalStateException(what.get() + ": more arrivals than its one a phase (thread " + t + ")");
                        b.bytes += (Integer) arg[t];
                        b.complete(() -> c.bars().name() + "[" + i + "]");
                    }
                    case WAIT -> {
                        CopyBarrierState b = copyBarrier(c.bars(), i, () -> "wait of thread " + thread);
                        int parity = (Integer) arg[t];
                        if (parity != 0 && parity != 1) throw new IllegalStateException(what.get() + " waited on for parity " + parity + " (0 or 1) by thread " + t);
                        if (b.completed % 2 == parity)
                            throw new IllegalStateException(what.get() + " waited on by thread " + t + " for a phase of parity " + parity + " that never completes: "
                                    + b.arrivals + " arrival(s) and " + b.bytes + " bytes still due when every thread of the block is here");
                        for (Landing l : b.done) land(l, t, false);
                        b.done.clear();
                    }
                }
            }
        }

        CopyBarrierState copyBarrier(Shared bars, int i, java.util.function.Supplier<String> use) {
            checkShared(bars, i);
            CopyBarrierState[] states = copyBarriers.get(bars.name());
            CopyBarrierState b = states == null ? null : states[i];
            if (b == null) throw new IllegalStateException(use.get() + " on copy barrier " + bars.name() + "[" + i + "] before any thread set it up (INIT)");
            return b;
        }

        /** Barriers passed so far: accesses in the same epoch are unordered across warps. */
        int epoch = 1;
        /** Warp instructions issued: per statement executed, the warps with a lane running it. */
        long issued;

        /** Arrives at a grid or cluster barrier: every thread must (one that returned would never arrive); a new barrier epoch and phase. */
        void barrierAcrossBlocks() {
            for (int t = 0; t < n; t++)
                if (exited[t]) throw new IllegalStateException("thread " + t + " returned before a grid or cluster barrier, which its block would never leave");
            issue(all);
            epoch++;
            phase++;
        }

        /** Grid or cluster barriers passed so far, plus one: another block of the cluster may read what this one wrote in an earlier phase. */
        int phase = 1;
        /** Whether no grid or cluster barrier follows the statements running now (no block may read another's shared memory then). */
        boolean lastPhase;
        /** The blocks of this block's cluster, by rank (null: the kernel is not launched in clusters). */
        java.util.function.IntFunction<Block> cluster;

        /** Counts one instruction for each warp with a live lane in {@code mask}. */
        void issue(boolean[] mask) {
            for (int w = 0; w < n; w += warpSize) {
                for (int t = w; t < Math.min(n, w + warpSize); t++)
                    if (mask[t] && !exited[t]) {
                        issued++;
                        break;
                    }
            }
        }
        final Map<String, SharedAccess> access = new HashMap<>();

        /** Per warp: the subgroup and block barriers it passed, which order its lanes' shared-memory accesses. */
        final int[] warpSyncs;

        /** Per word of one shared array: the epoch and warp of its last write, and of its reads (warp -1: several). */
        final class SharedAccess {
            final int[] writeEpoch, writer, readEpoch, reader;

            /** Per word: the phase of its last write, and the phase another block of the cluster last read it in (0: never). */
            final int[] writePhase, remoteReadPhase;

            /**
             * Per word, lane by lane within a warp (whose lanes the race watch above takes as one): the thread whose
             * asynchronous copy landed there last (-1: a plain store, seen by its warp at once) and its warp's barriers
             * then; the thread that read it last (-2: several of one warp) and its warp's barriers then.
             */
            final int[] lander, landSyncs, laneReader, laneReadWarp, laneReadSyncs;

            SharedAccess(int size) {
                writeEpoch = new int[size];
                writer = new int[size];
                readEpoch = new int[size];
                reader = new int[size];
                writePhase = new int[size];
                remoteReadPhase = new int[size];
                lander = new int[size];
                Arrays.fill(lander, -1);
                landSyncs = new int[size];
                laneReader = new int[size];
                Arrays.fill(laneReader, -1);
                laneReadWarp = new int[size];
                laneReadSyncs = new int[size];
            }

            void write(Shared s, int i, int thread) {
                int w = thread / warpSize;
                if (remoteReadPhase[i] == phase)
                    throw race(s, i, "read by another block of the cluster, then written by warp " + w + " of block " + Arrays.toString(bid) + ", with no cluster barrier between");
                writePhase[i] = phase;
                if (writeEpoch[i] == epoch && writer[i] != w) throw race(s, i, "written by warps " + writer[i] + " and " + w);
                if (readEpoch[i] == epoch && reader[i] != w) throw race(s, i, "read by warp" + (reader[i] < 0 ? "s other than " + w : " " + reader[i]) + ", then written by warp " + w);
                writeEpoch[i] = epoch;
                writer[i] = w;
                lander[i] = -1;
            }

            /** An asynchronous copy of {@code thread} lands: a write its subgroup's other lanes see only after a subgroup barrier. */
            void land(Shared s, int i, int thread) {
                write(s, i, thread);
                lander[i] = thread;
                landSyncs[i] = warpSyncs[thread / warpSize];
            }

            /** An asynchronous copy of {@code thread} is issued into the word: another lane of its warp must have read it before a subgroup barrier. */
            void overwrite(Shared s, int i, int thread) {
                int w = thread / warpSize;
                if (laneReader[i] != -1 && laneReader[i] != thread && laneReadWarp[i] == w && laneReadSyncs[i] == warpSyncs[w])
                    throw laneRace(s, i, "read by " + (laneReader[i] == -2 ? "lanes" : "thread " + laneReader[i]) + " of warp " + w + ", then overwritten by thread " + thread
                            + "'s asynchronous copy");
            }

            void read(Shared s, int i, int thread) {
                int w = thread / warpSize;
                if (writeEpoch[i] == epoch && writer[i] != w) throw race(s, i, "written by warp " + writer[i] + ", then read by warp " + w);
                if (lander[i] >= 0 && lander[i] != thread && lander[i] / warpSize == w && landSyncs[i] == warpSyncs[w])
                    throw laneRace(s, i, "landed by thread " + lander[i] + "'s asynchronous copy, then read by thread " + thread + " of its warp");
                if (readEpoch[i] != epoch) {
                    readEpoch[i] = epoch;
                    reader[i] = w;
                } else if (reader[i] != w) reader[i] = -1;
                if (laneReader[i] == -1 || laneReadWarp[i] != w || laneReadSyncs[i] != warpSyncs[w]) {
                    laneReader[i] = thread;
                    laneReadWarp[i] = w;
                    laneReadSyncs[i] = warpSyncs[w];
                } else if (laneReader[i] != thread) laneReader[i] = -2;
            }

            IllegalStateException laneRace(Shared s, int i, String what) {
                return new IllegalStateException("race on shared " + s.name() + "[" + i + "]: " + what + " with no subgroup barrier between");
            }

            IllegalStateException race(Shared s, int i, String what) {
                return new IllegalStateException("race on shared " + s.name() + "[" + i + "]: " + what + " with no barrier between");
            }
        }

        boolean[] and(boolean[] mask, Object[] cond, boolean negate) {
            boolean[] m = new boolean[n];
            for (int t = 0; t < n; t++) m[t] = mask[t] && !exited[t] && ((Boolean) cond[t] != negate);
            return m;
        }

        boolean any(boolean[] m) {
            for (int t = 0; t < n; t++) if (m[t] && !exited[t]) return true;
            return false;
        }

        void exec(Stmt s, boolean[] mask) {
            if (!(s instanceof Stmt.Block) && !(s instanceof Stmt.Comment)) issue(mask);
            switch (s) {
                case Stmt.Let l -> set(l.var().name(), eval(l.init(), mask), mask);
                case Stmt.Assign a -> set(a.var().name(), eval(a.value(), mask), mask);
                case Stmt.Store st -> {
                    Object[] idx = eval(st.index(), mask), val = eval(st.value(), mask);
                    MemorySegment m = mem.get(st.buffer().name());
                    for (int t = 0; t < n; t++) if (live(mask, t)) {
                        write(m, (Integer) idx[t], st.value().type(), val[t]);
                        touch(st.buffer(), m, (Integer) idx[t], st.value().type(), t, true);
                    }
                }
                case Stmt.SharedStore st -> {
                    Object[] idx = eval(st.index(), mask), val = eval(st.value(), mask);
                    Object[] arr = shared.get(st.array().name());
                    SharedAccess acc = access.get(st.array().name());
                    for (int t = 0; t < n; t++) if (live(mask, t)) {
                        int i = checkShared(st.array(), (Integer) idx[t]);
                        acc.write(st.array(), i, t);
                        arr[i] = val[t];
                    }
                }
                case Stmt.For f -> {
                    String i = f.index().name();
                    set(i, eval(f.lo(), mask), mask);
                    boolean[] active = and(mask, eval(new Expr.Binary(Expr.BinOp.LT, f.index(), f.hi()), mask), false);
                    while (any(active)) {
                        issue(active); // the test and the step
                        exec(f.body(), active);
                        Object[] step = eval(f.step(), active), cur = vars.get(i);
                        for (int t = 0; t < n; t++) if (live(active, t)) cur[t] = (Integer) cur[t] + (Integer) step[t];
                        active = and(active, eval(new Expr.Binary(Expr.BinOp.LT, f.index(), f.hi()), active), false);
                    }
                }
                case Stmt.If f -> {
                    Object[] c = eval(f.cond(), mask);
                    boolean[] yes = and(mask, c, false), no = and(mask, c, true);
                    if (any(yes)) exec(f.then(), yes);
                    if (any(no)) exec(f.otherwise(), no);
                }
                case Stmt.Block b -> { for (Stmt x : b.body()) if (any(mask)) exec(x, mask); }
                case Stmt.Barrier b -> {
                    for (int t = 0; t < n; t++)
                        if (!exited[t] && !mask[t]) throw new IllegalStateException("barrier reached by only some threads (thread " + t + " is elsewhere)");
                    epoch++;
                    for (int w = 0; w < warpSyncs.length; w++) warpSyncs[w]++;
                }
                case Stmt.SubgroupBarrier b -> {
                    for (int w = 0; w < warpSyncs.length; w++) {
                        boolean any = false;
                        for (int t = w * warpSize; t < Math.min(n, (w + 1) * warpSize); t++) any |= live(mask, t);
                        if (!any) continue;
                        for (int t = w * warpSize; t < Math.min(n, (w + 1) * warpSize); t++)
                            if (!exited[t] && !mask[t]) throw new IllegalStateException("subgroup barrier reached by only some lanes of warp " + w + " (thread " + t + " is elsewhere)");
                        warpSyncs[w]++;
                    }
                }
                case Stmt.Return r -> { for (int t = 0; t < n; t++) if (mask[t]) exited[t] = true; }
                case Stmt.GridBarrier g -> throw new IllegalStateException("a grid barrier inside a loop or branch (only outside them may a kernel have one)");
                case Stmt.ClusterBarrier c -> throw new IllegalStateException("a cluster barrier inside a loop or branch (only outside them may a kernel have one)");
                case Stmt.Comment c -> { }
                case Stmt.Mma m -> mma(m, mask);
                case Stmt.LdMatrix l -> ldmatrix(l, mask);
                case Stmt.TileFill t -> { for (float[] tile : tile(t.acc(), mask, "fill")) if (tile != null) Arrays.fill(tile, t.value()); }
                case Stmt.TileLoad t -> tileLoad(t, mask);
                case Stmt.TileMma t -> tileMma(t, mask);
                case Stmt.TileStore t -> tileStore(t, mask);
                case Stmt.GridDependency g -> { // kernels run one after another here; what comes before the wait is watched
                    if (g.kind() == Stmt.GridDependency.Kind.WAIT) waited = true;
                }
                case Stmt.AsyncCopy c -> asyncCopy(c, mask);
                case Stmt.AsyncCommit c -> asyncCommit(mask);
                case Stmt.AsyncWait w -> asyncWait(w.pending(), mask);
                case Stmt.BulkCopy c -> bulkCopy(c, mask);
                case Stmt.CopyBarrier c -> copyBarrier(c, mask);
                case Stmt.Prefetch p -> prefetch(p, mask); // a hint: nothing to model but where it points
            }
        }

        /** D += A·B per warp, gathering and scattering PTX's m16n8k16 fragments across the 32 lanes. */
        void mma(Stmt.Mma m, boolean[] mask) {
            if (m.unit().amd16()) {
                mma16(m, mask);
                return;
            }
            if (warpSize != 32) throw new IllegalStateException("mma.sync needs 32-lane warps");
            Object[][] a = new Object[4][], b = new Object[2][];
            for (int i = 0; i < 4; i++) a[i] = eval(m.a().get(i), mask);
            for (int i = 0; i < 2; i++) b[i] = eval(m.b().get(i), mask);
            for (int w = 0; w < n / 32; w++) {
                boolean any = false;
                for (int l = 0; l < 32; l++) any |= live(mask, w * 32 + l);
                if (!any) continue;
                float[][] A = new float[16][16], B = new float[16][8];
                for (int l = 0; l < 32; l++) {
                    int t = w * 32 + l, g = l >> 2, q = l & 3;
                    if (!live(mask, t)) throw new IllegalStateException("mma with lane " + l + " of warp " + w + " not running");
                    for (int i = 0; i < 4; i++) {
                        int word = (Integer) a[i][t], row = g + ((i & 1) == 1 ? 8 : 0), col = q * 2 + (i >= 2 ? 8 : 0);
                        A[row][col] = Half.toFloat((short) word);
                        A[row][col + 1] = Half.toFloat((short) (word >>> 16));
                    }
                    for (int i = 0; i < 2; i++) {
                        int word = (Integer) b[i][t], k0 = q * 2 + (i == 1 ? 8 : 0);
                        B[k0][g] = Half.toFloat((short) word);
                        B[k0 + 1][g] = Half.toFloat((short) (word >>> 16));
                    }
                }
                for (int l = 0; l < 32; l++) {
                    int t = w * 32 + l, g = l >> 2, q = l & 3;
                    for (int i = 0; i < 4; i++) {
                        int row = g + (i >= 2 ? 8 : 0), col = q * 2 + (i & 1);
                        Object[] acc = vars.get(m.acc().get(i).name());
                        double sum = (Float) acc[t];
                        for (int kk = 0; kk < 16; kk++) sum += (double) A[row][kk] * B[kk][col];
                        acc[t] = (float) sum;
                    }
                }
            }
        }

        /**
         * D += A·B per subgroup for AMD's 16×16×16 units (WMMA, MFMA), in their layouts: lane l
         * holds row l%16 of A and column l%16 of B at the k its group l/16 has, and column l%16 of
         * D ({@link Capabilities.MatrixUnit}). Where several lanes hold the same element (WMMA's
         * two halves of the wave) they must agree, as the hardware requires.
         */
        void mma16(Stmt.Mma m, boolean[] mask) {
            Capabilities.MatrixUnit u = m.unit();
            if (warpSize != u.lanes) throw new IllegalStateException(u + " needs " + u.lanes + "-lane subgroups, not " + warpSize);
            Object[][] a = new Object[u.aRegs][], b = new Object[u.bRegs][];
            for (int i = 0; i < u.aRegs; i++) a[i] = eval(m.a().get(i), mask);
            for (int i = 0; i < u.bRegs; i++) b[i] = eval(m.b().get(i), mask);
            for (int w = 0; w < n / u.lanes; w++) {
                boolean any = false;
                for (int l = 0; l < u.lanes; l++) any |= live(mask, w * u.lanes + l);
                if (!any) continue;
                Float[][] A = new Float[16][16], B = new Float[16][16];
                for (int l = 0; l < u.lanes; l++) {
                    int t = w * u.lanes + l, g = l / 16, rc = Capabilities.MatrixUnit.col(l);
                    if (!live(mask, t)) throw new IllegalStateException(u + " with lane " + l + " of subgroup " + w + " not running");
                    for (int r = 0; r < u.aRegs; r++) {
                        int word = (Integer) a[r][t], k0 = u.k(g, r);
                        fragment(A, rc, k0, Half.toFloat((short) word), "A", l);
                        fragment(A, rc, k0 + 1, Half.toFloat((short) (word >>> 16)), "A", l);
                    }
                    for (int r = 0; r < u.bRegs; r++) {
                        int word = (Integer) b[r][t], k0 = u.k(g, r);
                        fragment(B, k0, rc, Half.toFloat((short) word), "B", l);
                        fragment(B, k0 + 1, rc, Half.toFloat((short) (word >>> 16)), "B", l);
                    }
                }
                for (int l = 0; l < u.lanes; l++) {
                    int t = w * u.lanes + l, g = l / 16, col = Capabilities.MatrixUnit.col(l);
                    for (int r = 0; r < u.accRegs; r++) {
                        int row = u.row(g, r);
                        Object[] acc = vars.get(m.acc().get(r).name());
                        double sum = (Float) acc[t];
                        for (int kk = 0; kk < 16; kk++) sum += (double) A[row][kk] * B[kk][col];
                        acc[t] = (float) sum;
                    }
                }
            }
        }

        /** Sets element (i, j) of an operand from lane {@code lane}; a second lane holding it must hold the same value. */
        private static void fragment(Float[][] m, int i, int j, float v, String which, int lane) {
            if (m[i][j] != null && Float.floatToRawIntBits(m[i][j]) != Float.floatToRawIntBits(v))
                throw new IllegalStateException("lanes disagree on " + which + "[" + i + "][" + j + "] (lane " + lane + " holds " + v + ", another " + m[i][j]
                        + "): the matrix unit requires the lanes that share an element to hold the same value");
            m[i][j] = v;
        }

        /** Per matrix tile, each subgroup's 16×16 values, row-major (a subgroup's own, as a local variable is a thread's). */
        final Map<String, float[][]> tiles = new HashMap<>();

        /**
         * Each subgroup's values of {@code t} (null for a subgroup with no lane in {@code mask}); a subgroup
         * must run it with all its lanes, as the hardware requires.
         */
        float[][] tile(MatrixTile t, boolean[] mask, String what) {
            float[][] per = tiles.computeIfAbsent(t.name(), x -> new float[(n + warpSize - 1) / warpSize][]);
            float[][] out = new float[per.length][];
            for (int w = 0; w < per.length; w++) {
                int live = 0;
                for (int l = w * warpSize; l < Math.min(n, (w + 1) * warpSize); l++) if (live(mask, l)) live++;
                if (live == 0) continue;
                if (live != Math.min(n, (w + 1) * warpSize) - w * warpSize)
                    throw new IllegalStateException("tile " + what + " of " + t.name() + " with only " + live + " lanes of subgroup " + w + " running");
                if (per[w] == null) per[w] = new float[MatrixTile.SIZE * MatrixTile.SIZE];
                out[w] = per[w];
            }
            return out;
        }

        /** The subgroup's index into a shared array: the same in every lane, as the hardware requires. */
        int uniformIndex(Object[] idx, int w, String what) {
            Integer at = null;
            for (int l = w * warpSize; l < Math.min(n, (w + 1) * warpSize); l++) {
                if (at == null) at = (Integer) idx[l];
                else if (!at.equals(idx[l])) throw new IllegalStateException("tile " + what + ": lanes of subgroup " + w + " give indices " + at + " and " + idx[l]);
            }
            return at;
        }

        void tileLoad(Stmt.TileLoad t, boolean[] mask) {
            Object[] idx = eval(t.index(), mask), arr = shared.get(t.array().name());
            SharedAccess acc = access.get(t.array().name());
            float[][] per = tile(t.tile(), mask, "load");
            int size = MatrixTile.SIZE;
            for (int w = 0; w < per.length; w++) {
                if (per[w] == null) continue;
                int base = uniformIndex(idx, w, "load of " + t.tile().name());
                if (base % 4 != 0) throw new IllegalStateException("tile load of " + t.tile().name() + " at word " + base + ", not 16-byte aligned");
                for (int r = 0; r < size; r++)
                    for (int c = 0; c < size; c++) {
                        int word = t.columnMajor() ? base + c * t.stride() + r / 2 : base + r * t.stride() + c / 2;
                        boolean high = ((t.columnMajor() ? r : c) & 1) == 1;
                        int i = checkShared(t.array(), word);
                        acc.read(t.array(), i, w * warpSize);
                        if (arr[i] == null) throw new IllegalStateException("tile load of " + t.tile().name() + " reads " + t.array().name() + "[" + i + "] before any write");
                        int bits = (Integer) arr[i];
                        per[w][r * size + c] = Half.toFloat((short) (high ? bits >>> 16 : bits));
                    }
            }
        }

        void tileMma(Stmt.TileMma t, boolean[] mask) {
            float[][] d = tile(t.acc(), mask, "mma"), a = tile(t.a(), mask, "mma"), b = tile(t.b(), mask, "mma");
            int size = MatrixTile.SIZE;
            for (int w = 0; w < d.length; w++) {
                if (d[w] == null) continue;
                float[] out = new float[size * size];
                for (int r = 0; r < size; r++)
                    for (int c = 0; c < size; c++) {
                        double sum = d[w][r * size + c];
                        for (int kk = 0; kk < size; kk++) sum += (double) a[w][r * size + kk] * b[w][kk * size + c];
                        out[r * size + c] = (float) sum;
                    }
                System.arraycopy(out, 0, d[w], 0, out.length);
            }
        }

        void tileStore(Stmt.TileStore t, boolean[] mask) {
            Object[] idx = eval(t.index(), mask), arr = shared.get(t.array().name());
            SharedAccess acc = access.get(t.array().name());
            float[][] per = tile(t.acc(), mask, "store");
            int size = MatrixTile.SIZE;
            for (int w = 0; w < per.length; w++) {
                if (per[w] == null) continue;
                int base = uniformIndex(idx, w, "store of " + t.acc().name());
                for (int r = 0; r < size; r++)
                    for (int c = 0; c < size; c++) {
                        int i = checkShared(t.array(), base + r * t.stride() + c);
                        acc.write(t.array(), i, w * warpSize);
                        arr[i] = per[w][r * size + c];
                    }
            }
        }

        /** Records thread t's access to element {@code i} of {@code b} in 2-byte units (the smallest element, f16). */
        void touch(Buffer b, MemorySegment m, long i, KType type, int t, boolean write) {
            long off = i * type.bytes();
            if (!write) readBeforeWait(b, m, off, type.bytes());
            if (b.readOnly()) return;
            var who = new GlobalAccess.Who(linearBlock, t / warpSize, epoch);
            for (long u = off; u < off + type.bytes(); u += 2) {
                if (write) global.write(b, m, u, who);
                else global.read(b, m, u, who);
            }
        }

        /** A read of {@code bytes} at {@code off} in {@code b}: before the block's wait, of nothing an earlier launch of the step wrote. */
        private void readBeforeWait(Buffer b, MemorySegment m, long off, int bytes) {
            if (stepWrites == null || waited) return;
            for (long u = off; u < off + bytes; u += 2)
                if (stepWrites.contains(m.address() + u))
                    throw new IllegalStateException("read of " + b.name() + " (byte " + u + ") before the grid dependency wait, which an earlier launch"
                            + " of this step wrote: a dependent launch may run it before that launch ends");
        }

        /** Four 8×8 b16 matrices per warp: lane l addresses row l%8 of matrix l/8 and receives word l%4 of row l/4 of each. */
        void ldmatrix(Stmt.LdMatrix l, boolean[] mask) {
            if (warpSize != 32) throw new IllegalStateException("ldmatrix needs 32-lane warps");
            Object[] idx = eval(l.index(), mask), arr = shared.get(l.array().name());
            SharedAccess acc = access.get(l.array().name());
            for (int w = 0; w < n / 32; w++) {
                boolean any = false;
                for (int lane = 0; lane < 32; lane++) any |= live(mask, w * 32 + lane);
                if (!any) continue;
                for (int lane = 0; lane < 32; lane++) {
                    int t = w * 32 + lane;
                    if (!live(mask, t)) throw new IllegalStateException("ldmatrix with lane " + lane + " of warp " + w + " not running");
                    if ((Integer) idx[t] % 4 != 0) throw new IllegalStateException("ldmatrix row address of lane " + lane + " is word " + idx[t] + ", not 16-byte aligned");
                }
                for (int j = 0; j < 4; j++) {
                    Object[] dst = vars.get(l.dst().get(j).name());
                    if (dst == null) throw new IllegalStateException("ldmatrix register " + l.dst().get(j).name() + " written before it is declared");
                    for (int lane = 0; lane < 32; lane++) {
                        int t = w * 32 + lane, supplier = w * 32 + j * 8 + lane / 4;
                        int i = checkShared(l.array(), (Integer) idx[supplier] + lane % 4);
                        acc.read(l.array(), i, t);
                        if (arr[i] == null) throw new IllegalStateException("shared " + l.array().name() + "[" + i + "] read by ldmatrix before any thread wrote it");
                        dst[t] = arr[i];
                    }
                }
            }
        }

        boolean live(boolean[] mask, int t) {
            return mask[t] && !exited[t];
        }

        void set(String name, Object[] vals, boolean[] mask) {
            Object[] cur = vars.computeIfAbsent(name, x -> new Object[n]);
            for (int t = 0; t < n; t++) if (live(mask, t)) cur[t] = vals[t];
        }

        /**
         * Thread {@code t}'s load of {@code array[i]} in the shared memory of the block of rank {@code rank} in its cluster:
         * a value that block wrote before the last cluster barrier, while a barrier is still to come.
         */
        Object fromCluster(Shared array, int rank, int i, int t) {
            if (cluster == null) throw new IllegalStateException("a load from another block's shared memory in a kernel not launched in clusters");
            Block peer = cluster.apply(rank);
            int at = peer.checkShared(array, i);
            String what = "shared " + array.name() + "[" + i + "] of block " + Arrays.toString(peer.bid) + " (rank " + rank + ")";
            if (peer == this) access.get(array.name()).read(array, at, t);
            else {
                if (lastPhase) throw new IllegalStateException(what + " read after the last cluster barrier: that block may have left");
                SharedAccess acc = peer.access.get(array.name());
                if (acc.writePhase[at] == peer.phase)
                    throw new IllegalStateException("race on " + what + ": written by that block, then read by block " + Arrays.toString(bid) + ", with no cluster barrier between");
                acc.remoteReadPhase[at] = peer.phase;
            }
            Object o = peer.shared.get(array.name())[at];
            if (o == null) throw new IllegalStateException(what + " read before any thread wrote it");
            return o;
        }

        int checkShared(Shared s, int i) {
            if (i < 0 || i >= s.size()) throw new IndexOutOfBoundsException("shared " + s.name() + "[" + i + "] outside " + s.size());
            BitSet flying = inFlight.get(s.name());
            if (flying != null && flying.get(i))
                throw new IllegalStateException("shared " + s.name() + "[" + i + "] used while an asynchronous copy to it is in flight (no wait for its group before)");
            return i;
        }

        /** Values of {@code e} for every thread in {@code mask} (other entries are null). */
        Object[] eval(Expr e, boolean[] mask) {
            Object[] r = new Object[n];
            switch (e) {
                case Expr.Const c -> { Object v = constant(c.type(), c.value()); for (int t = 0; t < n; t++) r[t] = v; }
                case Expr.Knob c -> { Object v = c.value(); for (int t = 0; t < n; t++) r[t] = v; }
                case Expr.Var v -> {
                    Object[] cur = vars.get(v.name());
                    if (cur == null) throw new IllegalStateException("variable " + v.name() + " read before it is set");
                    for (int t = 0; t < n; t++) if (live(mask, t)) {
                        if (cur[t] == null) throw new IllegalStateException("variable " + v.name() + " read before thread " + t + " set it");
                        r[t] = cur[t];
                    }
                }
                case Expr.Builtin b -> {
                    for (int t = 0; t < n; t++) r[t] = switch (b.kind()) {
                        case THREAD -> tid[t][b.axis()];
                        case BLOCK -> bid[b.axis()];
                        case BLOCK_DIM -> k.block()[b.axis()];
                        case GRID_DIM -> gdim[b.axis()];
                    };
                }
                case Expr.Binary b -> {
                    Object[] x = eval(b.a(), mask);
                    // && and || short-circuit in C: the right side runs only where the left does not decide
                    boolean[] m2 = mask;
                    if (b.op() == Expr.BinOp.LAND) m2 = and(mask, x, false);
                    else if (b.op() == Expr.BinOp.LOR) m2 = and(mask, x, true);
                    Object[] y = eval(b.b(), m2);
                    for (int t = 0; t < n; t++) if (live(mask, t)) {
                        if (b.op() == Expr.BinOp.LAND && !(Boolean) x[t]) r[t] = false;
                        else if (b.op() == Expr.BinOp.LOR && (Boolean) x[t]) r[t] = true;
                        else r[t] = binary(b.op(), b.a().type(), x[t], y[t]);
                    }
                }
                case Expr.Unary u -> { Object[] x = eval(u.a(), mask); for (int t = 0; t < n; t++) if (live(mask, t)) r[t] = unary(u.op(), u.a().type(), x[t]); }
                case Expr.Fma f -> {
                    Object[] a = eval(f.a(), mask), b = eval(f.b(), mask), c = eval(f.c(), mask);
                    boolean h2 = f.type().equals(KType.F16X2);
                    for (int t = 0; t < n; t++) if (live(mask, t)) r[t] = h2 ? hfma2((Object[]) a[t], (Object[]) b[t], (Object[]) c[t]) : Math.fma((Float) a[t], (Float) b[t], (Float) c[t]);
                }
                case Expr.Dot4 d -> {
                    Object[] a = eval(d.a(), mask), b = eval(d.b(), mask), c = eval(d.c(), mask);
                    for (int t = 0; t < n; t++) if (live(mask, t)) {
                        int x = (Integer) a[t], y = (Integer) b[t], s = (Integer) c[t];
                        for (int i = 0; i < 4; i++) s += (byte) (x >>> (8 * i)) * (byte) (y >>> (8 * i));
                        r[t] = s;
                    }
                }
                case Expr.Dot2 d -> {
                    Object[] a = eval(d.a(), mask), b = eval(d.b(), mask), c = eval(d.c(), mask);
                    for (int t = 0; t < n; t++) if (live(mask, t)) r[t] = dot2((Object[]) a[t], (Object[]) b[t], (Float) c[t]);
                }
                case Expr.Cast c -> { Object[] x = eval(c.a(), mask); for (int t = 0; t < n; t++) if (live(mask, t)) r[t] = cast(c.a().type(), c.type(), x[t]); }
                case Expr.Bitcast c -> { Object[] x = eval(c.a(), mask); for (int t = 0; t < n; t++) if (live(mask, t)) r[t] = bitcast(c.a().type(), c.type(), x[t]); }
                case Expr.Load l -> {
                    Object[] idx = eval(l.index(), mask);
                    MemorySegment m = mem.get(l.buffer().name());
                    for (int t = 0; t < n; t++) if (live(mask, t)) {
                        r[t] = read(m, (Integer) idx[t], l.type());
                        touch(l.buffer(), m, (Integer) idx[t], l.type(), t, false);
                    }
                }
                case Expr.SharedLoad l when l.rank() != null -> {
                    Object[] idx = eval(l.index(), mask), ranks = eval(l.rank(), mask);
                    for (int t = 0; t < n; t++) if (live(mask, t)) r[t] = fromCluster(l.array(), (Integer) ranks[t], (Integer) idx[t], t);
                }
                case Expr.SharedLoad l -> {
                    Object[] idx = eval(l.index(), mask), arr = shared.get(l.array().name());
                    SharedAccess acc = access.get(l.array().name());
                    for (int t = 0; t < n; t++) if (live(mask, t)) {
                        int i = checkShared(l.array(), (Integer) idx[t]);
                        acc.read(l.array(), i, t);
                        Object o = arr[i];
                        if (o == null) throw new IllegalStateException("shared " + l.array().name() + "[" + idx[t] + "] read before any thread wrote it");
                        r[t] = o;
                    }
                }
                case Expr.Lane l -> { Object[] x = eval(l.vector(), mask); for (int t = 0; t < n; t++) if (live(mask, t)) r[t] = ((Object[]) x[t])[l.lane()]; }
                case Expr.Pack p -> {
                    Object[][] ls = p.lanes().stream().map(x -> eval(x, mask)).toArray(Object[][]::new);
                    for (int t = 0; t < n; t++) if (live(mask, t)) {
                        Object[] v = new Object[ls.length];
                        for (int i = 0; i < ls.length; i++) v[i] = ls[i][t];
                        r[t] = v;
                    }
                }
                case Expr.HalvesToWord h -> {
                    Object[] lo = eval(h.lo(), mask), hi = eval(h.hi(), mask);
                    for (int t = 0; t < n; t++) if (live(mask, t)) r[t] = ((Short) lo[t] & 0xffff) | (((Short) hi[t] & 0xffff) << 16);
                }
                case Expr.HalfOf h -> { Object[] x = eval(h.word(), mask); for (int t = 0; t < n; t++) if (live(mask, t)) r[t] = (short) ((Integer) x[t] >>> (h.high() ? 16 : 0)); }
                case Expr.Select s -> {
                    Object[] c = eval(s.cond(), mask), a = eval(s.a(), mask), b = eval(s.b(), mask);
                    for (int t = 0; t < n; t++) if (live(mask, t)) r[t] = (Boolean) c[t] ? a[t] : b[t];
                }
                case Expr.ShuffleXor s -> {
                    Object[] x = eval(s.value(), mask);
                    for (int t = 0; t < n; t++) if (live(mask, t)) {
                        int partner = (t / warpSize) * warpSize + ((t % warpSize) ^ s.mask());
                        if (partner >= n || !live(mask, partner)) throw new IllegalStateException("thread " + t + " shuffles with lane " + partner + ", which is not running here");
                        r[t] = x[partner];
                    }
                }
            }
            return r;
        }
    }
}
