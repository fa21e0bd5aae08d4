package jmlc.magics.llm;

import jmlc.compiler.quant.QuantMode;
import jmlc.engine.api.LoadOptions;
import jmlc.engine.chat.ChatTemplates;
import jmlc.magics.core.Magic;
import jmlc.magics.core.MagicArgs;
import jmlc.magics.core.MagicContext;
import jmlc.magics.core.MagicException;
import jmlc.magics.core.Session;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.LinkedHashSet;
import java.util.List;

/**
 * {@code %load MODEL [--quant Q] [--device D] [--max-context N] [--kv-cache T] [--disable-pass NAME]... [--template NAME]}:
 * loads, quantizes and compiles a model with a live progress display, then shows a summary. The model
 * replaces the previous one; cells reach it as {@code Jmlc.model()}.
 */
public final class LoadMagic implements Magic {

    /** The options {@code %load} and {@code %reload} share; null where not given. */
    static class Options {
        @Option(names = "--quant", paramLabel = "MODE",
                description = "weight quantization: q4f16_1, q4f32_1, q8f16, q4_0, q0f16, q0f32 (default: the model's own; q4f16_1 for synthetic and Hugging Face models)")
        String quant;

        @Option(names = "--device", paramLabel = "ID",
                description = "cpu, cpu:ref, cuda:0, rocm:0, vulkan:0 ... (default: the one %%device chose, else auto: the first found)")
        String device;

        @Option(names = "--max-context", paramLabel = "N",
                description = "KV cache length in tokens (default: the model's window, at most 4096)")
        Integer maxContext;

        @Option(names = "--kv-cache", paramLabel = "T",
                description = "KV cache type: f16, f32, or i8 (a byte a value and a scale per 32: half the memory of f16; default: f16, f32 for q*f32)")
        String kvCache;

        @Option(names = "--disable-pass", paramLabel = "PASS",
                description = "switch a compiler pass off, e.g. FuseAddRmsNorm (repeatable; %%ir lists them; 'none' clears the list)")
        List<String> disabledPasses;

        @Option(names = "--template", paramLabel = "NAME",
                description = "chat template: llama2, llama3, chatml or mistral (default: detected from the tokenizer)")
        String template;

        /** {@code base} with the options given here replacing its values. */
        LoadOptions over(LoadOptions base, String magic) {
            LoadOptions o = base;
            if (maxContext != null && maxContext <= 0)
                throw new MagicException("%" + magic + ": --max-context must be a positive number of positions, found " + maxContext
                        + " (leave it out for the model's window, at most 4096)");
            try {
                if (quant != null) o = o.quant(QuantMode.parse(quant));
                if (device != null) o = o.device(device);
                if (maxContext != null) o = o.maxContext(maxContext);
                if (kvCache != null) o = o.kvCache(kvCache);
            } catch (IllegalArgumentException e) {
                throw new MagicException("%" + magic + ": " + e.getMessage());
            }
            if (disabledPasses != null) {
                var names = new LinkedHashSet<String>();
                for (String p : disabledPasses) if (!p.equalsIgnoreCase("none")) names.add(p);
                o = o.disabledPasses(names);
            }
            if (template != null) {
                if (!ChatTemplates.NAMES.contains(template.toLowerCase()))
                    throw new MagicException("%" + magic + ": unknown chat template '" + template + "': expected one of " + String.join(", ", ChatTemplates.NAMES));
                o = o.chatTemplate(template.toLowerCase());
            }
            return o;
        }
    }

    @Command(name = "load", description = {
            "Loads a model for the device: reads or makes its weights, quantizes them, compiles the graph, "
                    + "and shows a summary. The model replaces the one loaded before (which stays if this load fails).",
            "Java cells reach it as Jmlc.model() (a ChatModule)."})
    static final class Args extends Options {
        @Parameters(paramLabel = "MODEL",
                description = "synthetic:NAME (real shapes, random weights: synthetic:tiny, synthetic:llama-2-7b ...), "
                        + "a Hugging Face model directory, or a .gguf file")
        String model;
    }

    @Override
    public String name() {
        return "load";
    }

    @Override
    public String summary() {
        return "Load, quantize and compile a model: %load synthetic:tiny [--quant q4f16_1] [--device cpu] ...";
    }

    @Override
    public String help() {
        return MagicArgs.usage(name(), new Args());
    }

    @Override
    public Object run(MagicContext ctx) throws Exception {
        Args args = ctx.parse(new Args());
        LoadOptions options = args.over(defaults(ctx.session()), name());
        return Loading.load(ctx, args.model, options);
    }

    /** A fresh load's options: the defaults, on the device {@code %device} chose. */
    static LoadOptions defaults(Session session) {
        return LoadOptions.defaults().device(Llm.device(session));
    }
}
