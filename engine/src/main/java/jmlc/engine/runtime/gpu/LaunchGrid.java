package jmlc.engine.runtime.gpu;

import jmlc.compiler.kernel.GridEval;
import jmlc.compiler.kernel.Kernel;

import java.util.Map;

/**
 * The grid a launch uses: the kernel's grid expressions evaluated, and where the kernel's x blocks are
 * persistent ({@link Kernel#tiles()}) and more of them than the device keeps resident at once
 * ({@link GpuDevice.LoadedKernel#residentBlocks()}), its tiles dealt again evenly over as many as fit.
 *
 * <p>Why: a rule sizes a persistent grid before the kernel is compiled, for the occupancy it expects
 * (the f16 GEMV: up to 4 blocks a multiprocessor). Where the compiler gives the kernel more registers
 * than that allows (NVIDIA's Vulkan compiler: 120 a thread where NVRTC uses 64, so 2 blocks of 256
 * threads a multiprocessor), the blocks past the resident ones run as a second wave after the first,
 * each with whole tiles to stream while most multiprocessors wait.
 */
public final class LaunchGrid {
    private LaunchGrid() {}

    /** The grid for launching {@code k} with these scalar values ({@code seq}). */
    public static int[] of(GpuDevice.LoadedKernel k, Map<String, Integer> scalars) {
        Kernel kernel = k.kernel();
        return dealt(GridEval.grid(kernel, scalars), kernel.tiles(), k.residentBlocks());
    }

    /**
     * {@code grid} with its x blocks at most the resident ones a (y, z) row may have, {@code tiles} dealt
     * evenly over them (no block a round more than another); unchanged where the kernel is not persistent
     * ({@code tiles} 0), the residency is unknown ({@code resident} 0), or the grid fits.
     */
    static int[] dealt(int[] grid, int tiles, int resident) {
        if (tiles <= 0 || resident <= 0) return grid;
        long rows = (long) grid[1] * grid[2];
        int perRow = (int) Math.max(1, resident / rows);
        if (grid[0] <= perRow) return grid;
        int rounds = (tiles + perRow - 1) / perRow;
        int[] g = grid.clone();
        g[0] = (tiles + rounds - 1) / rounds;
        return g;
    }
}
