package jmlc.engine.tokenizer;

/**
 * transformers' {@code clean_up_tokenization} (applied by decode when tokenizer_config.json says
 * {@code clean_up_tokenization_spaces: true}, as Llama-3's does): removes the space before
 * . ? ! , and English contractions. The replacements run one after another, as in Python.
 */
final class CleanUp {
    private CleanUp() {}

    private static final String[][] REPLACEMENTS = {
            {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
            {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
    };

    static String apply(String text) {
        if (text.indexOf(' ') < 0) return text;
        for (String[] r : REPLACEMENTS) text = text.replace(r[0], r[1]);
        return text;
    }

    /** Whether more text could complete a replacement that begins inside the end of {@code text}. */
    static boolean endsInsidePattern(String text) {
        for (String[] r : REPLACEMENTS) {
            String pattern = r[0];
            for (int k = 1; k < pattern.length(); k++) {
                if (text.endsWith(pattern.substring(0, k))) return true;
            }
        }
        return false;
    }
}
