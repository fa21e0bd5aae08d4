package jmlc.engine.tokenizer;

import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A text tokenizer that encodes and decodes exactly as Hugging Face {@code tokenizers} does
 * (plus the {@code clean_up_tokenization_spaces} step that {@code transformers}' decode applies).
 * Instances are immutable and safe to share between threads; {@link StreamDecoder}s are not.
 * Made by {@link Tokenizers#load} (a model directory or tokenizer.json) or {@link Tokenizers#fromGguf}.
 */
public interface Tokenizer {

    /** Token ids of {@code text}; with {@code addSpecialTokens}, the post-processor's BOS/EOS too. */
    int[] encode(String text, boolean addSpecialTokens);

    /** Text of {@code ids}; with {@code skipSpecialTokens}, special tokens (BOS, EOS, &lt;|eot_id|&gt; ...) are left out. */
    String decode(int[] ids, boolean skipSpecialTokens);

    /** A decoder for generation: feed ids one at a time, get back the text completed by each. */
    StreamDecoder streamDecoder(boolean skipSpecialTokens);

    /** Number of ids, added tokens included (ids are 0 .. vocabSize()-1). */
    int vocabSize();

    /** The token's vocabulary string ("▁Hello", "Ġworld", "&lt;0x0A&gt;", "&lt;|eot_id|&gt;"); null for an unused id. */
    String token(int id);

    /** The id of a vocabulary string, added tokens included. */
    OptionalInt tokenId(String token);

    /** The beginning-of-sequence token named by the configuration, if any. */
    OptionalInt bosId();

    /** Tokens that end generation (eos_token, and generation_config.json's eos_token_id list where present). */
    Set<Integer> eosIds();

    /** Whether the id is a special added token (decode with skipSpecialTokens drops it). */
    boolean isSpecial(int id);

    /** The model's Jinja chat template (tokenizer_config.json chat_template or GGUF tokenizer.chat_template). */
    Optional<String> chatTemplate();
}
