/**
 * Plain-JavaScript float64 re-implementations of the layers in core/model, written from the papers' and PyTorch's
 * formulas (not from our tfjs code), for tests that compare values on tiny inputs.
 * Matrices are number[][] (rows); kernels are row-major [inDim, outDim] like Dense.getWeights().
 */
import type * as tf from '@tensorflow/tfjs';

export type Mat = number[][];

export function toMat(t: tf.Tensor): Mat {
  const v = Array.from(t.dataSync() as Float32Array);
  const [rows, cols] = t.rank === 1 ? [1, t.shape[0]!] : [t.shape[0]!, t.shape[1]!];
  return Array.from({ length: rows }, (_, i) => v.slice(i * cols, (i + 1) * cols));
}

export function flat(m: Mat): number[] {
  return m.flat();
}

export function matmul(a: Mat, b: Mat): Mat {
  const k = b.length;
  if (a[0]!.length !== k) throw new Error(`reference matmul: [${a.length}, ${a[0]!.length}] @ [${k}, ${b[0]!.length}]`);
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, x, i) => s + x * b[i]![j]!, 0)));
}

export function transpose(a: Mat): Mat {
  return a[0]!.map((_, j) => a.map((row) => row[j]!));
}

export function map(a: Mat, f: (x: number) => number): Mat {
  return a.map((row) => row.map(f));
}

export function add(a: Mat, b: Mat): Mat {
  return a.map((row, i) => row.map((x, j) => x + b[i]![j]!));
}

export function hcat(...parts: Mat[]): Mat {
  return parts[0]!.map((_, i) => parts.flatMap((p) => p[i]!));
}

export function vcat(...parts: Mat[]): Mat {
  return parts.flatMap((p) => p);
}

/** Columns [from, from + width). */
export function cols(a: Mat, from: number, width: number): Mat {
  return a.map((row) => row.slice(from, from + width));
}

export function softmaxRows(a: Mat): Mat {
  return a.map((row) => {
    const m = Math.max(...row);
    const e = row.map((x) => Math.exp(x - m));
    const s = e.reduce((p, q) => p + q, 0);
    return e.map((x) => x / s);
  });
}

export function meanRows(a: Mat): number[] {
  return a[0]!.map((_, j) => a.reduce((s, row) => s + row[j]!, 0) / a.length);
}

export function sumRows(a: Mat): number[] {
  return a[0]!.map((_, j) => a.reduce((s, row) => s + row[j]!, 0));
}

/** x @ kernel + bias, kernel row-major [inDim, outDim]. */
export function linear(x: Mat, kernel: ArrayLike<number>, bias?: ArrayLike<number>): Mat {
  const inDim = x[0]!.length;
  const outDim = kernel.length / inDim;
  const w: Mat = Array.from({ length: inDim }, (_, i) => Array.from({ length: outDim }, (_, j) => kernel[i * outDim + j]!));
  const y = matmul(x, w);
  return bias ? y.map((row) => row.map((v, j) => v + bias[j]!)) : y;
}

/** PyTorch nn.LayerNorm over the last axis: biased variance, eps 1e-5. */
export function layerNorm(x: Mat, gamma: ArrayLike<number>, beta: ArrayLike<number>, eps = 1e-5): Mat {
  return x.map((row) => {
    const mean = row.reduce((s, v) => s + v, 0) / row.length;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / row.length;
    return row.map((v, j) => ((v - mean) / Math.sqrt(variance + eps)) * gamma[j]! + beta[j]!);
  });
}

/** erf to ~1e-14: Maclaurin series for |x| < 3, Lentz continued fraction for erfc beyond. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1 / (x + (1/2) / (x + 1 / (x + (3/2) / (x + 2 / (x + ...)))))
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

export const relu = (x: number): number => Math.max(0, x);
export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** The values of variables, in order. */
export function variableValues(vars: readonly tf.Variable[]): number[][] {
  return vars.map((v) => Array.from(v.dataSync() as Float32Array));
}

/**
 * SurvPath's FeedForward + LayerNorm block from its 8 weight arrays (ffNorm gamma, beta, ff1 kernel, bias, ff2 kernel,
 * bias, norm gamma, beta): LayerNorm(W2 GELU(W1 LayerNorm(x) + b1) + b2), in float64.
 */
export function refFeedForwardNorm(x: Mat, w: readonly number[][]): Mat {
  const [fg, fb, k1, b1, k2, b2, ng, nb] = w;
  const h = map(linear(layerNorm(x, fg!, fb!), k1!, b1!), gelu);
  return layerNorm(linear(h, k2!, b2!), ng!, nb!);
}

