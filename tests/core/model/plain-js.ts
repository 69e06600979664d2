/**
 * Plain-JavaScript (float64, loops, no tfjs) references for the attention layers' tests: matrices are number[][].
 * Written from the published definitions (lucidrains/nystrom-attention, szc19990412/TransMIL), independently of the
 * tfjs code they check.
 */
export type Mat = number[][];

export function fromFlat(values: ArrayLike<number>, rows: number, cols: number): Mat {
  return Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => values[i * cols + j]!));
}

export function matmul(a: Mat, b: Mat): Mat {
  const n = a.length;
  const k = b.length;
  const m = b[0]!.length;
  const out: Mat = Array.from({ length: n }, () => new Array<number>(m).fill(0));
  for (let i = 0; i < n; i++) for (let p = 0; p < k; p++) { const aip = a[i]![p]!; for (let j = 0; j < m; j++) out[i]![j]! += aip * b[p]![j]!; }
  return out;
}

export const transpose = (a: Mat): Mat => a[0]!.map((_, j) => a.map((r) => r[j]!));
export const add = (a: Mat, b: Mat): Mat => a.map((r, i) => r.map((v, j) => v + b[i]![j]!));
export const scale = (a: Mat, s: number): Mat => a.map((r) => r.map((v) => v * s));
export const eye = (n: number): Mat => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
export const cols = (a: Mat, from: number, count: number): Mat => a.map((r) => r.slice(from, from + count));

export function softmaxRows(a: Mat): Mat {
  return a.map((r) => {
    const mx = Math.max(...r);
    const e = r.map((v) => Math.exp(v - mx));
    const s = e.reduce((x, y) => x + y, 0);
    return e.map((v) => v / s);
  });
}

export function layerNorm(a: Mat, gamma: ArrayLike<number>, beta: ArrayLike<number>, eps = 1e-5): Mat {
  return a.map((r) => {
    const mean = r.reduce((x, y) => x + y, 0) / r.length;
    const variance = r.reduce((x, y) => x + (y - mean) ** 2, 0) / r.length;
    return r.map((v, j) => ((v - mean) / Math.sqrt(variance + eps)) * gamma[j]! + beta[j]!);
  });
}

/** lucidrains moore_penrose_iter_pinv over a list of heads (global scale over all heads). */
export function pinvIter(xs: Mat[], iterations: number): Mat[] {
  const maxRow = Math.max(...xs.flatMap((x) => x.map((r) => r.reduce((s, v) => s + Math.abs(v), 0))));
  const maxCol = Math.max(...xs.flatMap((x) => x[0]!.map((_, j) => x.reduce((s, r) => s + Math.abs(r[j]!), 0))));
  return xs.map((x) => {
    const n = x.length;
    const I = eye(n);
    let z = scale(transpose(x), 1 / (maxRow * maxCol));
    for (let t = 0; t < iterations; t++) {
      const xz = matmul(x, z);
      const a = add(scale(I, 7), scale(xz, -1));
      const b = add(scale(I, 15), scale(matmul(xz, a), -1));
      const c = add(scale(I, 13), scale(matmul(xz, b), -1));
      z = scale(matmul(z, c), 0.25);
    }
    return z;
  });
}

export interface NystromWeights {
  qkv: Mat; // [dim, 3 * dim], y = x @ qkv
  out: Mat; // [dim, dim]
  outBias: number[];
  residual: Mat; // [k, heads]
}

/**
 * lucidrains NystromAttention.forward (residual=True, no mask, dropout off) on x [n, dim]: front zero padding to a
 * multiple of m, landmark means, three softmaxes, iterative pinv, (attn1 @ pinv) @ (attn3 @ v), the depthwise
 * (k x 1) value convolution over the padded sequence, heads merged, to_out, last n rows. `exact`: softmax(q k^T) v
 * over the n rows instead (plus the same value convolution).
 */
export function nystromAttention(x: Mat, w: NystromWeights, heads: number, m: number, iterations: number, exact = false): Mat {
  const n = x.length;
  const dim = x[0]!.length;
  const dh = dim / heads;
  const pad = exact || n % m === 0 ? 0 : m - (n % m);
  const xp: Mat = [...Array.from({ length: pad }, () => new Array<number>(dim).fill(0)), ...x];
  const total = n + pad;
  const qkv = matmul(xp, w.qkv);
  const q = (h: number) => scale(cols(qkv, h * dh, dh), dh ** -0.5);
  const k = (h: number) => cols(qkv, dim + h * dh, dh);
  const v = (h: number) => cols(qkv, 2 * dim + h * dh, dh);
  const l = total / m;
  const landmarks = (t: Mat): Mat => Array.from({ length: m }, (_, i) => t[0]!.map((_, j) => {
    let s = 0;
    for (let r = i * l; r < (i + 1) * l; r++) s += t[r]![j]!;
    return s / l;
  }));
  const perHead: Mat[] = [];
  if (exact) {
    for (let h = 0; h < heads; h++) perHead.push(matmul(softmaxRows(matmul(q(h), transpose(k(h)))), v(h)));
  } else {
    const qL = Array.from({ length: heads }, (_, h) => landmarks(q(h)));
    const kL = Array.from({ length: heads }, (_, h) => landmarks(k(h)));
    const attn2 = qL.map((ql, h) => softmaxRows(matmul(ql, transpose(kL[h]!))));
    const inv = pinvIter(attn2, iterations);
    for (let h = 0; h < heads; h++) {
      const attn1 = softmaxRows(matmul(q(h), transpose(kL[h]!)));
      const attn3 = softmaxRows(matmul(qL[h]!, transpose(k(h))));
      perHead.push(matmul(matmul(attn1, inv[h]!), matmul(attn3, v(h))));
    }
  }
  const ks = w.residual.length;
  const half = (ks - 1) / 2;
  for (let h = 0; h < heads; h++) {
    const vh = v(h);
    for (let i = 0; i < total; i++) for (let d = 0; d < dh; d++) {
      let s = 0;
      for (let a = 0; a < ks; a++) { const r = i + a - half; if (r >= 0 && r < total) s += vh[r]![d]! * w.residual[a]![h]!; }
      perHead[h]![i]![d]! += s;
    }
  }
  const merged: Mat = Array.from({ length: total }, (_, i) => perHead.flatMap((o) => o[i]!));
  const out = matmul(merged, w.out).map((r) => r.map((val, j) => val + w.outBias[j]!));
  return out.slice(pad);
}

/** Depthwise 'same' cross-correlation of grid [H][W][C] with kernel [k][k][C] (zero padding), by loops. */
export function depthwiseSame(grid: number[][][], kernel: number[][][]): number[][][] {
  const H = grid.length;
  const W = grid[0]!.length;
  const C = grid[0]![0]!.length;
  const kh = kernel.length;
  const kw = kernel[0]!.length;
  return Array.from({ length: H }, (_, i) => Array.from({ length: W }, (_, j) => Array.from({ length: C }, (_, c) => {
    let s = 0;
    for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) {
      const r = i + a - (kh - 1) / 2;
      const q = j + b - (kw - 1) / 2;
      if (r >= 0 && r < H && q >= 0 && q < W) s += grid[r]![q]![c]! * kernel[a]![b]![c]!;
    }
    return s;
  })));
}

export function toGrid(flat: ArrayLike<number>, h: number, w: number, c: number): number[][][] {
  return Array.from({ length: h }, (_, i) => Array.from({ length: w }, (_, j) => Array.from({ length: c }, (_, k) => flat[(i * w + j) * c + k]!)));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
