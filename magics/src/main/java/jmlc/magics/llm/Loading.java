package jmlc.magics.llm;

import jmlc.engine.api.ChatModule;
import jmlc.engine.api.LoadOptions;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.generate.ContextWindowException;
import jmlc.magics.core.MagicContext;
import jmlc.magics.core.MagicException;
import jmlc.magics.core.MimeBundle;

import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Loading for {@code %load} and {@code %reload}: the new model loads while the old one stays; once it
 * is ready, it replaces the old one (which is closed) in the session. Any failure leaves the session
 * as it was and becomes one message naming what is wrong.
 */
final class Loading {

    private Loading() {
    }

    static MimeBundle load(MagicContext ctx, String spec, LoadOptions options) throws Exception {
        var progress = new LoadProgress(ctx.output(), "Loading " + spec + " (" + describe(options) + ")");
        Optional<ChatModule> current = ctx.session().get(Llm.MODEL);
        long t0 = System.nanoTime();
        var loaded = new AtomicReference<ChatModule>(); // set once the load is complete
        ChatModule cm;
        try {
            cm = Background.run("jmlc-load", () -> {
                if (current.isPresent()) {
                    current.get().reload(spec, options, progress); // closes the old model once the new one is ready
                    loaded.set(current.get());
                } else {
                    loaded.set(ChatModule.load(spec, options, progress));
                }
                return loaded.get();
            }, progress::cancel);
        } catch (InterruptedException e) {
            if (loaded.get() == null) {
                progress.finish("interrupted" + (current.isPresent() ? ": the previous model stays loaded" : ""));
                throw e;
            }
            cm = loaded.get(); // the stop came as the load completed: keep what it loaded
        } catch (RuntimeException | OutOfMemoryError e) {
            progress.finish("failed");
            throw error(ctx.name(), spec, e, current.isPresent());
        }
        progress.finish("loaded");
        Llm.chatSettings(ctx.session()).applyTo(cm);
        ctx.session().put(Llm.MODEL, cm);
        ctx.session().put(Llm.LAST_LOAD, new Llm.LoadRequest(spec, options));
        return ModelSummary.of(cm, (System.nanoTime() - t0) / 1e9);
    }

    /** What the user can fix becomes a {@link MagicException}; anything else is a bug and keeps its stack trace. */
    static RuntimeException error(String magic, String spec, Throwable e, boolean previousStays) {
        String stays = previousStays ? "\nThe previously loaded model stays loaded." : "";
        String prefix = "%" + magic + ": cannot load " + spec + ": ";
        if (e instanceof ModelFormatException || e instanceof IllegalArgumentException || e instanceof ContextWindowException
                || e instanceof UncheckedIOException || e instanceof IllegalStateException) {
            return new MagicException(prefix + e.getMessage() + stays, e);
        }
        if (e instanceof OutOfMemoryError) {
            return new MagicException("%" + magic + ": out of memory loading " + spec + ": try a smaller model, a 4-bit --quant,"
                    + " a smaller --max-context, or a larger -Xmx for the kernel" + stays, e);
        }
        return e instanceof RuntimeException r ? r : new IllegalStateException(e);
    }

    /** {@code device auto, quant q4f16_1, ...}: the options that differ from the defaults. */
    static String describe(LoadOptions o) {
        var sb = new StringBuilder("device ").append(o.device());
        sb.append(", quant ").append(o.quant() == null ? "the model's own" : o.quant().id());
        if (o.maxContext() > 0) sb.append(", max context ").append(o.maxContext());
        if (o.kvCache() != null) sb.append(", KV cache ").append(o.kvCache());
        if (!o.disabledPasses().isEmpty()) sb.append(", without ").append(String.join(", ", o.disabledPasses().stream().sorted().toList()));
        if (o.chatTemplate() != null) sb.append(", template ").append(o.chatTemplate());
        return sb.toString();
    }
}
