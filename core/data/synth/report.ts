/**
 * Synthetic pathology report: 2-3 sentences whose wording follows the case's stage, grade, LVI and latent
 * prognosis u (high: u > 0.5, low: u < -0.5, else intermediate), picked with the case's RandomSource from per-state
 * phrase lists. A text model can therefore recover part of the prognosis from the words, as from a real report.
 */
import type { RandomSource } from '../../contracts/random-source.js';
import type { ChimeraClinical } from './clinical.js';

type Level = 'high' | 'intermediate' | 'low';

const DIAGNOSIS: Record<'T1HG' | 'TaHG', Record<'G3' | 'G2', string[]>> = {
  T1HG: {
    G3: [
      'High-grade papillary urothelial carcinoma with lamina propria invasion.',
      'Invasive high-grade urothelial carcinoma infiltrating the lamina propria.',
      'Urothelial carcinoma, high grade (G3), invading the subepithelial connective tissue (pT1).',
    ],
    G2: [
      'Papillary urothelial carcinoma, grade 2, with focal invasion of the lamina propria.',
      'Urothelial carcinoma with limited lamina propria invasion (pT1), moderately differentiated.',
    ],
  },
  TaHG: {
    G3: [
      'Non-invasive high-grade papillary urothelial carcinoma (pTa).',
      'High-grade papillary urothelial carcinoma confined to the urothelium, no invasion seen.',
    ],
    G2: [
      'Low-volume papillary tumour without invasion.',
      'Non-invasive papillary urothelial carcinoma, grade 2 (pTa).',
    ],
  },
};

const MORPHOLOGY: Record<Level, string[]> = {
  high: [
    'Extensive tumour necrosis and brisk mitotic activity are present.',
    'Marked nuclear pleomorphism with numerous atypical mitoses.',
    'Tumour budding at the invasive front is prominent, with a solid growth pattern.',
    'Multifocal disease with concomitant carcinoma in situ.',
  ],
  intermediate: [
    'Moderate nuclear pleomorphism is seen.',
    'Mitotic activity is moderate; no necrosis.',
    'The tumour shows a mixed papillary and solid architecture.',
  ],
  low: [
    'Mitotic activity is low and the architecture is orderly.',
    'The tumour is small and appears completely resected.',
    'Mild nuclear atypia only; no carcinoma in situ in the sampled mucosa.',
  ],
};

const LVI_PHRASES = {
  Yes: ['Lymphovascular invasion is identified.', 'Tumour emboli are present in lymphovascular spaces.'],
  No: ['No lymphovascular invasion is seen.', 'Lymphovascular spaces are free of tumour.'],
  unknown: ['Detrusor muscle is present and free of tumour.', 'Detrusor muscle is not represented in the sample.'],
};

const choose = (rng: RandomSource, items: readonly string[]): string => items[rng.int(items.length)]!;

/** Report text for a case: diagnosis (stage x grade), morphology (latent level) and, usually, an LVI sentence. */
export function drawReport(rng: RandomSource, u: number, clinical: ChimeraClinical, stageT1HG: boolean, gradeG3: boolean): string {
  const level: Level = u > 0.5 ? 'high' : u < -0.5 ? 'low' : 'intermediate';
  const sentences = [
    choose(rng, DIAGNOSIS[stageT1HG ? 'T1HG' : 'TaHG'][gradeG3 ? 'G3' : 'G2']),
    choose(rng, MORPHOLOGY[level]),
  ];
  const lvi = clinical.LVI === 'Yes' || clinical.LVI === 'No' ? clinical.LVI : 'unknown';
  const third = choose(rng, LVI_PHRASES[lvi]);
  if (rng.uniform() < 0.7) sentences.push(third);
  return sentences.join(' ');
}
