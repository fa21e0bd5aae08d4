package jmlc.engine.runtime.gpu;

import jmlc.compiler.kernel.Kernel;

import java.util.ArrayList;
import java.util.List;

/**
 * What a launch of a captured decode step waits on and counts, where the step runs with counter dependencies
 * ({@code RuntimeSettings.counterDependencies}, CUDA sm_90): instead of waiting for the whole grid before it to finish
 * and flush ({@code griddepcontrol.wait}), a launch's blocks wait until that launch has counted all its blocks
 * finished, each block adding one to a 32-bit word as it ends (CudaEmitter: {@code jmlc_after}, {@code jmlc_done}).
 * Each launch of a step has its own word in a buffer that the step zeroes as it starts.
 *
 * <p>Why it is safe: every launch of the chain waits before it reads what the ones before wrote, and counts only once
 * all its threads are past that wait and done, so a launch's count complete means every launch before it is complete
 * too. A launch runs only once every block of the one before has started (programmatic dependent launch), so a
 * spinning block never holds a multiprocessor that a block it waits for still needs.
 *
 * @param after       the word of the launch before, 0 for the grid's wait (the step's first launch, or one after a
 *                    launch that does not count)
 * @param afterBlocks the blocks of that launch (what its word reaches), 0 with no {@code after}
 * @param done        this launch's word, 0 where its kernel does not count its blocks ({@link Kernel#countsFinishedBlocks})
 */
public record CounterDependency(long after, int afterBlocks, long done) {
    /** The grid's wait and no count: every launch outside a counted step. */
    public static final CounterDependency NONE = new CounterDependency(0, 0, 0);

    public CounterDependency {
        if ((after == 0) != (afterBlocks == 0))
            throw new IllegalArgumentException("a counter dependency names the word and the blocks of the launch before together; found word " + after + ", " + afterBlocks + " blocks");
        if (afterBlocks < 0) throw new IllegalArgumentException("blocks of the launch before must be positive, found " + afterBlocks);
    }

    /** Bytes of the words a step of {@code launches} launches counts in. */
    public static long bytes(int launches) {
        return 4L * launches;
    }

    /**
     * The dependencies of a step's launches in order: {@code kernels[i]}, launched with {@code grids[i]}, counts in the
     * word at {@code words + 4 i} where its kernel counts its blocks, and waits on the word of launch {@code i - 1} where
     * both count.
     */
    public static List<CounterDependency> plan(List<Kernel> kernels, List<int[]> grids, long words) {
        if (kernels.size() != grids.size()) throw new IllegalArgumentException(kernels.size() + " kernels but " + grids.size() + " grids");
        List<CounterDependency> out = new ArrayList<>();
        for (int i = 0; i < kernels.size(); i++) {
            boolean counts = kernels.get(i).countsFinishedBlocks();
            boolean waits = counts && i > 0 && kernels.get(i - 1).countsFinishedBlocks();
            out.add(new CounterDependency(waits ? words + 4L * (i - 1) : 0, waits ? blocks(grids.get(i - 1)) : 0, counts ? words + 4L * i : 0));
        }
        return out;
    }

    private static int blocks(int[] grid) {
        return Math.multiplyExact(Math.multiplyExact(grid[0], grid[1]), grid[2]);
    }
}
