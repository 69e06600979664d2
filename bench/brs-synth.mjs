// 5-fold cross-validation of the CHIMERA Task 2 preset (plugins/common/presets/abmil-brs.json: BRS3 vs BRS1/2) on a
// synthetic CHIMERA cohort, compared with its oracle AUC (the AUC of the true P(BRS3) the labels were drawn with) and
// with the weighted F1 of always answering the majority class (what a model must beat at threshold 0.5).
//
//   npm run build && node bench/brs-synth.mjs [--cases 300] [--seed 1] [--difficulty default|easy|hard] [--workers 2]
//
// Writes under bench/.work/ (gitignored); prints a Markdown table for bench/RESULTS.md.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'core', 'cli', 'bin.js');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const cases = Number(arg('cases', '300'));
const seed = Number(arg('seed', '1'));
const workers = arg('workers', '2');
const difficulty = arg('difficulty', 'default');
if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);

const work = join(root, 'bench', '.work');
const cohort = join(work, `synth-chimera-${cases}-s${seed}${difficulty === 'default' ? '' : `-${difficulty}`}`);
if (!existsSync(join(cohort, 'synth.json')) || JSON.parse(readFileSync(join(cohort, 'synth.json'), 'utf8')).status !== 'complete') {
  execFileSync('node', [cli, 'synth', '--out', cohort, '--cases', String(cases), '--seed', String(seed), '--layout', 'chimera-task3', '--difficulty', difficulty, '--quiet'], { stdio: 'inherit' });
}
const synth = JSON.parse(readFileSync(join(cohort, 'synth.json'), 'utf8')).summary;
const dir = join(work, `abmil-brs-n${cases}-s${seed}${difficulty === 'default' ? '' : `-${difficulty}`}`);
mkdirSync(dir, { recursive: true });
const file = join(dir, 'experiment.json');
writeFileSync(file, JSON.stringify({ _base_: join(root, 'plugins/common/presets/abmil-brs.json'), data: { format: 'chimera-task2', root: cohort }, train: { seed } }, null, 2));
const t0 = Date.now();
execFileSync('node', [cli, 'train', '--config', file, '--out', join(dir, 'run'), '--workers', workers, '--resume'], { stdio: 'inherit' });
const s = JSON.parse(readFileSync(join(dir, 'run', 'summary.json'), 'utf8'));
const minutes = (Date.now() - t0) / 60000;

// majority class: every case negative (BRS1/2); per fold, weighted F1 = share of negatives x F1 of the negatives
const majority = s.folds.map((f) => {
  const neg = f.n_val - f.positives_val;
  return (neg / f.n_val) * ((2 * neg) / (2 * neg + f.positives_val));
});
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const f4 = (x) => (x === null || x === undefined ? '-' : x.toFixed(4));
console.log(`\ncohort: ${cases} cases, seed ${seed}, difficulty ${difficulty}, ${synth.brs3} BRS3 of ${synth.brsKnown} with a BRS value, oracle AUC ${f4(synth.oracleBrsAuc)}\n`);
console.log('| preset | AUC (mean +- sd) | AUC / oracle | pooled oof AUC | weighted F1 (mean +- sd) | majority-class F1 | log loss | minutes | backend |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---|');
console.log(`| abmil-brs | ${f4(s.auc_mean)} +- ${f4(s.auc_sd)} | ${(s.auc_mean / synth.oracleBrsAuc).toFixed(3)} | ${f4(s.auc_pooled_oof)} | ${f4(s.f1_weighted_mean)} +- ${f4(s.f1_weighted_sd)} | ${f4(mean(majority))} | ${f4(s.log_loss_mean)} | ${minutes.toFixed(1)} | ${s.backend} |`);
