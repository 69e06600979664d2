/**
 * writeTinyGguf: writes a tiny, deterministic GGUF language model for tests and benches.
 *
 * Why: no GGUF model ships in any npm or Debian package and the test machines have no network, yet the llama.cpp
 * runtime (core/llm/llama-cpp-model.ts, via node-llama-cpp) must be exercised for real: loading, hashing, chat
 * templates, JSON-schema grammars, sampling seeds and embeddings. Used by tests/core/llm/*.test.ts, by the OpenAI
 * fake server in tests/support and by a bench script.
 *
 * What: a GGUF v3 file (little-endian, 32-byte alignment, F32 tensors) of architecture "llama" with llama.cpp's
 * tensor names and shapes (see llama.cpp src/models/llama.cpp: token_embd {n_embd, n_vocab}, blk.N.attn_q
 * {n_embd, n_embd}, blk.N.ffn_gate {n_embd, n_ff}, blk.N.ffn_down {n_ff, n_embd}, output {n_embd, n_vocab}, ...),
 * a SentencePiece-style ("llama") vocabulary of `<unk>` `<s>` `</s>`, the 256 byte tokens `<0x00>`..`<0xFF>`,
 * printable ASCII, common word and JSON pieces with every prefix, `<|im_start|>` `<|im_end|>`, and a ChatML
 * `tokenizer.chat_template`. 2 layers, width 64, 4 heads, feed-forward 128: under 1 MB, loads in tens of ms.
 *
 * Weights come from a seeded PRNG (mulberry32 + Box-Muller), so one seed always gives the same bytes and a different
 * seed a different file (hence a different model id). Input projections have spread 0.2 (prompt-dependent answers);
 * output projections (attn_output, ffn_down) are smaller so the residual stream keeps a known scale.
 *
 * The per-token output bias: embedding dimension 0 is a constant channel (1.0 in every token embedding; no layer
 * reads it (column 0 of q/k/v/gate/up is zero) and no layer writes it (row 0 of attn_output/ffn_down is zero)), so
 * after the final RMS norm it is a positive, roughly constant value, and column 0 of output.weight becomes a fixed
 * logit bias per token. The bias forbids byte tokens, `<unk>`, `<s>`, `<|im_start|>`, backslash, '-', the digits
 * 1-9 and exponent pieces ('e'/'E'), and favours end-of-sequence, closing quotes/brackets, pieces "0.1".."0.9" and
 * longer pieces. Random weights alone break schemas (exponents parsing to Infinity, byte tokens splitting characters,
 * numbers > 1); with the bias, JSON-schema-constrained answers are short, finite, and numbers fall in [0, 1].
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface TinyGgufOptions {
  /** PRNG seed of the weights (default 1). */
  seed?: number;
  /** `llama.context_length` (default 2048). */
  contextSize?: number;
  /** Transformer blocks (default 2). */
  layers?: number;
  /** Embedding width (default 64). */
  embedding?: number;
  /** Attention heads (default 4; must divide `embedding`). */
  heads?: number;
  /** Feed-forward width (default 128). */
  feedForward?: number;
}

