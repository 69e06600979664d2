// RNA + clinical on the real myeloma cohort (survminer::myeloma, tests/fixtures/cohorts/survminer_myeloma.csv:
// 256 patients, 6 genes, molecular group, chr1q21 status; treatment is the same for all): mmsurv 5-fold CV beside R coxph on the
// same folds. Usage (after `npm run build`; needs Rscript with survival and jsonlite):
//   node bench/myeloma-vs-coxph.mjs [--seed 1]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'core', 'cli', 'bin.js');
const seed = Number(process.argv[process.argv.indexOf('--seed') + 1] || 1);
const csv = join(root, 'tests', 'fixtures', 'cohorts', 'survminer_myeloma.csv');
const work = join(root, 'bench', '.work', `myeloma-s${seed}`);
rmSync(work, { recursive: true, force: true });
mkdirSync(join(work, 'cohort'), { recursive: true });

const lines = readFileSync(csv, 'utf8').trim().split('\n');
const header = lines[0].split(',').map((h) => h.replace(/"/g, ''));
const genes = ['CCND1', 'CRIM1', 'DEPDC1', 'IRF4', 'TP53', 'WHSC1'];
const all = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v.replace(/"/g, '')])));
// mmsurv labels need time > 0 (DESIGN.md 6); the patients with time 0 are left out of both fits
const rows = all.filter((r) => Number(r.time) > 0);
const kept = join(work, 'myeloma-time-positive.csv');
writeFileSync(kept, [lines[0], ...lines.slice(1).filter((_, i) => Number(all[i].time) > 0)].join('\n') + '\n');
writeFileSync(join(work, 'cohort', 'rna.tsv'), ['case_id\t' + genes.join('\t'), ...rows.map((r) => [r.sample_id, ...genes.map((g) => r[g])].join('\t'))].join('\n') + '\n');
writeFileSync(join(work, 'cohort', 'cohort.json'), JSON.stringify({
  format: 'mmsurv-manifest', version: 1, name: 'myeloma', timeUnit: 'months', rnaMatrix: 'rna.tsv',
  cases: rows.map((r) => ({
    id: r.sample_id,
    label: { time: Number(r.time), event: r.event === '1' },
    clinical: { molecular_group: r.molecular_group, chr1q21_status: r.chr1q21_status, treatment: r.treatment },
  })),
}, null, 1));
const config = {
  name: 'myeloma-rna-clinical',
  data: { format: 'manifest', root: 'cohort' },
  encoders: { rna: { type: 'mlp', dims: [16], dropout: 0, scale: 'standard' }, clinical: { type: 'tabular', outDim: null } },
  fusion: { type: 'concat' },
  head: { type: 'cox' },
  train: { folds: 5, epochs: 60, batchSize: 32, optimizer: 'adamw', lr: 0.003, weightDecay: 0.01, seed, selection: 'last' },
};
writeFileSync(join(work, 'experiment.json'), JSON.stringify(config, null, 2));
execFileSync('node', [cli, 'train', '--config', join(work, 'experiment.json'), '--out', join(work, 'run'), '--quiet'], { stdio: 'inherit' });
const s = JSON.parse(readFileSync(join(work, 'run', 'summary.json'), 'utf8'));
const r = JSON.parse(execFileSync('Rscript', [join(root, 'bench', 'myeloma-coxph.R'), kept, join(work, 'run')], { encoding: 'utf8' }));
console.log(`\nmyeloma (n = ${rows.length} of ${all.length}: ${all.length - rows.length} with time 0 left out), seed ${seed}, the same 5 folds (splits.json of the run)\n`);
console.log('| fold | mmsurv C | R coxph C |');
console.log('|---:|---:|---:|');
s.folds.forEach((f, i) => console.log(`| ${f.fold} | ${f.c_index.toFixed(4)} | ${r.c_index[i].toFixed(4)} |`));
console.log(`| mean +- sd | ${s.c_index_mean.toFixed(4)} +- ${s.c_index_sd.toFixed(4)} | ${r.mean.toFixed(4)} +- ${r.sd.toFixed(4)} |`);
console.log(`\ndifference (mmsurv - coxph): ${(s.c_index_mean - r.mean).toFixed(4)}; backend ${s.backend}, ${s.seconds.toFixed(0)} s; R survival ${r.survival}`);
