/**
 * Kaplan-Meier curves of out-of-fold risk groups, as the papers' Figure 3 (SurvPath, MCAT, PORPOISE, SurvPGC).
 *
 * - Groups are made within each fold: a case's group is set by the quantiles of the risks of its own validation
 *   fold (median split: `high` when risk > the fold's median; tertiles: the number of the fold's 1/3 and 2/3
 *   quantiles below the risk). Risks of different fold models are on different scales, so one pooled cut would
 *   mix them; per-fold cuts are what the papers' pooled out-of-fold figures do. Quantiles are R's type 7.
 * - Each group's curve is `kaplanMeier` (survfit, 95 % log-scale band); its numbers at risk at the tick times are
 *   #{time >= t} (survfit's `summary(fit, times)$n.risk`); the log-rank test is `logRank` (survdiff) over the
 *   groups.
 *
 * @example
 * const fig = kmGroupsFigure(oofRows, 'median');
 * fig.logRank.p; fig.atRisk;   // [{ group: 'low', time: 0, n: 60 }, ...]
 */
import { kaplanMeier, kmMedian } from '../survival/kaplan-meier.js';
import { logRank } from '../survival/logrank.js';

/** One out-of-fold prediction (oof.csv): fold is 0-based. */
export interface OofCase {
  id: string;
  fold: number;
  time: number;
  event: number;
  risk: number;
}

export type GroupScheme = 'median' | 'tertiles';

export const GROUP_NAMES: Record<GroupScheme, readonly string[]> = {
  median: ['low', 'high'],
  tertiles: ['low', 'intermediate', 'high'],
};

/** R's quantile type 7 of sorted values. */
export function quantileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('quantileSorted: no values');
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** The group name of every row (same order), cut within each fold by the fold's risk quantiles. */
export function riskGroups(rows: readonly OofCase[], scheme: GroupScheme): string[] {
  const names = GROUP_NAMES[scheme];
  const k = names.length;
  const cutsByFold = new Map<number, number[]>();
  for (const fold of new Set(rows.map((r) => r.fold))) {
    const sorted = rows.filter((r) => r.fold === fold).map((r) => r.risk).sort((a, b) => a - b);
    cutsByFold.set(fold, Array.from({ length: k - 1 }, (_, j) => quantileSorted(sorted, (j + 1) / k)));
  }
  return rows.map((r) => names[cutsByFold.get(r.fold)!.filter((c) => r.risk > c).length]!);
}

/** Round tick times 0, step, 2 step, ... covering [0, max] (step 1, 2 or 5 times a power of ten), about `count`. */
export function niceTicks(max: number, count = 6): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0];
  const raw = max / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = 0; t <= max + 1e-9 * max; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

export interface KmStep {
  time: number;
  surv: number;
  /** 95 % band (log scale); null where survfit gives NA (S = 0). */
  lower: number | null;
  upper: number | null;
  nRisk: number;
  nEvent: number;
  nCensor: number;
}

export interface KmGroupCurve {
  group: string;
  n: number;
  events: number;
  /** Median survival time (survfit), null when not reached. */
  median: number | null;
  /** The curve from (0, 1): one step per distinct time. */
  steps: KmStep[];
}

export interface KmGroupsFigure {
  scheme: GroupScheme;
  groups: KmGroupCurve[];
  /** Tick times of the time axis; the numbers-at-risk table has one column per tick. */
  ticks: number[];
  atRisk: { group: string; time: number; n: number }[];
  logRank: { chisq: number; df: number; p: number };
  /** Per case: its group (the CSV of the figure). */
  members: { id: string; fold: number; risk: number; group: string }[];
}

const num = (x: number) => (Number.isFinite(x) ? x : null);

/** n at risk at t from a KM fit: the risk set of the first fit time >= t (0 after the last time). */
function atRiskFromFit(fit: ReturnType<typeof kaplanMeier>, t: number): number {
  for (let k = 0; k < fit.time.length; k++) if (fit.time[k]! >= t) return fit.nRisk[k]!;
  return 0;
}

export function kmGroupsFigure(rows: readonly OofCase[], scheme: GroupScheme, o: { ticks?: number[] } = {}): KmGroupsFigure {
  if (rows.length === 0) throw new Error('kmGroupsFigure: no out-of-fold predictions');
  const labels = riskGroups(rows, scheme);
  const ticks = o.ticks ?? niceTicks(Math.max(...rows.map((r) => r.time)));
  const groups: KmGroupCurve[] = [];
  const atRisk: KmGroupsFigure['atRisk'] = [];
  for (const g of GROUP_NAMES[scheme]) {
    const members = rows.filter((_, i) => labels[i] === g);
    if (members.length === 0) continue;
    const fit = kaplanMeier(members.map((r) => r.time), members.map((r) => r.event));
    const steps: KmStep[] = [{ time: 0, surv: 1, lower: 1, upper: 1, nRisk: members.length, nEvent: 0, nCensor: 0 }];
    for (let k = 0; k < fit.time.length; k++) {
      steps.push({
        time: fit.time[k]!, surv: fit.surv[k]!, lower: num(fit.lower[k]!), upper: num(fit.upper[k]!),
        nRisk: fit.nRisk[k]!, nEvent: fit.nEvent[k]!, nCensor: fit.nCensor[k]!,
      });
    }
    groups.push({ group: g, n: members.length, events: members.reduce((a, r) => a + (r.event ? 1 : 0), 0), median: kmMedian(fit).median, steps });
    for (const t of ticks) atRisk.push({ group: g, time: t, n: atRiskFromFit(fit, t) });
  }
  let lr: KmGroupsFigure['logRank'] = { chisq: NaN, df: 0, p: NaN };
  if (groups.length > 1) {
    const r = logRank(rows.map((x) => x.time), rows.map((x) => x.event), labels);
    lr = { chisq: r.chisq, df: r.df, p: r.p };
  }
  return {
    scheme, groups, ticks, atRisk, logRank: lr,
    members: rows.map((r, i) => ({ id: r.id, fold: r.fold + 1, risk: r.risk, group: labels[i]! })),
  };
}
