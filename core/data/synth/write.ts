/**
 * Writing a synthetic cohort: the output-folder guard, atomic writes that record every file, and the two layouts.
 *
 * Output folder rules: a missing or empty folder is used as is; a folder holding a previous synth.json is reused:
 * its files are overwritten and the files the previous run listed but this run does not write are removed (nothing
 * else is ever deleted); any other non-empty folder is refused.
 */
import { readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../../services/run-store.js';
import { writePatchFeaturesH5 } from '../io/hdf5.js';
import { CHIMERA_TASK3_CLINICAL_KEYS, withNulls, type SynthClinical } from './clinical.js';
import type { Outcome, SynthLayout } from './model.js';
import { PATCH_SIZE, type SynthBag } from './wsi.js';

export const SYNTH_MARKER = 'synth.json';
export const SYNTH_GENERATOR = 'mmsurv-synth';

/** Everything generated for one case. */
export interface SynthCase {
  index: number;
  id: string;
  /** '3A' or '3B' (the CHIMERA Task 3 sub-cohorts). */
  cohort: string;
  z: [number, number, number];
  trueRisk: number;
  outcome: Outcome;
  clinical: SynthClinical;
  bag: SynthBag;
  /** Expression in the cohort's gene order. */
  expression: Float64Array;
  report: string;
}

/** Writes files under a root, atomically, and remembers their paths relative to the root. */
export class CohortFileWriter {
  readonly files = new Set<string>();
  constructor(readonly root: string) {}

  private abs(rel: string): string {
    this.files.add(rel);
    return join(this.root, rel);
  }
  async text(rel: string, text: string): Promise<void> {
    await writeFileAtomic(this.abs(rel), text);
  }
  async json(rel: string, value: unknown): Promise<void> {
    await writeFileAtomic(this.abs(rel), JSON.stringify(value, null, 2) + '\n');
  }
  async bag(rel: string, bag: SynthBag): Promise<void> {
    await writePatchFeaturesH5(this.abs(rel), {
      features: bag.features, n: bag.n, dim: bag.dim, coords: bag.coords,
      attrs: { patch_size: PATCH_SIZE, patch_level: 0, generator: SYNTH_GENERATOR },
    });
  }
}

/**
 * Check `out` may receive a cohort; returns the files a previous synth run recorded there (empty when none).
 */
export async function prepareOutDir(out: string): Promise<string[]> {
  let entries: string[];
  try {
    const s = await stat(out);
    if (!s.isDirectory()) throw new Error(`synthesizeCohort: out '${out}' exists and is not a folder; choose a folder path`);
    entries = await readdir(out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  if (entries.length === 0) return [];
  if (!entries.includes(SYNTH_MARKER)) {
    throw new Error(
      `synthesizeCohort: out '${out}' is not empty (${entries.length} entries, e.g. ${entries.slice(0, 3).join(', ')}) ` +
        `and holds no ${SYNTH_MARKER} from a previous synthetic cohort; refusing to write among other files. ` +
        `Choose a new or empty folder.`,
    );
  }
  const markerPath = join(out, SYNTH_MARKER);
  let previous: { generator?: unknown; files?: unknown };
  try {
    previous = JSON.parse(await readFile(markerPath, 'utf8'));
  } catch (err) {
    throw new Error(`synthesizeCohort: ${markerPath}: expected the JSON written by a previous synth run, found ` +
      `unreadable content (${(err as Error).message}); remove it or choose another folder`);
  }
  if (previous.generator !== SYNTH_GENERATOR || !Array.isArray(previous.files)) {
    throw new Error(`synthesizeCohort: ${markerPath} was not written by mmsurv synth (expected "generator": ` +
      `"${SYNTH_GENERATOR}" and a "files" list); refusing to overwrite the folder. Choose another folder.`);
  }
  return previous.files.filter((f): f is string => typeof f === 'string');
}

/** Remove the files a previous run recorded that this run did not write, and folders left empty by that. */
export async function removeStaleFiles(root: string, previous: string[], current: Set<string>): Promise<void> {
  const dirs = new Set<string>();
  for (const rel of previous) {
    if (current.has(rel) || rel === SYNTH_MARKER) continue;
    const abs = resolve(root, rel);
    const r = relative(root, abs);
    if (r === '' || r.startsWith('..') || isAbsolute(r)) continue; // never outside the cohort folder
    await rm(abs, { force: true });
    for (let d = dirname(r); d !== '.' && d !== ''; d = dirname(d)) dirs.add(d);
  }
  // deepest first; rmdir only succeeds on empty folders, so unrelated files keep their folders
  for (const d of [...dirs].sort((a, b) => b.split(sep).length - a.split(sep).length)) {
    await rmdir(join(root, d)).catch(() => undefined);
  }
}

/** Relative paths a case writes in a layout (known before generation, for the in-progress synth.json). */
export function caseFiles(layout: SynthLayout, id: string): string[] {
  return layout === 'manifest'
    ? [`features/${id}.h5`, `rna/${id}.json`, `reports/${id}.txt`]
    : [`${id}/${id}_CD.json`, `${id}/${id}_RNA.json`, `features/${id}_HE.h5`, `reports/${id}.txt`];
}

function rnaObject(genes: string[], expression: Float64Array): Record<string, number> {
  const o: Record<string, number> = {};
  genes.forEach((g, i) => { o[g] = expression[i]!; });
  return o;
}

/** Write one case of the manifest layout; returns its cohort.json entry. */
export async function writeManifestCase(w: CohortFileWriter, c: SynthCase, genes: string[]): Promise<unknown> {
  const [h5, rna, report] = caseFiles('manifest', c.id) as [string, string, string];
  await w.bag(h5, c.bag);
  await w.json(rna, rnaObject(genes, c.expression));
  await w.text(report, c.report);
  return {
    id: c.id,
    label: { time: c.outcome.time, event: c.outcome.event },
    wsi: [h5],
    rna,
    clinical: withNulls(c.clinical.record),
    texts: { report },
    meta: { cancerType: 'bladder', cohort: c.cohort },
  };
}

/** Write one case of the CHIMERA Task 3 layout (clinical with -1 for missing, plus the two label keys). */
export async function writeChimeraCase(w: CohortFileWriter, c: SynthCase, genes: string[]): Promise<void> {
  const [cd, rna, he, report] = caseFiles('chimera-task3', c.id) as [string, string, string, string];
  const record: Record<string, string | number> = {};
  for (const k of CHIMERA_TASK3_CLINICAL_KEYS) record[k] = c.clinical.record[k];
  record.progression = c.outcome.event ? 1 : 0;
  record.Time_to_prog_or_FUend = c.outcome.time;
  await w.json(cd, record);
  await w.json(rna, rnaObject(genes, c.expression));
  await w.bag(he, c.bag);
  await w.text(report, c.report);
}

/** truth.csv: id,time,event,true_risk (true_risk in shortest round-trip form, i.e. full double precision). */
export function truthCsv(cases: { id: string; time: number; event: boolean; trueRisk: number }[]): string {
  return ['id,time,event,true_risk', ...cases.map((c) => `${c.id},${c.time},${c.event ? 1 : 0},${c.trueRisk}`)].join('\n') + '\n';
}