export interface TinyGgufFile {
  path: string;
  /** File size in bytes. */
  bytes: number;
  vocabSize: number;
  /** Embedding width (= LanguageModel.embeddingDim). */
  embedding: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Vocabulary

const TOKEN_NORMAL = 1;
const TOKEN_UNKNOWN = 2;
const TOKEN_CONTROL = 3;
const TOKEN_BYTE = 6;

/** SentencePiece's visible space. */
const SP = '\u2581';

/** Words (none starts with e/E, so no piece can extend a number's exponent). */
const WORDS = [
  'summary', 'probabilities', 'probability', 'risk', 'high', 'low', 'grade', 'tumor', 'tumour', 'patient', 'survival',
  'months', 'years', 'stage', 'the', 'of', 'and', 'is', 'with', 'a', 'no', 'yes', 'not', 'recurrence', 'progression',
  'bladder', 'cancer', 'carcinoma', 'invasive', 'prostate', 'urothelial', 'report', 'time', 'death', 'alive', 'true',
  'false', 'null', 'answer', 'text', 'score', 'label', 'good', 'poor', 'outcome', 'likely', 'unlikely', 'for', 'in',
  'on', 'to', 'as', 'at', 'by', 'or', 'lymph', 'node', 'nodes', 'margin', 'positive', 'negative', 'clinical', 'data',
];

/** JSON pieces (each also gets every prefix). */
const JSON_PIECES = [
  '{"', '":', '": ', '": "', '": [', '",', '", "', '"}', '"]', '["', '"', '[', ']', '{', '}', ',', ', ', ':', ': ',
  '],', '], "', '},', 'true', 'false', 'null',
];

const NUMBER_PIECES = ['0.', ...Array.from({ length: 9 }, (_, i) => `0.${i + 1}`), '0.25', '0.75', '0.05'];

interface Vocab {
  tokens: string[];
  types: number[];
  scores: number[];
  bias: number[];
  bos: number;
  eos: number;
  unk: number;
}

function buildVocab(): Vocab {
  const tokens: string[] = [];
  const types: number[] = [];
  const seen = new Set<string>();
  const add = (text: string, type: number): void => {
    if (seen.has(text)) return;
    seen.add(text);
    tokens.push(text);
    types.push(type);
  };
  add('<unk>', TOKEN_UNKNOWN);
  add('<s>', TOKEN_CONTROL);
  add('</s>', TOKEN_CONTROL);
  for (let b = 0; b < 256; b++) add(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, TOKEN_BYTE);
  for (let c = 0x20; c < 0x7f; c++) add(c === 0x20 ? SP : String.fromCharCode(c), TOKEN_NORMAL);
  for (const nl of ['\n', '\n\n', '\n\n\n', '\n\n\n\n']) add(nl, TOKEN_NORMAL);
  const withPrefixes = (piece: string): void => {
    const chars = [...piece];
    for (let n = 1; n <= chars.length; n++) add(chars.slice(0, n).join(''), TOKEN_NORMAL);
  };
  for (const p of JSON_PIECES) withPrefixes(p.replaceAll(' ', SP));
  for (const p of NUMBER_PIECES) withPrefixes(p);
  for (const w of WORDS) {
    withPrefixes(w);
    withPrefixes(SP + w);
  }
  add('<|im_start|>', TOKEN_CONTROL);
  add('<|im_end|>', TOKEN_CONTROL);

  // SentencePiece merge priority: longer pieces merge first.
  const scores = tokens.map((t, i) => (types[i] === TOKEN_NORMAL ? [...t].length : 0));
  const bias = tokens.map((t, i) => tokenBias(t, types[i]!));
  return { tokens, types, scores, bias, bos: 1, eos: 2, unk: 0 };
}

const FORBID = -40;

/** The fixed logit bias of one token (see the file comment). */
function tokenBias(text: string, type: number): number {
  if (type === TOKEN_BYTE || type === TOKEN_UNKNOWN) return FORBID;
  if (text === '</s>' || text === '<|im_end|>') return 3;
  if (type === TOKEN_CONTROL) return FORBID;
  if (/^[eE][-+0-9]*$/.test(text)) return FORBID; // exponent pieces
  if (text === '-' || text === '\\' || /^[1-9]$/.test(text)) return FORBID;
  if (/^0\.[0-9]+$/.test(text)) return 1;
  if (text === '0.') return -1;
  if (text === SP || text.startsWith('\n')) return -2; // compact JSON
  if (text.startsWith('"') || text === ',' || text === ']' || text === '}') return 1.5;
  const n = [...text].length;
  return Math.min(2, 0.25 * (n - 1));
}

// ---------------------------------------------------------------------------------------------------------------
// Deterministic weights

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(uniform: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = Math.max(uniform(), 1e-12);
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** A row-major matrix of `rows` rows with `cols` contiguous values (GGUF dims {cols, rows}). */
function matrix(rows: number, cols: number, spread: number, randn: () => number): Float32Array {
  const m = new Float32Array(rows * cols);
  for (let i = 0; i < m.length; i++) m[i] = spread * randn();
  return m;
}

/** Zero input column 0 (the constant channel is read by no layer). */
function zeroColumn0(m: Float32Array, cols: number): Float32Array {
  for (let r = 0; r < m.length / cols; r++) m[r * cols] = 0;
  return m;
}

/** Zero output row 0 (the constant channel is written by no layer). */
function zeroRow0(m: Float32Array, cols: number): Float32Array {
  m.fill(0, 0, cols);
  return m;
}

// ---------------------------------------------------------------------------------------------------------------
// GGUF encoding

const GGUF_UINT32 = 4;
const GGUF_INT32 = 5;
const GGUF_FLOAT32 = 6;
const GGUF_BOOL = 7;
const GGUF_STRING = 8;
const GGUF_ARRAY = 9;
const GGML_TYPE_F32 = 0;
const ALIGNMENT = 32;

type MetaValue =
  | { type: 'u32' | 'i32' | 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'str'; value: string }
  | { type: 'arr-str'; value: string[] }
  | { type: 'arr-f32' | 'arr-i32'; value: number[] };

class ByteWriter {
  private chunks: Buffer[] = [];
  length = 0;
  private push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  i32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.push(b);
  }
  u64(v: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  f32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }
  u8(v: number): void {
    this.push(Buffer.from([v]));
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  bytes(b: Buffer): void {
    this.push(b);
  }
  pad(alignment: number): void {
    const rem = this.length % alignment;
    if (rem) this.push(Buffer.alloc(alignment - rem));
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function writeMeta(w: ByteWriter, key: string, v: MetaValue): void {
  w.str(key);
  switch (v.type) {
    case 'u32': w.u32(GGUF_UINT32); w.u32(v.value); break;
    case 'i32': w.u32(GGUF_INT32); w.i32(v.value); break;
    case 'f32': w.u32(GGUF_FLOAT32); w.f32(v.value); break;
    case 'bool': w.u32(GGUF_BOOL); w.u8(v.value ? 1 : 0); break;
    case 'str': w.u32(GGUF_STRING); w.str(v.value); break;
    case 'arr-str':
      w.u32(GGUF_ARRAY); w.u32(GGUF_STRING); w.u64(v.value.length);
      for (const s of v.value) w.str(s);
      break;
    case 'arr-f32':
      w.u32(GGUF_ARRAY); w.u32(GGUF_FLOAT32); w.u64(v.value.length);
      for (const x of v.value) w.f32(x);
      break;
    case 'arr-i32':
      w.u32(GGUF_ARRAY); w.u32(GGUF_INT32); w.u64(v.value.length);
      for (const x of v.value) w.i32(x);
      break;
  }
}

const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** Write the tiny model to `path` (overwrites). Same options -> same bytes. */
export async function writeTinyGguf(path: string, opts: TinyGgufOptions = {}): Promise<TinyGgufFile> {
  const seed = opts.seed ?? 1;
  const contextSize = opts.contextSize ?? 2048;
  const layers = opts.layers ?? 2;
  const d = opts.embedding ?? 64;
  const heads = opts.heads ?? 4;
  const ff = opts.feedForward ?? 128;
  if (d % heads !== 0) throw new Error(`writeTinyGguf: embedding ${d} is not divisible by heads ${heads}`);
  if ((d / heads) % 2 !== 0) throw new Error(`writeTinyGguf: head size ${d / heads} must be even (RoPE)`);

  const vocab = buildVocab();
  const nVocab = vocab.tokens.length;
  const randn = gaussian(mulberry32(seed));

  // Expected value of the constant channel after the final RMS norm (measured on this design; the bias only needs
  // the right sign and rough size).
  const channelScale = 2;
  const tensors: Array<{ name: string; dims: number[]; data: Float32Array }> = [];
  const embd = matrix(nVocab, d, 0.2, randn);
  for (let t = 0; t < nVocab; t++) embd[t * d] = 1;
  tensors.push({ name: 'token_embd.weight', dims: [d, nVocab], data: embd });
  for (let l = 0; l < layers; l++) {
    const b = `blk.${l}.`;
    tensors.push({ name: `${b}attn_norm.weight`, dims: [d], data: new Float32Array(d).fill(1) });
    tensors.push({ name: `${b}attn_q.weight`, dims: [d, d], data: zeroColumn0(matrix(d, d, 0.2, randn), d) });
    tensors.push({ name: `${b}attn_k.weight`, dims: [d, d], data: zeroColumn0(matrix(d, d, 0.2, randn), d) });
    tensors.push({ name: `${b}attn_v.weight`, dims: [d, d], data: zeroColumn0(matrix(d, d, 0.2, randn), d) });
    tensors.push({ name: `${b}attn_output.weight`, dims: [d, d], data: zeroRow0(matrix(d, d, 0.04, randn), d) });
    tensors.push({ name: `${b}ffn_norm.weight`, dims: [d], data: new Float32Array(d).fill(1) });
    tensors.push({ name: `${b}ffn_gate.weight`, dims: [d, ff], data: zeroColumn0(matrix(ff, d, 0.2, randn), d) });
    tensors.push({ name: `${b}ffn_down.weight`, dims: [ff, d], data: zeroRow0(matrix(d, ff, 0.04, randn), ff) });
    tensors.push({ name: `${b}ffn_up.weight`, dims: [d, ff], data: zeroColumn0(matrix(ff, d, 0.2, randn), d) });
  }
  tensors.push({ name: 'output_norm.weight', dims: [d], data: new Float32Array(d).fill(1) });
  const out = matrix(nVocab, d, 0.2, randn);
  for (let t = 0; t < nVocab; t++) out[t * d] = vocab.bias[t]! / channelScale;
  tensors.push({ name: 'output.weight', dims: [d, nVocab], data: out });

  const meta: Array<[string, MetaValue]> = [
    ['general.architecture', { type: 'str', value: 'llama' }],
    ['general.name', { type: 'str', value: `mmsurv-tiny-llama-seed${seed}` }],
    ['general.file_type', { type: 'u32', value: 0 }],
    ['general.quantization_version', { type: 'u32', value: 2 }],
    ['general.alignment', { type: 'u32', value: ALIGNMENT }],
    ['llama.context_length', { type: 'u32', value: contextSize }],
    ['llama.embedding_length', { type: 'u32', value: d }],
    ['llama.block_count', { type: 'u32', value: layers }],
    ['llama.feed_forward_length', { type: 'u32', value: ff }],
    ['llama.attention.head_count', { type: 'u32', value: heads }],
    ['llama.attention.head_count_kv', { type: 'u32', value: heads }],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'f32', value: 1e-5 }],
    ['llama.rope.dimension_count', { type: 'u32', value: d / heads }],
    ['llama.rope.freq_base', { type: 'f32', value: 10000 }],
    ['llama.vocab_size', { type: 'u32', value: nVocab }],
    ['tokenizer.ggml.model', { type: 'str', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'arr-str', value: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: 'arr-f32', value: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: 'arr-i32', value: vocab.types }],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: vocab.bos }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: vocab.eos }],
    ['tokenizer.ggml.unknown_token_id', { type: 'u32', value: vocab.unk }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
    ['tokenizer.ggml.add_space_prefix', { type: 'bool', value: true }],
    ['tokenizer.chat_template', { type: 'str', value: CHATML_TEMPLATE }],
  ];

  const w = new ByteWriter();
  w.bytes(Buffer.from('GGUF', 'ascii'));
  w.u32(3);
  w.u64(tensors.length);
  w.u64(meta.length);
  for (const [k, v] of meta) writeMeta(w, k, v);
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    offsets.push(offset);
    offset += t.data.byteLength;
    offset += (ALIGNMENT - (offset % ALIGNMENT)) % ALIGNMENT;
  }
  tensors.forEach((t, i) => {
    w.str(t.name);
    w.u32(t.dims.length);
    for (const n of t.dims) w.u64(n);
    w.u32(GGML_TYPE_F32);
    w.u64(offsets[i]!);
  });
  w.pad(ALIGNMENT);
  for (const t of tensors) {
    w.bytes(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    w.pad(ALIGNMENT);
  }
  const buf = w.toBuffer();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, buf);
  return { path, bytes: buf.length, vocabSize: nVocab, embedding: d };
}
