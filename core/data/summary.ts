import type { Cohort } from '../contracts/dataset-reader.js';

export interface Distribution {
  min: number;
  median: number;
  max: number;
}

export interface CohortSummary {
  root: string;
  format: string;
  cases: number;
  /** Cases with a binary label (`Case.binary`) and how many are positive; absent when none has one. */
  binary?: { labelled: number; positive: number };
  labelled: number;
  events: number;
  censored: number;
  censoredFraction: number;
  timeUnit?: string;
  /** Distribution of observed times (events and censored). */
  time?: Distribution;
  /** Median follow-up by the reverse Kaplan-Meier method (censoring as the event), null when not reached. */
  medianFollowUp?: number | null;
  modalities: { wsi: number; rna: number; clinical: number; texts: number };
  patchesPerCase?: Distribution;
  featureDim?: number;
  genes?: number;
  clinicalFields: { name: string; missingFraction: number }[];
  warnings: number;
}

function distribution(values: number[]): Distribution | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { min: s[0]!, median, max: s[s.length - 1]! };
}

/**
 * Median of the reverse Kaplan-Meier curve (Schemper & Smith 1996): censoring is treated as the event and
 * events as censoring; the median follow-up is the first time that curve drops to 0.5 or below.
 */
export function reverseKmMedian(time: number[], event: boolean[]): number | null {
  const order = time.map((_, i) => i).sort((a, b) => time[a]! - time[b]!);
  let atRisk = time.length;
  let s = 1;
  let k = 0;
  while (k < order.length) {
    const t = time[order[k]!]!;
    let d = 0;
    let n = 0;
    while (k < order.length && time[order[k]!] === t) {
      if (!event[order[k]!]) d++;
      n++;
      k++;
    }
    if (d > 0) {
      s *= 1 - d / atRisk;
      if (s <= 0.5) return t;
    }
    atRisk -= n;
  }
  return null;
}

/** What a cohort holds: cases, outcomes and follow-up, modalities, bag sizes, clinical missingness. */
export function summarizeCohort(cohort: Cohort): CohortSummary {
  const labelled = cohort.cases.filter((c) => c.label);
  const times = labelled.map((c) => c.label!.time);
  const events = labelled.map((c) => c.label!.event);
  const nEvents = events.filter(Boolean).length;
  const patches = cohort.cases.filter((c) => c.wsi?.length).map((c) => c.wsi!.reduce((a, b) => a + b.n, 0));
  const dims = new Set(cohort.cases.flatMap((c) => (c.wsi ?? []).map((b) => b.dim)));
  const fieldCounts = new Map<string, { present: number; missing: number }>();
  const withClinical = cohort.cases.filter((c) => c.clinical);
  for (const c of withClinical) {
    for (const [k, v] of Object.entries(c.clinical!)) {
      const e = fieldCounts.get(k) ?? { present: 0, missing: 0 };
      if (v === null) e.missing++;
      else e.present++;
      fieldCounts.set(k, e);
    }
  }
  const binary = cohort.cases.filter((c) => c.binary);
  return {
    root: cohort.root,
    format: cohort.format,
    cases: cohort.cases.length,
    ...(binary.length ? { binary: { labelled: binary.length, positive: binary.filter((c) => c.binary!.positive).length } } : {}),
    labelled: labelled.length,
    events: nEvents,
    censored: labelled.length - nEvents,
    censoredFraction: labelled.length ? (labelled.length - nEvents) / labelled.length : 0,
    timeUnit: cohort.timeUnit,
    time: distribution(times),
    medianFollowUp: labelled.length ? reverseKmMedian(times, events) : undefined,
    modalities: {
      wsi: patches.length,
      rna: cohort.cases.filter((c) => c.rna).length,
      clinical: withClinical.length,
      texts: cohort.cases.filter((c) => c.texts && Object.keys(c.texts).length).length,
    },
    patchesPerCase: distribution(patches),
    featureDim: dims.size === 1 ? [...dims][0] : undefined,
    genes: cohort.geneOrder?.length,
    clinicalFields: [...fieldCounts.entries()].map(([name, e]) => ({
      name,
      missingFraction: (withClinical.length - e.present) / withClinical.length,
    })),
    warnings: cohort.warnings.length,
  };
}
