package jmlc.compiler.pass;

import jmlc.compiler.ir.Bindings;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Value;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Static memory plan of a graph's intermediate values: each temp gets a slot, and slots are
 * reused once every reader of their previous value has run, so a 32-layer step needs a handful of
 * activation buffers rather than hundreds. Cache updates live in their state buffer, not a slot.
 * Sizes are for the largest step the runtime will run ({@code seq} bound to its maximum).
 *
 * @param slotOf    slot index of each planned temp
 * @param slotBytes size of each slot
 * @param naiveBytes bytes if every temp had its own buffer (what the plan saves)
 */
public record MemoryPlan(Map<Value, Integer> slotOf, List<Long> slotBytes, long naiveBytes) {

    public long totalBytes() {
        return slotBytes.stream().mapToLong(Long::longValue).sum();
    }

    public int slot(Value v) {
        Integer s = slotOf.get(v);
        if (s == null) throw new IllegalArgumentException(v + " has no slot in the memory plan");
        return s;
    }

    public static MemoryPlan plan(Graph g, Bindings max) {
        Map<Value, Integer> lastUse = new IdentityHashMap<>();
        List<Node> nodes = g.nodes();
        for (int i = 0; i < nodes.size(); i++) for (Value v : nodes.get(i).inputs()) lastUse.put(v, i);
        for (Value o : g.outputs()) lastUse.put(o, Integer.MAX_VALUE);

        Map<Value, Integer> slotOf = new IdentityHashMap<>();
        List<Long> sizes = new ArrayList<>();
        List<Integer> free = new ArrayList<>();
        long naive = 0;
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            for (Value o : n.outputs()) {
                if (g.stateUpdates().containsValue(o)) continue;
                long bytes = o.type().shape().numel(max) * Math.max(1, o.type().dtype().bits() / 8);
                naive += bytes;
                slotOf.put(o, take(free, sizes, bytes));
                if (!lastUse.containsKey(o)) free.add(slotOf.get(o)); // never read: its slot is free again at once
            }
            for (Value in : n.inputs()) {
                Integer s = slotOf.get(in);
                if (s != null && lastUse.get(in) == i && !free.contains(s)) free.add(s);
            }
        }
        return new MemoryPlan(Collections.unmodifiableMap(slotOf), List.copyOf(sizes), naive);
    }

    /** Best fit among free slots; else grow the largest free slot; else a new slot. */
    private static int take(List<Integer> free, List<Long> sizes, long bytes) {
        int best = -1;
        for (int s : free) if (sizes.get(s) >= bytes && (best < 0 || sizes.get(s) < sizes.get(best))) best = s;
        if (best < 0) for (int s : free) if (best < 0 || sizes.get(s) > sizes.get(best)) best = s;
        if (best < 0) {
            sizes.add(bytes);
            return sizes.size() - 1;
        }
        free.remove(Integer.valueOf(best));
        sizes.set(best, Math.max(sizes.get(best), bytes));
        return best;
    }
}
