import { describe, expect, it } from 'vitest';
import { calibrationFigure, binCount } from '../../../core/report/calibration-bins.js';
import { escapeHtml } from '../../../core/report/html.js';
import { attentionSpec, calibrationSpec, formatP, kmSpec, tdAucSpec } from '../../../core/report/plot-specs.js';
import { renderSvg, svgToPng } from '../../../core/report/render.js';
import { kmGroupsFigure, type OofCase } from '../../../core/report/risk-groups.js';
import { aucGrid, tdAucFigure } from '../../../core/report/td-auc-curve.js';
import { referenceCohorts } from '../../support/r-reference.js';

interface Ref { time: number[]; event: number[]; risk: number[]; times: number[]; td_auc_risk: number[]; surv: number[][] }

const asRows = (ref: Ref, fold: (i: number) => number = () => 0): (OofCase & { surv: number[] })[] =>
  ref.time.map((t, i) => ({ id: `c${i}`, fold: fold(i), time: t, event: ref.event[i]!, risk: ref.risk[i]!, surv: ref.surv[i]! }));

describe.each(referenceCohorts<Ref>().filter((c) => c.name !== 'toy'))('report figures on R reference cohort $name', ({ ref }) => {
  it('AUC(t) of one fold equals riskRegression::Score at the reference times', () => {
    const fig = tdAucFigure(asRows(ref!), ref!.times);
    fig.folds[0]!.auc.forEach((a, k) => expect(a).toBeCloseTo(ref!.td_auc_risk[k]!, 10));
    expect(fig.mean.map((m) => m.folds)).toEqual(ref!.times.map(() => 1));
  });

  it('AUC over folds: the mean of the folds where it is defined', () => {
    const rows = asRows(ref!, (i) => i % 2);
    const grid = aucGrid(rows);
    expect(grid.length).toBeGreaterThan(3);
    const fig = tdAucFigure(rows, grid);
    fig.mean.forEach((m, k) => {
      const v = fig.folds.map((f) => f.auc[k]).filter((x): x is number => x !== null);
      expect(m.auc).toBeCloseTo(v.reduce((a, b) => a + b, 0) / v.length, 12);
    });
  });

  it('calibration bins partition the cases by predicted S(t), in order, with bin means as predicted', () => {
    const rows = asRows(ref!);
    const fig = calibrationFigure(rows, ref!.times);
    for (const [h, t] of ref!.times.entries()) {
      const bins = fig.bins.filter((b) => b.horizon === t);
      expect(bins).toHaveLength(binCount(rows.length));
      expect(bins.reduce((a, b) => a + b.n, 0)).toBe(rows.length);
      const sorted = rows.map((r) => r.surv[h]!).sort((a, b) => a - b);
      let start = 0;
      for (const b of bins) {
        const part = sorted.slice(start, start + b.n);
        start += b.n;
        expect(b.predicted).toBeCloseTo(part.reduce((a, x) => a + x, 0) / part.length, 12);
        expect(b.observed).toBeGreaterThanOrEqual(0);
        expect(b.observed).toBeLessThanOrEqual(1);
      }
    }
  });
});

describe('figure rendering', () => {
  const ref = referenceCohorts<Ref>().find((c) => c.name === 'veteran')!.ref!;
  it('renders the KM figure as SVG with the numbers-at-risk table and the log-rank p, and as a 2x PNG', async () => {
    const fig = kmGroupsFigure(asRows(ref), 'median');
    const svg = await renderSvg(kmSpec(fig));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('role-mark at_risk_marks');
    expect(svg).toContain(`log-rank p = ${formatP(fig.logRank.p)}`);
    const png = svgToPng(svg);
    expect(Buffer.from(png.subarray(1, 4)).toString()).toBe('PNG');
    const width = Buffer.from(png).readUInt32BE(16);
    expect(width).toBe(2 * Number(/width="(\d+)"/.exec(svg)![1]));
  });

  it('the AUC and calibration figures draw their named marks', async () => {
    const rows = asRows(ref);
    expect(await renderSvg(tdAucSpec({ ...tdAucFigure(rows, ref.times), iauc: 0.7, iaucSd: 0.1 }))).toContain('auc_mean_marks');
    expect(await renderSvg(calibrationSpec(calibrationFigure(rows, ref.times)))).toContain('calibration_points_marks');
  });

  it('a figure that names an external URL is refused (reports embed their data)', async () => {
    await expect(renderSvg({ data: { url: 'http://example.com/x.csv' }, mark: 'point' } as never)).rejects.toThrow(/embed their data/);
  });

  it('p-values print as survminer does and HTML is escaped', () => {
    expect(formatP(0.0123456)).toBe('0.0123');
    expect(formatP(3.2595e-6)).toBe('3.26e-6');
    expect(formatP(NaN)).toBe('NA');
    expect(escapeHtml('<script>"a" & b</script>')).toBe('&lt;script&gt;&quot;a&quot; &amp; b&lt;/script&gt;');
  });
});

describe('attention heatmap figure', () => {
  it('places one rect per patch at its coordinates, over the slide thumbnail when there is one', async () => {
    const sharp = (await import('sharp')).default;
    const png = await sharp({ create: { width: 40, height: 20, channels: 3, background: { r: 230, g: 180, b: 200 } } }).png().toBuffer();
    const patches = [{ x: 0, y: 0 }, { x: 256, y: 0 }, { x: 512, y: 256 }];
    const fig = {
      caseId: 'c1', fold: 1, risk: 0.3, patches, patchSize: 256, nonSpatial: [],
      maps: [{ name: 'encoders.wsi.attention', weights: [0.2, 0.5, 0.3] }, { name: 'fusion.clinical->pathology', weights: [1, 0, 2] }],
      thumbnail: { dataUrl: `data:image/png;base64,${png.toString('base64')}`, width: 1024, height: 512, levelWidth: 40, levelHeight: 20 },
    };
    const svg = await renderSvg(attentionSpec(fig));
    expect(svg.match(/<image /g)).toHaveLength(2);
    const rects = svg.slice(svg.indexOf('attention_patches_marks')).match(/aria-label="x \(level 0 px\): [^"]*"/g)!;
    expect(rects.length).toBeGreaterThanOrEqual(3);
    expect(svg).toContain('fusion.clinical-&gt;pathology');
    expect(svgToPng(svg).length).toBeGreaterThan(1000);
    const plain = await renderSvg(attentionSpec({ ...fig, thumbnail: undefined }));
    expect(plain).not.toContain('<image ');
  });
});
