// The knowledge ablation of the KEMM and LLM-distillation presets, as the papers make it: each preset's 5-fold
// C-index on a synthetic cohort whose report texts carry signal (core/data/synth/report.ts: the morphology sentence
// follows the latent prognosis), beside the same model without knowledge. Usage (after `npm run build`):
//   node bench/knowledge-ablation.mjs [--cases 200] [--seed 1] [--workers 2] [--epochs 10] [--only kemm,kemm-none,...]
// The LLMs are the tiny random-weight GGUF models the tests write (tests/support/tiny-gguf.ts, compiled here with
// tsc): the real llama.cpp runtime, but models that know nothing. Their refined reports and teacher answers are
// therefore noise, which is what those rows measure; with a real model the same configs run unchanged.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'core', 'cli', 'bin.js');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const cases = Number(arg('cases', '200'));
const seed = Number(arg('seed', '1'));
const workers = arg('workers', '2');
const epochs = Number(arg('epochs', '10'));

const work = join(root, 'bench', '.work');
const models = join(work, 'tiny-llm');
const tinyJs = join(work, 'tsc', 'tiny-gguf.js');
if (!existsSync(tinyJs)) {
  execFileSync('npx', ['tsc', join(root, 'tests', 'support', 'tiny-gguf.ts'), '--outDir', join(work, 'tsc'), '--module', 'NodeNext', '--moduleResolution', 'NodeNext',
    '--target', 'ES2022', '--types', 'node', '--skipLibCheck'], { stdio: 'inherit', cwd: root });
}
const { writeTinyGguf } = await import(pathToFileURL(tinyJs).href);
const teacherGguf = join(models, 'teacher.gguf');
const studentGguf = join(models, 'student.gguf');
if (!existsSync(teacherGguf)) await writeTinyGguf(teacherGguf, { seed: 11 });
if (!existsSync(studentGguf)) await writeTinyGguf(studentGguf, { seed: 12 });
const tinyLlm = (model) => ({ type: 'llama-cpp', model, contextSize: 2048, threads: 1, gpu: false });

const train = { epochs, minEpochs: Math.min(5, epochs) };
const VARIANTS = {
  // KEMM as shipped: the report's own sentences + built-in bladder PBK, hashed embedder
  kemm: { base: 'plugins/kemm/preset.json' },
  // no knowledge: KECM attends with its learned query alone
  'kemm-none': { base: 'plugins/kemm/preset.json', knowledge: { _delete_: true } },
  // reports refined and PBK written by the tiny random model (noise in place of knowledge)
  'kemm-tiny-llm': {
    base: 'plugins/kemm/preset.json', llm: { local: tinyLlm(studentGguf) },
    knowledge: { report: { llm: 'local', maxTokens: 160 }, background: { llm: 'local', maxTokens: 160 } },
  },
  // LLM distillation as shipped, with the tiny models as teacher and student
  distill: { base: 'plugins/llm-distill/preset.json', llm: { teacher: tinyLlm(teacherGguf), student: tinyLlm(studentGguf) } },
  // the same student without knowledge: no teacher term, no verbalised curve (hidden-state head only)
  'distill-none': {
    base: 'plugins/llm-distill/preset.json', llm: { teacher: tinyLlm(teacherGguf), student: tinyLlm(studentGguf) },
    knowledge: { _delete_: true }, head: { distillWeight: 0, combine: 1 },
  },
  // the student's report pathway with the built-in hashed embedder instead of the tiny LLM's hidden states
  'distill-none-hashed': {
    base: 'plugins/llm-distill/preset.json', llm: { _delete_: true }, knowledge: { _delete_: true }, head: { distillWeight: 0, combine: 1 },
    encoders: { report: { embedder: { _delete_: true, type: 'hashed', dim: 512, ngrams: [1, 2], charTrigrams: false } } },
  },
};
const only = arg('only', Object.keys(VARIANTS).join(',')).split(',');

const cohort = join(work, `synth-${cases}-s${seed}`);
if (!existsSync(join(cohort, 'cohort.json'))) {
  execFileSync('node', [cli, 'synth', '--out', cohort, '--cases', String(cases), '--seed', String(seed), '--layout', 'manifest'], { stdio: 'inherit' });
}
const synth = JSON.parse(readFileSync(join(cohort, 'synth.json'), 'utf8'));
const oracle = synth.oracleCIndex ?? synth.summary?.oracleCIndex;
const rows = [];
for (const name of only) {
  const v = VARIANTS[name];
  if (!v) throw new Error(`--only: unknown variant '${name}'; known: ${Object.keys(VARIANTS).join(', ')}`);
  const dir = join(work, `ablation-${name}-n${cases}-s${seed}-e${epochs}`);
  mkdirSync(dir, { recursive: true });
  const { base, ...over } = v;
  const config = { _base_: join(root, base), name, data: { format: 'manifest', root: cohort }, ...over, train: { seed, ...train } };
  const file = join(dir, 'experiment.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  const t0 = Date.now();
  const kb = execFileSync('node', [cli, 'knowledge', 'build', '--config', file, '--quiet'], { cwd: root, encoding: 'utf8' });
  const tk = (Date.now() - t0) / 60000;
  execFileSync('node', [cli, 'train', '--config', file, '--out', join(dir, 'run'), '--workers', workers, '--resume', '--quiet'], { stdio: 'inherit' });
  const s = JSON.parse(readFileSync(join(dir, 'run', 'summary.json'), 'utf8'));
  rows.push({ name, c: s.c_index_mean, sd: s.c_index_sd, td: s.antolini_c_mean ?? s.c_td_mean, ibs: s.ibs_mean, ratio: s.c_index_mean / oracle, knowledge: tk, minutes: (Date.now() - t0) / 60000, calls: kb.match(/LLM calls: .*/)?.[0] ?? '' });
}
console.log(`\ncohort: ${cases} cases, seed ${seed}, oracle C-index ${oracle.toFixed(4)}; ${epochs} epochs per fold\n`);
console.log('| variant | C-index (mean +- sd) | C / oracle | IBS | knowledge build | minutes |');
console.log('|---|---:|---:|---:|---|---:|');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.c.toFixed(4)} +- ${r.sd.toFixed(4)} | ${r.ratio.toFixed(3)} | ${r.ibs?.toFixed(4) ?? '-'} | ${r.knowledge.toFixed(1)} min, ${r.calls} | ${r.minutes.toFixed(1)} |`);
}
