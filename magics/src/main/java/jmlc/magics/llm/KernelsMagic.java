package jmlc.magics.llm;

import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.target.Target;
import jmlc.engine.api.ChatModule;
import jmlc.magics.core.Html;
import jmlc.magics.core.Magic;
import jmlc.magics.core.MagicArgs;
import jmlc.magics.core.MagicContext;
import jmlc.magics.core.MimeBundle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** {@code %kernels [--target T] [--prefill]}: the kernels the schedule rules generate for the loaded model. */
public final class KernelsMagic implements Magic {

    @Command(name = "kernels", description = {
            "The GPU kernels generated for the loaded model's decode step (or prefill): one row per kernel with "
                    + "the schedule rule that made it, launches per step, threads per block, shared memory and knobs.",
            "%%source NAME shows one kernel's code."})
    static final class Args {
        @Option(names = "--target", paramLabel = "T",
                description = "cuda:sm_90, cuda:sm_80, rocm:gfx90a, rocm:gfx1030, vulkan, vulkan:sg64 ... (default: what the model's GPU runs, else cuda:sm_90)")
        String target;

        @Option(names = "--prefill", description = "the prefill program (many tokens per step) instead of decode (one token)")
        boolean prefill;

        @Option(names = "--knob", paramLabel = "SIG.KNOB=V",
                description = "set a knob for this compile, over the tuning database (repeatable): e.g. decode_persistent.kernels=4")
        java.util.List<String> knobs = new java.util.ArrayList<>();
    }

    @Override
    public String name() {
        return "kernels";
    }

    @Override
    public String summary() {
        return "The generated GPU kernels of the loaded model (decode, or --prefill) for a --target.";
    }

    @Override
    public String help() {
        return MagicArgs.usage(name(), new Args());
    }

    @Override
    public Object run(MagicContext ctx) {
        Args args = ctx.parse(new Args());
        ChatModule cm = Llm.model(ctx.session());
        Program program = Programs.build(cm.model(), args.target, args.knobs, ctx).program(!args.prefill);
        Target target = program.target();
        List<Programs.Entry> entries = Programs.entries(program);

        var rows = new ArrayList<List<String>>();
        var text = new StringBuilder();
        String title = (args.prefill ? "prefill (up to " + program.maxSeq() + " tokens)" : "decode (one token)") + " program of "
                + cm.model().spec() + " " + cm.model().quant().id() + " for " + target + ": " + entries.size() + " kernels, "
                + program.launches() + " launches per step";
        text.append(title).append('\n');
        for (Programs.Entry e : entries) {
            Kernel k = e.kernel();
            String knobs = knobs(k);
            rows.add(List.of(Integer.toString(e.number()), k.name(), e.rule(), Integer.toString(e.launches()),
                    Integer.toString(k.threadsPerBlock()), Integer.toString(k.sharedBytes()), knobs));
            text.append(String.format("%3d %-56s %-18s %3d launches %5d threads %6d B shared  %s%n",
                    e.number(), k.name(), e.rule(), e.launches(), k.threadsPerBlock(), k.sharedBytes(), knobs));
        }
        String note = "%source NAME (or its number) --target " + target + " shows a kernel's code.";
        return MimeBundle.html("<b>" + Html.escape(title) + "</b>"
                        + Html.table(List.of("#", "kernel", "rule", "launches", "threads", "shared bytes", "knobs"), rows)
                        + "<p>" + Html.escape(note) + "</p>")
                .withText(text.append(note).toString());
    }

    static String knobs(Kernel k) {
        return new TreeMap<>(k.knobs()).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
    }
}
