/**
 * CHIMERA Task 1 (prostate cancer, time to biochemical recurrence): 1 to 10 prostatectomy H&E slides with their
 * tissue masks, MRI series with their prostate masks, clinical JSON -> `time-to-biochemical-recurrence-for-prostate-
 * cancer-months.json` (months; the scorer negates it, so the value is the calibrated time).
 *
 * Slides: `prostatectomy-tissue-whole-slide-image` + `prostatectomy-tissue-mask`, and extra pairs
 * `prostatectomy-tissue-whole-slide-image-{i}` (slide) / `prostatectomy-tissue-whole-slide-image-{i}-2` (its mask),
 * i = 1..9, as in the organisers' algorithm template. MRI sockets (T2, ADC, HBV, DWI, DCE and their prostate masks)
 * are all optional: they are passed on as `images` for an MRI encoder slot when one is configured.
 */
import type { Socket } from '../../core/contracts/challenge-adapter.js';
import type { SlideInput } from '../../core/contracts/slide-extractor.js';
import { SocketTableAdapter, type TaskDefinition } from '../grand-challenge/socket-adapter.js';
import { clinicalFrom } from './case-parts.js';
import { timeOutput } from './outputs.js';

export const TASK1_LABEL_KEYS = ['BCR', 'time_to_follow-up/BCR'];
const CLINICAL = 'chimera-clinical-data-of-prostate-cancer-patients';
const SLIDE = 'prostatectomy-tissue-whole-slide-image';
export const TASK1_MRI_SLUGS = [
  'axial-t2-prostate-mri', 'axial-adc-prostate-mri', 'transverse-hbv-prostate-mri', 'axial-dwi-prostate-mri', 'transverse-dce-prostate-mri',
  'prostate-tissue-mask-for-axial-t2-prostate-mri', 'prostate-tissue-mask-for-axial-adc-prostate-mri',
  'prostate-tissue-mask-for-axial-dwi-prostate-mri', 'prostate-tissue-mask-for-transverse-dce-mri',
];

function slideSockets(): Socket[] {
  const out: Socket[] = [
    { slug: SLIDE, relativePath: 'images/prostatectomy-wsi', kind: 'image', direction: 'input' },
    { slug: 'prostatectomy-tissue-mask', relativePath: 'images/prostatectomy-tissue-mask', kind: 'image', direction: 'input', optional: true },
  ];
  for (let i = 1; i <= 9; i++) {
    out.push({ slug: `${SLIDE}-${i}`, relativePath: `images/prostatectomy-wsi-z-${i}`, kind: 'image', direction: 'input', optional: true });
    out.push({ slug: `${SLIDE}-${i}-2`, relativePath: `images/prostatectomy-tissue-wsi-${i}`, kind: 'image', direction: 'input', optional: true });
  }
  return out;
}

export const task1: TaskDefinition = {
  id: 'chimera-task1',
  output: 'time',
  sockets: [
    ...slideSockets(),
    ...TASK1_MRI_SLUGS.map((slug): Socket => ({ slug, relativePath: `images/${slug}`, kind: 'image', direction: 'input', optional: true })),
    { slug: CLINICAL, relativePath: `${CLINICAL}.json`, kind: 'json', direction: 'input' },
    { slug: 'time-to-biochemical-recurrence-for-prostate-cancer-months', relativePath: 'time-to-biochemical-recurrence-for-prostate-cancer-months.json', kind: 'json', direction: 'output' },
  ],
  toCase(s, warnings) {
    const slides: SlideInput[] = [];
    const pairs: [string, string, string][] = [[SLIDE, 'prostatectomy-tissue-mask', 'slide-0']];
    for (let i = 1; i <= 9; i++) pairs.push([`${SLIDE}-${i}`, `${SLIDE}-${i}-2`, `slide-${i}`]);
    for (const [slideSlug, maskSlug, slideId] of pairs) {
      const slidePath = s.image(slideSlug);
      const maskPath = s.image(maskSlug);
      if (!slidePath) {
        if (maskPath) warnings.push(`socket ${maskSlug} supplied without its slide ${slideSlug}: ignored`);
        continue;
      }
      if (!maskPath) warnings.push(`socket ${maskSlug} not supplied: every patch of ${slideSlug} is used`);
      slides.push({ slideId, slidePath, ...(maskPath ? { maskPath } : {}) });
    }
    const images: Record<string, string> = {};
    for (const slug of TASK1_MRI_SLUGS) {
      const p = s.image(slug);
      if (p) images[slug] = p;
    }
    const clinical = clinicalFrom(s.json(CLINICAL), s.where(CLINICAL), TASK1_LABEL_KEYS, warnings);
    return { case: { id: 'case', clinical, meta: { cancerType: 'prostate' } }, slides, images };
  },
  outputValue: (p) => timeOutput(p, 'chimera-task1'),
};

export const createTask1 = (): SocketTableAdapter => new SocketTableAdapter(task1);
