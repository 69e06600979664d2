/**
 * The report of a demo run, as a user gets it (`mmsurv demo` writes it at the end of training):
 * - the Kaplan-Meier figure's numbers at risk and log-rank p (read from the SVG) equal the survival module's values
 *   on the same out-of-fold data, with the risk groups recomputed here from oof.csv;
 * - report.html opens in headless Chromium (Debian's `chromium`, driven by playwright-core) with no console error,
 *   and every figure's region of a screenshot is drawn (non-blank, several colours), while a margin is blank.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logRank } from '../../../core/survival/logrank.js';
import { mmsurv } from '../../support/cli.js';

const CHROMIUM = '/usr/bin/chromium';
let dir: string;
let runDir: string;
let demoOut = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmsurv-report-'));
  const r = await mmsurv(['demo', '--out', dir, '--cases', '60', '--seed', '5', '--epochs', '2', '--workers', '2']);
  if (r.exitCode !== 0) throw new Error(`mmsurv demo failed (${r.exitCode}):\n${r.stderr}\n${r.stdout}`);
  demoOut = r.stdout;
  runDir = join(dir, 'run-n60-s5-e2');
}, 400_000);
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

interface Oof { id: string; fold: number; time: number; event: number; risk: number }

async function readOof(file: string): Promise<Oof[]> {
  const [header, ...lines] = (await readFile(file, 'utf8')).trim().split('\n');
  const cols = header!.split(',');
  const at = (name: string) => cols.indexOf(name);
  return lines.map((l) => {
    const c = l.split(',');
    return { id: c[at('id')]!, fold: Number(c[at('fold')]), time: Number(c[at('time')]), event: Number(c[at('event')]), risk: Number(c[at('risk')]) };
  });
}

/** The text marks of a named vega mark group: [aria-label, text]. */
function markTexts(svg: string, markName: string): { label: string; text: string }[] {
  const start = svg.indexOf(`role-mark ${markName}_marks`);
  expect(start, `no ${markName} marks in the SVG`).toBeGreaterThan(0);
  const body = svg.slice(start, svg.indexOf('</g>', start));
  return [...body.matchAll(/<text aria-label="([^"]*)"[^>]*>([^<]*)<\/text>/g)].map((m) => ({ label: m[1]!, text: m[2]! }));
}

