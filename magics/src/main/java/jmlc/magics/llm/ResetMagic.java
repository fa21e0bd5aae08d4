package jmlc.magics.llm;

import jmlc.magics.core.Magic;
import jmlc.magics.core.MagicArgs;
import jmlc.magics.core.MagicContext;
import picocli.CommandLine.Command;

/** {@code %reset}: forgets the conversation (the same as {@code %chat reset}); the model stays loaded. */
public final class ResetMagic implements Magic {

    @Command(name = "reset", description = "Starts a new conversation; the model, its settings and the benchmark runs stay.")
    static final class Args {
    }

    @Override
    public String name() {
        return "reset";
    }

    @Override
    public String summary() {
        return "Start a new conversation (the model stays loaded).";
    }

    @Override
    public String help() {
        return MagicArgs.usage(name(), new Args());
    }

    @Override
    public Object run(MagicContext ctx) {
        ctx.parse(new Args());
        Llm.model(ctx.session()).resetChat();
        ctx.println("The conversation starts over.");
        return null;
    }
}
