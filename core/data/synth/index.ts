/**
 * Synthetic multimodal survival cohorts with a known hazard: the yardstick users compare their models against.
 *
 * Generative model (per case i, from `new SeededRandom(seed).fork('synth').fork('case/' + i)`, so adding cases
 * never changes the earlier ones, and both layouts hold the same cases for the same seed):
 * - Latent state z ~ N(0, I_3). Difficulty sets the signal s (easy 1.6, default 1.0, hard 0.5), which scales the
 *   true risk and the dependence of every modality on z.
 * - Clinical (CHIMERA Task 3 keys and categories): stage T1HG, grade G3, substage T1e, LVI and BRS3 are more
 *   likely with a higher latent prognosis u = beta.z/|beta|; the others are noise; ~8 % of fields are -1 (missing).
 * - True risk (log-hazard ratio) = s * (beta . z + 0.3 [T1HG] + 0.25 [G3]), beta = (0.9, 0.6, 0.4).
 * - Event time T ~ Weibull(shape 1.3, scale 160 * exp(-risk / 1.3)) months (proportional hazards, hazard ratio
 *   exp(risk)); censoring C ~ U(6, 160), administrative end 200; ~44 % events at default difficulty, median
 *   observed time ~44 months;
 *   time = max(0.5, round(min(T, C, 200), 0.1)), event = T <= min(C, 200).
 * - WSI bag (wsi.ts): n ~ U{minPatches..maxPatches} patches; 8 unit-norm prototypes in R^featureDim, prognostic
 *   prototype k in {0,1,2} has prevalence 0.3 sigmoid(-2 + 1.5 s z_k), the rest neutral; patch = prototype +
 *   N(0, 0.5^2) noise; int32 coords on a 224-px grid. Float32 features in CLAM-style HDF5.
 * - RNA (rna.ts): `genes` genes in 20 pathways (pathways.gmt); 4 pathways load on z (z0+, z1+, z2+, z0-):
 *   x = base + s * loading * z_k + noise; the others are noise.
 * - Report (report.ts): 2-3 sentences whose wording follows stage, grade, LVI and u.
 * The oracle C-index is Harrell's C of the true risk against the observed (time, event): what a perfect model of
 * the hazard would score on this cohort. truth.csv holds (id, time, event, true_risk); synth.json the options, the
 * summary, the model constants and the list of files written.
 *
 * Layouts: 'manifest' writes cohort.json, genes.txt, features/<id>.h5, rna/<id>.json, reports/<id>.txt;
 * 'chimera-task3' writes <pid>/<pid>_CD.json (with `progression`, `Time_to_prog_or_FUend`), <pid>/<pid>_RNA.json,
 * features/<pid>_HE.h5 and, outside the CHIMERA layout proper, reports/<pid>.txt (readers of the layout ignore it);
 * with `slides`, <pid>/<pid>_HE.tif and <pid>/<pid>_HE_mask.tif (pyramidal TIFFs whose grid cells show the patches'
 * prototypes) replace the features: `mmsurv extract` makes features from them. Both write pathways.gmt.
 * 'chimera-task3-input' writes each case as the /input of a CHIMERA Task 3 container job (<pid>/inputs.json, the
 * slide and mask under images/, the RNA and clinical JSON without labels) and labels.json ({pid: {time, event}})
 * for `mmsurv test-container`; 'chimera-task2-input' the same for Task 2 (slide, mask and clinical without BRS) with
 * labels.json {pid: {label: 1 for BRS3, 0 for BRS1/2}} (cases whose BRS is missing are left out of it).
 * BRS is drawn as BRS3 with probability sigmoid(-0.8 + 0.8 s u) (clinical.ts); `oracleBrsAuc` is the ROC AUC of that
 * probability against the drawn BRS3 labels: what a perfect BRS3 classifier scores on the cohort. All write truth.csv
 * and synth.json. `firstCase` offsets the case indices, so one seed
 * gives disjoint training and test cohorts from the same model.
 *
 * @example
 * const summary = await synthesizeCohort({ out: 'data/demo', cases: 120, seed: 1, layout: 'manifest' });
 * console.log(summary.oracleCIndex); // ~0.74 at default difficulty
 */
