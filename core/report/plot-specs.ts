/**
 * Vega-Lite specifications of the report's figures, drawn from the report data only (render.ts turns them into
 * SVG and PNG). Colours: the Okabe-Ito palette (colour-blind safe) for groups and folds, viridis for attention.
 *
 * Mark names the tests and readers can find in the SVG (`class="... role-mark <name>_marks"` in vega's output):
 * `at_risk` (the numbers-at-risk table of a Kaplan-Meier figure), `km_curve`, `auc_mean`, `calibration_points`,
 * `fold_bars`, `attention_patches`. A Kaplan-Meier figure's subtitle carries the log-rank p-value.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { FoldSummary } from '../train/run-outputs.js';
import type { AttentionFigure } from './attention-map.js';
import type { CalibrationFigure } from './calibration-bins.js';
import type { KmGroupsFigure } from './risk-groups.js';
import type { TdAucFigure } from './td-auc-curve.js';

export const OKABE_ITO = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];
const GROUP_COLOURS: Record<string, string> = { low: '#0072B2', intermediate: '#E69F00', high: '#D55E00' };

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

/** The config every figure shares: readable sizes, one font, white background. */
const CONFIG = {
  font: FONT,
  background: 'white',
  title: { fontSize: 15, subtitleFontSize: 12, anchor: 'start' as const, subtitleColor: '#333' },
  axis: { labelFontSize: 12, titleFontSize: 13, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 12, titleFontSize: 12 },
  view: { stroke: null },
};

/** p-value text: 3 significant digits, scientific below 1e-3, as survminer prints it. */
export function formatP(p: number): string {
  if (!Number.isFinite(p)) return 'NA';
  if (p < 1e-3) return p.toExponential(2);
  return p.toPrecision(3);
}

export function kmSubtitle(fig: KmGroupsFigure): string {
  const lr = fig.logRank;
  const parts = fig.groups.map((g) => `${g.group}: n = ${g.n}, ${g.events} events`);
  return `log-rank p = ${formatP(lr.p)} (chi-square ${Number.isFinite(lr.chisq) ? lr.chisq.toFixed(2) : 'NA'}, df ${lr.df}); ${parts.join('; ')}`;
}

export function kmSpec(fig: KmGroupsFigure): TopLevelSpec {
  const groups = fig.groups.map((g) => g.group);
  const color = {
    field: 'group', type: 'nominal' as const, title: 'risk group', sort: groups,
    scale: { domain: groups, range: groups.map((g) => GROUP_COLOURS[g] ?? '#000') },
    legend: { symbolType: 'stroke', symbolStrokeWidth: 3, symbolOpacity: 1 },
  };
  // the same y-axis extent in the plot and the table below it, so their time axes line up
  const yAxis = { minExtent: 110, maxExtent: 110 };
  const maxT = Math.max(fig.ticks[fig.ticks.length - 1] ?? 0, ...fig.groups.flatMap((g) => g.steps.map((s) => s.time)));
  const x = { field: 'time', type: 'quantitative' as const, scale: { domain: [0, maxT], nice: false }, axis: { values: fig.ticks } };
  const steps = fig.groups.flatMap((g) => g.steps.map((s) => ({ group: g.group, ...s })));
  const censored = steps.filter((s) => s.nCensor > 0 && s.time > 0);
  const scheme = fig.scheme === 'median' ? 'median split' : 'tertiles';
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: `Kaplan-Meier curves of out-of-fold risk groups (${scheme})`, subtitle: kmSubtitle(fig) },
    vconcat: [
      {
        width: 560, height: 300,
        layer: [
          { data: { values: steps }, mark: { type: 'area', interpolate: 'step-after', opacity: 0.15 }, encoding: { x, y: { field: 'lower', type: 'quantitative' }, y2: { field: 'upper' }, color } },
          {
            name: 'km_curve', data: { values: steps }, mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
            encoding: {
              x: { ...x, title: 'time (as in the cohort)' },
              y: { field: 'surv', type: 'quantitative', title: 'survival probability', scale: { domain: [0, 1] }, axis: yAxis },
              color,
            },
          },
          { data: { values: censored }, mark: { type: 'point', shape: 'M0,-1L0,1', size: 60, strokeWidth: 1.5 }, encoding: { x, y: { field: 'surv', type: 'quantitative' }, color } },
        ],
      },
      {
        name: 'at_risk', width: 560, height: 22 * groups.length,
        title: { text: 'Number at risk', fontSize: 12, anchor: 'start' },
        data: { values: fig.atRisk },
        mark: { type: 'text', fontSize: 12 },
        encoding: {
          x: { ...x, axis: null },
          y: { field: 'group', type: 'nominal', sort: groups, axis: { ...yAxis, domain: false, ticks: false, grid: false, labelPadding: 18, title: ' ', titleFontSize: 13 } },
          text: { field: 'n', type: 'quantitative' },
          color,
        },
      },
    ],
  } as TopLevelSpec;
}

