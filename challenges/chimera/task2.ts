/**
 * CHIMERA Task 2 (HR-NMIBC, BCG response subtype BRS3 vs BRS1/2): H&E slide + tissue mask, clinical JSON ->
 * `brs-probability.json`, the probability of BRS3 in [0, 1] (scored by weighted F1 at 0.5, and AUC). `BRS` in a
 * test-time clinical file is the label and is dropped.
 */
import { SocketTableAdapter, type TaskDefinition } from '../grand-challenge/socket-adapter.js';
import { clinicalFrom } from './case-parts.js';
import { probabilityOutput } from './outputs.js';

export const TASK2_LABEL_KEYS = ['BRS'];
const SLIDE = 'bladder-cancer-tissue-biopsy-whole-slide-image';
const MASK = 'tissue-mask';
const CLINICAL = 'chimera-clinical-data-of-bladder-cancer-patients';

export const task2: TaskDefinition = {
  id: 'chimera-task2',
  output: 'probability',
  sockets: [
    { slug: SLIDE, relativePath: 'images/bladder-cancer-tissue-biopsy-wsi', kind: 'image', direction: 'input' },
    { slug: MASK, relativePath: 'images/tissue-mask', kind: 'image', direction: 'input', optional: true },
    { slug: CLINICAL, relativePath: `${CLINICAL}.json`, kind: 'json', direction: 'input' },
    { slug: 'brs-binary-classification', relativePath: 'brs-probability.json', kind: 'json', direction: 'output' },
  ],
  toCase(s, warnings) {
    const slide = s.image(SLIDE)!;
    const mask = s.image(MASK);
    if (!mask) warnings.push(`socket ${MASK} not supplied: every patch of the slide is used`);
    const clinical = clinicalFrom(s.json(CLINICAL), s.where(CLINICAL), TASK2_LABEL_KEYS, warnings);
    return { case: { id: 'case', clinical, meta: { cancerType: 'bladder' } }, slides: [{ slideId: 'HE', slidePath: slide, ...(mask ? { maskPath: mask } : {}) }], images: {} };
  },
  outputValue: (p) => probabilityOutput(p, 'chimera-task2'),
};

export const createTask2 = (): SocketTableAdapter => new SocketTableAdapter(task2);
