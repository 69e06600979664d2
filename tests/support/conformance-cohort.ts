/**
 * A tiny synthetic cohort for the component behaviour suite (tests/core/model/component-behaviour.test.ts): every
 * modality a component may read, with the awkward corners real cohorts have, small enough that a component with
 * default widths (256, 512) still runs in a fraction of a second.
 *
 * - wsi: 1-2 slides per case, 10-30 patches of width 8, features and coords loaded.
 * - rna: 40 genes (GENE01..GENE40); one probe case lists them in another order.
 * - clinical: numbers, categories, null and CHIMERA's -1 marker; one probe case has a category unseen in training.
 * - knowledge: 'clinical-prompt' texts (one per field) and a 'report'; `texts.report` too.
 * - labels: events and censoring at distinct times.
 * - training cases lacking modalities: one without rna, one with rna only (no wsi, clinical or texts).
 * Clinical prompts are made from the clinical record, so a case has knowledge texts exactly when it has clinical data.
 *
 * Everything is drawn from a SeededRandom, so the cohort is the same in every run.
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, ClinicalRecord, PatchBag } from '../../core/contracts/case.js';
import type { KnowledgeText } from '../../core/contracts/knowledge-source.js';
import type { SurvivalLabel } from '../../core/contracts/survival-label.js';
import { SeededRandom } from '../../core/services/random.js';

export const CONFORMANCE_WSI_DIM = 8;
export const CONFORMANCE_GENES: readonly string[] = Array.from({ length: 40 }, (_, i) => `GENE${String(i + 1).padStart(2, '0')}`);

export interface ConformanceCohort {
  /** 12 labelled training cases; two of them lack some modalities (rows 4 and 7). */
  train: Case[];
  /** Unseen cases with every modality: two slides, shuffled gene order, an unseen clinical category. */
  probe: Case[];
}

const STAGES = ['Ta', 'T1', 'T2', 'T3'];
const REPORTS = [
  'High-grade papillary urothelial carcinoma, invading the lamina propria.',
  'Low-grade non-invasive papillary carcinoma; no lymphovascular invasion seen.',
  'Carcinoma in situ adjacent to a high-grade tumour; muscularis propria present and free of tumour.',
];

function patchBag(rng: SeededRandom, slideId: string, n: number): PatchBag {
  const dim = CONFORMANCE_WSI_DIM;
  const features = new Float32Array(n * dim);
  for (let i = 0; i < features.length; i++) features[i] = rng.normal(0, 1);
  const coords = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    coords[2 * i] = 224 * (i % 6);
    coords[2 * i + 1] = 224 * Math.floor(i / 6);
  }
  return { slideId, n, dim, features, coords };
}

function knowledgeOf(clinical: ClinicalRecord, report: string): KnowledgeText[] {
  const prompts: KnowledgeText[] = [];
  if (typeof clinical['age'] === 'number') prompts.push({ role: 'clinical-prompt', field: 'age', text: `The age is ${clinical['age']} years old.` });
  if (typeof clinical['sex'] === 'string') prompts.push({ role: 'clinical-prompt', field: 'sex', text: `This is a ${clinical['sex'].toLowerCase()}.` });
  if (typeof clinical['stage'] === 'string') {
    prompts.push({ role: 'clinical-prompt', field: 'stage', text: `The patient has been diagnosed with a ${clinical['stage']} tumor.` });
  }
  return [...prompts, { role: 'report', text: report }];
}

function makeCase(rng: SeededRandom, id: string, label: SurvivalLabel | undefined, opts: { slides: number; unseenStage?: boolean; shuffleGenes?: boolean }): Case {
  const wsi = Array.from({ length: opts.slides }, (_, s) => patchBag(rng, `${id}_HE${s}`, 10 + rng.int(21)));
  const genes = [...CONFORMANCE_GENES];
  if (opts.shuffleGenes) rng.shuffle(genes);
  const values = Float32Array.from(genes, () => rng.normal(5, 2));
  const clinical: ClinicalRecord = {
    age: 45 + rng.int(40),
    sex: rng.uniform() < 0.5 ? 'Male' : 'Female',
    stage: opts.unseenStage ? 'T4' : STAGES[rng.int(STAGES.length)]!,
    grade: rng.uniform() < 0.3 ? null : rng.uniform() < 0.5 ? 'G2' : 'G3',
    lvi: rng.uniform() < 0.3 ? -1 : rng.int(2),
    tumor_size_mm: rng.uniform() < 0.25 ? null : Math.round(rng.uniform() * 400) / 10,
    smoking: rng.uniform() < 0.2 ? -1 : rng.uniform() < 0.5 ? 'current' : 'never',
  };
  const report = REPORTS[rng.int(REPORTS.length)]!;
  return {
    id,
    ...(label ? { label } : {}),
    wsi,
    rna: { genes, values },
    clinical,
    texts: { report },
    knowledge: knowledgeOf(clinical, report),
    meta: { cancerType: 'bladder', cohort: 'synthetic' },
  };
}

