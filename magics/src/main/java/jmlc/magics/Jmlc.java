package jmlc.magics;

import jmlc.engine.api.ChatModule;
import jmlc.magics.llm.BenchHistory;
import jmlc.magics.llm.Llm;
import jmlc.magics.core.Output;
import jmlc.magics.core.Session;


/**
 * What magics and cell code share, reachable from both as statics: the {@link Session} (the loaded
 * model, the benchmark runs) and the {@link Output} of the cell now running. In a notebook:
 *
 * <pre>{@code
 * import jmlc.magics.*;                   // the kernel imports this for every cell
 * var cm = Jmlc.model();                  // the model %load loaded: a ChatModule
 * cm.benchmarkGenerate("Hi", 64); cm.stats()
 * Jmlc.session().put(Session.Key.of("answer", Integer.class), 42);
 * }</pre>
 *
 * One kernel process is one notebook, so one session per JVM is enough.
 */
public final class Jmlc {

    private static final Session SESSION = new Session();

    private Jmlc() {
    }

    /** The notebook's shared state. */
    public static Session session() {
        return SESSION;
    }

    /**
     * The model {@code %load} loaded, as the Java API's {@link ChatModule}: {@code chat},
     * {@code generate}, {@code benchmarkGenerate}, {@code stats}, {@code model()} (config, tokenizer,
     * compiled graph). {@code %load} and {@code %reload} keep this object and swap the model inside it.
     *
     * @throws MagicException when no model is loaded yet
     */
    public static ChatModule model() {
        return Llm.model(SESSION);
    }

    /** Every benchmark run of this notebook ({@code %bench} adds to it): shows as a table; {@code .chart()} draws them. */
    public static BenchHistory benchmarks() {
        return Llm.benchmarks(SESSION);
    }

    /** Where displays and streamed text go now: the running cell's output in a kernel. */
    public static Output output() {
        return Output.current();
    }

    /** Sets where output goes (the kernel does this once at start); returns the previous one. */
    public static Output setOutput(Output newOutput) {
        return Output.setCurrent(newOutput);
    }
}
