package jmlc.engine.runtime.gpu;

/** A generated kernel did not compile: carries the kernel's name, the compiler log and the numbered source. */
public final class KernelCompileException extends GpuException {
    private final String kernel;
    private final String log;
    private final String source;

    public KernelCompileException(String kernel, String compiler, String log, String source) {
        super("kernel " + kernel + " failed to compile with " + compiler + ":\n" + log.strip() + "\n--- source ---\n" + numbered(source));
        this.kernel = kernel;
        this.log = log;
        this.source = source;
    }

    public String kernel() {
        return kernel;
    }

    public String log() {
        return log;
    }

    public String source() {
        return source;
    }

    static String numbered(String src) {
        StringBuilder sb = new StringBuilder();
        String[] lines = src.split("\n", -1);
        for (int i = 0; i < lines.length; i++) sb.append(String.format("%4d  %s%n", i + 1, lines[i]));
        return sb.toString();
    }
}
