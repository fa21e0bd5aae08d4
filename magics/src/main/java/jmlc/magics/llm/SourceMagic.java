package jmlc.magics.llm;

import jmlc.compiler.build.Build;
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
import picocli.CommandLine.Parameters;

/** {@code %source KERNEL [--target T] [--prefill]}: one generated kernel's CUDA, HIP or GLSL source. */
public final class SourceMagic implements Magic {

    @Command(name = "source", description = "One generated kernel's self-contained source (CUDA C, HIP C or GLSL compute), syntax-highlighted.")
    static final class Args {
        @Parameters(paramLabel = "KERNEL", description = "the kernel's name, its number in %%kernels, or a unique part of its name (e.g. 256x256_res)")
        String kernel;

        @Option(names = "--target", paramLabel = "T",
                description = "cuda:sm_90, rocm:gfx90a, vulkan ... (default: what the model's GPU runs, else cuda:sm_90)")
        String target;

        @Option(names = "--prefill", description = "a kernel of the prefill program instead of decode")
        boolean prefill;

        @Option(names = "--knob", paramLabel = "SIG.KNOB=V",
                description = "set a knob for this compile, over the tuning database (repeatable): e.g. decode_persistent.kernels=4")
        java.util.List<String> knobs = new java.util.ArrayList<>();
    }

    @Override
    public String name() {
        return "source";
    }

    @Override
    public String summary() {
        return "One generated kernel's CUDA, HIP or GLSL source: %source NAME [--target rocm:gfx90a]";
    }

    @Override
    public String help() {
        return MagicArgs.usage(name(), new Args());
    }

    @Override
    public Object run(MagicContext ctx) {
        Args args = ctx.parse(new Args());
        ChatModule cm = Llm.model(ctx.session());
        Build build = Programs.build(cm.model(), args.target, args.knobs, ctx);
        Program program = build.program(!args.prefill);
        Target target = build.target();
        Programs.Entry entry = Programs.find(Programs.entries(program), args.kernel, name());
        String source = build.source(entry.kernel().name());
        String title = entry.kernel().name() + "." + build.codegen().fileExtension() + " (" + target + ", rule " + entry.rule() + ")";
        return MimeBundle.html("<b>" + Html.escape(title) + "</b>" + CHighlighter.html(source))
                .withText("// " + title + "\n" + source);
    }
}
