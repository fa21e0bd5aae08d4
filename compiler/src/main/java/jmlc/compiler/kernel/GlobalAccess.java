package jmlc.compiler.kernel;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * For {@link KernelSimulator}'s race watch: the writable global buffers' elements touched in one launch, by (block, warp, epoch): a
 * write's and the reads' since. Keyed by address, so buffers that alias are one memory.
 */
final class GlobalAccess {
    /** An access: block (-1: several), warp (-1: several of the block), barrier epoch. */
    record Who(int block, int warp, int epoch) {
        @Override
        public String toString() {
            return (block < 0 ? "several blocks" : "block " + block + (warp < 0 ? ", several warps" : ", warp " + warp)) + " (barrier epoch " + epoch + ")";
        }
    }

    private final Map<Long, Who> writes = new HashMap<>(), reads = new HashMap<>();

    /** Whether {@code a} and {@code b} may run in either order: other blocks, or other warps between the same barriers. */
    private boolean unordered(Who a, Who b) {
        return a.block() != b.block() || a.block() < 0 || (a.epoch() == b.epoch() && (a.warp() != b.warp() || a.warp() < 0));
    }

    /** The addresses written so far. */
    java.util.Set<Long> written() {
        return writes.keySet();
    }

    void read(Buffer buf, MemorySegment m, long off, Who who) {
        long at = m.address() + off;
        Who w = writes.get(at);
        if (w != null && unordered(w, who)) throw race(buf, off, "written by " + w + ", then read by " + who);
        Who r = reads.get(at);
        if (r == null) reads.put(at, who);
        else if (r.block() != who.block()) reads.put(at, new Who(-1, -1, who.epoch()));
        else if (r.warp() != who.warp() || r.epoch() != who.epoch()) reads.put(at, new Who(r.block(), r.warp() == who.warp() ? r.warp() : -1, who.epoch()));
    }

    void write(Buffer buf, MemorySegment m, long off, Who who) {
        long at = m.address() + off;
        Who w = writes.get(at);
        if (w != null && unordered(w, who)) throw race(buf, off, "written by " + w + " and by " + who);
        Who r = reads.get(at);
        if (r != null && unordered(r, who)) throw race(buf, off, "read by " + r + ", then written by " + who);
        writes.put(at, who);
    }

    private IllegalStateException race(Buffer buf, long off, String what) {
        return new IllegalStateException("race on " + buf.name() + " (byte " + off + "): " + what + ", unordered on a GPU");
    }
}
