package jmlc.engine.tokenizer;

import java.util.concurrent.CancellationException;

/**
 * Ends long tokenizer loops (a long prompt's BPE merges, a large vocabulary being read) when their
 * thread is interrupted: the notebook's stop button interrupts the thread of the cell or of the
 * magic's work. The interrupt stays set, for the caller to see.
 */
final class Interruption {
    private Interruption() {}

    /** Loops call this every this many iterations (a few microseconds of work). */
    static final int EVERY = 4096;

    static void check(String doing) {
        if (Thread.currentThread().isInterrupted()) throw new CancellationException(doing + " was interrupted");
    }
}
