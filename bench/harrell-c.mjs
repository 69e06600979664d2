// Time of Harrell's C (core/survival/concordance.ts, O(n log n): sort + Fenwick tree) on a large random cohort
// with tied times and random risks. Results go in bench/RESULTS.md.
//
// Needs the compiled code: run `npm run build` first (this file imports ../dist/), then
//   node bench/harrell-c.mjs [--n 100000] [--reps 5] [--warmup 2] [--no-append]
// Prints the median of `reps` timed runs after `warmup` untimed ones and appends a section to bench/RESULTS.md
// (unless --no-append).
import { appendFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { harrellC, unoC } from '../dist/core/survival/concordance.js';
import { SeededRandom } from '../dist/core/services/random.js';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const n = Number(arg('n', 100_000));
const reps = Number(arg('reps', 5));
const warmup = Number(arg('warmup', 2));
const append = !process.argv.includes('--no-append');

const rng = new SeededRandom(20261123).fork('bench-harrell');
const time = new Float64Array(n);
const event = new Uint8Array(n);
const risk = new Float64Array(n);
for (let i = 0; i < n; i++) {
  time[i] = 1 + rng.int(2000); // ~50 cases per distinct time: heavy ties
  event[i] = rng.uniform() < 0.6 ? 1 : 0;
  risk[i] = rng.normal();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function timeIt(f) {
  for (let r = 0; r < warmup; r++) f();
  const runs = [];
  let value;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    value = f();
    runs.push(performance.now() - t0);
  }
  return { med: median(runs), runs, value };
}

const h = timeIt(() => harrellC(time, event, risk));
const u = timeIt(() => unoC(time, event, risk, { tau: 1500 }));
const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
const machine = `${cpus().length} cores (${cpu}), Node ${process.version}`;
const date = new Date().toISOString().slice(0, 10);
const fmt = (xs) => xs.map((x) => x.toFixed(1)).join(' ');

console.log(`harrellC n=${n}: median ${h.med.toFixed(1)} ms (runs ${fmt(h.runs)}), C = ${h.value.cIndex.toFixed(6)}, ` +
  `comparable pairs ${h.value.comparable}`);
console.log(`unoC     n=${n}: median ${u.med.toFixed(1)} ms (runs ${fmt(u.runs)}), C = ${u.value.cIndex.toFixed(6)}`);

if (append) {
  const section = `
## Harrell's C, O(n log n) (core/survival/concordance)

\`node bench/harrell-c.mjs\` (after \`npm run build\`). One cohort of n random cases: times uniform on 1..2000
(about ${Math.round(n / 2000)} cases per distinct time, so heavy ties), 60 % events, normal risks; seed 20261123.
Median of ${reps} timed runs after ${warmup} warm-ups. The previous O(n^2) version took ~0.5 s at n = 10,000,
which extrapolates to ~50 s at n = 100,000.

- Date: ${date}
- Machine: ${machine}

| metric | n | median (ms) | runs (ms) |
|---|---:|---:|---|
| harrellC | ${n} | ${h.med.toFixed(1)} | ${fmt(h.runs)} |
| unoC (tau = 1500) | ${n} | ${u.med.toFixed(1)} | ${fmt(u.runs)} |
`;
  appendFileSync(new URL('./RESULTS.md', import.meta.url), section);
  console.log('appended to bench/RESULTS.md');
}
