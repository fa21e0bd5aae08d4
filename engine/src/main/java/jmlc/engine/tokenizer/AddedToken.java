package jmlc.engine.tokenizer;

/**
 * One entry of tokenizer.json {@code added_tokens}: matched in the raw text before the model
 * runs. {@code special} tokens are dropped by decode with skipSpecialTokens; {@code lstrip} /
 * {@code rstrip} swallow white space on that side; {@code singleWord} matches only between
 * non-word characters; {@code normalized} tokens are matched in the normalized text instead.
 */
public record AddedToken(int id, String content, boolean special, boolean lstrip, boolean rstrip,
                         boolean singleWord, boolean normalized) {

    /** A special token as most files spell it: matched verbatim, nothing stripped. */
    static AddedToken special(int id, String content) {
        return new AddedToken(id, content, true, false, false, false, false);
    }
}
