package jmlc.engine.tokenizer;

import java.util.List;
import java.util.Map;

/**
 * GGUF {@code tokenizer.ggml.pre}: the name llama.cpp gives a BPE pre-tokenizer, mapped to the
 * regular expressions of the Hugging Face tokenizer.json it stands for (applied in order, each
 * splitting the pieces of the one before, matches kept as pieces: Split "Isolated").
 */
final class GgufPreTokenizers {
    private GgufPreTokenizers() {}

    /** A pre-tokenizer family: its split patterns, and whether llama.cpp sets ignore_merges / NFC-normalizes for it. */
    record Family(List<String> patterns, boolean ignoreMerges, boolean nfc) {}

    static final String LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String QWEN2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    private static final String GPT2_NO_TRAILING = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";

    private static final Family LLAMA3_FAMILY = new Family(List.of(LLAMA3), true, false);
    private static final Family LLAMA3_REGEX = new Family(List.of(LLAMA3), false, false);
    /** Qwen2/2.5/3: tokenizer.json also has an NFC normalizer, which llama.cpp skips; HF ids need it. */
    private static final Family QWEN2_FAMILY = new Family(List.of(QWEN2), false, true);
    private static final Family GPT2_FAMILY = new Family(List.of(GPT2), false, false);
    private static final Family STARCODER_FAMILY = new Family(List.of("\\p{N}", GPT2_NO_TRAILING), false, false);
    /** llama.cpp's regexes for "default" (a BPE vocabulary it could not identify). */
    private static final Family DEFAULT_FAMILY = new Family(List.of("[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2_NO_TRAILING, "\\p{N}+", "[0-9][0-9][0-9]"), false, false);

    static final Map<String, Family> BY_NAME = Map.ofEntries(
            Map.entry("llama-bpe", LLAMA3_FAMILY), Map.entry("llama3", LLAMA3_FAMILY), Map.entry("llama-v3", LLAMA3_FAMILY),
            Map.entry("dbrx", LLAMA3_REGEX), Map.entry("smaug-bpe", LLAMA3_REGEX),
            Map.entry("qwen2", QWEN2_FAMILY), Map.entry("stablelm2", new Family(List.of(QWEN2), false, false)),
            Map.entry("gpt-2", GPT2_FAMILY), Map.entry("gpt2", GPT2_FAMILY), Map.entry("mpt", GPT2_FAMILY),
            Map.entry("olmo", GPT2_FAMILY), Map.entry("jais", GPT2_FAMILY),
            Map.entry("starcoder", STARCODER_FAMILY), Map.entry("refact", STARCODER_FAMILY),
            Map.entry("command-r", STARCODER_FAMILY), Map.entry("smollm", STARCODER_FAMILY),
            Map.entry("codeshell", STARCODER_FAMILY), Map.entry("exaone", STARCODER_FAMILY),
            Map.entry("default", DEFAULT_FAMILY));

    /** @param file the GGUF file, named with {@code tokenizer.ggml.pre} in errors */
    static PreTokenizer preTokenizer(Family family, String file) {
        List<PreTokenizer> steps = new java.util.ArrayList<>();
        for (String p : family.patterns()) {
            steps.add(new PreTokenizer.Split(SplitPattern.regex(p, file, "tokenizer.ggml.pre"), PreTokenizer.Behavior.ISOLATED, false));
        }
        steps.add(new PreTokenizer.ByteLevel(false, false));
        return new PreTokenizer.Sequence(steps);
    }
}
