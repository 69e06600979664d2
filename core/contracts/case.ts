/**
 * Case: one patient, every modality optional.
 *
 * A Case is what every dataset reader produces and every encoder consumes. It is plain data: no tensors, no
 * file handles. Large arrays (patch features) may stay on disk until needed: a {@link PatchBag} always knows its
 * shape (`n`, `dim`) and where it lives (`source`); `features` is filled when the bag is loaded
 * (`loadPatchBag` in core/data).
 *
 * Invariants
 * - `id` is unique within a cohort and is the patient id: splits never put one id in two folds.
 * - `label`, when present, satisfies the {@link SurvivalLabel} invariants (time > 0, finite).
 * - `binary`, when present, is the case's class for a binary target ({@link BinaryLabel}: e.g. BRS3 vs BRS1/2); its
 *   source key never appears in `clinical`.
 * - `rna.values.length === rna.genes.length`; gene names are unique. Never rely on file key order: align to a
 *   saved gene order (`alignRna` in core/data) before encoding.
 * - `clinical` values are a string, a finite number, or null for missing. Readers map the cohort's missing markers
 *   (CHIMERA's -1, "", null, "NA") to null; label keys never appear in `clinical`.
 * - `knowledge` is filled by the trainer from the configured KnowledgeSources (never from the label).
 * - A PatchBag's `features` (when present) has length n * dim, row-major; `coords` has length n * 2 (x, y).
 *
 * @example
 * const c: Case = {
 *   id: '3A_001',
 *   label: { time: 37.5, event: false },
 *   wsi: [{ slideId: '3A_001_HE', n: 4096, dim: 1024, source: { path: 'features/3A_001_HE.h5', format: 'h5' } }],
 *   rna: { genes: ['TP53', 'FGFR3'], values: Float32Array.from([2.1, 0.4]) },
 *   clinical: { age: 71, sex: 'Male', LVI: null },
 *   texts: { report: 'High-grade papillary urothelial carcinoma, T1.' },
 *   meta: { cancerType: 'bladder', cohort: '3A' },
 * };
 */
import type { BinaryLabel } from './binary-label.js';
import type { KnowledgeText } from './knowledge-source.js';
import type { SurvivalLabel } from './survival-label.js';

/** Where a bag's patch features live on disk. */
export interface FeatureSource {
  /** Absolute path of the features file. */
  path: string;
  /** 'h5': CLAM/TRIDENT HDF5 (`features` [n, dim], `coords` [n, 2]); 'npy': a NumPy [n, dim] array. */
  format: 'h5' | 'npy';
  /** Optional separate coordinates file (NumPy [n, 2]), as the CHIMERA organisers distribute them. */
  coordsPath?: string;
}

/** The patch features of one slide. */
export interface PatchBag {
  slideId: string;
  /** Number of patches. */
  n: number;
  /** Feature width per patch. */
  dim: number;
  source?: FeatureSource;
  /** Row-major [n, dim] features, present once loaded. */
  features?: Float32Array;
  /** Row-major [n, 2] patch coordinates (x, y) at level 0, present once loaded and when known. */
  coords?: Float32Array;
}

/** Bulk RNA expression of one case, in the gene order of its source file. */
export interface RnaProfile {
  genes: string[];
  values: Float32Array;
}

export type ClinicalValue = string | number | null;
export type ClinicalRecord = Record<string, ClinicalValue>;

export interface CaseMeta {
  cancerType?: string;
  cohort?: string;
  /** Patient id when it differs from the case id (several cases of one patient share a fold). */
  patientId?: string;
  [key: string]: string | number | undefined;
}

export interface Case {
  id: string;
  label?: SurvivalLabel;
  /** Class of a binary target (heads with `target: 'binary'` train on it). */
  binary?: BinaryLabel;
  wsi?: PatchBag[];
  rna?: RnaProfile;
  clinical?: ClinicalRecord;
  texts?: Record<string, string>;
  /**
   * Knowledge texts attached before training by the run's KnowledgeSources (config `knowledge`), in the order of
   * the sources; text encoders (`encoders.<name>: { type: 'text-embedding', roles: [...] }`) read them. Readers
   * never set it.
   */
  knowledge?: KnowledgeText[];
  meta?: CaseMeta;
}
