package jmlc.compiler.kernel;

import java.util.List;
import java.util.Map;

/**
 * One GPU kernel in the kernel IR, as a schedule rule made it: parameters, shared memory, the
 * body every thread runs, how to launch it, and the knob values that shaped it.
 *
 * @param name    unique, readable: {@code gemv_q4f16_4096x4096_r4t32u4}
 * @param buffers global-memory buffer parameters, in argument order
 * @param scalars i32 scalar parameters after the buffers (e.g. {@code seq})
 * @param shared  shared-memory arrays
 * @param body    the per-thread program
 * @param block   threads per block (x, y, z)
 * @param grid    blocks per grid (x, y, z), expressions over {@code scalars}
 * @param knobs   the schedule's choices, for display and tuning
 * @param summary one line saying what the kernel computes
 * @param tiles   above 0, the grid's x blocks are persistent: they take tiles {@code 0 .. tiles-1} in a
 *                grid-stride loop, so any number of them computes the same, and a runtime may launch
 *                fewer than {@code grid[0]} where fewer fit the device at once ({@code LaunchGrid});
 *                0 for every other kernel
 */
public record Kernel(String name, List<Buffer> buffers, List<Expr.Var> scalars, List<Shared> shared, Stmt body,
                     int[] block, Expr[] grid, Map<String, Integer> knobs, String summary, int tiles) {

    /** A kernel whose grid is what it says (no persistent tiles). */
    public Kernel(String name, List<Buffer> buffers, List<Expr.Var> scalars, List<Shared> shared, Stmt body,
                  int[] block, Expr[] grid, Map<String, Integer> knobs, String summary) {
        this(name, buffers, scalars, shared, body, block, grid, knobs, summary, 0);
    }

    public Kernel {
        buffers = List.copyOf(buffers);
        scalars = List.copyOf(scalars);
        shared = List.copyOf(shared);
        knobs = Map.copyOf(knobs);
        if (block.length != 3 || grid.length != 3) throw new IllegalArgumentException("block and grid have three dimensions");
        if (tiles < 0) throw new IllegalArgumentException("kernel " + name + ": persistent tiles must be 0 (none) or more, found " + tiles);
        for (Expr.Var s : scalars) if (!s.type().equals(KType.I32)) throw new IllegalArgumentException("scalar parameters are i32: " + s);
    }

    /**
     * Builds and statically checks a kernel for a GPU with {@code caps} (see {@link KernelCheck}).
     * Where the GPU has programmatic dependent launch, every kernel is safe to launch as a dependent
     * of the previous one: unless the body waits for its dependencies itself (after work that reads
     * only weights), it starts by letting the next kernel launch and then waiting for the previous ones.
     */
    public static Kernel checked(String name, List<Buffer> buffers, List<Expr.Var> scalars, List<Shared> shared, Stmt body,
                                 int[] block, Expr[] grid, Map<String, Integer> knobs, String summary, Capabilities caps) {
        return checked(name, buffers, scalars, shared, body, block, grid, knobs, summary, 0, caps);
    }

    /** As above, for a kernel whose x blocks take {@code tiles} persistent tiles (see {@link #tiles()}). */
    public static Kernel checked(String name, List<Buffer> buffers, List<Expr.Var> scalars, List<Shared> shared, Stmt body,
                                 int[] block, Expr[] grid, Map<String, Integer> knobs, String summary, int tiles, Capabilities caps) {
        if (caps.gridDependency() && !waits(body)) {
            List<Stmt> b = new java.util.ArrayList<>();
            b.add(new Stmt.GridDependency(Stmt.GridDependency.Kind.TRIGGER));
            b.add(new Stmt.GridDependency(Stmt.GridDependency.Kind.WAIT));
            b.addAll(((Stmt.Block) body).body());
            body = new Stmt.Block(b);
        }
        Kernel k = new Kernel(name, buffers, scalars, shared, body, block, grid, knobs, summary, tiles);
        KernelCheck.verify(k, caps);
        return k;
    }

    /**
     * Whether the kernel waits for the kernels before it (griddepcontrol.wait): launched as a programmatic
     * dependent, it runs while they drain, so what they write changes under it until the wait.
     */
    public boolean waitsForGridDependency() {
        return waits(body);
    }

    /** Whether the body's top level waits for its grid dependencies. */
    static boolean waits(Stmt body) {
        return body instanceof Stmt.Block b && b.body().stream().anyMatch(s -> s instanceof Stmt.GridDependency g && g.kind() == Stmt.GridDependency.Kind.WAIT);
    }

    /**
     * Whether the body has grid barriers ({@link Stmt.GridBarrier}, outside loops and branches): the runtime
     * must launch it with every block resident at once (a cooperative launch).
     */
    public boolean gridBarriers() {
        return KernelCheck.holds(body, Stmt.GridBarrier.class);
    }

    /** Whether the body has cluster barriers ({@link Stmt.ClusterBarrier}): the kernel is launched in clusters of {@link #cluster()}. */
    public boolean clusterBarriers() {
        return KernelCheck.holds(body, Stmt.ClusterBarrier.class);
    }

    /** The blocks of a cluster along x, y and z: its cluster barriers' ({@link KernelCheck} holds them to one shape), else 1, 1, 1. */
    public int[] cluster() {
        if (body instanceof Stmt.Block b)
            for (Stmt s : KernelCheck.outsideControlFlow(b.body())) if (s instanceof Stmt.ClusterBarrier c) return new int[] {c.x(), c.y(), c.z()};
        return new int[] {1, 1, 1};
    }

    public int threadsPerBlock() {
        return block[0] * block[1] * block[2];
    }

    public int sharedBytes() {
        return shared.stream().mapToInt(Shared::bytes).sum();
    }

    public Buffer buffer(String n) {
        for (Buffer b : buffers) if (b.name().equals(n)) return b;
        throw new IllegalArgumentException("kernel " + name + " has no buffer " + n);
    }
}
