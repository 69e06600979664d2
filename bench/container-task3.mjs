// The CHIMERA Task 3 submission path, timed end to end on this machine: synthetic training slides -> mmsurv extract
// (a small tfjs CNN) -> mmsurv train -> mmsurv package (CPU target on the offline base image) -> mmsurv
// test-container over synthetic /input cases, plus the same cases through `mmsurv infer` on the host.
// Usage (after `npm run build`, with dockerd running and containers/base-image/make-base-image.sh done):
//   node bench/container-task3.mjs [--train 60] [--cases 22] [--patch-px 32] [--max-patches 40]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'core', 'cli', 'bin.js');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const nTrain = Number(arg('train', '60'));
const nCases = Number(arg('cases', '22'));
const patchPx = arg('patch-px', '32');
const maxPatches = arg('max-patches', '40');
const base = arg('base-image', 'mmsurv-base:bookworm-node20');
const work = join(root, 'bench', '.work', 'container-task3');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const tag = 'mmsurv-bench-task3:latest';

const timings = {};
const run = (name, args, opts = {}) => {
  const t0 = Date.now();
  const out = execFileSync('node', [cli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...opts });
  timings[name] = (Date.now() - t0) / 1000;
  return out;
};

const small = ['--seed', '3', '--min-patches', '16', '--max-patches', maxPatches, '--genes', '40', '--slide-patch-px', patchPx];
run('synth (train slides)', ['synth', '--out', join(work, 'train'), '--layout', 'chimera-task3', '--slides', '--cases', String(nTrain), ...small, '--quiet']);
run('synth (input cases)', ['synth', '--out', join(work, 'input'), '--layout', 'chimera-task3-input', '--cases', String(nCases), '--first-case', String(nTrain), ...small, '--quiet']);

// the patch encoder: a small CNN written with tfjs through mmsurv's model-folder saver
const encoderDir = join(work, 'encoder');
mkdirSync(encoderDir, { recursive: true });
const tf = await import('@tensorflow/tfjs');
const { modelFolderSaver } = await import(join(root, 'dist', 'core', 'slide', 'tfjs-model-files.js'));
await tf.setBackend('cpu');
const p = Number(patchPx);
const cnn = tf.sequential({ layers: [
  tf.layers.conv2d({ inputShape: [p, p, 3], filters: 8, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }) }),
  tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 8 }) }),
  tf.layers.globalAveragePooling2d({}),
] });
await cnn.save(modelFolderSaver(join(encoderDir, 'cnn')));
writeFileSync(join(encoderDir, 'encoder.json'), JSON.stringify({ type: 'tfjs', modelDir: 'cnn', patchSize: p, targetMpp: 1, minTissue: 0.5, maxPatches: 3000 }));

run('extract (train slides)', ['extract', '--slides', join(work, 'train'), '--out', join(work, 'train', 'features'), '--encoder', join(encoderDir, 'encoder.json'), '--quiet']);
writeFileSync(join(work, 'experiment.json'), JSON.stringify({
  name: 'bench-task3', data: { format: 'chimera-task3', root: join(work, 'train') },
  encoders: { wsi: { type: 'abmil', dim: 32, attentionDim: 16, dropout: 0 }, rna: { type: 'mlp', dims: [16], scale: 'standard' }, clinical: { type: 'tabular' } },
  fusion: { type: 'concat' }, head: { type: 'cox' },
  train: { folds: 3, epochs: 4, batchSize: 8, lr: 0.003, seed: 1, selection: 'last' },
}));
run('train (3 folds x 4 epochs)', ['train', '--config', join(work, 'experiment.json'), '--out', join(work, 'run'), '--quiet']);
run('package --target cpu (npm ci + docker build)', ['package', '--run', join(work, 'run'), '--challenge', 'chimera-task3', '--target', 'cpu', '--base-image', base, '--tag', tag, '--out', join(work, 'ctx'), '--quiet']);
const t0 = Date.now();
const report = JSON.parse(run('test-container', ['test-container', '--challenge', 'chimera-task3', '--image', tag, '--cases', join(work, 'input'), '--memory', '4g', '--json']));
const hostSeconds = [];
for (const id of readdirSync(join(work, 'input'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)) {
  const out = join(work, 'host-out', id);
  mkdirSync(out, { recursive: true });
  const h0 = Date.now();
  execFileSync('node', [cli, 'infer', '--model', join(work, 'ctx', 'model'), '--input', join(work, 'input', id), '--output', out, '--quiet']);
  hostSeconds.push((Date.now() - h0) / 1000);
}
const size = Number(execFileSync('docker', ['image', 'inspect', '--format', '{{.Size}}', tag], { encoding: 'utf8' }).trim());
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const secs = report.cases.map((c) => c.seconds);
const peaks = report.cases.map((c) => c.peak_mb ?? 0);
console.log('\n| step | seconds |\n|---|---:|');
for (const [k, v] of Object.entries(timings)) console.log(`| ${k} | ${v.toFixed(1)} |`);
console.log(`\nimage ${tag}: ${(size / 1e6).toFixed(0)} MB; ${report.cases.length} cases, ${report.failed} failed; ` +
  `per case in Docker: median ${med(secs).toFixed(2)} s (min ${Math.min(...secs).toFixed(2)}, max ${Math.max(...secs).toFixed(2)}), ` +
  `peak memory median ${med(peaks).toFixed(0)} MB (max ${Math.max(...peaks).toFixed(0)}); same cases with mmsurv infer on the host: median ${med(hostSeconds).toFixed(2)} s; ` +
  `metric ${report.metric?.map((m) => `${m.name} ${m.value.toFixed(4)}`).join(', ')}; ${((Date.now() - t0) / 1000).toFixed(0)} s for both passes`);
execFileSync('docker', ['image', 'rm', '-f', tag], { stdio: 'ignore' });