/**
 * SurvPath's MMAttention (one head, no residual) + FeedForward + LayerNorm, from the repo's formulas, in float64.
 * `attn` = [norm gamma, norm beta, to_qkv kernel [inDim, 3*dim]]; `post` = the 8 arrays of refFeedForwardNorm.
 * A missing side: A attends to A only; a patch without A keeps its value vector.
 */
export function refSurvPathLayer(attn: readonly number[][], post: readonly number[][], dim: number, A: Mat | null, P: Mat | null) {
  const [g, b, kernel] = attn;
  const proj = (x: Mat) => {
    const y = linear(layerNorm(x, g!, b!), kernel!);
    return { q: map(cols(y, 0, dim), (v) => v / Math.sqrt(dim)), k: cols(y, dim, dim), v: cols(y, 2 * dim, dim) };
  };
  const a = A ? proj(A) : null;
  const p = P ? proj(P) : null;
  let outA: Mat | null = null;
  let outP: Mat | null = null;
  let aToP: number[] | null = null;
  let pToA: Mat | null = null;
  if (a && p) {
    const w = softmaxRows(matmul(a.q, transpose(vcat(a.k, p.k))));
    outA = matmul(w, vcat(a.v, p.v));
    aToP = sumRows(cols(w, A!.length, P!.length));
    pToA = softmaxRows(matmul(p.q, transpose(a.k)));
    outP = matmul(pToA, a.v);
  } else if (a) {
    outA = matmul(softmaxRows(matmul(a.q, transpose(a.k))), a.v);
  } else {
    outP = p!.v;
  }
  return { a: outA && refFeedForwardNorm(outA, post), p: outP && refFeedForwardNorm(outP, post), aToP, pToA };
}

/**
 * PyTorch's multi_head_attention_forward without dropout, in float64, from the 7 arrays [q kernel, q bias, k kernel,
 * v kernel, v bias, out kernel, out bias] (k without bias: PyTorch's has no effect); `weights` is the mean over heads.
 */
export function refMultiHeadAttention(w: readonly number[][], heads: number, query: Mat, kv: Mat): { out: Mat; weights: Mat } {
  const q = linear(query, w[0]!, w[1]!);
  const k = linear(kv, w[2]!);
  const v = linear(kv, w[3]!, w[4]!);
  const dh = q[0]!.length / heads;
  const parts: Mat[] = [];
  let weights: Mat = query.map(() => kv.map(() => 0));
  for (let h = 0; h < heads; h++) {
    const a = softmaxRows(map(matmul(cols(q, h * dh, dh), transpose(cols(k, h * dh, dh))), (x) => x / Math.sqrt(dh)));
    weights = add(weights, map(a, (x) => x / heads));
    parts.push(matmul(a, cols(v, h * dh, dh)));
  }
  return { out: linear(hcat(...parts), w[5]!, w[6]!), weights };
}

/**
 * nn.TransformerEncoderLayer (post-norm, ReLU) in eval mode, in float64, from 15 arrays: the 7 attention arrays,
 * linear1 kernel, bias, linear2 kernel, bias, norm1 gamma, beta, norm2 gamma, beta.
 */
export function refTransformerEncoderLayer(w: readonly number[][], heads: number, x: Mat): Mat {
  const h = layerNorm(add(x, refMultiHeadAttention(w.slice(0, 7), heads, x, x).out), w[11]!, w[12]!);
  const ff = linear(map(linear(h, w[7]!, w[8]!), relu), w[9]!, w[10]!);
  return layerNorm(add(h, ff), w[13]!, w[14]!);
}

/**
 * Gated-attention pooling (MCAT's Attn_Net_Gated, softmax, weighted sum) and rho = ReLU(Linear), eval mode, from
 * [tanh kernel, bias, sigmoid kernel, bias, score kernel (no bias), rho kernel, rho bias] (rho optional).
 */
export function refGatedAttentionPool(w: readonly number[][], x: Mat): { pooled: number[]; weights: number[] } {
  const a = map(linear(x, w[0]!, w[1]!), Math.tanh);
  const b = map(linear(x, w[2]!, w[3]!), sigmoid);
  const gate = a.map((row, i) => row.map((v, j) => v * b[i]![j]!));
  const weights = softmaxRows([linear(gate, w[4]!).map((r) => r[0]!)])[0]!;
  const pooled = matmul([weights], x);
  return { pooled: w.length > 5 ? map(linear(pooled, w[5]!, w[6]!), relu)[0]! : pooled[0]!, weights };
}
