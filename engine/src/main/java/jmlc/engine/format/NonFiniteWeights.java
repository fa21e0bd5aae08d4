package jmlc.engine.format;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Optional;
import jmlc.engine.format.tensor.ExpectedTensors;
import jmlc.engine.format.tensor.Interrupts;
import jmlc.engine.format.tensor.TensorView;

/**
 * Finds the first tensor of a checkpoint, in the order the model uses them (embedding, layer 0,
 * layer 1, ..., final norm, head), that holds a NaN or an infinity: where non-finite logits come
 * from. Reads every value of plain float tensors and every block scale of Q4_0/Q8_0 ones (their
 * 4- and 8-bit integers are always finite), so it runs only once logits have gone bad.
 */
public final class NonFiniteWeights {
    private NonFiniteWeights() {}

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** {@link #describe} of the first such tensor, if any. */
    public static Optional<String> first(Checkpoint ck) {
        for (String name : ExpectedTensors.of(ck.config()).keySet()) {
            TensorView t = ck.tensors().get(name);
            if (t == null) continue;
            long i = firstNonFinite(t);
            if (i >= 0) return Optional.of(describe(ck, t, i));
        }
        return Optional.empty();
    }

    /** "tensor T (its name in the file) in FILE holds V at element I, in layer N". */
    public static String describe(Checkpoint ck, TensorView t, long element) {
        String name = t.name();
        String alias = ck.fileName(name).equals(name) ? "" : " (" + ck.fileName(name) + ")";
        return "tensor " + name + alias + " in " + t.file() + " holds " + t.getFloat(element) + " at element " + element + ", in " + where(name);
    }

    /** The first element that is not finite (for Q4_0/Q8_0: the first element of a block whose scale is not), or -1. */
    static long firstNonFinite(TensorView t) {
        MemorySegment d = t.data();
        long n = t.numel();
        return switch (t.dtype()) {
            case F32 -> scan(n, 1, i -> Float.isFinite(d.get(F32, 4 * i)));
            case F16 -> scan(n, 1, i -> Float.isFinite(Float.float16ToFloat(d.get(I16, 2 * i))));
            case BF16 -> scan(n, 1, i -> Float.isFinite(Float.intBitsToFloat(d.get(I16, 2 * i) << 16)));
            case Q4_0, Q8_0 -> scan(n / 32, 32, b -> Float.isFinite(Float.float16ToFloat(d.get(I16, b * t.dtype().blockBytes()))));
        };
    }

    private interface Finite {
        boolean at(long i);
    }

    private static long scan(long count, int elementsPer, Finite finite) {
        for (long i = 0; i < count; i++) {
            if ((i & 0xFFFFF) == 0) Interrupts.check(null, "looking for non-finite weights");
            if (!finite.at(i)) return i * elementsPer;
        }
        return -1;
    }

    /** Where in the model a tensor of this Hugging Face name sits. */
    static String where(String name) {
        if (name.startsWith("model.layers.")) return "layer " + name.substring("model.layers.".length(), name.indexOf('.', "model.layers.".length()));
        if (name.startsWith("model.embed_tokens")) return "the embedding";
        if (name.startsWith("model.norm")) return "the final norm";
        if (name.startsWith("lm_head")) return "the output head";
        return name;
    }
}
