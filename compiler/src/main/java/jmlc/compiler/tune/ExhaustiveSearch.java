package jmlc.compiler.tune;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/** Every valid combination of a small space, the given first ones (the defaults, the database's values) first. */
final class ExhaustiveSearch implements Search {
    private final List<Map<String, Integer>> order;
    private int next;

    ExhaustiveSearch(List<Map<String, Integer>> all, List<Map<String, Integer>> first) {
        LinkedHashSet<Map<String, Integer>> o = new LinkedHashSet<>();
        for (Map<String, Integer> f : first) if (all.contains(f)) o.add(f);
        o.addAll(all);
        this.order = new ArrayList<>(o);
    }

    @Override
    public List<Map<String, Integer>> next(int n) {
        List<Map<String, Integer>> out = order.subList(next, Math.min(order.size(), next + n));
        next += out.size();
        return List.copyOf(out);
    }

    @Override
    public void observe(Measurement m) {
    }
}
