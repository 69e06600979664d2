/**
 * Attention of one case's patches at their slide coordinates, one map per attention path (an encoder's attention
 * pooling, a fusion's 'clinical->pathology' or 'genomic->pathology' co-attention), as SurvPGC's Figure 4.
 *
 * - The case is a validation case of fold 1 (the highest out-of-fold risk among those with patches), explained by
 *   fold 1's model, which never trained on it. Every patch is used (no sampling at evaluation).
 * - A map is spatial when it has one score per patch (the case's slides concatenated in slide order, as the
 *   encoders see them); other maps (e.g. attention over genomic tokens) are listed in `nonSpatial`.
 * - `thumbnail`: the slide's smallest pyramid level of at least 256 px wide, as a PNG data URL with the level-0
 *   size, when the case has one slide and its image is found under the cohort folder (`<slideId>.tif` ...).
 *
 * @example
 * const fig = await caseAttention({ registries, container }, 'runs/exp', oofRows);
 * fig?.maps;   // [{ name: 'fusion.clinical->pathology', weights: [...] }]
 */
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import sharp from 'sharp';
import type { DependencyContainer } from 'tsyringe';
import type { Case } from '../contracts/case.js';
import { readResolvedConfig } from '../config/save.js';
import { buildContext, createRunContainer } from '../di/container.js';
import { TOKENS } from '../di/tokens.js';
import type { RunStore } from '../contracts/run-store.js';
import { readCohort, type DataSection } from '../data/read-cohort.js';
import type { Registries } from '../registry/registry.js';
import { findSlides } from '../slide/find-slides.js';
import { openPyramid } from '../slide/pyramid.js';
import { loadRun } from '../train/load-run.js';
import { attachKnowledge, buildKnowledgeSources, loadCaseBags } from '../train/prepare-cases.js';
import type { ProgressReporter } from '../contracts/progress.js';
import type { OofCase } from './risk-groups.js';

export interface AttentionFigure {
  caseId: string;
  /** 1-based fold whose model explains the case (the case is in its validation set). */
  fold: number;
  risk: number;
  /** Level-0 (x, y) of every patch, in the order of the weights. */
  patches: { x: number; y: number }[];
  /** Side of a patch at level 0, estimated from the coordinate spacing. */
  patchSize: number;
  maps: { name: string; weights: number[] }[];
  nonSpatial: { name: string; tokens: number }[];
  thumbnail?: { dataUrl: string; width: number; height: number; levelWidth: number; levelHeight: number };
}

export interface AttentionContext {
  registries: Registries;
  container: DependencyContainer;
}

/** The smallest positive gap between distinct coordinates (the patch grid step). */
export function patchStep(values: readonly number[]): number {
  const u = [...new Set(values)].sort((a, b) => a - b);
  let step = Infinity;
  for (let k = 1; k < u.length; k++) step = Math.min(step, u[k]! - u[k - 1]!);
  return Number.isFinite(step) ? step : 1;
}

/** The attention figure of one case, or null (with the reason) when no case has patches with coordinates. */
export async function caseAttention(ctx: AttentionContext, runDir: string, oof: readonly OofCase[]): Promise<AttentionFigure | { note: string }> {
  const dir = resolve(runDir);
  const store = createRunContainer(ctx.container, { seed: 0, runDir: dir }).resolve<RunStore>(TOKENS.RunStore);
  const { config, sources } = await readResolvedConfig(store);
  const data = config['data'] as DataSection | undefined;
  if (!data || typeof data.root !== 'string') return { note: 'the run config names no cohort (data.root)' };
  const base = sources.length ? dirname(sources[sources.length - 1]!) : dir;
  const root = isAbsolute(data.root) ? data.root : resolve(base, data.root);
  const run = await loadRun(ctx.registries, ctx.container, dir, 0);
  try {
    const container = createRunContainer(run.container, { seed: 0 });
    const cohort = await readCohort(ctx.registries, { ...data, root }, buildContext(container, 'data'));
    const byId = new Map(cohort.cases.map((c) => [c.id, c]));
    const candidates = oof
      .filter((r) => r.fold === 0 && (byId.get(r.id)?.wsi ?? []).some((b) => b.n > 0))
      .sort((a, b) => b.risk - a.risk);
    if (candidates.length === 0) return { note: 'no validation case of fold 1 has patch features' };
    const chosen = candidates[0]!;
    const silent: ProgressReporter = { start: () => ({ tick() {}, done() {} }) };
    let cases: Case[] = await loadCaseBags([byId.get(chosen.id)!], silent);
    cases = await attachKnowledge(cases, buildKnowledgeSources(ctx.registries, run.config, container, { forPrediction: true }), container);
    await run.prepare(cases);
    const c = cases[0]!;
    const bags = c.wsi ?? [];
    if (bags.some((b) => b.n > 0 && !b.coords)) return { note: `case ${c.id}: its patch features have no coordinates` };
    const patches: { x: number; y: number }[] = [];
    for (const b of bags) for (let i = 0; i < b.n; i++) patches.push({ x: b.coords![2 * i]!, y: b.coords![2 * i + 1]! });
    const explained = run.folds[0]!.model.explain(c);
    const maps: AttentionFigure['maps'] = [];
    const nonSpatial: AttentionFigure['nonSpatial'] = [];
    for (const [name, w] of Object.entries(explained)) {
      if (w.length === patches.length) maps.push({ name, weights: Array.from(w) });
      else nonSpatial.push({ name, tokens: w.length });
    }
    const patchSize = Math.min(patchStep(patches.map((p) => p.x)), patchStep(patches.map((p) => p.y)));
    const thumbnail = bags.length === 1 ? await slideThumbnail(root, bags[0]!.slideId) : undefined;
    return { caseId: c.id, fold: 1, risk: chosen.risk, patches, patchSize, maps, nonSpatial, ...(thumbnail ? { thumbnail } : {}) };
  } finally {
    run.dispose();
  }
}

/** The slide `<slideId>.<tif|svs|mha>` under the cohort folder as a small PNG data URL, or undefined. */
async function slideThumbnail(root: string, slideId: string): Promise<AttentionFigure['thumbnail']> {
  const { slides } = await findSlides(root).catch(() => ({ slides: [] as { slideId: string; slidePath: string }[] }));
  const entry = slides.find((s) => s.slideId === slideId || basename(s.slidePath).startsWith(`${slideId}.`));
  if (!entry) return undefined;
  try {
    const pyr = await openPyramid(entry.slidePath);
    const levels = [...pyr.levels].sort((a, b) => a.width - b.width);
    const level = levels.find((l) => l.width >= 256) ?? levels[levels.length - 1]!;
    const region = await pyr.readRegion(level.index, 0, 0, level.width, level.height, 'rgb');
    const png = await sharp(Buffer.from(region.data), { raw: { width: region.width, height: region.height, channels: region.channels as 3 } })
      .resize({ width: Math.min(640, region.width), withoutEnlargement: true })
      .png()
      .toBuffer({ resolveWithObject: true });
    const l0 = pyr.levels[0]!;
    return { dataUrl: `data:image/png;base64,${png.data.toString('base64')}`, width: l0.width, height: l0.height, levelWidth: png.info.width, levelHeight: png.info.height };
  } catch {
    return undefined;
  }
}

