package jmlc.magics.llm;

import jmlc.magics.core.Cell;
import jmlc.magics.core.MagicRegistry;
import jmlc.magics.Magics;
import jmlc.magics.core.MimeBundle;
import jmlc.magics.core.RecordingOutput;
import jmlc.magics.core.Session;
import jmlc.magics.core.Shell;

import java.util.ArrayList;
import java.util.List;

/**
 * A notebook without Jupyter for magic tests: one session across cells, as in a kernel, and every
 * output recorded. Java parts of cells are not run (there is no JShell here).
 */
final class Notebook implements AutoCloseable {

    final Session session = new Session();
    final RecordingOutput out = new RecordingOutput();
    final MagicRegistry registry = Magics.registry();
    private final Shell shell = new Shell() {
        @Override
        public Object run(String cell) {
            throw new UnsupportedOperationException("no JShell in magic tests");
        }

        @Override
        public List<String> classpath() {
            return List.of();
        }

        @Override
        public void addToClasspath(String path) {
            throw new UnsupportedOperationException();
        }
    };

    /** Runs a cell's magics in order and returns the last one's result. */
    Object run(String cell) throws Exception {
        Object last = null;
        for (Cell.Part part : Cell.parse(cell)) last = registry.run(part, session, out, shell);
        return last;
    }

    /** Runs a cell whose result is a bundle. */
    MimeBundle bundle(String cell) throws Exception {
        return (MimeBundle) run(cell);
    }

    /** The bundles shown (not updated) since the last {@link RecordingOutput#clear()}. */
    List<MimeBundle> shown() {
        return out.shown();
    }

    /** Every update of a display, in order. */
    List<MimeBundle> updates() {
        var list = new ArrayList<MimeBundle>();
        for (var e : out.events()) if (e instanceof RecordingOutput.Event.Updated u) list.add(u.bundle());
        return list;
    }

    @Override
    public void close() {
        session.clear();
    }
}
