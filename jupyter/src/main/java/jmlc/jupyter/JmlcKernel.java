package jmlc.jupyter;

import jmlc.magics.core.Cell;
import jmlc.magics.Jmlc;
import jmlc.magics.core.MagicException;
import jmlc.magics.core.MagicRegistry;
import jmlc.magics.Magics;
import jmlc.magics.core.MimeBundle;
import org.dflib.jjava.jupyter.channels.ShellReplyEnvironment;
import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.LanguageInfo;
import org.dflib.jjava.jupyter.kernel.ReplacementOptions;
import org.dflib.jjava.jupyter.kernel.comm.CommManager;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.dflib.jjava.jupyter.kernel.display.Renderer;
import org.dflib.jjava.jupyter.kernel.magic.MagicsRegistry;
import org.dflib.jjava.jupyter.kernel.util.StringStyler;
import org.dflib.jjava.jupyter.kernel.util.TextColor;
import org.dflib.jjava.jupyter.messages.Header;
import org.dflib.jjava.jupyter.messages.Message;
import org.dflib.jjava.jupyter.messages.publish.PublishError;
import org.dflib.jjava.jupyter.messages.publish.PublishExecuteInput;
import org.dflib.jjava.jupyter.messages.publish.PublishExecuteResult;
import org.dflib.jjava.jupyter.messages.reply.ErrorReply;
import org.dflib.jjava.jupyter.messages.reply.ExecuteReply;
import org.dflib.jjava.jupyter.messages.reply.KernelInfoReply;
import org.dflib.jjava.jupyter.messages.request.ExecuteRequest;
import org.dflib.jjava.jupyter.messages.request.KernelInfoRequest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Jupyter side of the kernel, on jjava's base kernel: execute, complete, inspect, is_complete,
 * interrupt and kernel_info, translated to and from {@link CellRunner} and {@link JavaShell}.
 *
 * <p>Threads: jjava reads the shell channel on one thread and the control channel (interrupts) on
 * another. A cell runs on a thread of its own ("jmlc-cell") while the shell thread waits for it, so
 * that an interrupt can stop a magic without touching jjava's threads; JShell runs Java snippets on
 * threads it starts.
 */
public final class JmlcKernel extends BaseKernel {

    public static final String VERSION = "0.1.0";

    private final KernelIO kernelIO;
    private final CellRunner runner;
    private final ExecutorService cellThread = Executors.newSingleThreadExecutor(r -> {
        var t = new Thread(r, "jmlc-cell");
        t.setDaemon(true);
        return t;
    });

    private JmlcKernel(KernelIO io, MagicRegistry magics) {
        super("jmlc", VERSION,
                new LanguageInfo.Builder("java")
                        .version(Runtime.version().toString())
                        .mimetype("text/x-java-source")
                        .fileExtension(".jshell")
                        .pygments("java")
                        .codemirror("text/x-java")
                        .build(),
                List.of(), null, io, new CommManager(), new Renderer(), null, new MagicsRegistry(), false,
                new StringStyler.Builder()
                        .addPrimaryStyle(TextColor.BOLD_RESET_FG)
                        .addSecondaryStyle(TextColor.BOLD_RED_FG)
                        .addHighlightStyle(TextColor.BOLD_RESET_FG)
                        .build());
        this.kernelIO = io;
        var output = new KernelOutput(io);
        Jmlc.setOutput(output);
        var java = new JavaShell(JavaShell.processClasspath(), note -> output.stderr(note + "\n"));
        this.runner = new CellRunner(java, magics, Jmlc.session(), output);
    }

    /** The kernel with every magic of {@link Magics#all()}. */
    public static JmlcKernel create() {
        return new JmlcKernel(new KernelIO(), Magics.registry());
    }

    @Override
    public String getBanner() {
        return "jmlc " + VERSION + " — Java " + Runtime.version() + " (JShell). Run %help for magics.";
    }

    // ---- execute ----------------------------------------------------------------------------

