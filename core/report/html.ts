/**
 * report.html: one self-contained page (no script, no external resource; every figure is an inline SVG data URL)
 * with the data summary, the metrics table, the figures, the config and the environment.
 *
 * Each figure is `<figure data-plot="ID">` with its image and a caption naming its data files under `report/`.
 */
import type { ReportData } from './report-data.js';

export interface RenderedFigure {
  id: string;
  title: string;
  svg: string;
  /** Data files of the figure, relative to the run directory. */
  files: string[];
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const f = (x: number | null | undefined, d = 4) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));
const pm = (m: number | null | undefined, sd: number | null | undefined) => (m === null || m === undefined ? '–' : `${f(m)} ± ${f(sd)}`);

function table(head: string[], rows: (string | number)[][]): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(String(c))}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

function metricsSection(d: ReportData): string {
  const s = d.summary;
  if (d.target === 'binary') {
    const summary = table(['metric', 'mean ± sd over folds'], [
      ['ROC AUC', pm(s.auc_mean, s.auc_sd)], ['weighted F1 (p ≥ 0.5)', pm(s.f1_weighted_mean, s.f1_weighted_sd)],
      ['accuracy', pm(s.accuracy_mean, s.accuracy_sd)], ['log loss', pm(s.log_loss_mean, s.log_loss_sd)],
      ['Brier', pm(s.brier_mean, s.brier_sd)], ['AUC, pooled out-of-fold', f(s.auc_pooled_oof ?? null)],
    ]);
    const folds = table(['fold', 'n train', 'n val', 'positives', 'epochs', 'best epoch', 'AUC', 'F1 (w)', 'accuracy', 'log loss'],
      d.folds.map((x) => [x.fold, x.n_train, x.n_val, x.positives_val ?? '–', x.epochs, x.best_epoch ?? '–', f(x.auc), f(x.f1_weighted), f(x.accuracy), f(x.log_loss)]));
    return summary + folds;
  }
  const summary = table(['metric', 'mean ± sd over folds'], [
    ["Harrell's C-index", pm(s.c_index_mean, s.c_index_sd)], ["Uno's C", pm(s.uno_c_mean, s.uno_c_sd)],
    ['iAUC', pm(s.iauc_mean, s.iauc_sd)], ['integrated Brier score', pm(s.ibs_mean, s.ibs_sd)],
    ['C-index, pooled out-of-fold', f(s.c_index_pooled_oof)], ['evaluation times', s.eval_times.map((t) => Number(t.toPrecision(6))).join(', ') || '–'],
  ]);
  const folds = table(['fold', 'n train', 'n val', 'events', 'epochs', 'best epoch', 'C-index', "Uno's C", 'iAUC', 'IBS', 'seconds'],
    d.folds.map((x) => [x.fold, x.n_train, x.n_val, x.events_val ?? '–', x.epochs, x.best_epoch ?? '–', f(x.c_index), f(x.uno_c), f(x.iauc), f(x.ibs), f(x.seconds, 1)]));
  return summary + folds;
}

function dataSection(d: ReportData): string {
  if (!d.data) return '<p>A binary run: the cases are summarised in the metrics table (positives per fold).</p>';
  const x = d.data;
  return table(['cases', 'events', 'censored', 'censoring', 'median follow-up (reverse KM)', 'time range'], [[
    x.cases, x.events, x.censored, `${((100 * x.censored) / Math.max(1, x.cases)).toFixed(1)} %`,
    x.followUpMedian === null ? 'not reached' : Number(x.followUpMedian.toPrecision(4)), `${Number(x.timeMin.toPrecision(4))} – ${Number(x.timeMax.toPrecision(4))}`,
  ]]);
}

function figureHtml(fig: RenderedFigure): string {
  const src = `data:image/svg+xml;base64,${Buffer.from(fig.svg, 'utf8').toString('base64')}`;
  const links = fig.files.map((p) => `<a href="${escapeHtml(p)}">${escapeHtml(p.replace(/^report\//, ''))}</a>`).join(' · ');
  return `<figure data-plot="${escapeHtml(fig.id)}"><img alt="${escapeHtml(fig.title)}" src="${src}"><figcaption>${escapeHtml(fig.title)}. Data: ${links}</figcaption></figure>`;
}

export function reportHtml(d: ReportData, figures: readonly RenderedFigure[], notes: readonly string[]): string {
  const env = d.environment;
  const envTable = table(['backend', 'node', 'mmsurv', 'tfjs', 'platform', 'seed', 'splits hash', 'training time'], [[
    env.backend, env.node, env.mmsurv, env.tfjs ?? '–', env.platform, env.seed, env.splitsHash ? env.splitsHash.slice(0, 16) : '–', `${env.trainSeconds.toFixed(0)} s`,
  ]]);
  const { _sources_: _s, ...config } = d.config as Record<string, unknown>;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mmsurv report: ${escapeHtml(d.name)}</title>
<style>
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #1a1a1a; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
table { border-collapse: collapse; margin: 0.6rem 0 1rem; font-size: 0.9rem; } th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: right; }
th { background: #f3f5f8; } td:first-child, th:first-child { text-align: left; }
figure { margin: 1.2rem 0; } figure img { max-width: 100%; height: auto; display: block; } figcaption { font-size: 0.85rem; color: #444; }
pre { background: #f6f8fa; padding: 0.8rem; overflow: auto; font-size: 0.8rem; } .note { color: #7a4b00; } .meta { color: #555; }
</style>
</head>
<body>
<h1>mmsurv run report: ${escapeHtml(d.name)}</h1>
<p class="meta">${escapeHtml(d.runDir)} · ${d.target} target · made ${escapeHtml(d.generated)}</p>
<h2>Data</h2>
${dataSection(d)}
<h2>Metrics</h2>
${metricsSection(d)}
<h2>Figures</h2>
${notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('\n')}
${figures.map(figureHtml).join('\n')}
<h2>Config</h2>
<pre>${escapeHtml(JSON.stringify(config, null, 2))}</pre>
<h2>Environment</h2>
${envTable}
</body>
</html>
`;
}
