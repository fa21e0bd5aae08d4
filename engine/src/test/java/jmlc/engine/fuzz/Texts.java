package jmlc.engine.fuzz;

import jmlc.engine.tokenizer.StreamDecoder;
import jmlc.engine.tokenizer.Tokenizer;

/** Texts every fuzzed tokenizer encodes and decodes: plain, spaced, special-token-like, non-Latin, outside the BMP, and runs that make backtracking regexes explode. */
final class Texts {
    private Texts() {}

    static final String[] ALL = {"Hello, world!", "  two  spaces\tand\nlines\n\n", "<s>[INST] hi [/INST]</s><|eot_id|>", "模型 ü ß ﬁ",
            "emoji 🦙🦙 and \u0000 NUL", "a".repeat(40), "a".repeat(46) + "c", "12345678901234567890"};

    /** Encodes each text, decodes the ids whole and one at a time; ids must lie in the vocabulary. */
    static void run(Tokenizer tok) {
        for (String text : ALL) {
            for (boolean special : new boolean[] {true, false}) {
                int[] ids = tok.encode(text, special);
                for (int id : ids)
                    if (id < 0 || id >= tok.vocabSize()) throw new AssertionError("id " + id + " outside the vocabulary of " + tok.vocabSize());
                tok.decode(ids, !special);
                StreamDecoder d = tok.streamDecoder(!special);
                for (int id : ids) d.next(id);
                d.flush();
            }
        }
        tok.bosId();
        tok.eosIds();
        tok.chatTemplate();
    }
}
