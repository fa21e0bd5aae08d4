// Reference token ids from @lenml/tokenizers (transformers.js) for corpus.json.
// Usage: node reference.mjs NODE_MODULES_DIR [OUTPUT.json]   (run from anywhere; writes stdout if no OUTPUT)
// The Java tests run this live when node and the packages are present, and compare with the
// committed golden.json too, so a difference shows which side moved.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const [modulesDir, output] = process.argv.slice(2);
if (!modulesDir) throw new Error("usage: node reference.mjs NODE_MODULES_DIR [OUTPUT.json]");
const here = dirname(fileURLToPath(import.meta.url));
const corpus = JSON.parse(readFileSync(join(here, "corpus.json"), "utf8"));
const require = createRequire(join(modulesDir, "noop.js"));
const { TokenizerLoader } = await import(pathToFileURL(require.resolve("@lenml/tokenizers")).href);

// The packages' own tokenizer.json / tokenizer_config.json, loaded as the Java side loads them.
function load(pkg) {
  const dir = join(modulesDir, "@lenml", pkg, "models");
  return TokenizerLoader.fromPreTrained({
    tokenizerJSON: JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")),
    tokenizerConfig: JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")),
  });
}

const result = { corpus: corpus.length, tokenizers: {} };
for (const name of ["llama2", "llama3", "qwen3"]) {
  const tok = load("tokenizer-" + name);
  // decode() of transformers.js refuses an empty list; HF's decode of [] is "".
  const decode = (ids, skip) => (ids.length === 0 ? "" : tok.decode(ids, { skip_special_tokens: skip }));
  result.tokenizers[name] = corpus.map((text) => {
    const ids = tok.encode(text, { add_special_tokens: false });
    const idsSpecial = tok.encode(text, { add_special_tokens: true });
    return {
      ids,
      idsSpecial,
      decoded: decode(ids, false),
      decodedSkip: decode(idsSpecial, true),
    };
  });
}
const json = JSON.stringify(result);
if (output) writeFileSync(output, json + "\n");
else process.stdout.write(json + "\n");
