package jmlc.engine.fuzz;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.engine.format.TinyModels;
import jmlc.engine.format.gguf.GgufModelWriter;
import jmlc.engine.format.gguf.GgufValueType;
import jmlc.engine.format.gguf.GgufWriter;
import jmlc.engine.format.hf.HfModelWriter;
import jmlc.engine.format.tensor.TensorDType;

/**
 * Writes the fuzz tests' seed inputs into src/test/resources/jmlc/engine/fuzz/*Inputs/: tiny models
 * as the tests write them (smaller still: vocabulary 32, hidden 32, one layer, so that mutations
 * land in headers often), tokenizer.json files of each kind jmlc reads, and the files of issue 14's
 * failures (named issue14-*), which stay as regression inputs. Run from the engine module:
 * {@code install/fuzz.sh --seeds}. Seeds are committed; findings that fuzzing adds next to them too.
 */
public final class FuzzSeeds {
    private FuzzSeeds() {}

    static final Path INPUTS = Path.of("src/test/resources/jmlc/engine/fuzz");
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws IOException {
        Path root = args.length > 0 ? Path.of(args[0]) : INPUTS;
        gguf(Files.createDirectories(root.resolve("GgufFuzzTestInputs/gguf")));
        safetensors(Files.createDirectories(root.resolve("SafetensorsFuzzTestInputs/header")));
        tokenizers(Files.createDirectories(root.resolve("TokenizerJsonFuzzTestInputs/tokenizerJson")));
    }

    static ModelConfig tiny(Architecture arch) {
        return new ModelConfig(arch, 32, 32, 32, 1, 2, 1, 16, 1e-5, 10_000, new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 64, false,
                arch.attentionBias());
    }

    // ---- GGUF --------------------------------------------------------------------------------

    private static void gguf(Path dir) throws IOException {
        Path llama = dir.resolve("tiny-llama-f16-spm.gguf");
        GgufModelWriter.write(llama, TinyModels.random(tiny(Architecture.LLAMA), 1), new GgufModelWriter.Options(TensorDType.F16, 3, spmVocabulary()));
        GgufModelWriter.write(dir.resolve("tiny-qwen2-q8-bpe.gguf"), TinyModels.random(tiny(Architecture.QWEN2), 2),
                new GgufModelWriter.Options(TensorDType.Q8_0, 3, bpeVocabulary()));
        GgufModelWriter.write(dir.resolve("tiny-llama-q4-v2.gguf"), TinyModels.random(tiny(Architecture.LLAMA), 3),
                new GgufModelWriter.Options(TensorDType.Q4_0, 2, spmVocabulary()));

        byte[] valid = Files.readAllBytes(llama);
        write(dir, "issue14-block-count-2e31.gguf", patchU32After(valid, "llama.block_count", Integer.MAX_VALUE));
        write(dir, "issue14-tensor-count-one-short.gguf", patchU64(valid, 8, u64(valid, 8) - 1));
        write(dir, "issue14-alignment-changed.gguf", withAlignment(dir, 64));
        int type = indexAfter(valid, "output.weight") + 4 + 2 * 8; // n_dims, ne[0], ne[1], then the type
        write(dir, "issue14-type-shrunk.gguf", patchU32(valid, type, 8)); // F16 read as Q8_0
        Path arrays = dir.resolve("issue14-large-metadata-array.gguf");
        new GgufWriter().putArray("test.bytes", GgufValueType.UINT8, java.util.Collections.nCopies(1 << 16, 255)).write(arrays);
    }

    private static byte[] withAlignment(Path dir, long alignment) throws IOException {
        Path f = Files.createTempFile("seed", ".gguf");
        try {
            new GgufWriter().alignment(alignment).putString("test.key", "x")
                    .add("a", new jmlc.engine.format.tensor.FloatTensor("a", new long[] {2, 32}, new float[64]), TensorDType.Q8_0)
                    .add("b", new jmlc.engine.format.tensor.FloatTensor("b", new long[] {8}, new float[8]), TensorDType.F32).write(f);
            byte[] b = Files.readAllBytes(f);
            return patchU32After(b, "general.alignment", alignment / 2);
        } finally {
            Files.delete(f);
        }
    }

