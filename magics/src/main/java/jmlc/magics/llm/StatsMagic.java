package jmlc.magics.llm;

import jmlc.engine.generate.GenerationStats;
import jmlc.magics.core.Html;
import jmlc.magics.core.Magic;
import jmlc.magics.core.MagicArgs;
import jmlc.magics.core.MagicContext;
import jmlc.magics.core.MimeBundle;
import picocli.CommandLine.Command;

import java.util.List;

/** {@code %stats}: the prefill and decode speed of the last request (a chat reply, a generation, a benchmark). */
public final class StatsMagic implements Magic {

    @Command(name = "stats", description = "The prefill and decode speed of the model's last request. From Java: Jmlc.model().stats().")
    static final class Args {
    }

    @Override
    public String name() {
        return "stats";
    }

    @Override
    public String summary() {
        return "Prefill and decode tok/s of the last request (chat, generate or bench).";
    }

    @Override
    public String help() {
        return MagicArgs.usage(name(), new Args());
    }

    @Override
    public Object run(MagicContext ctx) {
        ctx.parse(new Args());
        var cm = Llm.model(ctx.session());
        GenerationStats s = cm.stats();
        if (s.prefillTokens() == 0 && s.decodeTokens() == 0) return MimeBundle.text("No request yet since the model was loaded.");
        var rows = List.of(
                List.of("prefill", Integer.toString(s.prefillTokens()), ms(s.prefillNanos()), String.format("%.1f", s.prefillTokensPerSecond())),
                List.of("decode", Integer.toString(s.decodeTokens()), ms(s.decodeNanos()), String.format("%.1f", s.decodeTokensPerSecond())));
        String device = cm.model().spec() + " " + cm.model().quant().id() + " on " + cm.model().runner().device().id();
        return MimeBundle.html("<b>" + Html.escape(device) + "</b>" + Html.table(List.of("phase", "tokens", "time", "tok/s"), rows))
                .withText(device + ": " + s);
    }

    private static String ms(long nanos) {
        return String.format("%.1f ms", nanos / 1e6);
    }
}