    @Override
    protected synchronized void handleExecuteRequest(ShellReplyEnvironment env, Message<ExecuteRequest> message) {
        commManager.setMessageContext(message);
        ExecuteRequest request = message.getContent();
        int count = executionCount.getAndIncrement();

        env.setBusyDeferIdle();
        env.publish(new PublishExecuteInput(request.getCode(), count));
        if (isExit(request.getCode())) {
            env.defer().reply(new ExitReply(count));
            return;
        }
        replaceOutputStreams(env);
        kernelIO.attach(env, request.isStdinEnabled());
        env.defer(() -> kernelIO.detach(env));

        try {
            Optional<MimeBundle> result = runOnCellThread(request.getCode());
            io.out.flush();
            io.err.flush();
            result.ifPresent(bundle -> env.publish(new PublishExecuteResult(count, KernelOutput.toDisplayData(bundle))));
            env.defer().reply(new ExecuteReply(count, Map.of()));
        } catch (CellError e) {
            io.out.flush();
            io.err.flush();
            List<String> traceback = styled(e.traceback());
            env.publish(new PublishError(e.name(), e.value(), traceback));
            var reply = new ErrorReply(e.name(), e.value(), traceback);
            reply.setExecutionCount(count);
            env.defer().replyError(ExecuteReply.MESSAGE_TYPE.error(), reply);
        }
    }

    // ---- exit, as jupyter console's user types it ------------------------------------------

    /** A cell that is only {@code exit} or {@code quit} (or {@code exit()} ...): no Java, a request to leave. */
    static boolean isExit(String code) {
        return code.strip().matches("(exit|quit)(\\(\\))?;?");
    }

    /**
     * execute_reply asking the front end to leave, as IPython's kernel answers {@code exit}: the
     * {@code ask_exit} payload, which jupyter console acts on (and shuts the kernel down with it).
     */
    static final class ExitReply extends ExecuteReply {
        @SuppressWarnings("unused") // serialized by gson
        private final List<Map<String, Object>> payload = List.of(Map.of("source", "ask_exit", "keepkernel", false));

        ExitReply(int count) {
            super(count, Map.of());
        }
    }

