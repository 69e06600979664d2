// Forward + backward time of one dense matmul, stock tfjs gradients vs explicit-transpose gradients
// (core/model/dense.ts), on the wasm and cpu backends. Results go in bench/RESULTS.md.
//
// Needs the compiled code: run `npm run build` first (this file imports ../dist/), then
//   node bench/matmul-grad.mjs [--backends wasm,cpu] [--reps 5] [--warmup 2] [--n 4096 --k 1024 --m 512]
// Prints a markdown table: median of `reps` timed runs after `warmup` untimed ones.
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../dist/core/backend/select.js';
import { matMul } from '../dist/core/model/dense.js';
import { SeededRandom } from '../dist/core/services/random.js';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const backends = String(arg('backends', 'wasm,cpu')).split(',');
const reps = Number(arg('reps', 5));
const warmup = Number(arg('warmup', 2));
const [n, k, m] = [Number(arg('n', 4096)), Number(arg('k', 1024)), Number(arg('m', 512))];

function randomTensor(rows, cols, seed) {
  const rng = new SeededRandom(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return tf.tensor2d(data, [rows, cols]);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** ms for: y = x @ w, then dx and dw for the upstream gradient dy (values read back, so all work is done). */
function timeOnce(x, w, dy, explicit) {
  const t0 = performance.now();
  tf.tidy(() => {
    const [dx, dw] = tf.grads((a, b) => matMul(a, b, explicit))([x, w], dy);
    dx.dataSync();
    dw.dataSync();
  });
  return performance.now() - t0;
}

function timeForward(x, w) {
  const t0 = performance.now();
  // Block body on purpose: tf.tidy walks whatever the callback returns looking for tensors, and returning a
  // 2M-element Float32Array from it costs ~3 s by itself.
  tf.tidy(() => {
    tf.matMul(x, w).dataSync();
  });
  return performance.now() - t0;
}

const gflop = (3 * 2 * n * k * m) / 1e9; // forward + two gradient matmuls
const rows = [];
for (const name of backends) {
  await selectBackend({ prefer: name });
  const x = randomTensor(n, k, 1);
  const w = randomTensor(k, m, 2);
  const dy = randomTensor(n, m, 3);
  const fwd = [];
  for (let i = 0; i < warmup + reps; i++) {
    const t = timeForward(x, w);
    if (i >= warmup) fwd.push(t);
  }
  process.stderr.write(`${name} forward: ${fwd.map((t) => t.toFixed(0)).join(', ')} ms\n`);
  // stock and explicit runs alternate, so a change in machine load hits both alike
  const times = { stock: [], explicit: [] };
  for (let i = 0; i < warmup + reps; i++) {
    for (const [label, explicit] of [['stock', false], ['explicit', true]]) {
      const t = timeOnce(x, w, dy, explicit);
      if (i >= warmup) times[label].push(t);
      process.stderr.write(`${name} ${label} run ${i + 1}/${warmup + reps}: ${t.toFixed(0)} ms\n`);
    }
  }
  const result = { backend: name, forward: median(fwd), stock: median(times.stock), explicit: median(times.explicit) };
  x.dispose();
  w.dispose();
  dy.dispose();
  rows.push(result);
}

console.log(`[${n}x${k}]x[${k}x${m}], forward + backward (dx, dw) = ${gflop.toFixed(1)} GFLOP; median of ${reps} after ${warmup} warm-ups`);
console.log('');
console.log('| backend | forward only (ms) | stock grads (ms) | explicit-transpose grads (ms) | speed-up | explicit GFLOP/s |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.backend} | ${r.forward.toFixed(0)} | ${r.stock.toFixed(0)} | ${r.explicit.toFixed(0)} | ` +
      `${(r.stock / r.explicit).toFixed(2)}x | ${(gflop / (r.explicit / 1000)).toFixed(1)} |`,
  );
}
