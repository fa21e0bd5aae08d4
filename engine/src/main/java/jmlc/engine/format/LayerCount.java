package jmlc.engine.format;

import java.util.BitSet;
import java.util.Collection;
import jmlc.engine.format.tensor.ModelFormatException;

/**
 * The number of layers a checkpoint holds tensors for, checked against the number its config
 * claims before anything is built per claimed layer: a config is a few bytes anyone can edit, and
 * a claim of 2^31-1 layers would otherwise build a graph of that many layers before the first
 * missing tensor is noticed.
 */
final class LayerCount {
    private LayerCount() {}

    private static final String PREFIX = "model.layers.";

    /** Distinct N of the tensors named {@code model.layers.N.*} (Hugging Face names). */
    static int present(Collection<String> hfNames) {
        BitSet layers = new BitSet();
        for (String name : hfNames) {
            if (!name.startsWith(PREFIX)) continue;
            int end = name.indexOf('.', PREFIX.length());
            if (end <= PREFIX.length() || end - PREFIX.length() > 9) continue; // not a layer index below 10^9
            String digits = name.substring(PREFIX.length(), end);
            if (digits.chars().allMatch(Character::isDigit)) layers.set(Integer.parseInt(digits));
        }
        return layers.cardinality();
    }

    /**
     * Fails unless the config's layer count equals the layers the file holds tensors for.
     *
     * @param key where the count comes from, for the message ({@code config.json num_hidden_layers}, {@code llama.block_count})
     */
    static void check(Checkpoint ck, String key) {
        int claimed = ck.config().numLayers(), found = present(ck.tensors().keySet());
        if (claimed == found) return;
        throw new ModelFormatException(ck.path(), key + " says the model has " + claimed + " layers, but the file holds tensors for " + found
                + " layers" + (claimed > found ? " (the count is corrupt, or the file is cut short)" : " (the count is corrupt, or the file is of another model)"));
    }
}
