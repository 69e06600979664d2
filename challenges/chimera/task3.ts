/**
 * CHIMERA Task 3 (HR-NMIBC, time to recurrence or progression): H&E slide + tissue mask, bulk RNA-seq, clinical
 * JSON -> `likelihood-of-bladder-cancer-recurrence.json`. The scorer computes Harrell's C on the NEGATED output, so
 * the value written is the calibrated time (months, larger = later recurrence), never the raw risk.
 */
import type { ChallengePrediction } from '../../core/contracts/challenge-adapter.js';
import { SocketTableAdapter, type TaskDefinition } from '../grand-challenge/socket-adapter.js';
import { clinicalFrom, rnaFrom } from './case-parts.js';
import { timeOutput } from './outputs.js';

export const TASK3_LABEL_KEYS = ['progression', 'Time_to_prog_or_FUend', 'time_to_HG_recur_or_FUend'];

export const TASK3_SLUGS = {
  slide: 'bladder-cancer-tissue-biopsy-whole-slide-image',
  mask: 'tissue-mask',
  rna: 'bulk-rna-seq-bladder-cancer',
  clinical: 'chimera-clinical-data-of-bladder-cancer-recurrence',
  output: 'likelihood-of-bladder-cancer-recurrence',
} as const;

export const task3: TaskDefinition = {
  id: 'chimera-task3',
  output: 'time',
  sockets: [
    { slug: TASK3_SLUGS.slide, relativePath: 'images/bladder-cancer-tissue-biopsy-wsi', kind: 'image', direction: 'input' },
    { slug: TASK3_SLUGS.mask, relativePath: 'images/tissue-mask', kind: 'image', direction: 'input', optional: true },
    { slug: TASK3_SLUGS.rna, relativePath: 'bulk-rna-seq-bladder-cancer.json', kind: 'json', direction: 'input', optional: true },
    { slug: TASK3_SLUGS.clinical, relativePath: 'chimera-clinical-data-of-bladder-cancer-recurrence-patients.json', kind: 'json', direction: 'input' },
    { slug: TASK3_SLUGS.output, relativePath: 'likelihood-of-bladder-cancer-recurrence.json', kind: 'json', direction: 'output' },
  ],
  toCase(s, warnings) {
    const slide = s.image(TASK3_SLUGS.slide)!;
    const mask = s.image(TASK3_SLUGS.mask);
    if (!mask) warnings.push(`socket ${TASK3_SLUGS.mask} not supplied: every patch of the slide is used`);
    const rna = s.has(TASK3_SLUGS.rna) ? rnaFrom(s.json(TASK3_SLUGS.rna), s.where(TASK3_SLUGS.rna), warnings) : undefined;
    if (!rna) warnings.push(`socket ${TASK3_SLUGS.rna} not supplied: predicting without RNA`);
    const clinical = clinicalFrom(s.json(TASK3_SLUGS.clinical), s.where(TASK3_SLUGS.clinical), TASK3_LABEL_KEYS, warnings);
    return {
      case: { id: 'case', clinical, ...(rna ? { rna } : {}), meta: { cancerType: 'bladder' } },
      slides: [{ slideId: 'HE', slidePath: slide, ...(mask ? { maskPath: mask } : {}) }],
      images: {},
    };
  },
  outputValue: (p: ChallengePrediction) => timeOutput(p, 'chimera-task3'),
};

export const createTask3 = (): SocketTableAdapter => new SocketTableAdapter(task3);
