import type { CohortSummary } from '../../data/summary.js';
import type { SynthSummary } from '../../data/synth/index.js';

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const num = (x: number | null | undefined, digits = 1): string => (x === null || x === undefined ? 'not reached' : x.toFixed(digits));

export function formatSynthSummary(s: SynthSummary): string {
  return [
    `synthetic cohort written to ${s.out} (layout ${s.layout}, seed ${s.seed}, difficulty ${s.difficulty})`,
    `  cases            ${s.cases}`,
    `  events           ${s.events} (${pct(s.events / s.cases)}), censored ${pct(s.censoredFraction)}`,
    `  median follow-up ${num(s.medianFollowUp)} months`,
    `  oracle C-index   ${s.oracleCIndex.toFixed(4)}  (Harrell's C of the true risk: the best any model can expect)`,
    `  BRS3             ${s.brs3} of ${s.brsKnown} with a BRS value; oracle AUC ${s.oracleBrsAuc.toFixed(4)} (Task 2: AUC of the true P(BRS3))`,
    `  files            ${s.files}; truth in ${s.out}/truth.csv`,
  ].join('\n');
}

export function formatCohortSummary(s: CohortSummary): string {
  const unit = s.timeUnit ? ` ${s.timeUnit}` : '';
  const lines = [
    `cohort ${s.root} (format ${s.format})`,
    `  cases            ${s.cases} (${s.labelled} with outcome)`,
    `  events           ${s.events}, censored ${s.censored} (${pct(s.censoredFraction)})`,
  ];
  if (s.binary) lines.push(`  binary label     ${s.binary.labelled} cases, ${s.binary.positive} positive (${pct(s.binary.positive / Math.max(1, s.binary.labelled))})`);
  if (s.time) lines.push(`  observed time    ${num(s.time.min)} .. ${num(s.time.max)}${unit}, median ${num(s.time.median)}`);
  if (s.medianFollowUp !== undefined) lines.push(`  median follow-up ${num(s.medianFollowUp)}${unit} (reverse Kaplan-Meier)`);
  lines.push(`  modalities       wsi ${s.modalities.wsi}, rna ${s.modalities.rna}, clinical ${s.modalities.clinical}, texts ${s.modalities.texts}`);
  if (s.patchesPerCase) {
    lines.push(`  patches per case ${s.patchesPerCase.min} .. ${s.patchesPerCase.max}, median ${s.patchesPerCase.median}${s.featureDim ? ` (dim ${s.featureDim})` : ''}`);
  }
  if (s.genes !== undefined) lines.push(`  genes            ${s.genes}`);
  const missing = s.clinicalFields.filter((f) => f.missingFraction > 0).map((f) => `${f.name} ${pct(f.missingFraction)}`);
  if (s.clinicalFields.length) lines.push(`  clinical fields  ${s.clinicalFields.length}${missing.length ? `; missing: ${missing.join(', ')}` : ''}`);
  if (s.warnings) lines.push(`  warnings         ${s.warnings} (shown above)`);
  return lines.join('\n');
}
