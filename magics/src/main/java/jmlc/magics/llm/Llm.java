package jmlc.magics.llm;

import jmlc.engine.api.ChatModule;
import jmlc.engine.api.LoadOptions;
import jmlc.magics.core.MagicException;
import jmlc.magics.core.Session;

/**
 * What the LLM magics keep in the notebook's {@link Session}, one key per value, and the accessors
 * magics use. Cells reach the same values through {@code Jmlc.model()} and {@code Jmlc.benchmarks()}.
 */
public final class Llm {

    private Llm() {
    }

    /** The loaded model, as the Java API's {@link ChatModule}: {@code %load} puts it here. */
    public static final Session.Key<ChatModule> MODEL = Session.Key.of("model", ChatModule.class);

    /** The device later {@code %load}s use unless they name one: {@code %device ID} sets it. */
    public static final Session.Key<String> DEVICE = Session.Key.of("device", String.class);

    /** What the last successful {@code %load} asked for; {@code %reload} starts from it. */
    public static final Session.Key<LoadRequest> LAST_LOAD = Session.Key.of("last-load", LoadRequest.class);

    /** {@code %chat}'s sampling options, reply length and system prompt, kept across loads. */
    public static final Session.Key<ChatSettings> CHAT = Session.Key.of("chat-settings", ChatSettings.class);

    /** Every {@code %bench} run so far, for the table and the chart. */
    public static final Session.Key<BenchHistory> BENCH = Session.Key.of("bench-history", BenchHistory.class);

    static final String NO_MODEL = "no model loaded: run %load MODEL first (e.g. %load synthetic:tiny)";

    /** A model and the options it was loaded with. */
    public record LoadRequest(String spec, LoadOptions options) {}

    /** The loaded model, or a {@link MagicException} telling the user to {@code %load} one. */
    public static ChatModule model(Session session) {
        return session.require(MODEL, NO_MODEL);
    }

    /** The device {@code %device} chose, or {@code auto}. */
    public static String device(Session session) {
        return session.get(DEVICE).orElse("auto");
    }

    /** {@code %chat}'s settings, created on first use (so the default seed stays the same across loads). */
    public static ChatSettings chatSettings(Session session) {
        synchronized (session) {
            return session.get(CHAT).orElseGet(() -> {
                var settings = ChatSettings.defaults();
                session.put(CHAT, settings);
                return settings;
            });
        }
    }

    /** The session's benchmark history, created on first use. */
    public static BenchHistory benchmarks(Session session) {
        synchronized (session) {
            return session.get(BENCH).orElseGet(() -> {
                var history = new BenchHistory();
                session.put(BENCH, history);
                return history;
            });
        }
    }
}
