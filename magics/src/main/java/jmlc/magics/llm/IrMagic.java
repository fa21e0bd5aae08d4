package jmlc.magics.llm;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.GraphPrinter;
import jmlc.compiler.pass.Pipeline;
import jmlc.magics.core.Html;
import jmlc.magics.core.Magic;
import jmlc.magics.core.MagicArgs;
import jmlc.magics.core.MagicContext;
import jmlc.magics.core.MagicException;
import jmlc.magics.core.MimeBundle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * {@code %ir}: the loaded model's pass pipeline, phase by phase (time, nodes, what changed in the op
 * counts); {@code %ir PHASE}: the graph after that phase, as text.
 */
public final class IrMagic implements Magic {

    @Command(name = "ir", description = {
            "Without PHASE: the pass pipeline the loaded model went through, one row per phase: its time, "
                    + "the graph's node count and how the op counts changed.",
            "With PHASE: the graph after that phase (GraphPrinter's text)."})
    static final class Args {
        @Parameters(arity = "0..1", paramLabel = "PHASE",
                description = "input, a pass name or its prefix (FuseAddRmsNorm, Fuse...), or final")
        String phase;

        @Option(names = "--grep", paramLabel = "REGEX", description = "only the lines in which REGEX is found (e.g. 'add\\(|norm\\(')")
        String grep;
    }

    @Override
    public String name() {
        return "ir";
    }

    @Override
    public String summary() {
        return "The compiler's pass pipeline for the loaded model; %ir PHASE shows the graph after a phase.";
    }

    @Override
    public String help() {
        return MagicArgs.usage(name(), new Args());
    }

    @Override
    public Object run(MagicContext ctx) {
        Args args = ctx.parse(new Args());
        Pipeline.Result pipeline = Llm.model(ctx.session()).model().compiled().pipeline();
        if (args.phase == null) {
            if (args.grep != null) throw new MagicException("%ir: --grep filters a phase's graph: name the phase, e.g. %ir final --grep " + args.grep);
            return phases(pipeline);
        }
        Pipeline.Phase phase = find(pipeline, args.phase);
        return graph(phase, args.grep);
    }

    static Pipeline.Phase find(Pipeline.Result pipeline, String name) {
        List<Pipeline.Phase> phases = pipeline.phases();
        if (name.equalsIgnoreCase("final") || name.equalsIgnoreCase("last")) return phases.getLast();
        for (Pipeline.Phase p : phases) if (p.name().equalsIgnoreCase(name)) return p;
        for (Pipeline.Phase p : phases) if (p.name().toLowerCase().startsWith(name.toLowerCase())) return p;
        throw new MagicException("%ir: no phase named '" + name + "': phases are "
                + String.join(", ", phases.stream().map(Pipeline.Phase::name).toList()) + " (or final)");
    }

    private static MimeBundle phases(Pipeline.Result pipeline) {
        var rows = new ArrayList<List<String>>();
        var text = new StringBuilder(String.format("%-28s %9s %6s  %s%n", "phase", "time", "nodes", "op counts"));
        Graph previous = null;
        for (Pipeline.Phase p : pipeline.phases()) {
            Graph g = p.graph();
            String time = previous == null ? "" : String.format("%.2f ms", p.nanos() / 1e6);
            String nodes = g.nodes().size() + (previous == null ? "" : " (" + signed(g.nodes().size() - previous.nodes().size()) + ")");
            String ops = previous == null ? counts(g.opCounts()) : delta(previous.opCounts(), g.opCounts());
            rows.add(List.of(p.name(), time, nodes, ops));
            text.append(String.format("%-28s %9s %6s  %s%n", p.name(), time, nodes, ops));
            previous = g;
        }
        String note = "The input row lists every op; later rows how a pass changed the counts. %ir PHASE shows a phase's graph.";
        return MimeBundle.html(Html.table(List.of("phase", "time", "nodes", "op counts (change)"), rows) + "<p>" + Html.escape(note) + "</p>")
                .withText(text.append(note).toString());
    }

    private static MimeBundle graph(Pipeline.Phase phase, String grep) {
        String ir = GraphPrinter.print(phase.graph());
        if (grep != null) {
            Pattern pattern;
            try {
                pattern = Pattern.compile(grep);
            } catch (PatternSyntaxException e) {
                throw new MagicException("%ir: --grep takes a regular expression: " + e.getDescription() + " in '" + grep + "'");
            }
            var kept = new StringBuilder();
            ir.lines().filter(l -> pattern.matcher(l).find()).forEach(l -> kept.append(l).append('\n'));
            ir = kept.isEmpty() ? "(no line matches '" + grep + "')\n" : kept.toString();
        }
        String title = "after " + phase.name() + ": " + phase.graph().nodes().size() + " nodes"
                + (grep == null ? "" : ", the lines matching '" + grep + "'");
        return MimeBundle.html("<b>" + Html.escape(title) + "</b><pre>" + Html.escape(ir) + "</pre>")
                .withText("// " + title + "\n" + ir);
    }

    private static String counts(Map<String, Integer> m) {
        var parts = new ArrayList<String>();
        m.forEach((op, n) -> parts.add(op + " " + n));
        return String.join(", ", parts);
    }

    /** {@code +add_rms_norm 8, -add 8, -rms_norm 8}: what the pass added and removed. */
    static String delta(Map<String, Integer> before, Map<String, Integer> after) {
        var all = new LinkedHashMap<String, Integer>();
        after.forEach((op, n) -> all.put(op, n - before.getOrDefault(op, 0)));
        before.forEach((op, n) -> all.putIfAbsent(op, -n));
        var plus = new ArrayList<String>();
        var minus = new ArrayList<String>();
        all.forEach((op, d) -> {
            if (d > 0) plus.add("+" + op + " " + d);
            if (d < 0) minus.add("-" + op + " " + (-d));
        });
        plus.addAll(minus);
        return plus.isEmpty() ? "no change" : String.join(", ", plus);
    }

    private static String signed(int n) {
        return n > 0 ? "+" + n : Integer.toString(n);
    }
}
