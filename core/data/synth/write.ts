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
import { writeSyntheticSlide } from './slide-image.js';
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
  /** Record a file another writer (atomically) produces; returns its absolute path. */
  track(rel: string): string {
    return this.abs(rel);
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

/** The CHIMERA Task 3 input sockets (as challenges/chimera/task3.ts reads them; a test checks they agree). */
export const TASK3_INPUT_FILES = {
  slideSlug: 'bladder-cancer-tissue-biopsy-whole-slide-image',
  slideDir: 'images/bladder-cancer-tissue-biopsy-wsi',
  maskSlug: 'tissue-mask',
  maskDir: 'images/tissue-mask',
  rnaSlug: 'bulk-rna-seq-bladder-cancer',
  rna: 'bulk-rna-seq-bladder-cancer.json',
  clinicalSlug: 'chimera-clinical-data-of-bladder-cancer-recurrence',
  clinical: 'chimera-clinical-data-of-bladder-cancer-recurrence-patients.json',
} as const;

/** The CHIMERA Task 2 sockets' files (REFERENCE.md B). */
export const TASK2_INPUT_FILES = {
  slideSlug: TASK3_INPUT_FILES.slideSlug,
  slideDir: TASK3_INPUT_FILES.slideDir,
  maskSlug: TASK3_INPUT_FILES.maskSlug,
  maskDir: TASK3_INPUT_FILES.maskDir,
  clinicalSlug: 'chimera-clinical-data-of-bladder-cancer-patients',
  clinical: 'chimera-clinical-data-of-bladder-cancer-patients.json',
} as const;

/** Relative paths a case writes in a layout (known before generation, for the in-progress synth.json). */
export function caseFiles(layout: SynthLayout, id: string, slides = false): string[] {
  if (layout === 'manifest') return [`features/${id}.h5`, `rna/${id}.json`, `reports/${id}.txt`];
  if (layout === 'chimera-task3-input') {
    const f = TASK3_INPUT_FILES;
    return [`${id}/inputs.json`, `${id}/${f.slideDir}/${id}_HE.tif`, `${id}/${f.maskDir}/${id}_HE_mask.tif`, `${id}/${f.rna}`, `${id}/${f.clinical}`];
  }
  if (layout === 'chimera-task2-input') {
    const f = TASK2_INPUT_FILES;
    return [`${id}/inputs.json`, `${id}/${f.slideDir}/${id}_HE.tif`, `${id}/${f.maskDir}/${id}_HE_mask.tif`, `${id}/${f.clinical}`];
  }
  return [`${id}/${id}_CD.json`, `${id}/${id}_RNA.json`, ...(slides ? [`${id}/${id}_HE.tif`, `${id}/${id}_HE_mask.tif`] : [`features/${id}_HE.h5`]), `reports/${id}.txt`];
}

export interface SlideSettings {
  slidePatchPx: number;
  slideMpp: number;
  seed: number;
}

/**
 * The case's bag as a slide: one grid cell per patch (the bag's level-0 grid, cropped to its extent with one
 * background cell around it), each painted with the patch's prototype; the mask marks the patch cells.
 */
export async function writeCaseSlide(w: CohortFileWriter, slideRel: string, maskRel: string, c: SynthCase, s: SlideSettings): Promise<void> {
  const { coords, types, n } = c.bag;
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = coords[2 * i]! / PATCH_SIZE, y = coords[2 * i + 1]! / PATCH_SIZE;
    minX = Math.min(minX, x); minY = Math.min(minY, y); maxX = Math.max(maxX, x); maxY = Math.max(maxY, y);
  }
  const cols = maxX - minX + 3;
  const rows = maxY - minY + 3;
  const tissue = new Array<boolean>(cols * rows).fill(false);
  const prototype = new Array<number>(cols * rows).fill(0);
  for (let i = 0; i < n; i++) {
    const cell = (coords[2 * i + 1]! / PATCH_SIZE - minY + 1) * cols + (coords[2 * i]! / PATCH_SIZE - minX + 1);
    tissue[cell] = true;
    prototype[cell] = types[i]!;
  }
  await writeSyntheticSlide({
    slidePath: w.track(slideRel), maskPath: w.track(maskRel), grid: { cols, rows }, patchPx: s.slidePatchPx,
    tissue, prototype, seed: s.seed * 1000 + c.index, mpp: s.slideMpp,
  });
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
export async function writeChimeraCase(w: CohortFileWriter, c: SynthCase, genes: string[], slides?: SlideSettings): Promise<void> {
  const files = caseFiles('chimera-task3', c.id, slides !== undefined);
  const record: Record<string, string | number> = {};
  for (const k of CHIMERA_TASK3_CLINICAL_KEYS) record[k] = c.clinical.record[k];
  record.progression = c.outcome.event ? 1 : 0;
  record.Time_to_prog_or_FUend = c.outcome.time;
  await w.json(files[0]!, record);
  await w.json(files[1]!, rnaObject(genes, c.expression));
  if (slides) await writeCaseSlide(w, files[2]!, files[3]!, c, slides);
  else await w.bag(files[2]!, c.bag);
  await w.text(files[files.length - 1]!, c.report);
}

/** One entry of a grand-challenge inputs.json (value and file null: the socket's file is on disk). */
const socket = (slug: string, relative_path: string, kind: string, super_kind: string, image?: string) => ({
  interface: { slug, relative_path, kind, super_kind }, value: null, file: null, image: image ? { name: image } : null,
});

/**
 * Write one case as the platform's /input of a CHIMERA Task 3 job: inputs.json, the slide and tissue mask in their
 * image socket folders, the RNA and clinical JSON (CHIMERA's -1 for missing, no label keys).
 */
export async function writeTask3InputCase(w: CohortFileWriter, c: SynthCase, genes: string[], slides: SlideSettings): Promise<void> {
  const [inputs, slide, mask, rna, clinical] = caseFiles('chimera-task3-input', c.id);
  const f = TASK3_INPUT_FILES;
  const record: Record<string, string | number> = {};
  for (const k of CHIMERA_TASK3_CLINICAL_KEYS) record[k] = c.clinical.record[k];
  await writeCaseSlide(w, slide!, mask!, c, slides);
  await w.json(rna!, rnaObject(genes, c.expression));
  await w.json(clinical!, record);
  await w.json(inputs!, [
    socket(f.slideSlug, f.slideDir, 'Image', 'Image', `${c.id}_HE.tif`),
    socket(f.maskSlug, f.maskDir, 'Segmentation', 'Image', `${c.id}_HE_mask.tif`),
    socket(f.rnaSlug, f.rna, 'Anything', 'Value'),
    socket(f.clinicalSlug, f.clinical, 'Anything', 'Value'),
  ]);
}

/**
 * Write one case as the platform's /input of a CHIMERA Task 2 job: inputs.json, the slide and tissue mask, and the
 * clinical JSON without BRS (the label) and without the survival keys.
 */
export async function writeTask2InputCase(w: CohortFileWriter, c: SynthCase, slides: SlideSettings): Promise<void> {
  const [inputs, slide, mask, clinical] = caseFiles('chimera-task2-input', c.id);
  const f = TASK2_INPUT_FILES;
  const record: Record<string, string | number> = {};
  for (const k of CHIMERA_TASK3_CLINICAL_KEYS) if (k !== 'BRS') record[k] = c.clinical.record[k];
  await writeCaseSlide(w, slide!, mask!, c, slides);
  await w.json(clinical!, record);
  await w.json(inputs!, [
    socket(f.slideSlug, f.slideDir, 'Image', 'Image', `${c.id}_HE.tif`),
    socket(f.maskSlug, f.maskDir, 'Segmentation', 'Image', `${c.id}_HE_mask.tif`),
    socket(f.clinicalSlug, f.clinical, 'Anything', 'Value'),
  ]);
}

/** truth.csv: id,time,event,true_risk (true_risk in shortest round-trip form, i.e. full double precision). */
export function truthCsv(cases: { id: string; time: number; event: boolean; trueRisk: number }[]): string {
  return ['id,time,event,true_risk', ...cases.map((c) => `${c.id},${c.time},${c.event ? 1 : 0},${c.trueRisk}`)].join('\n') + '\n';
}
