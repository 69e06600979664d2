/**
 * Cases ready for training: patch bags loaded into memory and knowledge texts attached from the configured
 * KnowledgeSources (config `knowledge`: name -> { "type": id, ... }, applied in name order).
 *
 * Memory: every bag of the cohort is held in memory for the whole run (CHIMERA Task 3 at 4096 x 1024 float32
 * patches per slide is ~2.9 GB for 176 cases); fine for the cohorts mmsurv targets, noted for larger ones.
 */
import type { DependencyContainer } from 'tsyringe';
import type { Case } from '../contracts/case.js';
import type { KnowledgeSource, KnowledgeText } from '../contracts/knowledge-source.js';
import type { ProgressReporter } from '../contracts/progress.js';
import { buildContext } from '../di/container.js';
import { TOKENS } from '../di/tokens.js';
import { loadPatchBag } from '../data/patch-bag.js';
import type { Registries } from '../registry/registry.js';

export async function loadCaseBags(cases: readonly Case[], progress: ProgressReporter): Promise<Case[]> {
  const withBags = cases.filter((c) => c.wsi?.some((b) => !b.features));
  if (withBags.length === 0) return cases.slice();
  const task = progress.start('loading patch features', withBags.length);
  const out: Case[] = [];
  for (const c of cases) {
    if (c.wsi?.some((b) => !b.features)) {
      try {
        out.push({ ...c, wsi: await Promise.all(c.wsi.map((b) => loadPatchBag(b))) });
      } catch (err) {
        throw new Error(`case ${c.id}: ${(err as Error).message}`);
      }
      task.tick();
    } else {
      out.push(c);
    }
  }
  task.done();
  return out;
}

export function buildKnowledgeSources(registries: Registries, config: Record<string, unknown>, container: DependencyContainer): KnowledgeSource[] {
  const section = (config['knowledge'] ?? {}) as Record<string, Record<string, unknown>>;
  return Object.keys(section)
    .sort()
    .map((name) => registries.knowledge.build(section[name]!, buildContext(container, `knowledge.${name}`)));
}

export async function attachKnowledge(cases: readonly Case[], sources: readonly KnowledgeSource[], container: DependencyContainer): Promise<Case[]> {
  if (sources.length === 0) return cases.slice();
  const progress = container.resolve<ProgressReporter>(TOKENS.Progress);
  const task = progress.start('knowledge texts', cases.length);
  const out: Case[] = [];
  for (const c of cases) {
    // Sources never see the label (knowledge must exist at test time).
    const { label: _label, ...unlabelled } = c;
    const texts: KnowledgeText[] = [];
    for (const s of sources) texts.push(...(await s.textsFor(unlabelled)));
    out.push({ ...c, knowledge: texts });
    task.tick();
  }
  task.done();
  return out;
}