export function tdAucSpec(fig: TdAucFigure & { iauc: number | null; iaucSd: number | null }): TopLevelSpec {
  const perFold = fig.folds.flatMap((f) => f.auc.map((auc, k) => ({ fold: `fold ${f.fold}`, time: fig.times[k]!, auc })).filter((r) => r.auc !== null));
  const mean = fig.mean.filter((m) => m.auc !== null);
  const i = fig.iauc === null ? 'iAUC -' : `iAUC ${fig.iauc.toFixed(3)}${fig.iaucSd === null ? '' : ` ± ${fig.iaucSd.toFixed(3)}`} (mean ± sd over folds, at the run's evaluation times)`;
  const x = { field: 'time', type: 'quantitative' as const, title: 'time (as in the cohort)' };
  return {
    $schema: SCHEMA, config: CONFIG, width: 560, height: 300,
    title: { text: 'Time-dependent AUC (cumulative/dynamic, KM censoring weights)', subtitle: `${i}; thin lines: folds, black: mean` },
    layer: [
      { data: { values: [{ y: 0.5 }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
      {
        data: { values: perFold }, mark: { type: 'line', strokeWidth: 1.2, opacity: 0.7, point: { size: 20 } },
        encoding: { x, y: { field: 'auc', type: 'quantitative', title: 'AUC(t)', scale: { domain: [0, 1] } }, color: { field: 'fold', type: 'nominal', scale: { range: OKABE_ITO }, title: null } },
      },
      {
        name: 'auc_mean', data: { values: mean }, mark: { type: 'line', strokeWidth: 3, color: '#000', point: { color: '#000', size: 40 } },
        encoding: { x, y: { field: 'auc', type: 'quantitative' } },
      },
    ],
  } as TopLevelSpec;
}

export function calibrationSpec(fig: CalibrationFigure): TopLevelSpec {
  const bins = fig.bins.map((b) => ({ ...b, horizonLabel: `t = ${Number(b.horizon.toPrecision(4))}` }));
  const labels = [...new Set(bins.map((b) => b.horizonLabel))];
  const color = { field: 'horizonLabel', type: 'nominal' as const, title: 'horizon', sort: labels, scale: { domain: labels, range: OKABE_ITO } };
  const unit = { type: 'quantitative' as const, scale: { domain: [0, 1] } };
  return {
    $schema: SCHEMA, config: CONFIG, width: 340, height: 340,
    title: { text: 'Calibration: predicted vs observed survival', subtitle: 'bins of predicted S(t); observed = Kaplan-Meier S(t) of the bin, 95 % CI' },
    layer: [
      { data: { values: [{ p: 0 }, { p: 1 }] }, mark: { type: 'line', strokeDash: [4, 4], color: '#888' }, encoding: { x: { field: 'p', ...unit }, y: { field: 'p', ...unit } } },
      { data: { values: bins.filter((b) => b.lower !== null && b.upper !== null) }, mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { x: { field: 'predicted', ...unit }, y: { field: 'lower', ...unit }, y2: { field: 'upper' }, color } },
      {
        name: 'calibration_points', data: { values: bins }, mark: { type: 'point', filled: true, size: 70 },
        encoding: {
          x: { field: 'predicted', ...unit, title: 'predicted S(t) (bin mean)' },
          y: { field: 'observed', ...unit, title: 'observed S(t) (Kaplan-Meier)' },
          color,
        },
      },
    ],
  } as TopLevelSpec;
}

export function foldsSpec(folds: readonly FoldSummary[], mean: number | null, sd: number | null, o: { metric?: 'c_index' | 'auc' } = {}): TopLevelSpec {
  const metric = o.metric ?? 'c_index';
  const label = metric === 'auc' ? 'ROC AUC' : "Harrell's C-index";
  const values = folds.map((f) => ({ fold: `fold ${f.fold}`, value: f[metric] ?? null })).filter((v) => v.value !== null);
  const layers: unknown[] = [];
  if (mean !== null && sd !== null) layers.push({ data: { values: [{ lo: mean - sd, hi: mean + sd }] }, mark: { type: 'rect', color: '#0072B2', opacity: 0.12 }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } });
  layers.push({
    name: 'fold_bars', data: { values }, mark: { type: 'bar', color: '#0072B2', width: { band: 0.6 } },
    encoding: { x: { field: 'fold', type: 'nominal', title: null, axis: { labelAngle: 0 } }, y: { field: 'value', type: 'quantitative', title: label, scale: { domain: [0, 1] } } },
  });
  layers.push({ data: { values }, mark: { type: 'text', dy: -8, fontSize: 12 }, encoding: { x: { field: 'fold', type: 'nominal' }, y: { field: 'value', type: 'quantitative' }, text: { field: 'value', type: 'quantitative', format: '.3f' } } });
  if (mean !== null) layers.push({ data: { values: [{ mean }] }, mark: { type: 'rule', color: '#D55E00', strokeWidth: 2 }, encoding: { y: { field: 'mean', type: 'quantitative' } } });
  return {
    $schema: SCHEMA, config: CONFIG, width: Math.max(240, 70 * values.length), height: 260,
    title: { text: `${label} per fold`, subtitle: mean === null ? 'no folds with a value' : `mean ${mean.toFixed(3)}${sd === null ? '' : ` ± ${sd.toFixed(3)} (sd)`} (line; shaded: mean ± sd)` },
    layer: layers,
  } as TopLevelSpec;
}

export function attentionSpec(fig: AttentionFigure): TopLevelSpec {
  const xs = fig.patches.map((p) => p.x);
  const ys = fig.patches.map((p) => p.y);
  const x0 = fig.thumbnail ? 0 : Math.min(...xs);
  const y0 = fig.thumbnail ? 0 : Math.min(...ys);
  const x1 = fig.thumbnail ? fig.thumbnail.width : Math.max(...xs) + fig.patchSize;
  const y1 = fig.thumbnail ? fig.thumbnail.height : Math.max(...ys) + fig.patchSize;
  const width = 300;
  const height = Math.max(80, Math.round((width * (y1 - y0)) / Math.max(1e-9, x1 - x0)));
  const xScale = { domain: [x0, x1], nice: false, zero: false };
  const yScale = { domain: [y0, y1], nice: false, zero: false, reverse: true };
  const views = fig.maps.map((m) => {
    const lo = Math.min(...m.weights);
    const hi = Math.max(...m.weights);
    const values = fig.patches.map((p, i) => ({ x: p.x, y: p.y, x2: p.x + fig.patchSize, y2: p.y + fig.patchSize, w: m.weights[i]!, rel: hi > lo ? (m.weights[i]! - lo) / (hi - lo) : 0.5 }));
    const layer: unknown[] = [];
    if (fig.thumbnail) {
      layer.push({
        data: { values: [{ url: fig.thumbnail.dataUrl, x: x0, y: y0, x2: x1, y2: y1 }] },
        mark: { type: 'image', aspect: false, align: 'left', baseline: 'top' },
        encoding: { url: { field: 'url', type: 'nominal' }, x: { field: 'x', type: 'quantitative', scale: xScale }, y: { field: 'y', type: 'quantitative', scale: yScale }, x2: { field: 'x2' }, y2: { field: 'y2' } },
      });
    }
    layer.push({
      name: 'attention_patches', data: { values }, mark: { type: 'rect', opacity: fig.thumbnail ? 0.7 : 1 },
      encoding: {
        x: { field: 'x', type: 'quantitative', scale: xScale, title: 'x (level 0 px)' },
        y: { field: 'y', type: 'quantitative', scale: yScale, title: 'y (level 0 px)' },
        x2: { field: 'x2' }, y2: { field: 'y2' },
        color: { field: 'rel', type: 'quantitative', title: 'attention (scaled)', scale: { scheme: 'viridis', domain: [0, 1] } },
      },
    });
    return { title: { text: m.name, fontSize: 13 }, width, height, layer };
  });
  return {
    $schema: SCHEMA, config: CONFIG,
    title: { text: `Attention over the patches of case ${fig.caseId}`, subtitle: `fold ${fig.fold}'s model (the case was in its validation set), ${fig.patches.length} patches; one map per attention path` },
    hconcat: views,
  } as TopLevelSpec;
}
