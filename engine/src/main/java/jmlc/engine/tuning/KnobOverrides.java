package jmlc.engine.tuning;

import jmlc.compiler.build.Build;
import jmlc.compiler.build.PersistentDecode;
import jmlc.compiler.build.ShortContextDecode;
import jmlc.compiler.schedule.KernelSignature;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.schedule.Tunable;
import jmlc.compiler.target.Target;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Knob values a user sets for one compile, over the tuning database's: {@code jmlc compile --knob} and
 * {@code %kernels}/{@code %source --knob}, to see what a choice does to the generated code. Each is
 * {@code SIGNATURE.KNOB=VALUE} with the signature as {@code knobs.txt} prints it, with or without its
 * {@code @target}: {@code decode_persistent.kernels=4}, {@code attention_decode_h32_kv32_d128_c4096_f16.wide=1}.
 * Unlike a database entry, a value a rule refuses is an error, and a signature the build has no kernel of
 * is a warning.
 */
public final class KnobOverrides {
    /** By signature key (with {@code @target} where one was given), knob name to value, in the order given. */
    private final Map<String, Map<String, Integer>> values;

    private KnobOverrides(Map<String, Map<String, Integer>> values) {
        this.values = values;
    }

    public static final KnobOverrides NONE = new KnobOverrides(Map.of());

    /** Parses {@code SIGNATURE.KNOB=VALUE} settings; a malformed one is an IllegalArgumentException saying what was expected. */
    public static KnobOverrides parse(List<String> settings) {
        Map<String, Map<String, Integer>> v = new LinkedHashMap<>();
        for (String s : settings) {
            int eq = s.indexOf('='), dot = eq < 0 ? -1 : s.lastIndexOf('.', eq);
            if (eq < 0 || dot <= 0 || dot == eq - 1 || eq == s.length() - 1)
                throw new IllegalArgumentException("--knob '" + s + "': expected SIGNATURE.KNOB=VALUE, e.g. decode_persistent.kernels=4 (jmlc compile --emit DIR lists the signatures and knobs in DIR/knobs.txt)");
            int value;
            try {
                value = Integer.parseInt(s.substring(eq + 1).strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--knob '" + s + "': a knob's value is a whole number, found '" + s.substring(eq + 1) + "'");
            }
            v.computeIfAbsent(s.substring(0, dot).strip(), k -> new LinkedHashMap<>()).put(s.substring(dot + 1, eq).strip(), value);
        }
        return new KnobOverrides(v);
    }

    public boolean isEmpty() {
        return values.isEmpty();
    }

    /** The settings for a compile for {@code target}, each for that target (so it wins over the database's entries for it). */
    Knobs forTarget(Target target) {
        Knobs k = Knobs.defaults();
        values.forEach((sig, knobs) -> {
            int at = sig.indexOf('@');
            if (at >= 0 && !sig.substring(at + 1).equals(target.toString()))
                throw new IllegalArgumentException("--knob " + sig + ": names the target " + sig.substring(at + 1) + ", but this compile is for " + target);
            k.put((at >= 0 ? sig.substring(0, at) : sig) + "@" + target, knobs);
        });
        return k;
    }

    /** Whether a setting names {@code signature}. */
    boolean names(KernelSignature signature) {
        return values.keySet().stream().anyMatch(s -> s.equals(signature.key()) || s.equals(signature.toString()));
    }

    /** Warns of each setting whose signature no kernel of {@code build} has (nothing read it), and says where they are listed. */
    void warnUnused(Build build, Consumer<String> warn) {
        Set<String> used = new HashSet<>();
        for (Program p : build.programs())
            for (Tunable t : p.tunables()) used.add(t.space().signature().key());
        ShortContextDecode.space(build.target(), build.decode().graph()).ifPresent(s -> {
            used.add(s.signature().key());
            used.add(ShortContextDecode.KIND); // an entry for every model
        });
        if (build.target().caps().gridBarrier()) used.add(PersistentDecode.space(build.target()).signature().key());
        if (build.target().caps().bulk()) used.add(jmlc.compiler.build.WeightPrefetch.space(build.target()).signature().key());
        for (String sig : values.keySet()) {
            String key = sig.contains("@") ? sig.substring(0, sig.indexOf('@')) : sig;
            if (!used.contains(key))
                warn.accept("--knob " + sig + ": this build has no kernel of that signature for " + build.target() + ", so it changes nothing (jmlc compile --emit DIR lists the signatures in DIR/knobs.txt)");
        }
    }
}
