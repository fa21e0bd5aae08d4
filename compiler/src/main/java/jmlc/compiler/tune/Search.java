package jmlc.compiler.tune;

import jmlc.compiler.schedule.KnobSpace;

import java.util.List;
import java.util.Map;

/**
 * How the tuner walks a task's knob space: it proposes candidates in batches and hears how each
 * measured. Candidates are whole knob maps, valid for the space (its constraints hold), each
 * proposed once. {@link #of} picks exhaustive search for small spaces, a seeded evolutionary one
 * for large ones.
 */
public interface Search {

    /** Up to {@code n} candidates not proposed before; empty when nothing is left to try. */
    List<Map<String, Integer>> next(int n);

    /** What a proposed candidate measured. */
    void observe(Measurement m);

    /** Every valid combination, in order, for a space of at most {@code exhaustiveUpTo}; else an evolutionary search seeded with {@code seed}. */
    static Search of(KnobSpace space, List<Map<String, Integer>> first, int exhaustiveUpTo, long seed) {
        List<Map<String, Integer>> all = space.combinations();
        return all.size() <= exhaustiveUpTo ? new ExhaustiveSearch(all, first) : new EvolutionarySearch(space, all, first, seed);
    }
}
