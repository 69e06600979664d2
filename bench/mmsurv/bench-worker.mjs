/**
 * mmsurv side of the PyTorch benchmark (issue 8): one process, one measurement, one JSON object on stdout.
 * Mirrors bench/torch/train_bench.py's step and infer modes (same presets, same synthetic shapes) and measures the
 * native matmul rate the step floor is computed from. Run after `npm run build`; one tfjs (wasm) thread and one BLAS
 * thread unless MMSURV_BLAS_THREADS says otherwise.
 *
 *   node bench/mmsurv/bench-worker.mjs step   --model chimera-bilinear --patches 4096 [--batch-size 2] [--repeats 7]
 *   node bench/mmsurv/bench-worker.mjs infer  --model chimera-bilinear --patches 100000 [--repeats 3]
 *   node bench/mmsurv/bench-worker.mjs matmul --patches 4096   (sgemm GFLOP/s at the ABMIL input layer's shapes)
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const dist = resolve(import.meta.dirname, '..', '..', 'dist', 'core');
const { selectBackend } = await import(join(dist, 'backend/select.js'));
const { describeNativeMatmul } = await import(join(dist, 'backend/native-matmul.js'));
const { resolveAndValidate } = await import(join(dist, 'config/validate.js'));
const { registerCoreComponents } = await import(join(dist, 'data/register.js'));
const { buildContext, createRootContainer, createRunContainer } = await import(join(dist, 'di/container.js'));
const { SurvivalModel } = await import(join(dist, 'model/survival-model.js'));
const { loadRegistries } = await import(join(dist, 'registry/loader.js'));
const { MemoryLogger } = await import(join(dist, 'services/logger.js'));
const { StreamProgress } = await import(join(dist, 'services/progress.js'));
const { Optimizer } = await import(join(dist, 'train/optimizer.js'));
const { SeededRandom } = await import(join(dist, 'services/random.js'));

const ROOT = resolve(import.meta.dirname, '..', '..');
const PRESETS = {
  abmil: { _base_: join(ROOT, 'plugins/common/presets/abmil.json'), head: { _delete_: true, type: 'cox' } },
  'chimera-bilinear': { _base_: join(ROOT, 'plugins/chimera-bilinear/preset.json') },
};

const { positionals, values: a } = parseArgs({
  allowPositionals: true,
  options: {
    model: { type: 'string', default: 'chimera-bilinear' }, patches: { type: 'string', default: '4096' },
    'feature-dim': { type: 'string', default: '1024' }, genes: { type: 'string', default: '400' },
    'clinical-dim': { type: 'string', default: '27' }, 'batch-size': { type: 'string' },
    warmup: { type: 'string', default: '3' }, repeats: { type: 'string', default: '7' }, seed: { type: 'string', default: '0' },
  },
});
const mode = positionals[0];
if (!['step', 'infer', 'matmul'].includes(mode)) {
  console.error(`usage: bench-worker.mjs step|infer|matmul [--model abmil|chimera-bilinear] [--patches N] ... (found mode '${mode ?? ''}')`);
  process.exit(2);
}
if (!PRESETS[a.model]) { console.error(`--model: expected one of ${Object.keys(PRESETS).join(', ')}, found '${a.model}'`); process.exit(2); }
const N = Number(a.patches), D = Number(a['feature-dim']), G = Number(a.genes), C = Number(a['clinical-dim']);
const warmup = Number(a.warmup), repeats = Number(a.repeats);

await selectBackend({ prefer: 'wasm' });
const matmul = describeNativeMatmul();

function timed(fn) {
  for (let i = 0; i < warmup; i++) fn();
  const ts = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  const s = [...ts].sort((x, y) => x - y);
  return { median_ms: s[Math.floor(s.length / 2)], min_ms: s[0], max_ms: s[s.length - 1], repeats, warmup, times_ms: ts };
}

const rss = () => process.resourceUsage().maxRSS / 1024; // MB

function out(result) {
  process.stdout.write(JSON.stringify({ mode, model: a.model, patches: N, feature_dim: D, ...result, matmul, peak_rss_mb: rss(), node: process.version, tfjs: tf.version_core }) + '\n');
}

if (mode === 'matmul') {
  // the input layer [N, D] x [D, 512] forward (NN) and its weight gradient [D, N] x [N, 512] (TN), as the step runs them
  const x = tf.randomNormal([N, D], 0, 1, 'float32', 1), w = tf.randomNormal([D, 512], 0, 1, 'float32', 2), dy = tf.randomNormal([N, 512], 0, 1, 'float32', 3);
  const flops = 2 * N * D * 512;
  const nn = timed(() => { const y = tf.matMul(x, w); y.dataSync(); y.dispose(); });
  const tn = timed(() => { const y = tf.matMul(x, dy, true, false); y.dataSync(); y.dispose(); });
  out({ nn_gflops: flops / nn.median_ms / 1e6, tn_gflops: flops / tn.median_ms / 1e6, nn, tn });
  process.exit(0);
}

const registries = await loadRegistries({ builtins: registerCoreComponents });
const dir = mkdtempSync(join(tmpdir(), 'mmsurv-bench-'));
writeFileSync(join(dir, 'config.json'), JSON.stringify(PRESETS[a.model]));
const { config } = await resolveAndValidate(join(dir, 'config.json'), registries, {});
rmSync(dir, { recursive: true, force: true });
const backend = await selectBackend({ prefer: 'wasm' });
const root = createRootContainer({ logger: new MemoryLogger(), progress: new StreamProgress({ quiet: true }), registries, backend });
const container = createRunContainer(root, { seed: Number(a.seed) });
const rng = new SeededRandom(Number(a.seed) + 17);
const genes = Array.from({ length: G }, (_, i) => `g${i}`);
const normal = (n) => { const v = new Float32Array(n); for (let i = 0; i < n; i++) v[i] = rng.normal(); return v; };
function syntheticCase(i, patches) {
  const clinical = {};
  for (let j = 0; j < C; j++) clinical[`c${j}`] = rng.normal();
  return {
    id: `case-${i}`, label: { time: i + 1, event: i % 2 === 0 },
    wsi: [{ slideId: `slide-${i}`, n: patches, dim: D, features: normal(patches * D) }],
    rna: { genes, values: normal(G) }, clinical,
  };
}
const model = SurvivalModel.create(registries, config, container);
const settings = config.train;
const batchSize = Number(a['batch-size'] ?? settings.batchSize);

if (mode === 'step') {
  const batch = Array.from({ length: Math.max(batchSize, 2) }, (_, i) => syntheticCase(i, N)).slice(0, batchSize);
  await model.prepare(batch);
  model.fit(batch.length > 1 ? batch : [...batch, syntheticCase(1, 8)]);
  const vars = model.variables;
  const opt = new Optimizer(settings.optimizer, vars, { weightDecay: settings.weightDecay });
  const before = tf.memory().numTensors;
  const r = timed(() => {
    const { value, grads } = tf.variableGrads(() => model.loss(batch, 'train'), vars);
    value.dataSync();
    value.dispose();
    const g = vars.map((v) => grads[v.name] ?? null);
    opt.apply(g, settings.lr);
    tf.dispose(Object.values(grads));
  });
  const leaked = tf.memory().numTensors - before;
  out({ ...r, batch_size: batchSize, degenerate_cox_batch: batchSize < 2, parameters: vars.reduce((s, v) => s + v.size, 0), leaked_tensors: leaked });
} else {
  const fitCases = Array.from({ length: 8 }, (_, i) => syntheticCase(i, 16));
  await model.prepare(fitCases);
  model.fit(fitCases);
  const big = syntheticCase(99, N);
  await model.prepare([big]);
  const r = timed(() => { model.predict([big]); });
  out({ ...r, bag_mb: (N * D * 4) / 2 ** 20 });
}
