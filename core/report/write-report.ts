/**
 * `mmsurv report`: a run's report, data first. Writes, atomically, into the run directory:
 *
 *   report.html                 the page (self-contained: open it anywhere)
 *   report/report-data.json     everything the figures are drawn from (report-data.ts)
 *   report/<figure>.svg, .png   each figure (PNG at 2x)
 *   report/<figure>.json        the figure's data; and CSVs:
 *   report/km-median.csv, km-tertiles.csv          group,time,surv,lower,upper,n_risk,n_event,n_censor
 *   report/km-median-at-risk.csv, ...-at-risk.csv  group,time,n_risk (the table under the axis)
 *   report/km-median-groups.csv, ...               id,fold,risk,group
 *   report/td-auc.csv                              fold,time,auc (fold "mean" is the mean over folds)
 *   report/calibration.csv                         horizon,bin,n,predicted,observed,lower,upper
 *   report/attention.csv                           x,y,<one column per map>
 *
 * A figure that cannot be drawn (no curve from the head, no patches with coordinates) is left out with a note on
 * the page; the rest of the report is still written. The figures are written to a fresh folder that replaces report/
 * only when complete, then report.html is replaced atomically: a failed report leaves the previous one as it was.
 *
 * @example
 * const { html } = await writeRunReport('runs/exp', { registries, container });
 */
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DirectoryRunStore } from '../services/run-store.js';
import { csvCell } from '../train/run-outputs.js';
import { caseAttention, type AttentionContext, type AttentionFigure } from './attention-map.js';
import { reportHtml, type RenderedFigure } from './html.js';
import { attentionSpec, calibrationSpec, foldsSpec, kmSpec, tdAucSpec } from './plot-specs.js';
import { renderSvg, svgToPng } from './render.js';
import { collectReportData, type ReportData } from './report-data.js';
import type { KmGroupsFigure } from './risk-groups.js';

export const REPORT_FILE = 'report.html';
export const REPORT_DIR = 'report';

export interface WriteReportResult {
  html: string;
  files: string[];
  notes: string[];
  data: ReportData;
}

const csv = (header: string[], rows: unknown[][]) => [header.join(','), ...rows.map((r) => r.map((c) => csvCell(c as string | number | null)).join(','))].join('\n') + '\n';

function kmCsvs(id: string, fig: KmGroupsFigure): Record<string, string> {
  return {
    [`${id}.csv`]: csv(['group', 'time', 'surv', 'lower', 'upper', 'n_risk', 'n_event', 'n_censor'],
      fig.groups.flatMap((g) => g.steps.map((s) => [g.group, s.time, s.surv, s.lower, s.upper, s.nRisk, s.nEvent, s.nCensor]))),
    [`${id}-at-risk.csv`]: csv(['group', 'time', 'n_risk'], fig.atRisk.map((a) => [a.group, a.time, a.n])),
    [`${id}-groups.csv`]: csv(['id', 'fold', 'risk', 'group'], fig.members.map((m) => [m.id, m.fold, m.risk, m.group])),
  };
}

interface FigurePlan {
  id: string;
  title: string;
  spec: Parameters<typeof renderSvg>[0];
  json: unknown;
  csvs: Record<string, string>;
}

