package jmlc.magics.core;

import java.util.ArrayList;
import java.util.List;

/** An {@link Output} that keeps every event in order: for tests, and for running magics headless. */
public final class RecordingOutput implements Output {

    /** One thing a cell sent, in the order sent. */
    public sealed interface Event {
        record Stdout(String text) implements Event {}
        record Stderr(String text) implements Event {}
        record Shown(MimeBundle bundle, String displayId) implements Event {}
        record Updated(String displayId, MimeBundle bundle) implements Event {}
    }

    private final List<Event> events = new ArrayList<>();

    @Override
    public synchronized void stdout(String text) {
        events.add(new Event.Stdout(text));
    }

    @Override
    public synchronized void stderr(String text) {
        events.add(new Event.Stderr(text));
    }

    @Override
    public synchronized void display(MimeBundle bundle, String displayId) {
        events.add(new Event.Shown(bundle, displayId));
    }

    @Override
    public synchronized void updateDisplay(String displayId, MimeBundle bundle) {
        events.add(new Event.Updated(displayId, bundle));
    }

    public synchronized List<Event> events() {
        return List.copyOf(events);
    }

    /** All stdout text, concatenated. */
    public synchronized String stdout() {
        var sb = new StringBuilder();
        for (Event e : events) if (e instanceof Event.Stdout(String text)) sb.append(text);
        return sb.toString();
    }

    /** All stderr text, concatenated. */
    public synchronized String stderr() {
        var sb = new StringBuilder();
        for (Event e : events) if (e instanceof Event.Stderr(String text)) sb.append(text);
        return sb.toString();
    }

    /** The bundles shown (not updates), in order. */
    public synchronized List<MimeBundle> shown() {
        var list = new ArrayList<MimeBundle>();
        for (Event e : events) if (e instanceof Event.Shown(MimeBundle b, String id)) list.add(b);
        return list;
    }

    public synchronized void clear() {
        events.clear();
    }
}
