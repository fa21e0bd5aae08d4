package jmlc.engine.runtime.gpu;

import jmlc.compiler.kernel.GridEval;
import jmlc.compiler.kernel.Kernel;

import java.util.Map;

/**
 * The grid a launch uses: the kernel's grid expressions evaluated, and where the kernel's x blocks are
 * persistent ({@link Kernel#tiles()}) and more of them than the device keeps resident at once
 * ({@link GpuDevice.LoadedKernel#residentBlocks()}), its tiles dealt again over as many as fit.
 *
 * <p>Why: a rule sizes a persistent grid before the kernel is compiled, for the occupancy it expects
 * (the f16 GEMV: up to 4 blocks a multiprocessor). Where the compiler gives the kernel more registers
 * than that allows (NVIDIA's Vulkan compiler: 120 a thread where NVRTC uses 64, so 2 blocks of 256
 * threads a multiprocessor), the blocks past the resident ones would run as a second wave after the
 * first, each with whole tiles to stream while most multiprocessors wait.
 *
 * <p>How many: a streaming kernel's multiprocessor moves its bytes at a rate its resident blocks
 * share, so the kernel lasts as long as the multiprocessor with the most tiles: (its blocks) × (tiles a
 * block). The grid is the one with the fewest of those, and of equals the most blocks. For the 7B qkv
 * GEMV through Vulkan (384 tiles, 2 blocks a multiprocessor of 132): 132 blocks of 3 tiles (3 a
 * multiprocessor), not 192 blocks of 2 (60 multiprocessors with 4).
 */
public final class LaunchGrid {
    private LaunchGrid() {}

    /** The grid for launching {@code k} with these scalar values ({@code seq}). */
    public static int[] of(GpuDevice.LoadedKernel k, Map<String, Integer> scalars) {
        Kernel kernel = k.kernel();
        int[] g = dealt(GridEval.grid(kernel, scalars), kernel.tiles(), k.blocksPerMultiprocessor(), k.multiprocessors());
        long blocks = (long) g[0] * g[1] * g[2], resident = (long) k.blocksPerMultiprocessor() * k.multiprocessors();
        // a kernel with grid barriers waits for every block: all must be resident at once (the cooperative launch's condition)
        if (kernel.gridBarriers() && resident > 0 && blocks > resident)
            throw new IllegalStateException("kernel " + kernel.name() + " has grid barriers, so its " + blocks + " blocks (grid " + g[0] + "x" + g[1] + "x" + g[2]
                    + ") must all be resident at once; the device holds " + resident + " (" + k.blocksPerMultiprocessor() + " an SM)");
        return g;
    }

    /**
     * {@code grid} with its x blocks at most the resident ones a (y, z) row may have, so many that no
     * multiprocessor streams more tiles than it must; unchanged where the kernel is not persistent ({@code tiles} 0), the residency is
     * unknown (0), or the grid fits.
     */
    static int[] dealt(int[] grid, int tiles, int blocksPerMultiprocessor, int multiprocessors) {
        long resident = (long) blocksPerMultiprocessor * multiprocessors;
        if (tiles <= 0 || resident <= 0) return grid;
        long rows = (long) grid[1] * grid[2];
        int perRow = (int) Math.max(1, resident / rows);
        if (grid[0] <= perRow) return grid;
        int[] g = grid.clone();
        if (rows == 1) { // one row: the grid whose busiest multiprocessor streams the fewest tiles (block i takes tiles i, i + blocks, ...)
            long best = Long.MAX_VALUE;
            for (int b = 1; b <= perRow; b++) {
                long busiest = (long) ceilDiv(b, multiprocessors) * ceilDiv(tiles, b);
                if (busiest <= best) {
                    best = busiest;
                    g[0] = b;
                }
            }
            return g;
        }
        // several rows share the resident blocks: as few rounds as they allow, no block a round more than another
        g[0] = ceilDiv(tiles, ceilDiv(tiles, perRow));
        return g;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
