package jmlc.engine.api;

import jmlc.engine.chat.ChatMessage;
import jmlc.engine.chat.ChatTemplate;
import jmlc.engine.chat.ChatTemplates;
import jmlc.engine.generate.ContextWindowException;
import jmlc.engine.generate.GenerationConfig;
import jmlc.engine.generate.GenerationStats;
import jmlc.engine.generate.Generator;
import jmlc.engine.sampling.SamplingParams;
import jmlc.engine.api.LoadedModel;
import jmlc.engine.api.ModelLoader;
import jmlc.engine.model.Progress;
import jmlc.engine.tokenizer.StreamDecoder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The Java API, in the spirit of MLC's ChatModule: load a model for a device and quantization,
 * chat over several turns (the KV cache keeps the conversation; each turn feeds only its new
 * tokens), generate, benchmark, read the last request's speed.
 *
 * <pre>{@code
 * try (ChatModule cm = ChatModule.load("synthetic:tinyllama-1.1b", LoadOptions.defaults().quant("q4f16_1"))) {
 *     String reply = cm.chat("Hello!");
 *     cm.benchmarkGenerate("Hi", 512);
 *     System.out.println(cm.stats());
 * }
 * }</pre>
 *
 * Not thread-safe, except {@link #cancel()}, which may be called from another thread to stop the
 * generation in progress (the conversation keeps what was generated).
 */
public final class ChatModule implements AutoCloseable {
    private LoadedModel model;
    private LoadOptions options;
    private SamplingParams sampling = SamplingParams.defaults();
    /** The longest reply; 0: {@link #defaultReplyTokens} of the model loaded. */
    private int maxReplyTokens;
    private String systemPrompt;
    private final List<ChatMessage> conversation = new ArrayList<>();
    private int[] cacheTokens = new int[0];
    /** The conversation as the model saw it: prompts' and replies' token ids, and the template text they stand for. */
    private int[] history = new int[0];
    private String historyText = "";
    private GenerationStats stats = GenerationStats.NONE;
    private Generator.StopReason stopReason;
    private final AtomicBoolean cancel = new AtomicBoolean();

    private ChatModule(LoadedModel model, LoadOptions options) {
        this.model = model;
        this.options = options;
    }

    public static ChatModule load(String model, LoadOptions options) {
        return load(model, options, Progress.NONE);
    }

    public static ChatModule load(String model, LoadOptions options, Progress progress) {
        return new ChatModule(ModelLoader.load(model, options, progress), options);
    }

    /** The loaded model: config, tokenizer, compiled graph, runner. */
    public LoadedModel model() {
        return model;
    }

    public LoadOptions options() {
        return options;
    }

    // ---- chat ----

    /** Sends a user message and returns the whole reply. */
    public String chat(String message) {
        return chat(message, text -> { });
    }

    /**
     * Sends a user message; {@code onText} receives the reply as it is generated. The conversation
     * is kept as token ids (what the model read and what it said), so a turn feeds the model only
     * the text the chat template adds after the last reply, encoded; the reply is never re-encoded
     * from its text, which need not give its ids back.
     */
    public String chat(String message, Consumer<String> onText) {
        List<ChatMessage> turn = new ArrayList<>();
        if (systemPrompt != null && conversation.isEmpty()) turn.add(ChatMessage.system(systemPrompt));
        turn.add(ChatMessage.user(message));
        List<ChatMessage> all = new ArrayList<>(conversation);
        all.addAll(turn);
        ChatTemplate template = model.template();
        String prompt = template.render(all, true);
        int[] ids = prompt.startsWith(historyText) && !historyText.isEmpty()
                ? concat(history, model.tokenizer().encode(prompt.substring(historyText.length()), false))
                : model.tokenizer().encode(prompt, false); // a template that rewrites earlier turns: encode it all
        if (ids.length == 0)
            throw new IllegalArgumentException("the tokenizer encodes the " + template.name() + " chat prompt to no tokens: "
                    + "its vocabulary covers none of the prompt's characters and it has no unknown token");
        int window = model.runner().maxContext();
        if (ids.length > window) {
            throw conversation.isEmpty() ? ContextWindowException.tokens("the message", ids.length, window, model.config().maxPositions())
                    : ContextWindowException.conversation(ids.length, window);
        }
        int keep = commonPrefix(cacheTokens, ids);
        if (keep == ids.length) keep--; // at least one new token to run
        int[] fresh = Arrays.copyOfRange(ids, keep, ids.length);
        Set<Integer> stop = new HashSet<>(ChatTemplates.stopTokenIds(template, model.tokenizer()));
        stop.addAll(model.tokenizer().eosIds());
        GenerationConfig cfg = new GenerationConfig(maxReplyTokens(), sampling, stop, false);
        StreamDecoder dec = model.tokenizer().streamDecoder(true);
        Generator.Result r = run(cacheTokens, keep, fresh, cfg, id -> {
            String piece = dec.next(id);
            if (!piece.isEmpty()) onText.accept(piece);
        });
        String tail = dec.flush();
        if (!tail.isEmpty()) onText.accept(tail);
        String reply = model.tokenizer().decode(r.tokens(), true).strip();
        conversation.addAll(turn);
        conversation.add(ChatMessage.assistant(reply));
        cacheTokens = r.cacheTokens();
        history = concat(ids, r.tokens());
        // where the template does not simply append (none of ours), the next turn encodes the whole conversation
        historyText = replyAsRendered(template, all, prompt, reply).map(t -> prompt + t).orElse("");
        return reply;
    }

    /**
     * The text the template writes for {@code reply} after {@code prompt}, up to the reply's end
     * (not the end-of-turn text after it, which the next turn adds): {@code " reply"} for Llama-2.
     */
    private static Optional<String> replyAsRendered(ChatTemplate template, List<ChatMessage> before, String prompt, String reply) {
        List<ChatMessage> with = new ArrayList<>(before);
        with.add(ChatMessage.assistant(reply));
        String full = template.render(with, false);
        if (!full.startsWith(prompt)) return Optional.empty();
        String after = full.substring(prompt.length());
        int at = reply.isEmpty() ? 0 : after.indexOf(reply);
        return at < 0 ? Optional.empty() : Optional.of(after.substring(0, at + reply.length()));
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** Sets the system prompt of the next conversation (takes effect after {@link #resetChat()} or before the first message). */
    public void setSystemPrompt(String prompt) {
        this.systemPrompt = prompt == null || prompt.isBlank() ? null : prompt;
    }

    /** Forgets the conversation; the next message starts a new one. */
    public void resetChat() {
        conversation.clear();
        cacheTokens = new int[0];
        history = new int[0];
        historyText = "";
    }

    public List<ChatMessage> conversation() {
        return List.copyOf(conversation);
    }

    // ---- generation ----

    /** Completes {@code prompt} (no chat template), up to {@code maxTokens} tokens or a stop token. */
    public String generate(String prompt, int maxTokens) {
        int[] ids = model.tokenizer().encode(prompt, true);
        GenerationConfig cfg = new GenerationConfig(maxTokens, sampling, model.tokenizer().eosIds(), false);
        return model.tokenizer().decode(generateTokens(ids, cfg), true);
    }

    /** Token-level generation from position 0 (a new sequence); returns the generated ids. */
    public int[] generateTokens(int[] prompt, GenerationConfig cfg) {
        return generateTokens(prompt, cfg, id -> { });
    }

    /** {@link #generateTokens(int[], GenerationConfig)}, with {@code onToken} called as each id is chosen (for progress). */
    public int[] generateTokens(int[] prompt, GenerationConfig cfg, java.util.function.IntConsumer onToken) {
        int[] out = run(new int[0], 0, prompt, cfg, onToken).tokens();
        cacheTokens = new int[0]; // the cache now holds this sequence, not the conversation
        return out;
    }

    /**
     * MLC's benchmark: encode {@code prompt}, then decode exactly {@code genTokens} tokens
     * (stop tokens ignored), greedy; {@link #stats()} then holds the speeds. Returns the text.
     */
    public String benchmarkGenerate(String prompt, int genTokens) {
        int[] ids = model.tokenizer().encode(prompt, true);
        GenerationConfig cfg = new GenerationConfig(genTokens, SamplingParams.GREEDY, Set.of(), true);
        return model.tokenizer().decode(generateTokens(ids, cfg), true);
    }

    /** Logits after each prompt position: one row of {@code vocab} per token (needs a model loaded with allLogits). */
    public float[][] logits(int[] tokens) {
        if (!model.compiled().options().allLogits())
            throw new IllegalStateException("this model was loaded for generation; load it with LoadOptions.allLogits(true) for per-position logits");
        if (tokens.length > model.runner().maxContext())
            throw ContextWindowException.tokens(tokens.length + " tokens", tokens.length, model.runner().maxContext(), model.config().maxPositions());
        int v = model.config().vocabSize(), step = model.runner().maxStepTokens();
        float[][] rows = new float[tokens.length][];
        for (int pos = 0; pos < tokens.length; pos += step) {
            int n = Math.min(step, tokens.length - pos);
            float[] flat = model.runner().forward(Arrays.copyOfRange(tokens, pos, pos + n), pos);
            for (int i = 0; i < n; i++) rows[pos + i] = Arrays.copyOfRange(flat, i * v, (i + 1) * v);
        }
        cacheTokens = new int[0];
        return rows;
    }

    private Generator.Result run(int[] cached, int cachedLength, int[] fresh, GenerationConfig cfg, java.util.function.IntConsumer onToken) {
        cancel.set(false);
        Generator.Result r;
        try {
            r = Generator.generate(model.runner(), cached, cachedLength, fresh, cfg, onToken, cancel::get);
        } catch (InternalError e) { // runners may read weights in the model file's mapping
            throw jmlc.engine.format.tensor.FileMapping.changed(model.checkpoint() == null ? java.nio.file.Path.of(model.spec()) : model.checkpoint().path(), e);
        } catch (jmlc.engine.sampling.NonFiniteLogitsException e) {
            if (model.checkpoint() == null) throw e;
            throw new jmlc.engine.format.tensor.ModelFormatException(model.checkpoint().path(), e.getMessage() + ": " + jmlc.engine.format.NonFiniteWeights.first(model.checkpoint())
                    .orElse("no weight is NaN or infinite, so the activations overflowed (an f32 quantization such as q0f32 or q4f32_1 may not)"), e);
        }
        stats = r.stats();
        stopReason = r.reason();
        return r;
    }

    /** Stops the generation in progress after its current token (safe from any thread). */
    public void cancel() {
        cancel.set(true);
    }

    // ---- settings and state ----

    /** Prefill and decode speed of the last request. */
    public GenerationStats stats() {
        return stats;
    }

    /** Why the last request stopped (a stop token, its token limit, a full context window, cancel), or null before the first. */
    public Generator.StopReason stopReason() {
        return stopReason;
    }

    public SamplingParams sampling() {
        return sampling;
    }

    public void setSampling(SamplingParams s) {
        this.sampling = s;
    }

    /** The longest reply, in tokens: what {@link #setMaxReplyTokens} set, else {@link #defaultReplyTokens} of the model loaded. */
    public int maxReplyTokens() {
        return maxReplyTokens > 0 ? maxReplyTokens : defaultReplyTokens(model);
    }

    /** Sets the longest reply, in tokens; 0 goes back to the model's default. */
    public void setMaxReplyTokens(int n) {
        if (n < 0) throw new IllegalArgumentException("max reply tokens must be positive (0: the model's default), found " + n);
        this.maxReplyTokens = n;
    }

    /** The longest reply of a model's chat unless set: 1024 tokens; 64 for random weights, which seldom end a turn by themselves. */
    public static int defaultReplyTokens(LoadedModel model) {
        return model.weights().synthetic() ? SYNTHETIC_REPLY_TOKENS : REPLY_TOKENS;
    }

    public static final int REPLY_TOKENS = 1024, SYNTHETIC_REPLY_TOKENS = 64;

    /** Loads another model (or the same with other options); the conversation starts over. */
    public void reload(String spec, LoadOptions opts) {
        reload(spec, opts, Progress.NONE);
    }

    public void reload(String spec, LoadOptions opts, Progress progress) {
        LoadedModel next = ModelLoader.load(spec, opts, progress); // the old model stays loaded if this fails
        model.close();
        model = next;
        options = opts;
        resetChat();
        stats = GenerationStats.NONE;
        stopReason = null;
    }

    private static int commonPrefix(int[] a, int[] b) {
        int n = Math.min(a.length, b.length), i = 0;
        while (i < n && a[i] == b[i]) i++;
        return i;
    }

    @Override
    public void close() {
        model.close();
    }
}
