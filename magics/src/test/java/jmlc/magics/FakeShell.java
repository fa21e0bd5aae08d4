package jmlc.magics;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import jmlc.magics.core.MagicRegistry;
import jmlc.magics.core.Output;
import jmlc.magics.core.Shell;
import jmlc.magics.core.Cell;
import jmlc.magics.core.Session;

/** A {@link Shell} for magic tests: runs cells through a function and records the classpath. */
final class FakeShell implements Shell {

    final List<String> ran = new ArrayList<>();
    final List<String> classpath = new ArrayList<>(List.of("/a.jar"));
    private final Function<String, Object> eval;

    FakeShell(Function<String, Object> eval) {
        this.eval = eval;
    }

    @Override
    public Object run(String cell) {
        ran.add(cell);
        return eval.apply(cell);
    }

    @Override
    public List<String> classpath() {
        return List.copyOf(classpath);
    }

    @Override
    public void addToClasspath(String path) {
        classpath.add(path);
    }

    /** Runs one line or cell of text through {@code registry}, as the kernel would. */
    static Object run(MagicRegistry registry, String cell, Output out, Shell shell) throws Exception {
        Object last = null;
        for (Cell.Part part : Cell.parse(cell)) last = registry.run(part, new Session(), out, shell);
        return last;
    }
}
