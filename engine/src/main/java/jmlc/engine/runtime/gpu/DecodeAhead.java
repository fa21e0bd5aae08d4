package jmlc.engine.runtime.gpu;

import jmlc.compiler.quant.GroupQuantizer;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.OptionalInt;

/**
 * Greedy decode steps queued before the host asks for them, so the device never waits on the
 * host between tokens. A captured greedy step reads the token and position the previous step
 * left on the device and leaves its own choice there (the {@code advance} kernel), so step
 * {@code p + 1} can be queued before the host has read step {@code p}'s token. Each queued step
 * copies its token into its own pinned slot and records an event; the host waits on the oldest.
 *
 * <p>With {@code depth} steps in flight, while the host handles one token the device computes the
 * next. A request that is not the next greedy step of the same sequence discards the queue
 * first: it waits for the queued steps to finish and forgets them. The KV-cache positions they
 * wrote lie past the sequence's end and are written again before anything reads them.
 */
final class DecodeAhead implements AutoCloseable {
    /** A queued step: it feeds position {@code pos}; its token lands in {@code result} when {@code done} is reached. */
    private record Slot(MemorySegment result, GpuDevice.Event done) {}

    private record InFlight(int pos, Slot slot) {}

    private final GpuDevice dev;
    /** The captured greedy step for a position (a runner may capture one program for short contexts, another beyond). */
    private final java.util.function.IntFunction<GpuDevice.Captured> greedyStepAt;
    private final long sampleOut;
    private final ArrayDeque<Slot> free = new ArrayDeque<>();
    private final ArrayDeque<InFlight> queued = new ArrayDeque<>();
    /** The token the host was last given: what the oldest queued step was fed. */
    private int lastToken = -1;
    /** No step is queued past this position (the caller's token budget and the cache's end). */
    private int limit = -1;

    DecodeAhead(GpuDevice dev, java.util.function.IntFunction<GpuDevice.Captured> greedyStepAt, long sampleOut, int depth) {
        this.dev = dev;
        this.greedyStepAt = greedyStepAt;
        this.sampleOut = sampleOut;
        MemorySegment results = dev.pinned(4L * Math.max(1, depth));
        for (int i = 0; i < depth; i++) free.add(new Slot(results.asSlice(4L * i, 4), dev.event()));
    }

    /**
     * After the host got {@code token} from the step at {@code pos - 1}, with the device left
     * chained (its token and position are that step's): queues steps from {@code pos} on, none
     * past {@code lastPos} (until the next {@link #discard}).
     */
    void start(int token, int pos, int lastPos) {
        discard();
        lastToken = token;
        limit = lastPos;
        fill(pos);
    }

    /**
     * The token of the greedy step feeding {@code token} at {@code pos}, when that step is the
     * oldest queued (waits for it), and queues one more; empty when it is not queued.
     */
    OptionalInt take(int token, int pos) {
        InFlight head = queued.peekFirst();
        if (head == null || head.pos() != pos || token != lastToken) return OptionalInt.empty();
        queued.removeFirst();
        head.slot().done().synchronize();
        int next = head.slot().result().get(GroupQuantizer.U32, 0);
        free.addLast(head.slot());
        lastToken = next;
        fill(queued.isEmpty() ? pos + 1 : queued.peekLast().pos() + 1);
        return OptionalInt.of(next);
    }

    private void fill(int pos) {
        for (int p = pos; !free.isEmpty() && p <= limit; p++) {
            Slot s = free.removeFirst();
            greedyStepAt.apply(p).replay();
            dev.downloadAsync(s.result(), sampleOut, 4);
            s.done().record();
            queued.addLast(new InFlight(p, s));
        }
    }

    /** True while steps are queued: the device's token and position are then the last one's, unknown to the host. */
    boolean active() {
        return !queued.isEmpty();
    }

    /** Lets the queued steps finish and forgets them. */
    void discard() {
        if (queued.isEmpty()) return;
        queued.peekLast().slot().done().synchronize();
        queued.forEach(q -> free.addLast(q.slot()));
        queued.clear();
        limit = -1;
    }

    @Override
    public void close() {
        discard();
        free.forEach(s -> s.done().close());
        free.clear();
    }
}
