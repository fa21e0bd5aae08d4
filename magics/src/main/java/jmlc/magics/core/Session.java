package jmlc.magics.core;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * State that outlives a cell and is shared by magics and Java cells: a typed attribute map.
 * A feature declares its key once, next to the code that owns the value:
 *
 * <pre>{@code
 * public static final Session.Key<ChatModel> MODEL = Session.Key.of("model", ChatModel.class);
 * session.put(MODEL, model);                                   // %load
 * ChatModel m = session.require(MODEL, "no model loaded: run %load first");   // %%chat
 * }</pre>
 *
 * Thread-safe: cell code runs on its own thread and may start more.
 */
public final class Session {

    /** A named, typed slot. Two keys with the same name are the same slot. */
    public record Key<T>(String name, Class<T> type) {
        public static <T> Key<T> of(String name, Class<T> type) {
            return new Key<>(name, type);
        }
    }

    private final Map<String, Object> values = new ConcurrentHashMap<>();

    public <T> Optional<T> get(Key<T> key) {
        Object value = values.get(key.name());
        if (value == null) return Optional.empty();
        if (!key.type().isInstance(value)) {
            throw new MagicException("session entry '" + key.name() + "' holds a " + value.getClass().getName()
                    + ", not a " + key.type().getName());
        }
        return Optional.of(key.type().cast(value));
    }

    /** The value, or a {@link MagicException} with {@code whatToDo} (e.g. "run %load first"). */
    public <T> T require(Key<T> key, String whatToDo) {
        return get(key).orElseThrow(() -> new MagicException(whatToDo));
    }

    /** Stores a value (not null) and returns the one it replaces, if any. */
    public <T> Optional<T> put(Key<T> key, T value) {
        Optional<T> previous = get(key);
        values.put(key.name(), key.type().cast(value));
        return previous;
    }

    public <T> Optional<T> remove(Key<T> key) {
        Optional<T> previous = get(key);
        values.remove(key.name());
        return previous;
    }

    /** Every entry by name, sorted, for listing. */
    public Map<String, Object> entries() {
        return new TreeMap<>(values);
    }

    /** Removes everything, closing the values that are {@link AutoCloseable}; returns how many were removed. */
    public int clear() {
        int n = 0;
        for (String name : entries().keySet()) {
            Object value = values.remove(name);
            if (value == null) continue;
            n++;
            if (value instanceof AutoCloseable closeable) {
                try {
                    closeable.close();
                } catch (Exception e) {
                    Output.current().stderr("closing session entry '" + name + "' failed: " + e + "\n");
                }
            }
        }
        return n;
    }

    @Override
    public String toString() {
        return "Session" + entries().keySet();
    }
}
