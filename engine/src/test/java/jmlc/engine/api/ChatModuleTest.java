package jmlc.engine.api;

import jmlc.engine.chat.ChatTemplates;
import jmlc.engine.cli.CliFixtures;
import jmlc.engine.generate.GenerationConfig;
import jmlc.engine.sampling.SamplingParams;
import jmlc.engine.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Java API's conversation: turns after the first, default reply lengths, models loaded with all logits. */
class ChatModuleTest {

    /**
     * The case: a long reply (1024 tokens there; 300 are enough: re-encoded as bytes they took
     * about 2700 positions), then a second message, on a built-in model's 2048-position window.
     */
    @Test
    void aSecondTurnFollowsALongReply() {
        try (ChatModule cm = ChatModule.load("synthetic:tiny", LoadOptions.defaults().device("cpu"))) {
            cm.setSampling(SamplingParams.defaults().withSeed(5));
            cm.setMaxReplyTokens(300);
            cm.chat("Hello");
            assertEquals(300, cm.stats().decodeTokens() + 1, "the reply ran to its limit: " + cm.stats());
            cm.chat("Tell me more");
            // the second turn feeds only what follows the reply: its last token, " </s><s>[INST] Tell me more [/INST]"
            int added = cm.model().tokenizer().encode(" </s><s>[INST] Tell me more [/INST]", false).length;
            assertEquals(added + 1, cm.stats().prefillTokens(), cm.stats().toString());
            assertEquals(4, cm.conversation().size());
        }
    }

    /**
     * With a real SentencePiece vocabulary a random model's reply does not encode back to its own ids;
     * the next turn still continues from them: it feeds only the template's text after the reply.
     */
    @Test
    void theConversationKeepsTheIdsTheModelSaid(@TempDir Path dir) {
        Path model = CliFixtures.hfModel(dir.resolve("model"));
        try (ChatModule cm = ChatModule.load(model.toString(), LoadOptions.defaults().device("cpu").maxContext(256).chatTemplate("llama2"))) {
            cm.setSampling(SamplingParams.GREEDY);
            cm.setMaxReplyTokens(40);
            Tokenizer tok = cm.model().tokenizer();
            int[] promptIds = tok.encode("<s>[INST] Tell me a story [/INST]", false);
            var stop = ChatTemplates.stopTokenIds(cm.model().template(), tok);
            int[] replyIds = cm.generateTokens(promptIds, new GenerationConfig(40, SamplingParams.GREEDY, stop, false));
            String reply = cm.chat("Tell me a story");
            assertEquals(tok.decode(replyIds, true).strip(), reply, "greedy: the chat's reply is the same");
            int[] reencoded = tok.encode("<s>[INST] Tell me a story [/INST] " + reply, false);
            assertFalse(Arrays.equals(replyIds, Arrays.copyOfRange(reencoded, promptIds.length, reencoded.length)),
                    "this fixture's reply must not encode back to its own ids, else it tests nothing: '" + reply + "'");

            cm.chat("Go on");
            int added = tok.encode(" </s><s>[INST] Go on [/INST]", false).length;
            assertEquals(added + 1, cm.stats().prefillTokens(), "only the reply's last id and the new turn's text are fed: " + cm.stats());
        }
    }

    @Test
    void repliesOfRandomWeightsAreShortByDefault(@TempDir Path dir) {
        try (ChatModule cm = ChatModule.load("synthetic:tiny", LoadOptions.defaults().device("cpu"))) {
            assertEquals(64, cm.maxReplyTokens());
            cm.setSampling(SamplingParams.GREEDY);
            cm.chat("Hi");
            assertEquals(64, cm.stats().decodeTokens() + 1, cm.stats().toString());
            cm.setMaxReplyTokens(3);
            assertEquals(3, cm.maxReplyTokens());
        }
        try (ChatModule cm = ChatModule.load(CliFixtures.hfModel(dir.resolve("m")).toString(), LoadOptions.defaults().device("cpu").maxContext(64))) {
            assertEquals(1024, cm.maxReplyTokens());
        }
    }

    /** A model loaded for per-position logits chats and generates as any other: sampling reads the last row. */
    @Test
    void allLogitsModelsGenerateAndChat() {
        LoadOptions opts = LoadOptions.defaults().device("cpu").maxContext(128);
        String expected;
        try (ChatModule cm = ChatModule.load("synthetic:tiny", opts)) {
            cm.setSampling(SamplingParams.GREEDY);
            expected = cm.generate("Once upon a time", 12);
        }
        try (ChatModule cm = ChatModule.load("synthetic:tiny", opts.allLogits(true))) {
            cm.setSampling(SamplingParams.GREEDY);
            assertEquals(expected, cm.generate("Once upon a time", 12));
            cm.setMaxReplyTokens(5);
            assertFalse(cm.chat("Hi").isEmpty());
            float[][] rows = cm.logits(new int[] {1, 300, 400});
            assertEquals(3, rows.length);
            assertEquals(cm.model().config().vocabSize(), rows[2].length);
            assertTrue(Float.isFinite(rows[2][0]));
        }
    }
}
