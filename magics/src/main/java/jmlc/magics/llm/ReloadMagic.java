package jmlc.magics.llm;

import jmlc.magics.core.Magic;
import jmlc.magics.core.MagicArgs;
import jmlc.magics.core.MagicContext;
import jmlc.magics.core.MagicException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code %reload [MODEL] [options]}: loads again with the last {@code %load}'s options, changed where given. */
public final class ReloadMagic implements Magic {

    @Command(name = "reload", description = {
            "Loads again: the last %%load's model and options, with the ones given here instead.",
            "E.g. %%reload --device cpu:ref, %%reload --quant q0f32, %%reload --disable-pass none."})
    static final class Args extends LoadMagic.Options {
        @Parameters(arity = "0..1", paramLabel = "MODEL", description = "another model (default: the last one loaded)")
        String model;
    }

    @Override
    public String name() {
        return "reload";
    }

    @Override
    public String summary() {
        return "Load again with the last %load's options, changing those given: %reload --quant q0f32";
    }

    @Override
    public String help() {
        return MagicArgs.usage(name(), new Args());
    }

    @Override
    public Object run(MagicContext ctx) throws Exception {
        Args args = ctx.parse(new Args());
        Llm.LoadRequest last = ctx.session().get(Llm.LAST_LOAD).orElseThrow(() -> new MagicException(
                "%reload: nothing was loaded yet: run %load MODEL first (e.g. %load synthetic:tiny)"));
        String spec = args.model != null ? args.model : last.spec();
        return Loading.load(ctx, spec, args.over(last.options(), name()));
    }
}