import { join, resolve } from 'node:path';
import type { ProgressReporter } from '../../contracts/progress.js';
import type { RandomSource } from '../../contracts/random-source.js';
import { SeededRandom } from '../../services/random.js';
import { writeFileAtomic } from '../../services/run-store.js';
import { rocAuc } from '../../classification/metrics.js';
import { harrellC } from '../../survival/concordance.js';
import { reverseKmMedian } from '../summary.js';
import { drawClinical } from './clinical.js';
import {
  ADMIN_END, BETA, CENSOR_MAX, CENSOR_MIN, CLINICAL_EFFECT, DIFFICULTY_SIGNAL, SYNTH_GENERATOR_VERSION, WEIBULL_SCALE0, WEIBULL_SHAPE,
  drawLatent, drawOutcome, latentPrognosis, resolveSynthOptions, trueRisk,
  type ResolvedSynthOptions, type SynthDifficulty, type SynthLayout, type SynthOptions,
} from './model.js';
import { drawReport } from './report.js';
import { drawExpression, makeGeneModel, toGmt, type GeneModel } from './rna.js';
import {
  CohortFileWriter, SYNTH_GENERATOR, SYNTH_MARKER, caseFiles, prepareOutDir, removeStaleFiles, truthCsv,
  writeChimeraCase, writeManifestCase, writeTask2InputCase, writeTask3InputCase, type SynthCase,
} from './write.js';
import { PROGNOSTIC_PROTOTYPES, drawBag, makePrototypes } from './wsi.js';

export type { SynthDifficulty, SynthLayout, SynthOptions } from './model.js';
export { SYNTH_GENERATOR_VERSION } from './model.js';

export interface SynthSummary {
  /** Absolute path of the cohort folder. */
  out: string;
  layout: SynthLayout;
  cases: number;
  events: number;
  censoredFraction: number;
  /** Median follow-up in months by reverse Kaplan-Meier; null when not reached. */
  medianFollowUp: number | null;
  /** Harrell's C of true_risk; NaN when the cohort has no comparable pair (e.g. no event at all). */
  oracleCIndex: number;
  /** Cases whose BRS is BRS3 (the positive class of Task 2), and cases with a BRS value at all. */
  brs3: number;
  brsKnown: number;
  /** ROC AUC of the true P(BRS3) against the drawn BRS3 labels; NaN when one class is absent. */
  oracleBrsAuc: number;
  seed: number;
  difficulty: SynthDifficulty;
  /** Number of files written, synth.json included. */
  files: number;
}

/** The cohort-level parts of the model (shared by all cases): patch prototypes and the gene model. */
export interface SynthCohortModel {
  /** [8, featureDim] row-major unit-norm prototypes; rows PROGNOSTIC_PROTOTYPES follow z_0, z_1, z_2. */
  prototypes: Float32Array;
  genes: GeneModel;
}

/** The cohort-level model a seed gives (for analyses and tests that need the truth behind the features). */
export function synthCohortModel(seed: number, featureDim: number, genes: number): SynthCohortModel {
  const root = new SeededRandom(seed).fork('synth');
  return { prototypes: makePrototypes(root.fork('prototypes'), featureDim), genes: makeGeneModel(root.fork('genes'), genes) };
}

function caseIdentity(root: RandomSource, i: number, o: ResolvedSynthOptions): { id: string; cohort: string } {
  const cohort = root.fork(`case/${i}`).fork('id').uniform() < 125 / 176 ? '3A' : '3B';
  const id = o.layout !== 'manifest'
    ? `${cohort}_${String(i + 1).padStart(3, '0')}`
    : `case-${String(i + 1).padStart(Math.max(4, String(o.cases).length), '0')}`;
  return { id, cohort };
}

function generateCase(root: RandomSource, i: number, ident: { id: string; cohort: string }, o: ResolvedSynthOptions,
  model: SynthCohortModel): SynthCase {
  const s = DIFFICULTY_SIGNAL[o.difficulty];
  const rng = root.fork(`case/${i}`);
  const z = drawLatent(rng.fork('latent'));
  const u = latentPrognosis(z);
  const clinical = drawClinical(rng.fork('clinical'), u, s);
  const risk = trueRisk(z, clinical.stageT1HG, clinical.gradeG3, s);
  const outcome = drawOutcome(rng.fork('outcome'), risk);
  const bag = drawBag(rng.fork('wsi'), z, s, model.prototypes, o.featureDim, o.minPatches, o.maxPatches);
  const expression = drawExpression(rng.fork('rna'), model.genes, z, s);
  const report = drawReport(rng.fork('report'), u, clinical.record, clinical.stageT1HG, clinical.gradeG3);
  return { index: i, ...ident, z, trueRisk: risk, outcome, clinical, bag, expression, report };
}

const COHORT_FILES: Record<SynthLayout, string[]> = {
  manifest: ['cohort.json', 'genes.txt', 'pathways.gmt', 'truth.csv'],
  'chimera-task3': ['pathways.gmt', 'truth.csv'],
  'chimera-task3-input': ['labels.json', 'truth.csv'],
  'chimera-task2-input': ['labels.json', 'truth.csv'],
};

