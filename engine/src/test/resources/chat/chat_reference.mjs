// Renders cases.json's conversations with the real Jinja chat templates through @huggingface/jinja
// (the Jinja engine of transformers.js): the templates in cases.json and those shipped in the
// llama3 and qwen3 packages' tokenizer_config.json, with bos_token/eos_token from those configs.
// Usage: node chat_reference.mjs NODE_MODULES_DIR [OUTPUT.json]
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const [modulesDir, output] = process.argv.slice(2);
if (!modulesDir) throw new Error("usage: node chat_reference.mjs NODE_MODULES_DIR [OUTPUT.json]");
const here = dirname(fileURLToPath(import.meta.url));
const cases = JSON.parse(readFileSync(join(here, "cases.json"), "utf8"));
const require = createRequire(join(modulesDir, "noop.js"));
const { Template } = await import(pathToFileURL(require.resolve("@huggingface/jinja")).href);
const config = (pkg) => JSON.parse(readFileSync(join(modulesDir, "@lenml", pkg, "models", "tokenizer_config.json"), "utf8"));

const llama2 = config("tokenizer-llama2"), llama3 = config("tokenizer-llama3"), qwen3 = config("tokenizer-qwen3");
// name -> [template source, the config that supplies bos_token / eos_token]
const templates = {
  llama2: [cases.templates.llama2, llama2],
  mistral: [cases.templates.mistral, llama2],
  llama3: [cases.templates.llama3, llama3],
  "llama3-lenml": [llama3.chat_template, llama3],
  chatml: [cases.templates.chatml, qwen3],
  qwen3: [qwen3.chat_template, qwen3],
};
const result = {};
for (const [name, [source, cfg]] of Object.entries(templates)) {
  const template = new Template(source);
  result[name] = { template: source, bos_token: cfg.bos_token, eos_token: cfg.eos_token, renders: [] };
  for (const messages of cases.conversations) {
    for (const add_generation_prompt of [false, true]) {
      const text = template.render({ messages, add_generation_prompt, bos_token: cfg.bos_token, eos_token: cfg.eos_token });
      result[name].renders.push({ add_generation_prompt, text });
    }
  }
}
const json = JSON.stringify(result, null, 1);
if (output) writeFileSync(output, json + "\n");
else process.stdout.write(json + "\n");