function plan(d: ReportData, notes: string[]): FigurePlan[] {
  const out: FigurePlan[] = [];
  if (d.km) {
    out.push({ id: 'km-median', title: 'Kaplan-Meier curves of the out-of-fold risk groups, median split', spec: kmSpec(d.km.median), json: d.km.median, csvs: kmCsvs('km-median', d.km.median) });
    out.push({ id: 'km-tertiles', title: 'Kaplan-Meier curves of the out-of-fold risk groups, tertiles', spec: kmSpec(d.km.tertiles), json: d.km.tertiles, csvs: kmCsvs('km-tertiles', d.km.tertiles) });
  }
  if (d.tdAuc) {
    if (d.tdAuc.times.length === 0) notes.push('No time-dependent AUC: the cohort has no events.');
    else {
      const rows = [...d.tdAuc.folds.flatMap((f) => f.auc.map((a, k) => [f.fold, d.tdAuc!.times[k], a])), ...d.tdAuc.mean.map((m) => ['mean', m.time, m.auc])];
      out.push({ id: 'td-auc', title: 'Time-dependent AUC per fold and its mean, with iAUC', spec: tdAucSpec(d.tdAuc), json: d.tdAuc, csvs: { 'td-auc.csv': csv(['fold', 'time', 'auc'], rows) } });
    }
  }
  if (d.calibration) {
    if (d.calibration.note) notes.push(`No calibration figure: ${d.calibration.note}.`);
    else {
      out.push({
        id: 'calibration', title: 'Calibration at the evaluation times: predicted vs Kaplan-Meier observed survival', spec: calibrationSpec(d.calibration), json: d.calibration,
        csvs: { 'calibration.csv': csv(['horizon', 'bin', 'n', 'predicted', 'observed', 'lower', 'upper'], d.calibration.bins.map((b) => [b.horizon, b.bin, b.n, b.predicted, b.observed, b.lower, b.upper])) },
      });
    }
  }
  const binary = d.target === 'binary';
  const s = d.summary;
  out.push({
    id: 'folds', title: binary ? 'ROC AUC per fold' : "Harrell's C-index per fold",
    spec: foldsSpec(d.folds, binary ? s.auc_mean ?? null : s.c_index_mean, binary ? s.auc_sd ?? null : s.c_index_sd, { metric: binary ? 'auc' : 'c_index' }),
    json: d.folds, csvs: {},
  });
  const att = d.attention;
  if (att && 'maps' in att && att.maps.length > 0) {
    const a = att as AttentionFigure;
    out.push({
      id: 'attention', title: `Attention heatmaps of case ${a.caseId}`, spec: attentionSpec(a), json: { ...a, thumbnail: a.thumbnail ? { ...a.thumbnail, dataUrl: '(in the SVG)' } : undefined },
      csvs: { 'attention.csv': csv(['x', 'y', ...a.maps.map((m) => m.name)], a.patches.map((p, i) => [p.x, p.y, ...a.maps.map((m) => m.weights[i])])) },
    });
    if (a.nonSpatial.length) notes.push(`Attention maps not over patches (not drawn; in report-data.json): ${a.nonSpatial.map((m) => `${m.name} (${m.tokens} tokens)`).join(', ')}.`);
  } else if (att && 'maps' in att) notes.push(`No attention heatmap: the model of fold 1 gives no per-patch attention for case ${att.caseId}.`);
  else if (att && 'note' in att) notes.push(`No attention heatmap: ${att.note}.`);
  return out;
}

/**
 * Write the report of a finished run. With `ctx` (registries and a container with a backend) one case's attention
 * is computed with fold 1's model; without it the attention figure is left out.
 */
export async function writeRunReport(runDir: string, ctx?: AttentionContext): Promise<WriteReportResult> {
  const dir = resolve(runDir);
  const notes: string[] = [];
  const data = await collectReportData(dir, ctx ? {
    attention: (oof) => caseAttention(ctx, dir, oof).catch((err: Error) => ({ note: `it could not be computed (${err.message})` })),
  } : {});
  // figures go to a fresh folder that replaces report/ only once complete: no half-written or stale figure stays
  const staging = `${REPORT_DIR}.new-${process.pid}`;
  await rm(join(dir, staging), { recursive: true, force: true });
  const store = new DirectoryRunStore(join(dir, staging));
  const figures: RenderedFigure[] = [];
  const files: string[] = [];
  for (const p of plan(data, notes)) {
    const svg = await renderSvg(p.spec);
    const figFiles = [`${REPORT_DIR}/${p.id}.svg`, `${REPORT_DIR}/${p.id}.png`, `${REPORT_DIR}/${p.id}.json`, ...Object.keys(p.csvs).map((c) => `${REPORT_DIR}/${c}`)];
    await store.writeText(`${p.id}.svg`, svg);
    await store.writeBytes(`${p.id}.png`, svgToPng(svg));
    await store.writeJson(`${p.id}.json`, p.json);
    for (const [name, text] of Object.entries(p.csvs)) await store.writeText(name, text);
    files.push(...figFiles);
    figures.push({ id: p.id, title: p.title, svg, files: figFiles.filter((f) => !f.endsWith('.svg')) });
  }
  await store.writeJson('report-data.json', data);
  files.push(`${REPORT_DIR}/report-data.json`);
  const old = join(dir, `${REPORT_DIR}.old-${process.pid}`);
  if (existsSync(join(dir, REPORT_DIR))) await rename(join(dir, REPORT_DIR), old);
  await rename(join(dir, staging), join(dir, REPORT_DIR));
  await rm(old, { recursive: true, force: true });
  const html = await new DirectoryRunStore(dir).writeText(REPORT_FILE, reportHtml(data, figures, notes));
  return { html, files, notes, data };
}

/**
 * The report at the end of `mmsurv train` (and the demo): written when the run finished (summary.json exists);
 * a failure is a warning that says how to retry, never a failed run.
 */
export async function reportAfterTraining(runDir: string, ctx: AttentionContext, logger: { info(m: string): void; warn(m: string): void }): Promise<string | null> {
  if (!existsSync(join(resolve(runDir), 'summary.json'))) return null;
  try {
    const r = await writeRunReport(runDir, ctx);
    for (const n of r.notes) logger.info(`report note: ${n}`);
    return r.html;
  } catch (err) {
    logger.warn(`the run finished but its report was not written (${(err as Error).message}); retry with \`mmsurv report --run ${runDir}\``);
    return null;
  }
}
