/**
 * TextEmbedder: texts -> fixed-width vectors, frozen (never trained by mmsurv).
 *
 * When it runs: inside text encoders (`text-embedding`), once per distinct text; the encoder caches the vectors, so
 * an embedder may be slow but must be repeatable.
 *
 * Invariants
 * - Deterministic: the same text gives the same vector (bit for bit) in every call, process and platform; the
 *   result for one text never depends on the other texts of the call, their order, or earlier calls (no fitted
 *   vocabulary, no state).
 * - `embed(texts)` returns one Float32Array of length `dim` per text, in the order of `texts`; an empty input gives
 *   an empty array.
 * - `id` names the embedder and every setting that changes its vectors (e.g. 'hashed-v1:d512:w1-2'), so caches of
 *   embeddings and saved models can be keyed by it.
 * - Vectors are L2-normalised, or all zero for a text with nothing to embed (e.g. only punctuation).
 *
 * @example
 * const embedder: TextEmbedder = new HashedTextEmbedder({ dim: 512, ngrams: [1, 2] });
 * const [a, b] = embedder.embed(['The age is 71 years old.', 'This is a male.']);   // two Float32Array(512)
 */
export interface TextEmbedder {
  readonly id: string;
  readonly dim: number;
  embed(texts: string[]): Float32Array[];
}