/** The cohort; `seed` only changes the draws, never the shape of the cohort. */
export function conformanceCohort(seed = 20240611): ConformanceCohort {
  const rng = new SeededRandom(seed, 'conformance-cohort');
  // Distinct times, 7 events and 5 censored, events spread over the range (quartile bins stay distinct).
  const labels: SurvivalLabel[] = [
    { time: 3.5, event: true }, { time: 7.2, event: false }, { time: 9.8, event: true }, { time: 14.1, event: true },
    { time: 18.6, event: false }, { time: 22.3, event: true }, { time: 29.0, event: false }, { time: 35.4, event: true },
    { time: 41.7, event: true }, { time: 48.2, event: false }, { time: 55.9, event: true }, { time: 63.0, event: false },
  ];
  const train = labels.map((label, i) => makeCase(rng, `train-${String(i).padStart(2, '0')}`, label, { slides: i % 3 === 0 ? 2 : 1 }));
  // The first training cases (which the suites encode) carry CHIMERA's -1 marker and nulls whatever the draws.
  Object.assign(train[0]!.clinical!, { lvi: -1, smoking: null });
  Object.assign(train[1]!.clinical!, { grade: null, tumor_size_mm: null, smoking: -1 });
  // Real cohorts miss modalities: fit must cope with that.
  const { rna: _r, ...noRna } = train[4]!;
  train[4] = noRna;
  const { wsi: _w, clinical: _c, knowledge: _k, texts: _t, ...rnaOnly } = train[7]!;
  train[7] = rnaOnly;
  const probe = [
    makeCase(rng, 'probe-two-slides', undefined, { slides: 2, unseenStage: true, shuffleGenes: true }),
    makeCase(rng, 'probe-one-slide', undefined, { slides: 1 }),
  ];
  return { train, probe };
}

/**
 * How `encoders.<key>` maps to Case fields. wsi, rna and clinical are the fields of that name; any other key
 * (knowledge, report, prompts, ...) is a text modality: `knowledge` (and `texts`). A text encoder may also be
 * configured under `clinical` (SurvPGC's clinical prompts), so removing the clinical modality removes the texts too.
 */
function primaryField(key: string): keyof Case {
  return key === 'wsi' || key === 'rna' || key === 'clinical' ? key : 'knowledge';
}

function fieldsOf(key: string): (keyof Case)[] {
  if (key === 'wsi' || key === 'rna') return [key];
  return key === 'clinical' ? ['clinical', 'knowledge', 'texts'] : ['knowledge', 'texts'];
}

/** Whether the case carries the modality read under `encoders.<key>`. */
export function hasModality(c: Case, key: string): boolean {
  return c[primaryField(key)] !== undefined;
}

/** A copy of the case without anything an encoder under `encoders.<key>` may read (other modalities kept). */
export function withoutModality(c: Case, key: string): Case {
  const copy: Case = { ...c };
  for (const f of fieldsOf(key)) delete copy[f];
  return copy;
}

/**
 * A GMT file (MSigDB format: name, description, genes, tab-separated) with four pathways over the cohort's genes,
 * overlapping, of 6-12 genes, one of them naming a gene the cohort lacks. Returns its path.
 */
export function writeConformanceGmt(dir: string): string {
  const g = CONFORMANCE_GENES;
  const pathways: [string, string[]][] = [
    ['HALLMARK_SYNTHETIC_A', g.slice(0, 12) as string[]],
    ['HALLMARK_SYNTHETIC_B', g.slice(8, 18) as string[]],
    ['REACTOME_SYNTHETIC_C', [...g.slice(20, 26), 'GENE_NOT_MEASURED']],
    ['REACTOME_SYNTHETIC_D', g.filter((_, i) => i % 4 === 3) as string[]],
  ];
  const file = join(dir, 'conformance.gmt');
  writeFileSync(file, pathways.map(([name, genes]) => [name, 'http://example.org/synthetic', ...genes].join('\t')).join('\n') + '\n');
  return file;
}

/** Token counts and widths the fusions are built with, per modality: [nTokens, width]. */
export type TokenShapes = Readonly<Record<string, readonly [number, number]>>;

/** Several patch and knowledge tokens, three genomic tokens (SurvPath/MCAT-like fusions need more than one), one clinical. */
export const DEFAULT_FUSION_TOKENS: TokenShapes = { wsi: [12, 8], rna: [3, 6], clinical: [1, 5], knowledge: [4, 7] };

/** Seeded normal tokens of the given shapes (the caller disposes them). */
export function fusionTokens(shapes: TokenShapes, seed = 11): Map<string, tf.Tensor2D> {
  const rng = new SeededRandom(seed, 'fusion-tokens');
  return new Map(
    Object.entries(shapes).map(([m, [n, d]]) => [m, tf.tensor2d(Float32Array.from({ length: n * d }, () => rng.normal(0, 1)), [n, d])]),
  );
}

/** Every non-empty proper subset of `keys`, in a fixed order. */
export function properSubsets<T>(keys: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let mask = 1; mask < (1 << keys.length) - 1; mask++) out.push(keys.filter((_, i) => mask & (1 << i)));
  return out;
}