    /** A SentencePiece-style vocabulary as llama.cpp writes it: unk, bos, eos, byte tokens, pieces by score. */
    private static Map<String, GgufWriter.Typed> spmVocabulary() {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>", "<0x0A>", "<0x41>", "<0xE6>", "▁", "▁H", "e", "l", "o", "▁Hello",
                "ll", "▁w", "or", "ld", "▁world", "!", ",", "1", "2", "a", "c", "aa", "▁a", "模", "型", "ü", "[INST]", "[/INST]", "▁t", "he"));
        List<Object> scores = new ArrayList<>(), types = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            scores.add(-(double) i);
            String t = tokens.get(i);
            types.add(i == 0 ? 2 : i < 3 ? 3 : t.startsWith("<0x") ? 6 : t.startsWith("[") ? 4 : 1);
        }
        return Map.of("tokenizer.ggml.model", new GgufWriter.Typed(GgufValueType.STRING, "llama"),
                "tokenizer.ggml.tokens", new GgufWriter.Typed(GgufValueType.ARRAY, new GgufWriter.Array(GgufValueType.STRING, tokens)),
                "tokenizer.ggml.scores", new GgufWriter.Typed(GgufValueType.ARRAY, new GgufWriter.Array(GgufValueType.FLOAT32, scores)),
                "tokenizer.ggml.token_type", new GgufWriter.Typed(GgufValueType.ARRAY, new GgufWriter.Array(GgufValueType.INT32, types)),
                "tokenizer.ggml.bos_token_id", new GgufWriter.Typed(GgufValueType.UINT32, 1),
                "tokenizer.ggml.eos_token_id", new GgufWriter.Typed(GgufValueType.UINT32, 2),
                "tokenizer.ggml.unknown_token_id", new GgufWriter.Typed(GgufValueType.UINT32, 0),
                "tokenizer.chat_template", new GgufWriter.Typed(GgufValueType.STRING, "{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}"));
    }

    /** A byte-level BPE vocabulary (GPT-2 alphabet for a few letters) with merges and Qwen2's pre-tokenizer. */
    private static Map<String, GgufWriter.Typed> bpeVocabulary() {
        List<String> tokens = new ArrayList<>(List.of("H", "e", "l", "o", "Ġ", "w", "r", "d", "!", ",", "1", "2", "a", "c", "ll", "He", "Hell", "Hello",
                "Ġw", "or", "ld", "Ġwor", "Ġworld", "aa", "ĠĠ", "Ċ", "<|endoftext|>", "<|im_start|>", "<|im_end|>", "æ", "¨", "¡"));
        List<Object> types = new ArrayList<>();
        for (String t : tokens) types.add(t.startsWith("<|") ? 3 : 1);
        List<String> merges = List.of("l l", "H e", "He ll", "Hell o", "Ġ w", "o r", "l d", "Ġw or", "Ġwor ld", "a a", "Ġ Ġ");
        return Map.of("tokenizer.ggml.model", new GgufWriter.Typed(GgufValueType.STRING, "gpt2"),
                "tokenizer.ggml.pre", new GgufWriter.Typed(GgufValueType.STRING, "qwen2"),
                "tokenizer.ggml.tokens", new GgufWriter.Typed(GgufValueType.ARRAY, new GgufWriter.Array(GgufValueType.STRING, tokens)),
                "tokenizer.ggml.token_type", new GgufWriter.Typed(GgufValueType.ARRAY, new GgufWriter.Array(GgufValueType.INT32, types)),
                "tokenizer.ggml.merges", new GgufWriter.Typed(GgufValueType.ARRAY, new GgufWriter.Array(GgufValueType.STRING, merges)),
                "tokenizer.ggml.eos_token_id", new GgufWriter.Typed(GgufValueType.UINT32, 27));
    }

    // ---- safetensors -------------------------------------------------------------------------

    private static void safetensors(Path dir) throws IOException {
        Path tmp = Files.createTempDirectory("seeds");
        try {
            HfModelWriter.write(tmp, TinyModels.random(tiny(Architecture.LLAMA), 4), TensorDType.F16, 1);
            byte[] llama = Files.readAllBytes(tmp.resolve("model.safetensors"));
            write(dir, "tiny-llama-f16.safetensors", llama);
            HfModelWriter.write(tmp, TinyModels.random(tiny(Architecture.QWEN2), 5), TensorDType.BF16, 1);
            write(dir, "tiny-qwen2-bf16.safetensors", Files.readAllBytes(tmp.resolve("model.safetensors")));
            write(dir, "two-tensors.safetensors", raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                    + "\"b\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[16,24]},\"__metadata__\":{\"format\":\"pt\"}}    ", new byte[24]));
            byte[] shortByOne = raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}        ", new byte[16]);
            write(dir, "issue14-header-length-one-short.safetensors", patchU64(shortByOne, 0, u64(shortByOne, 0) - 1));
            write(dir, "issue14-not-safetensors.txt", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n".getBytes(StandardCharsets.UTF_8));
        } finally {
            try (var s = Files.list(tmp)) {
                for (Path p : s.toList()) Files.delete(p);
            }
            Files.delete(tmp);
        }
    }

    private static byte[] raw(String json, byte[] data) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).put(data).array();
    }

    // ---- tokenizer.json ----------------------------------------------------------------------

    private static void tokenizers(Path dir) throws IOException {
        write(dir, "byte-level-bpe.json", JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(byteLevel()));
        write(dir, "sentencepiece-bpe.json", JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(sentencePiece(false)));
        write(dir, "metaspace-bpe.json", JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(sentencePiece(true)));

        ObjectNode huge = sentencePiece(false);
        ((ObjectNode) huge.get("model").get("vocab")).put("zz", Integer.MAX_VALUE);
        write(dir, "issue14-vocab-id-2e31-1.json", JSON.writeValueAsBytes(huge));
        ObjectNode negative = sentencePiece(false);
        ((ObjectNode) negative.get("added_tokens").get(0)).put("id", -1);
        write(dir, "issue14-added-token-id-minus-1.json", JSON.writeValueAsBytes(negative));
        ObjectNode evil = byteLevel();
        ((ObjectNode) evil.get("pre_tokenizer").get("pretokenizers").get(0).get("pattern")).put("Regex", "(.*a){12}c");
        write(dir, "issue14-catastrophic-regex.json", JSON.writeValueAsBytes(evil));
        write(dir, "issue14-trailing-garbage.json", (JSON.writeValueAsString(byteLevel()) + " {\"x\": 1}").getBytes(StandardCharsets.UTF_8));
    }

    /** Llama-3 style: Split(regex) then ByteLevel, added special tokens, a template adding BOS. */
    private static ObjectNode byteLevel() {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        List<String> alphabet = new ArrayList<>();
        for (int b = 0; b < 256; b++) alphabet.add(byteLevelChar(b));
        List<String> merged = List.of("ll", "He", "Hell", "Hello", "Ġw", "or", "ld", "Ġwor", "Ġworld", "aa");
        String[][] merges = {{"l", "l"}, {"H", "e"}, {"He", "ll"}, {"Hell", "o"}, {"Ġ", "w"}, {"o", "r"}, {"l", "d"}, {"Ġw", "or"}, {"Ġwor", "ld"}, {"a", "a"}};
        ObjectNode vocab = JSON.createObjectNode();
        int id = 0;
        for (String t : alphabet) vocab.put(t, id++);
        for (String t : merged) vocab.put(t, id++);
        for (String special : List.of("<|begin_of_text|>", "<|eot_id|>"))
            added.addObject().put("id", id++).put("content", special).put("special", true).put("lstrip", false).put("rstrip", false)
                    .put("single_word", false).put("normalized", false);
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer").put("type", "Sequence");
        ArrayNode steps = pre.putArray("pretokenizers");
        steps.addObject().put("type", "Split").put("behavior", "Isolated").put("invert", false).putObject("pattern")
                .put("Regex", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
        steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", false);
        ObjectNode post = root.putObject("post_processor").put("type", "TemplateProcessing");
        post.putArray("single").addObject().putObject("SpecialToken").put("id", "<|begin_of_text|>").put("type_id", 0);
        ((ArrayNode) post.get("single")).addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        post.putArray("pair");
        post.putObject("special_tokens").putObject("<|begin_of_text|>").put("id", "<|begin_of_text|>")
                .putArray("ids").add(vocab.size());
        ((ObjectNode) post.get("special_tokens").get("<|begin_of_text|>")).putArray("tokens").add("<|begin_of_text|>");
        root.putObject("decoder").put("type", "ByteLevel");
        ObjectNode model = root.putObject("model").put("type", "BPE").put("ignore_merges", true).put("byte_fallback", false);
        model.set("vocab", vocab);
        ArrayNode m = model.putArray("merges");
        for (String[] pair : merges) m.addArray().add(pair[0]).add(pair[1]);
        return root;
    }

    /** Mistral/Llama-2 style: normalizer Prepend+Replace (or a Metaspace pre-tokenizer), byte fallback, unk. */
    private static ObjectNode sentencePiece(boolean metaspace) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        added.addObject().put("id", 0).put("content", "<unk>").put("special", true);
        added.addObject().put("id", 1).put("content", "<s>").put("special", true);
        added.addObject().put("id", 2).put("content", "</s>").put("special", true);
        if (metaspace) {
            root.putNull("normalizer");
            root.putObject("pre_tokenizer").put("type", "Metaspace").put("replacement", "▁").put("prepend_scheme", "first").put("split", false);
        } else {
            ObjectNode norm = root.putObject("normalizer").put("type", "Sequence");
            norm.putArray("normalizers").addObject().put("type", "Prepend").put("prepend", "▁");
            ((ArrayNode) norm.get("normalizers")).addObject().put("type", "Replace").put("content", "▁").putObject("pattern").put("String", " ");
            root.putNull("pre_tokenizer");
        }
        root.putNull("post_processor");
        ObjectNode dec = root.putObject("decoder").put("type", "Sequence");
        ArrayNode ds = dec.putArray("decoders");
        ds.addObject().put("type", "Replace").put("content", " ").putObject("pattern").put("String", "▁");
        ds.addObject().put("type", "ByteFallback");
        ds.addObject().put("type", "Fuse");
        ds.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
        ObjectNode model = root.putObject("model").put("type", "BPE").put("unk_token", "<unk>").put("fuse_unk", true).put("byte_fallback", true);
        ObjectNode vocab = model.putObject("vocab");
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        for (int b = 0; b < 256; b++) tokens.add(String.format("<0x%02X>", b));
        tokens.addAll(List.of("▁", "H", "e", "l", "o", "w", "r", "d", "a", "ll", "▁H", "▁He", "▁Hell", "▁Hello", "▁w", "or", "ld", "▁wor", "▁world"));
        for (int i = 0; i < tokens.size(); i++) vocab.put(tokens.get(i), i);
        ArrayNode m = model.putArray("merges");
        for (String s : List.of("l l", "▁ H", "▁H e", "▁He ll", "▁Hell o", "▁ w", "o r", "l d", "▁w or", "▁wor ld")) m.add(s);
        return root;
    }

    private static String byteLevelChar(int b) {
        int next = 0;
        for (int x = 0; x <= b; x++) {
            boolean printable = (x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF);
            if (x == b) return String.valueOf(printable ? (char) x : (char) (256 + next));
            if (!printable) next++;
        }
        throw new AssertionError(b);
    }

    // ---- bytes -------------------------------------------------------------------------------

    private static void write(Path dir, String name, byte[] bytes) throws IOException {
        Files.write(dir.resolve(name), bytes);
    }

    private static int indexAfter(byte[] hay, String s) {
        byte[] needle = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i + needle.length <= hay.length; i++)
            if (Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) return i + needle.length;
        throw new IllegalArgumentException(s + " not found");
    }

    private static byte[] patchU32After(byte[] b, String key, long v) {
        return patchU32(b, indexAfter(b, key) + 4, v); // the key, its u32 value type, then the value
    }

    private static byte[] patchU32(byte[] b, int at, long v) {
        byte[] c = b.clone();
        ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putInt(at, (int) v);
        return c;
    }

    private static byte[] patchU64(byte[] b, int at, long v) {
        byte[] c = b.clone();
        ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putLong(at, v);
        return c;
    }

    private static long u64(byte[] b, int at) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(at);
    }
}
