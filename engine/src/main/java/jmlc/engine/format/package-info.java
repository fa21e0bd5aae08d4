/**
 * Model files: reading real checkpoints as users have them, writing test models, and rejecting
 * bad input with one clear {@link jmlc.engine.format.tensor.ModelFormatException} naming the file, the
 * tensor or key, what was expected and what was found.
 *
 * <pre>
 * try (Checkpoint ck = Checkpoints.open(path)) {          // HF directory or .gguf, validated
 *     ModelConfig c = ck.config();
 *     TensorView wq = ck.tensor("model.layers.0.self_attn.q_proj.weight");   // [rows, cols], mapped
 *     float x = wq.getFloat(0);
 *     switch (ck) {                                        // what the tokenizer reads
 *         case HfCheckpoint hf -> hf.directory();          // tokenizer.json, tokenizer_config.json
 *         case GgufCheckpoint g -> g.metadata();           // tokenizer.ggml.*
 *     }
 * }
 *
 * FloatWeights w = TinyModels.random(TinyModels.config(Architecture.LLAMA), seed);
 * HfModelWriter.write(dir, w, TensorDType.BF16, shards);                  // config.json + safetensors
 * GgufModelWriter.write(file, w, GgufModelWriter.Options.of(TensorDType.Q8_0)); // same model as GGUF
 * </pre>
 *
 * Sub-packages: {@code safetensors} (header, writer), {@code hf} (config.json, directory writer),
 * {@code gguf} (file structure, metadata → config, names, writer, llama.cpp's q/k permutation and
 * Llama 3 rope divisors). Tensors are never copied to the heap: views slice the file mappings,
 * which live until the checkpoint is closed.
 */
package jmlc.engine.format;