/** Generate a synthetic cohort into `out` (see the file comment); returns its summary. */
export async function synthesizeCohort(options: SynthOptions & { progress?: ProgressReporter }): Promise<SynthSummary> {
  const o = resolveSynthOptions(options);
  const out = resolve(o.out);
  const previous = await prepareOutDir(out);
  const root = new SeededRandom(o.seed).fork('synth');
  const model = synthCohortModel(o.seed, o.featureDim, o.genes);
  const idents = Array.from({ length: o.cases }, (_, i) => caseIdentity(root, o.firstCase + i, o));
  const { progress: _progress, ...recordedOptions } = { ...options, ...o };
  const header = { generator: SYNTH_GENERATOR, version: SYNTH_GENERATOR_VERSION, options: recordedOptions };

  // Mark the folder before writing: an interrupted run leaves a synth.json that lists every file it may have
  // written, so the next run can take the folder over and clean up.
  const planned = new Set([...previous, ...COHORT_FILES[o.layout], ...idents.flatMap((c) => caseFiles(o.layout, c.id, o.slides))]);
  await writeFileAtomic(join(out, SYNTH_MARKER),
    JSON.stringify({ ...header, status: 'writing', files: [...planned].sort() }, null, 2) + '\n');

  const w = new CohortFileWriter(out);
  const task = options.progress?.start(`synthesizing ${o.cases} cases`, o.cases);
  const truth: { id: string; time: number; event: boolean; trueRisk: number }[] = [];
  const brs: { id: string; positive: boolean; p: number }[] = [];
  const entries: unknown[] = [];
  try {
    for (let i = 0; i < o.cases; i++) {
      const c = generateCase(root, o.firstCase + i, idents[i]!, o, model);
      const slides = o.slides ? { slidePatchPx: o.slidePatchPx, slideMpp: o.slideMpp, seed: o.seed } : undefined;
      if (o.layout === 'manifest') entries.push(await writeManifestCase(w, c, model.genes.genes));
      else if (o.layout === 'chimera-task3-input') await writeTask3InputCase(w, c, model.genes.genes, slides!);
      else if (o.layout === 'chimera-task2-input') await writeTask2InputCase(w, c, slides!);
      else await writeChimeraCase(w, c, model.genes.genes, slides);
      truth.push({ id: c.id, time: c.outcome.time, event: c.outcome.event, trueRisk: c.trueRisk });
      const b = c.clinical.record.BRS;
      if (b !== -1) brs.push({ id: c.id, positive: b === 'BRS3', p: c.clinical.brs3Probability });
      task?.tick();
    }
  } finally {
    task?.done();
  }
  if (o.layout === 'chimera-task3-input') await w.json('labels.json', Object.fromEntries(truth.map((t) => [t.id, { time: t.time, event: t.event ? 1 : 0 }])));
  else if (o.layout === 'chimera-task2-input') await w.json('labels.json', Object.fromEntries(brs.map((b) => [b.id, { label: b.positive ? 1 : 0 }])));
  else await w.text('pathways.gmt', toGmt(model.genes));
  await w.text('truth.csv', truthCsv(truth));
  if (o.layout === 'manifest') {
    await w.text('genes.txt', model.genes.genes.join('\n') + '\n');
    await w.json('cohort.json', {
      format: 'mmsurv-manifest', version: 1, name: `synth-seed${o.seed}-${o.difficulty}`, timeUnit: 'months',
      geneOrder: 'genes.txt', cases: entries,
    });
  }

  const times = truth.map((t) => t.time);
  const events = truth.map((t) => t.event);
  let oracleCIndex = Number.NaN;
  try {
    oracleCIndex = harrellC(times, events, truth.map((t) => t.trueRisk)).cIndex;
  } catch {
    // no comparable pair (a tiny cohort without events): the oracle C-index is undefined
  }
  let oracleBrsAuc = Number.NaN;
  try {
    oracleBrsAuc = rocAuc(brs.map((b) => (b.positive ? 1 : 0)), brs.map((b) => b.p));
  } catch {
    // one class only
  }
  const nEvents = events.filter(Boolean).length;
  await removeStaleFiles(out, previous, w.files);
  const files = [...w.files, SYNTH_MARKER].sort();
  const summary: SynthSummary = {
    out, layout: o.layout, cases: o.cases, events: nEvents, censoredFraction: (o.cases - nEvents) / o.cases,
    medianFollowUp: reverseKmMedian(times, events), oracleCIndex,
    brs3: brs.filter((b) => b.positive).length, brsKnown: brs.length, oracleBrsAuc, seed: o.seed, difficulty: o.difficulty,
    files: files.length,
  };
  const truthModel = {
    beta: BETA, clinicalEffect: CLINICAL_EFFECT, signal: DIFFICULTY_SIGNAL[o.difficulty],
    weibull: { shape: WEIBULL_SHAPE, scale0: WEIBULL_SCALE0 }, censoring: { uniform: [CENSOR_MIN, CENSOR_MAX], adminEnd: ADMIN_END },
    prognosticPrototypes: PROGNOSTIC_PROTOTYPES,
    signalPathways: model.genes.pathways.filter((p) => p.signal).map((p) => ({ name: p.name, ...p.signal })),
  };
  await writeFileAtomic(join(out, SYNTH_MARKER),
    JSON.stringify({ ...header, status: 'complete', summary, model: truthModel, files }, null, 2) + '\n');
  return summary;
}
