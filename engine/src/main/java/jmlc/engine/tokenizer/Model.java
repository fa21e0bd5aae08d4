package jmlc.engine.tokenizer;

/** The model step: one pre-tokenized word to ids (tokenizer.json {@code model}, or a GGUF vocabulary). */
sealed interface Model permits BpeModel, SpmModel {

    void encode(String word, IntList out);

    /** Token string to id for the model's own vocabulary (added tokens excluded). */
    Integer id(String token);
}
