package jmlc.magics.llm;

import jmlc.magics.core.Cell;
import jmlc.magics.Jmlc;
import jmlc.magics.core.MagicException;
import jmlc.magics.core.MagicRegistry;
import jmlc.magics.Magics;
import jmlc.magics.core.MimeBundle;
import jmlc.magics.core.Output;
import jmlc.magics.core.RecordingOutput;
import jmlc.magics.core.Session;
import jmlc.magics.core.Shell;

import java.util.List;

/**
 * The LLM magics on a CUDA GPU, as a notebook runs them, their text printed: %device lists cuda:0
 * first, %load lands there, %kernels shows what the GPU runner launches, %%chat streams and stops
 * on an interrupt, a bad device is one error, %reload moves the model back to the CPU. Not a unit
 * test (it needs a GPU). From the project root after a build, pack it with the jars it needs
 * (not Tablesaw's and XChart's: the whole jupyter/target/lib and a runtime exceed 64 MiB; about 50 MiB this way):
 *
 * <pre>
 * javac -d /tmp/gmc -cp "jupyter/target/lib/*" magics/src/test/java/jmlc/magics/llm/GpuMagicsCheck.java
 * mkdir -p /tmp/gmlib && jar cf /tmp/gmlib/gpu-magics-check.jar -C /tmp/gmc . && cp jupyter/target/lib/{jmlc-,picocli-,javacpp-,cuda-,jackson-,slf4j-}*.jar /tmp/gmlib
 * ../shared/device/pack.sh /tmp/gmlib             # then, on the GPU host:
 * source .device/setup.sh && java -Djava.awt.headless=true -cp ".device/lib/*" jmlc.magics.llm.GpuMagicsCheck
 * </pre>
 */
public class GpuMagicsCheck {
    static final MagicRegistry reg = Magics.registry();
    static final Session session = Jmlc.session();
    static final Shell shell = new Shell() {
        public Object run(String c) { return null; }
        public List<String> classpath() { return List.of(); }
        public void addToClasspath(String p) {}
    };
    static int failures = 0;

    static Object cell(String text) {
        System.out.println("\n===== " + text.replace("\n", " | "));
        long t0 = System.nanoTime();
        try {
            Object r = null;
            for (var part : Cell.parse(text)) r = reg.run(part, session, Output.SYSTEM, shell);
            if (r != null) System.out.println(MimeBundle.from(r).text());
            System.out.printf("[%.2f s]%n", (System.nanoTime() - t0) / 1e9);
            return r;
        } catch (Throwable e) {
            System.out.println("ERROR " + e);
            return e;
        }
    }

    static void check(String what, boolean ok) {
        System.out.println((ok ? "ok   " : "FAIL ") + what);
        if (!ok) failures++;
    }

    public static void main(String[] a) throws Exception {
        var devices = (MimeBundle) cell("%device");
        check("%device lists cuda:0 first", devices.text().startsWith("* cuda:0"));
        var summary = cell("%load synthetic:tiny --max-context 2048");
        check("%load (auto) lands on cuda:0", summary instanceof MimeBundle b && b.text().contains("device         cuda:0"));
        var kernels = (MimeBundle) cell("%kernels");
        check("%kernels shows the runner's program for sm_90", kernels.text().contains("for cuda:sm_90:"));
        cell("%source 2");
        cell("%chat --temperature 0 --max-tokens 32");
        cell("%%chat\nHello there!");
        check("a reply in the conversation", Jmlc.model().conversation().size() == 2);
        cell("%stats");
        var bad = cell("%load synthetic:tiny --device cuda:7");
        check("a bad device is one clear error", bad instanceof MagicException e && e.getMessage().contains("no device 'cuda:7' here"));
        check("the model stays on cuda:0", Jmlc.model().model().runner().device().id().equals("cuda:0"));

        // the stop button during a reply
        // (the tiny model decodes its 2048-token window in about half a second here: stop at the first streamed text)
        var error = new Object[1];
        var streamed = new RecordingOutput();
        Thread t = new Thread(() -> {
            try {
                for (var part : Cell.parse("%%chat --max-tokens 100000\nA long story, please.")) reg.run(part, session, streamed, shell);
            } catch (Throwable e) { error[0] = e; }
        });
        Jmlc.model().resetChat();
        t.start();
        for (int i = 0; i < 30_000 && streamed.events().isEmpty() && t.isAlive(); i++) Thread.sleep(1);
        t.interrupt();
        t.join(30_000);
        check("the interrupt stops the reply (" + error[0] + ")", !t.isAlive() && error[0] instanceof InterruptedException);
        check("the conversation keeps it", Jmlc.model().conversation().size() == 2);
        System.out.println("decoded before the stop: " + Jmlc.model().stats());

        var run = BenchRun.measure(Jmlc.model(), "Hi", 128);
        System.out.println("synthetic:tiny on cuda:0, 128 tokens: " + run);
        check("decode tok/s > 0", run.decodeTokensPerSecond() > 0);

        cell("%load synthetic:llama-2-7b --quant q4f16_1 --max-context 1024");
        cell("%kernels");
        Jmlc.model().benchmarkGenerate("Hi", 32);
        var big = BenchRun.measure(Jmlc.model(), "Hi", 256);
        System.out.println("synthetic:llama-2-7b q4f16_1 on cuda:0, 256 tokens: " + big);
        cell("%stats");
        cell("%reload --device cpu:ref --quant q0f32 --max-context 64");
        check("%reload moves the model to the CPU", Jmlc.model().model().runner().device().id().equals("cpu:ref"));
        System.out.println("\n" + (failures == 0 ? "ALL OK" : failures + " FAILED"));
        System.exit(failures == 0 ? 0 : 1);
    }
}
