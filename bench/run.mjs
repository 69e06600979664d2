#!/usr/bin/env node
/**
 * `npm run bench`: mmsurv against the PyTorch mirror (bench/torch) on this machine, interleaved and repeated
 * (issue 8). Measures a training step at 1k/4k/16k patches (both models, 1 thread), 5-fold CV wall time of the
 * chimera-bilinear preset on a 176-case cohort of 4096-patch bags (2 cores each: mmsurv `--workers 2`, PyTorch 2
 * intra-op threads), inference per case at 10k/100k patches and the peak RSS of every process; prints a table of
 * medians and ratios (mmsurv / PyTorch) and writes the section between the bench:torch markers of bench/RESULTS.md
 * (atomically) and the raw numbers to bench/.cache/results.json.
 *
 *   npm run bench                          # everything (~20-30 min; the 2.9 GB cohort is made once, in bench/.cache)
 *   npm run bench -- --only step --repeats 5
 *   npm run bench -- --repeats 3 --cv-repeats 2 --epochs 1   # what RESULTS.md was measured with
 *   npm run bench -- --quick               # small shapes, 1 repeat: checks the wiring in ~2 min
 *
 * Needs `npm run build` (npm run bench does it) and /usr/bin/python3 with torch, numpy and h5py
 * (apt-get install python3-torch python3-numpy python3-h5py).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(import.meta.dirname, '..');
const CACHE = join(ROOT, 'bench', '.cache');
const CLI = join(ROOT, 'dist', 'core', 'cli', 'bin.js');
const PY = '/usr/bin/python3';
const { values: o } = parseArgs({
  options: {
    only: { type: 'string', multiple: true }, repeats: { type: 'string', default: '3' }, 'cv-repeats': { type: 'string' }, epochs: { type: 'string', default: '1' },
    quick: { type: 'boolean', default: false }, 'no-write': { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
  },
});
if (o.help) {
  console.log(readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(2, 15).map((l) => l.replace(/^ \*\s?/, '')).join('\n'));
  process.exit(0);
}
const parts = o.only ?? ['step', 'cv', 'infer'];
for (const p of parts) if (!['step', 'cv', 'infer'].includes(p)) fail(`--only: expected step, cv or infer, found '${p}'`);
const R = Number(o.repeats);
const quick = o.quick;
const stepPatches = quick ? [1024] : [1024, 4096, 16384];
const inferPatches = quick ? [10000] : [10000, 100000];
const cohort = quick ? { cases: 30, patches: 512 } : { cases: 176, patches: 4096 };

function fail(msg) { console.error(`bench: ${msg}`); process.exit(1); }
if (!existsSync(CLI)) fail(`${CLI} is missing: run npm run build`);
const torchCheck = spawnSync(PY, ['-c', 'import torch, numpy, h5py; print(torch.__version__)'], { encoding: 'utf8' });
if (torchCheck.status !== 0) fail(`${PY} cannot import torch, numpy and h5py (apt-get install python3-torch python3-numpy python3-h5py): ${torchCheck.stderr.trim().split('\n').pop()}`);
const torchVersion = torchCheck.stdout.trim();
mkdirSync(CACHE, { recursive: true });

/** Run a command under /usr/bin/time -f %M (peak RSS of the largest process, KB); returns stdout, seconds, MB. */
function measured(cmd, args, env = {}) {
  const t0 = performance.now();
  const timeBin = existsSync('/usr/bin/time');
  const r = spawnSync(timeBin ? '/usr/bin/time' : cmd, timeBin ? ['-f', 'PEAK_RSS_KB %M', cmd, ...args] : args, {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 256 << 20,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${(r.stderr ?? '').split('\n').slice(-15).join('\n')}`);
  const m = /PEAK_RSS_KB (\d+)/.exec(r.stderr ?? '');
  return { stdout: r.stdout, seconds, peakMb: m ? Number(m[1]) / 1024 : null };
}
const lastJson = (s) => JSON.parse(s.trim().split('\n').filter((l) => l.startsWith('{')).pop());
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const log = (m) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

const rows = []; // { what, shape, mmsurv: [...], torch: [...], unit, mmsurvRss: [...], torchRss: [...] }
function record(what, shape, unit, side, value, rss, extra) {
  let row = rows.find((r) => r.what === what && r.shape === shape);
  if (!row) rows.push(row = { what, shape, unit, mmsurv: [], torch: [], mmsurvRss: [], torchRss: [], extra: {} });
  row[side].push(value);
  if (rss !== null && rss !== undefined) row[`${side}Rss`].push(rss);
  if (extra) Object.assign(row.extra, extra);
}

// ---- training step and inference: one process per measurement, implementations alternate, order flips per repeat
const stepModels = [['abmil', 2], ['chimera-bilinear', 2]];
const reps = quick ? 1 : R;
const inner = quick ? ['--warmup', '1', '--repeats', '2'] : ['--warmup', '2', '--repeats', '5'];
let matmulRate = null;
if (parts.includes('step')) {
  const rates = [];
  for (const n of stepPatches) {
    const m = lastJson(measured('node', ['bench/mmsurv/bench-worker.mjs', 'matmul', '--patches', String(n), ...inner]).stdout);
    rates.push({ patches: n, nn: m.nn_gflops, tn: m.tn_gflops });
    log(`sgemm ${n}x1024x512: NN ${m.nn_gflops.toFixed(1)} GFLOP/s, TN ${m.tn_gflops.toFixed(1)} GFLOP/s (${m.matmul})`);
  }
  matmulRate = { rates, gflops: Math.max(...rates.flatMap((r) => [r.nn, r.tn])) };
  for (let rep = 0; rep < reps; rep++) {
    for (const [model, bs] of stepModels) {
      for (const n of stepPatches) {
        const order = rep % 2 === 0 ? ['mmsurv', 'torch'] : ['torch', 'mmsurv'];
        for (const side of order) {
          const args = ['--model', model, '--patches', String(n), '--feature-dim', '1024', '--batch-size', String(bs), ...inner];
          const r = side === 'mmsurv'
            ? measured('node', ['bench/mmsurv/bench-worker.mjs', 'step', ...args])
            : measured(PY, ['bench/torch/train_bench.py', '--mode', 'step', '--threads', '1', ...args]);
          const j = lastJson(r.stdout);
          if (side === 'mmsurv' && j.leaked_tensors !== 0) fail(`mmsurv step leaked ${j.leaked_tensors} tensors (${model}, ${n} patches)`);
          record(`step ${model} (batch ${bs}, 1 thread)`, `${n} patches`, 'ms', side, j.median_ms, r.peakMb, { model, patches: n, batch: bs });
          log(`step ${model} ${n}: ${side} ${j.median_ms.toFixed(0)} ms`);
        }
      }
    }
  }
}
if (parts.includes('infer')) {
  for (let rep = 0; rep < reps; rep++) {
    for (const n of inferPatches) {
      const order = rep % 2 === 0 ? ['mmsurv', 'torch'] : ['torch', 'mmsurv'];
      for (const side of order) {
        const args = ['--model', 'chimera-bilinear', '--patches', String(n), '--feature-dim', '1024', '--warmup', '1', '--repeats', quick ? '1' : '3'];
        const r = side === 'mmsurv'
          ? measured('node', ['bench/mmsurv/bench-worker.mjs', 'infer', ...args])
          : measured(PY, ['bench/torch/train_bench.py', '--mode', 'infer', '--threads', '1', ...args]);
        const j = lastJson(r.stdout);
        record('inference chimera-bilinear (1 case, 1 thread)', `${n} patches`, 'ms', side, j.median_ms, r.peakMb, { patches: n });
        log(`infer ${n}: ${side} ${j.median_ms.toFixed(0)} ms, peak RSS ${r.peakMb?.toFixed(0)} MB`);
      }
    }
  }
}

// ---- 5-fold CV of the chimera-bilinear preset
let cvInfo = null;
if (parts.includes('cv')) {
  const dir = join(CACHE, `cohort-${cohort.cases}x${cohort.patches}`);
  if (!existsSync(join(dir, '.complete'))) {
    log(`writing the benchmark cohort (${cohort.cases} cases x ${cohort.patches} patches x 1024 features) to ${dir}`);
    rmSync(dir, { recursive: true, force: true });
    measured('node', [CLI, 'synth', '--out', dir, '--cases', String(cohort.cases), '--feature-dim', '1024', '--min-patches', String(cohort.patches), '--max-patches', String(cohort.patches), '--seed', '1', '--quiet']);
    writeFileSync(join(dir, '.complete'), '');
  }
  const splits = join(CACHE, `splits-${cohort.cases}.json`);
  if (!existsSync(splits)) measured('node', [CLI, 'splits', '--data', dir, '--folds', '5', '--seed', '0', '--out', splits, '--quiet']);
  const config = join(CACHE, 'cv-config.json');
  // early stopping cannot stop within the benchmark's epochs (patience 30 > epochs)
  writeFileSync(config, JSON.stringify({ _base_: join(ROOT, 'plugins/chimera-bilinear/preset.json'), data: { format: 'manifest', root: dir }, train: { epochs: Number(o.epochs) } }, null, 2));
  cvInfo = { cohort: dir, cases: cohort.cases, patches: cohort.patches, epochs: Number(o.epochs) };
  const cvReps = Number(o['cv-repeats'] ?? R);
  cvInfo.repeats = cvReps;
  for (let rep = 0; rep < cvReps; rep++) {
    const order = rep % 2 === 0 ? ['mmsurv', 'torch'] : ['torch', 'mmsurv'];
    for (const side of order) {
      let r;
      if (side === 'mmsurv') {
        const run = join(CACHE, 'cv-run'); // kept for its fold times (fold-K/result.json)
        rmSync(run, { recursive: true, force: true });
        r = measured('node', [CLI, 'train', '--config', config, '--out', run, '--splits', splits, '--workers', '2', '--quiet']);
      } else {
        r = measured(PY, ['bench/torch/train_bench.py', '--model', 'chimera-bilinear', '--mode', 'cv', '--cohort', dir, '--splits', splits, '--epochs', o.epochs, '--threads', '2']);
      }
      record(`5-fold CV chimera-bilinear (${cohort.cases} cases, ${o.epochs} epoch${o.epochs === '1' ? '' : 's'}, 2 cores)`, `${cohort.patches} patches/case`, 's', side, r.seconds, r.peakMb);
      log(`cv: ${side} ${r.seconds.toFixed(1)} s, peak RSS ${r.peakMb?.toFixed(0)} MB`);
    }
  }
}

// ---- matmul-bound floor of a step: 2*rows*in*out per matmul; forward + weight gradient (+ input gradient where
// the input is not data); every dense layer of the ABMIL branch (fc 1024->512, gated attention 512->256 twice, 256->1)
function stepFlops(model, n, batch) {
  const rowsLayers = [[n, 1024, 512, false], [n, 512, 256, true], [n, 512, 256, true], [n, 256, 1, true]];
  let f = 0;
  for (const [r, i, out, needsDx] of rowsLayers) f += 2 * r * i * out * (needsDx ? 3 : 2);
  f += 2 * 2 * n * 512 * 2; // attention-weighted pooling, forward and backward
  if (model === 'chimera-bilinear') f += 2 * 3 * (400 * 2048 + 2048 * 512 + 512 * 128); // RNA MLP (1 row)
  return f * batch;
}

// ---- table
const fmt = (x, unit) => (x === null || x === undefined ? '-' : unit === 's' ? x.toFixed(1) : x.toFixed(0));
const lines = ['| measurement | shape | mmsurv | PyTorch | mmsurv / PyTorch | peak RSS mmsurv / PyTorch (MB) | floor (ms) | mmsurv / floor |', '|---|---|---:|---:|---:|---:|---:|---:|'];
const out = [];
for (const r of rows) {
  const m = r.mmsurv.length ? median(r.mmsurv) : null, t = r.torch.length ? median(r.torch) : null;
  const floor = r.what.startsWith('step') && matmulRate ? stepFlops(r.extra.model, r.extra.patches, r.extra.batch) / (matmulRate.gflops * 1e6) : null;
  const item = { ...r, mmsurvMedian: m, torchMedian: t, ratio: m !== null && t ? m / t : null, floorMs: floor, mmsurvRssMax: r.mmsurvRss.length ? Math.max(...r.mmsurvRss) : null, torchRssMax: r.torchRss.length ? Math.max(...r.torchRss) : null };
  out.push(item);
  lines.push(`| ${r.what} | ${r.shape} | ${fmt(m, r.unit)} ${r.unit} | ${fmt(t, r.unit)} ${r.unit} | ${item.ratio === null ? '-' : item.ratio.toFixed(2) + 'x'} | ${fmt(item.mmsurvRssMax)} / ${fmt(item.torchRssMax)} | ${floor === null ? '-' : floor.toFixed(0)} | ${floor === null || m === null ? '-' : (m / floor).toFixed(2) + 'x'} |`);
}
console.log(lines.join('\n'));
const cv = out.find((r) => r.what.startsWith('5-fold CV'));
if (cv?.ratio) console.log(`cv_wall_ratio: ${cv.ratio.toFixed(2)}`);

const git = (a) => { try { return execFileSync('git', a, { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { return 'unknown'; } };
const worker = lastJson(measured('node', ['bench/mmsurv/bench-worker.mjs', 'matmul', '--patches', '64', '--warmup', '0', '--repeats', '1']).stdout);
const meta = {
  date: new Date().toISOString(), commit: git(['rev-parse', '--short', 'HEAD']), dirty: git(['status', '--porcelain']) !== '',
  cpu: `${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores`, memory_gb: Math.round(totalmem() / 2 ** 30),
  node: process.version, tfjs: worker.tfjs, backend: 'wasm', matmul: worker.matmul, torch: torchVersion,
  openblas_coretype: process.env.OPENBLAS_CORETYPE ?? null, repeats: R, quick, matmul_rate_gflops: matmulRate?.gflops ?? null,
};
const json = { meta, matmulRate, cv: cvInfo, rows: out };
writeFileSync(join(CACHE, 'results.json.tmp'), JSON.stringify(json, null, 2) + '\n');
renameSync(join(CACHE, 'results.json.tmp'), join(CACHE, 'results.json'));
if (o['no-write'] || quick) { log('bench/RESULTS.md not written (--quick or --no-write); raw numbers in bench/.cache/results.json'); process.exit(0); }

const section = [
  '<!-- bench:torch:start -->',
  `Measured by \`npm run bench\` on ${meta.date.slice(0, 10)} (commit ${meta.commit}${meta.dirty ? ', uncommitted changes' : ''}): ${meta.cpu}, ${meta.memory_gb} GiB; Node ${meta.node}, tfjs ${meta.tfjs} on ${meta.backend} with ${meta.matmul}; PyTorch ${meta.torch} (Debian python3-torch, CPU, OpenBLAS)${meta.openblas_coretype ? `; the machine sets OPENBLAS_CORETYPE=${meta.openblas_coretype} for both` : ''}. Medians of ${R} interleaved repeats (CV: ${cvInfo?.repeats ?? '-'}, ${cvInfo?.epochs ?? '-'} epoch(s); order flipped each repeat); a step or inference repeat is the median of 5 (3) timed calls after warm-ups, in a fresh process. Floor = the step's matmul FLOPs / ${matmulRate ? matmulRate.gflops.toFixed(1) : '-'} GFLOP/s (best sgemm rate measured at the step's input-layer shapes, 1 thread). Peak RSS = largest process (/usr/bin/time %M).`,
  '',
  ...lines,
  '',
  ...(cv?.ratio ? [`cv_wall_ratio: ${cv.ratio.toFixed(2)}`] : []),
  '<!-- bench:torch:end -->',
].join('\n');
const file = join(ROOT, 'bench', 'RESULTS.md');
const text = readFileSync(file, 'utf8');
const [a, b] = [text.indexOf('<!-- bench:torch:start -->'), text.indexOf('<!-- bench:torch:end -->')];
const next = a >= 0 && b > a ? text.slice(0, a) + section + text.slice(b + '<!-- bench:torch:end -->'.length) : `${text.trimEnd()}\n\n## mmsurv vs PyTorch (issue 8)\n\n${section}\n`;
writeFileSync(file + '.tmp', next);
renameSync(file + '.tmp', file);
log('wrote bench/RESULTS.md and bench/.cache/results.json');
