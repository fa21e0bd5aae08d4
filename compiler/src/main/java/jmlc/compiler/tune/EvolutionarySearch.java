package jmlc.compiler.tune;

import jmlc.compiler.schedule.Knob;
import jmlc.compiler.schedule.KnobSpace;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A seeded evolutionary search over a large space. Each batch takes, in order: the given first
 * candidates (the defaults, the database's values); the untried neighbours of the fastest so far
 * (one knob moved to the next candidate value either way: knobs' effects are mostly smooth, so this
 * climbs quickly); children of the fastest few (a knob or two moved to a neighbouring value,
 * sometimes to any value, and pairs crossed knob by knob); then combinations drawn at random, so
 * given time the whole space is covered and a search is not stuck near the defaults. Invalid
 * combinations (the space's constraints) and ones already tried are pruned before measuring;
 * refused candidates never breed. Same seed, same measurements: same candidates.
 */
final class EvolutionarySearch implements Search {
    /** Parents: the fastest this many timed candidates. */
    static final int ELITE = 4;
    static final double CROSSOVER = 0.3, WILD_MUTATION = 0.25;

    private final KnobSpace space;
    private final List<Knob> knobs;
    private final Random random;
    private final List<Map<String, Integer>> unseen;
    private final Set<Map<String, Integer>> proposed = new HashSet<>();
    private final List<Measurement.Timed> timed = new ArrayList<>();
    private final List<Map<String, Integer>> first;

    EvolutionarySearch(KnobSpace space, List<Map<String, Integer>> all, List<Map<String, Integer>> first, long seed) {
        this.space = space;
        this.knobs = space.knobs();
        this.random = new Random(seed);
        this.unseen = new ArrayList<>(all);
        Collections.shuffle(unseen, random);
        this.first = new ArrayList<>(first);
    }

    @Override
    public List<Map<String, Integer>> next(int n) {
        List<Map<String, Integer>> out = new ArrayList<>();
        while (!first.isEmpty() && out.size() < n) offer(first.removeFirst(), out);
        timed.stream().min((a, b) -> Double.compare(a.ms(), b.ms())).ifPresent(best -> {
            for (Knob k : knobs) {
                List<Integer> values = k.candidates();
                int i = values.indexOf(best.knobs().get(k.name()));
                for (int j : new int[] {i - 1, i + 1}) {
                    if (i < 0 || j < 0 || j >= values.size() || out.size() >= n) continue;
                    Map<String, Integer> c = new LinkedHashMap<>(best.knobs());
                    c.put(k.name(), values.get(j));
                    offer(c, out);
                }
            }
        });
        List<Measurement.Timed> parents = timed.stream().sorted((a, b) -> Double.compare(a.ms(), b.ms())).limit(ELITE).toList();
        for (int attempts = 0; !parents.isEmpty() && out.size() < n && attempts < 40 * n; attempts++) {
            Map<String, Integer> child = new LinkedHashMap<>(pick(parents).knobs());
            if (parents.size() > 1 && random.nextDouble() < CROSSOVER) {
                Map<String, Integer> other = pick(parents).knobs();
                for (Knob k : knobs) if (random.nextBoolean()) child.put(k.name(), other.get(k.name()));
            }
            int moves = 1 + (random.nextDouble() < 0.3 ? 1 : 0);
            for (int m = 0; m < moves; m++) mutate(child);
            offer(child, out);
        }
        while (out.size() < n && !unseen.isEmpty()) offer(unseen.removeLast(), out);
        return out;
    }

    /** A parent, the faster more likely: rank r is picked with weight 1 / (r + 1). */
    private Measurement.Timed pick(List<Measurement.Timed> parents) {
        double total = 0;
        for (int r = 0; r < parents.size(); r++) total += 1.0 / (r + 1);
        double x = random.nextDouble() * total;
        for (int r = 0; r < parents.size(); r++) if ((x -= 1.0 / (r + 1)) <= 0) return parents.get(r);
        return parents.getLast();
    }

    /** Moves one knob to a neighbouring candidate value, or (sometimes) to any of its candidates. */
    private void mutate(Map<String, Integer> child) {
        Knob k = knobs.get(random.nextInt(knobs.size()));
        List<Integer> values = k.candidates();
        if (values.size() < 2) return;
        int i = Math.max(0, values.indexOf(child.get(k.name())));
        int j;
        if (random.nextDouble() < WILD_MUTATION) j = random.nextInt(values.size());
        else j = Math.clamp(i + (random.nextBoolean() ? 1 : -1), 0, values.size() - 1);
        child.put(k.name(), values.get(j));
    }

    private void offer(Map<String, Integer> c, List<Map<String, Integer>> out) {
        if (!space.valid(c) || !proposed.add(Map.copyOf(c))) return; // unseen keeps it, skipped when drawn
        out.add(Map.copyOf(c));
    }

    @Override
    public void observe(Measurement m) {
        if (m instanceof Measurement.Timed t) timed.add(t);
    }
}