    private Optional<MimeBundle> runOnCellThread(String code) {
        Future<Optional<MimeBundle>> future = cellThread.submit(() -> runner.runCell(code));
        try {
            return future.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof CellError error) throw error;
            throw CellRunner.exceptionError(e.getCause(), "the kernel");
        } catch (InterruptedException e) {
            runner.interrupt();
            Thread.currentThread().interrupt();
            throw CellRunner.interrupted();
        }
    }

    /** Red for the headline and "Caused by" lines, as IPython colours its tracebacks. */
    private static List<String> styled(List<String> lines) {
        var out = new ArrayList<String>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            boolean headline = i == 0 || line.startsWith("Caused by:") || line.startsWith("Compile error");
            out.add(headline ? TextColor.BOLD_RED_FG + line + TextColor.RESET_ALL : line);
        }
        return out;
    }

    @Override
    public Object evalRaw(String source) {
        return runOnCellThread(source).orElse(null);
    }

    @Override
    public DisplayData eval(String source) {
        return runOnCellThread(source).map(KernelOutput::toDisplayData).orElse(null);
    }

    @Override
    public void interrupt() {
        runner.interrupt();
    }

    @Override
    public void onShutdown(boolean isRestarting) {
        runner.interrupt();
        cellThread.shutdownNow();
        Jmlc.session().clear();
        runner.java().close();
        super.onShutdown(isRestarting);
    }

    // ---- kernel_info: jjava 1.0-a6 leaves out "status" --------------------------------------

    /** kernel_info_reply with the "status": "ok" the message spec requires. */
    static final class KernelInfoOk extends KernelInfoReply {
        @SuppressWarnings("unused") // serialized by gson
        private final String status = "ok";

        KernelInfoOk(String protocolVersion, String implementation, String implementationVersion,
                     LanguageInfo languageInfo, String banner) {
            super(protocolVersion, implementation, implementationVersion, languageInfo, banner, List.of());
        }
    }

    @Override
    protected void handleKernelInfoRequest(ShellReplyEnvironment env, Message<KernelInfoRequest> message) {
        env.setBusyDeferIdle();
        env.reply(new KernelInfoOk(Header.PROTOCOL_VERISON, name, version, getLanguageInfo(), getBanner()));
    }

    // ---- completion, inspection, completeness ----------------------------------------------

    private static final Pattern MAGIC_PREFIX = Pattern.compile("^(\\s*)(%%?)([\\w.\\-]*)$");
    private static final Pattern HELP_ARGUMENT = Pattern.compile("^\\s*%help\\s+%{0,2}([\\w.\\-]*)$");

    @Override
    public ReplacementOptions complete(String code, int at) {
        int lineStart = code.lastIndexOf('\n', at - 1) + 1;
        int lineEnd = code.indexOf('\n', at);
        String line = code.substring(lineStart, lineEnd < 0 ? code.length() : lineEnd);
        if (line.stripLeading().startsWith("%")) {
            Matcher help = HELP_ARGUMENT.matcher(code.substring(lineStart, at));
            if (help.matches()) { // %help NAME: complete the name
                var names = new ArrayList<String>();
                for (var magic : runner.magics().all()) {
                    if (magic.name().startsWith(help.group(1))) names.add(magic.name());
                }
                return new ReplacementOptions(names, at - help.group(1).length(), at);
            }
            Matcher m = MAGIC_PREFIX.matcher(code.substring(lineStart, at));
            if (!m.matches()) return null; // in a magic's arguments
            var matches = new ArrayList<String>();
            for (var magic : runner.magics().all()) {
                if (magic.name().startsWith(m.group(3))) matches.add(m.group(2) + magic.name());
            }
            return new ReplacementOptions(matches, lineStart + m.group(1).length(), at);
        }
        var completion = runner.java().complete(javaOnly(code), at);
        return new ReplacementOptions(completion.matches(), completion.start(), completion.end());
    }

    @Override
    public DisplayData inspect(String code, int at, boolean extraDetail) {
        int lineStart = code.lastIndexOf('\n', Math.max(0, at - 1)) + 1;
        int lineEnd = code.indexOf('\n', at);
        String line = code.substring(lineStart, lineEnd < 0 ? code.length() : lineEnd);
        if (Cell.isMagicLine(line)) {
            String name = line.strip().replaceFirst("^%%?", "").split("\\s+", 2)[0];
            return runner.magics().find(name)
                    .map(magic -> new DisplayData("%" + magic.name() + ": " + magic.summary() + "\n\n" + magic.help()))
                    .orElse(null);
        }
        return runner.java().inspect(javaOnly(code), at).map(DisplayData::new).orElse(null);
    }

    @Override
    public String isComplete(String code) {
        try {
            if (Cell.parse(code).stream().anyMatch(p -> p instanceof Cell.CellMagic)) {
                return IS_COMPLETE_YES; // a cell magic's body is not ours to judge
            }
        } catch (MagicException e) {
            return IS_COMPLETE_BAD;
        }
        var answer = runner.java().isComplete(javaOnly(code));
        return switch (answer.status()) {
            case "complete" -> IS_COMPLETE_YES;
            case "invalid" -> IS_COMPLETE_BAD;
            case "incomplete" -> answer.indent();
            default -> IS_COMPLETE_MAYBE;
        };
    }

    /** The cell with its magic lines blanked (same length, so offsets hold), for Java analysis. */
    static String javaOnly(String code) {
        String[] lines = code.split("\n", -1);
        var sb = new StringBuilder(code.length());
        for (int i = 0; i < lines.length; i++) {
            if (i > 0) sb.append('\n');
            sb.append(Cell.isMagicLine(lines[i]) ? " ".repeat(lines[i].length()) : lines[i]);
        }
        return sb.toString();
    }
}
