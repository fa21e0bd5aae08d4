package jmlc.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * GGUF vocabularies converted from the real tokenizer.json files (as convert_hf_to_gguf.py
 * would) must encode every corpus line to the Hugging Face ids (golden.json).
 */
class TokGgufTest {

    @Test
    void sentencePieceWithUniformScoresUsesIdOrder() {
        // LlamaHfVocab writes -1000 for every score: merge priority must come from the id order.
        Map<String, Object> meta = GgufConversion.llamaHf(TokenizerFixtures.modelDir("llama2"));
        assertMatchesHf("llama2", Tokenizers.fromGguf(meta, "mistral-hf.gguf"), true, ids -> prepend(1, ids));
    }

    @Test
    void sentencePieceByScore() {
        Map<String, Object> meta = GgufConversion.withSentencePieceScores(GgufConversion.llamaHf(TokenizerFixtures.modelDir("llama2")),
                TokenizerFixtures.modelDir("llama2"));
        assertMatchesHf("llama2", Tokenizers.fromGguf(meta, "mistral-spm.gguf"), true, ids -> prepend(1, ids));
    }

    @Test
    void sentencePieceWithMerges() {
        Map<String, Object> meta = GgufConversion.withMerges(GgufConversion.llamaHf(TokenizerFixtures.modelDir("llama2")),
                TokenizerFixtures.modelDir("llama2"));
        assertMatchesHf("llama2", Tokenizers.fromGguf(meta, "mistral-merges.gguf"), true, ids -> prepend(1, ids));
    }

    @Test
    void llama3ByteLevel() {
        Map<String, Object> meta = GgufConversion.gpt2(TokenizerFixtures.modelDir("llama3"), "llama-bpe", 0);
        // This tokenizer.json (ByteLevel post-processor, no add_bos_token in its config) adds no BOS in HF;
        // llama.cpp adds BOS for the llama-bpe pre-tokenizer when the GGUF does not say otherwise.
        Tokenizer gguf = Tokenizers.fromGguf(meta, "llama3.gguf");
        assertMatchesHf("llama3", gguf, false, ids -> prepend(128000, ids));
        assertEquals(128000, gguf.bosId().getAsInt());
    }

    @Test
    void qwen3ByteLevelWithPaddedVocabulary() {
        Map<String, Object> meta = GgufConversion.gpt2(TokenizerFixtures.modelDir("qwen3"), "qwen2", 5);
        Tokenizer gguf = Tokenizers.fromGguf(meta, "qwen3.gguf");
        assertMatchesHf("qwen3", gguf, true, ids -> ids);
        assertEquals(151669 + 5, gguf.vocabSize());
        assertEquals("[PAD151670]", gguf.token(151670));
        assertTrue(gguf.eosIds().contains(151645), "<|im_end|> ends generation");
        assertTrue(gguf.chatTemplate().orElseThrow().contains("<|im_start|>"));
    }

    /**
     * encode(text, false) must equal HF's ids; encode(text, true) must equal {@code withSpecial}
     * of them; decode must equal HF's decode (when {@code sameDecode}) or give the text back.
     */
    private static void assertMatchesHf(String name, Tokenizer gguf, boolean sameDecode, Function<int[], int[]> withSpecial) {
        List<String> corpus = TokenizerFixtures.corpus();
        JsonNode golden = TokenizerFixtures.golden().get("tokenizers").get(name);
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < corpus.size(); i++) {
            String text = corpus.get(i);
            int[] hf = TokenizerFixtures.ints(golden.get(i).get("ids"));
            int[] ids = gguf.encode(text, false);
            if (!Arrays.equals(hf, ids)) failures.add("[" + i + "] encode " + TokReferenceTest.quote(text) + "\n   hf   " + Arrays.toString(hf) + "\n   gguf " + Arrays.toString(ids));
            int[] special = gguf.encode(text, true);
            if (!Arrays.equals(withSpecial.apply(hf), special)) failures.add("[" + i + "] encode+special " + TokReferenceTest.quote(text) + ": " + Arrays.toString(special));
            String expectedText = sameDecode ? golden.get(i).get("decoded").textValue() : text;
            String decoded = gguf.decode(hf, false);
            if (!expectedText.equals(decoded)) failures.add("[" + i + "] decode " + TokReferenceTest.quote(expectedText) + " != " + TokReferenceTest.quote(decoded));
        }
        assertTrue(failures.isEmpty(), name + " GGUF differs from HF on " + failures.size() + " checks:\n"
                + String.join("\n", failures.subList(0, Math.min(15, failures.size()))));
    }

    private static int[] prepend(int id, int[] ids) {
        int[] out = new int[ids.length + 1];
        out[0] = id;
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }
}
