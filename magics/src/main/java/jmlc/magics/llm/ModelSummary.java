package jmlc.magics.llm;

import jmlc.compiler.model.ModelConfig;
import jmlc.engine.api.ChatModule;
import jmlc.engine.api.LoadedModel;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.magics.core.Html;
import jmlc.magics.core.MimeBundle;

import java.util.ArrayList;
import java.util.Map;

/** What {@code %load} shows once a model is loaded: the model, its config, quantization, device, weights and chat template. */
final class ModelSummary {

    private ModelSummary() {
    }

    static MimeBundle of(ChatModule cm, double seconds) {
        LoadedModel m = cm.model();
        ModelConfig c = m.config();
        DeviceInfo d = m.runner().device();
        var rows = new ArrayList<Map.Entry<String, String>>();
        rows.add(Map.entry("model", m.spec()));
        rows.add(Map.entry("architecture", c.architecture().name().toLowerCase() + ": " + c.numLayers() + " layers, hidden "
                + c.hiddenSize() + ", MLP " + c.intermediateSize() + ", " + c.numHeads() + " heads (" + c.numKvHeads()
                + " kv) of " + c.headDim() + ", vocabulary " + c.vocabSize()));
        rows.add(Map.entry("context", m.compiled().maxContext() + " tokens (the model's window: " + c.maxPositions() + ")"));
        var states = m.compiled().graph().states();
        long kvBytes = states.stream().mapToLong(jmlc.compiler.schedule.BufferLayout::stateBytes).sum();
        rows.add(Map.entry("KV cache", (states.isEmpty() ? "none" : states.getFirst().type().dtype() + ", " + bytes(kvBytes))));
        rows.add(Map.entry("quantization", m.quant().id()));
        rows.add(Map.entry("device", d.id() + " (" + d.name() + ")"));
        rows.add(Map.entry("weights", bytes(m.runner().weightBytes()) + " read per decode step"));
        rows.add(Map.entry("chat template", m.template().name() + ": " + m.templateReason()));
        var disabled = cm.options().disabledPasses();
        rows.add(Map.entry("passes", m.compiled().pipeline().phases().size() - 1 + " run"
                + (disabled.isEmpty() ? "" : ", disabled: " + String.join(", ", disabled.stream().sorted().toList()))
                + " (%ir shows them)"));
        rows.add(Map.entry("loaded in", String.format("%.2f s", seconds)));

        var text = new StringBuilder("Loaded " + m.spec() + "\n");
        var html = new StringBuilder("<table class=\"jmlc-model\">");
        for (var r : rows) {
            text.append(String.format("  %-14s %s%n", r.getKey(), r.getValue()));
            html.append("<tr><th style=\"text-align:left\">").append(Html.escape(r.getKey()))
                    .append("</th><td style=\"text-align:left\">").append(Html.escape(r.getValue())).append("</td></tr>");
        }
        html.append("</table><p>Chat with <code>%%chat</code>; from Java: <code>Jmlc.model()</code>.</p>");
        return MimeBundle.html(html.toString()).withText(text.toString().stripTrailing());
    }

    /** 1.5 KiB, 10.4 MiB, 3.85 GiB */
    static String bytes(long n) {
        if (n < 1024) return n + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(v >= 100 ? "%.0f %s" : v >= 10 ? "%.1f %s" : "%.2f %s", v, units[u]);
    }
}