describe('mmsurv report of a demo run', () => {
  it('the demo writes report.html and the figures with their data', () => {
    expect(demoOut).toContain('report.html');
    for (const f of ['report.html', 'report/report-data.json', 'report/km-median.svg', 'report/km-median.png', 'report/km-median-at-risk.csv',
      'report/km-tertiles.svg', 'report/td-auc.csv', 'report/calibration.csv', 'report/folds.svg', 'report/attention.csv']) {
      expect(existsSync(join(runDir, f)), f).toBe(true);
    }
  });

  for (const [scheme, k] of [['median', 2], ['tertiles', 3]] as const) {
    it(`KM (${scheme}): numbers at risk and log-rank p in the SVG equal the survival module on the out-of-fold data`, async () => {
      const oof = await readOof(join(runDir, 'oof.csv'));
      // risk groups, recomputed here: within each fold, by the fold's type-7 quantiles of the risk
      const names = k === 2 ? ['low', 'high'] : ['low', 'intermediate', 'high'];
      const group = oof.map((r) => {
        const s = oof.filter((x) => x.fold === r.fold).map((x) => x.risk).sort((a, b) => a - b);
        const q = (p: number) => { const h = (s.length - 1) * p; const lo = Math.floor(h); return s[lo]! + (h - lo) * ((s[lo + 1] ?? s[lo]!) - s[lo]!); };
        const cuts = Array.from({ length: k - 1 }, (_, j) => q((j + 1) / k));
        return names[cuts.filter((c) => r.risk > c).length]!;
      });
      const svg = await readFile(join(runDir, 'report', `km-${scheme}.svg`), 'utf8');
      const cells = markTexts(svg, 'at_risk');
      expect(cells.length).toBeGreaterThanOrEqual(names.length * 3);
      for (const c of cells) {
        const t = Number(/time: ([-\d.e]+)/.exec(c.label)![1]);
        const g = /group: (\w+)/.exec(c.label)![1]!;
        const expected = oof.filter((r, i) => group[i] === g && r.time >= t).length;
        expect(Number(c.text), `${g} at t = ${t}`).toBe(expected);
      }
      // every group has a row, starting with its size at t = 0
      for (const g of names) expect(Number(cells.find((c) => c.label.includes(`time: 0;`) && c.label.includes(`group: ${g};`))!.text)).toBe(group.filter((x) => x === g).length);
      const lr = logRank(oof.map((r) => r.time), oof.map((r) => r.event), group);
      const shown = Number(/log-rank p = ([\d.e+-]+)/.exec(svg)![1]);
      expect(Math.abs(shown - lr.p) / lr.p).toBeLessThan(5e-3); // printed to 3 significant digits
      const data = JSON.parse(await readFile(join(runDir, 'report', `km-${scheme}.json`), 'utf8'));
      expect(data.logRank.p).toBeCloseTo(lr.p, 12);
      expect(data.logRank.df).toBe(k - 1);
    });
  }

  it('opens in headless Chromium without console errors, and every plot is drawn', async (ctx) => {
    ctx.skip(!existsSync(CHROMIUM), `no ${CHROMIUM}: install Debian's chromium (bash .ci/run does) to open the report in a browser`);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
      const problems: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url().slice(0, 80)}`));
      await page.goto(pathToFileURL(join(runDir, 'report.html')).href, { waitUntil: 'load' });
      // runs in the page (DOM types are not in this project's lib: the shapes used are spelled out)
      type Img = { complete: boolean; naturalWidth: number; parentElement: { getAttribute(n: string): string | null } | null; getBoundingClientRect(): { left: number; top: number; width: number; height: number } };
      const plots = await page.$$eval('figure[data-plot] img', (imgs) => imgs.map((el) => {
        const img = el as unknown as Img;
        const win = globalThis as unknown as { scrollX: number; scrollY: number };
        const r = img.getBoundingClientRect();
        return { id: img.parentElement!.getAttribute('data-plot')!, ok: img.complete && img.naturalWidth > 0, x: r.left + win.scrollX, y: r.top + win.scrollY, w: r.width, h: r.height };
      }));
      expect(plots.map((p) => p.id).sort()).toEqual(['attention', 'calibration', 'folds', 'km-median', 'km-tertiles', 'td-auc']);
      const png = await page.screenshot({ fullPage: true });
      expect(problems).toEqual([]);
      const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const region = (x: number, y: number, w: number, h: number) => {
        let ink = 0;
        const colours = new Set<number>();
        const x0 = Math.max(0, Math.round(x)), y0 = Math.max(0, Math.round(y));
        const x1 = Math.min(info.width, Math.round(x + w)), y1 = Math.min(info.height, Math.round(y + h));
        for (let yy = y0; yy < y1; yy++) {
          for (let xx = x0; xx < x1; xx++) {
            const o = (yy * info.width + xx) * 3;
            const [r, g, b] = [data[o]!, data[o + 1]!, data[o + 2]!];
            if (Math.min(r, g, b) < 230) ink++;
            colours.add(((r >> 5) << 6) | ((g >> 5) << 3) | (b >> 5));
          }
        }
        return { ink: ink / Math.max(1, (x1 - x0) * (y1 - y0)), colours: colours.size };
      };
      for (const p of plots) {
        expect(p.ok, `${p.id}: the image did not decode`).toBe(true);
        expect(p.w * p.h, `${p.id}: no area`).toBeGreaterThan(150 * 150);
        const r = region(p.x, p.y, p.w, p.h);
        expect(r.ink, `${p.id}: blank region`).toBeGreaterThan(0.02);
        expect(r.colours, `${p.id}: too few colours`).toBeGreaterThanOrEqual(4);
      }
      // the check can fail: the left page margin beside the figures is blank
      const first = plots[0]!;
      expect(region(0, first.y, Math.max(20, first.x - 10), 600).ink).toBeLessThan(0.001);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
