/**
 * The `chimera-task3` dataset reader: the CHIMERA Task 3 public training layout (HR-NMIBC, bladder).
 *
 *   <root>/<pid>/<pid>_CD.json        clinical variables + labels (progression 0/1, Time_to_prog_or_FUend months)
 *   <root>/<pid>/<pid>_RNA.json       {gene symbol: value}
 *   <root>/<featuresDir>/<pid>_HE.h5 | <root>/<featuresDir>/<pid>_HE.npy | <root>/<pid>/<pid>_HE.h5   (first found)
 *   <root>/<coordinatesDir>/<pid>_HE.npy   optional coordinates (the organisers' structured x/y array)
 *
 * A patient folder is any directory holding `<name>_CD.json`. Label keys never reach `clinical`; -1 marks missing.
 * Cases without label keys (test data) are allowed. `.pt` features without an h5/npy twin are an error with the
 * conversion command.
 *
 * Binary target: with `classKey` set (the `chimera-task2` reader sets `BRS`), that key of `<pid>_CD.json` becomes
 * `Case.binary` (a value in `positiveClasses` -> positive, in `negativeClasses` -> negative, a missing marker -> no
 * binary label, anything else an error) and is removed from `clinical`. The `chimera-task2` reader reads the same
 * layout (the public Task 2 layout was not found; REFERENCE.md B): BRS3 vs BRS1/2, survival keys read when present,
 * RNA optional.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Case, PatchBag } from '../../contracts/case.js';
import type { Cohort, DatasetReader } from '../../contracts/dataset-reader.js';
import { DEFAULT_MISSING_MARKERS, normaliseClinical, type MissingMarker } from '../clinical.js';
import { bagFromFile, ptNotSupportedError } from '../patch-bag.js';
import { cohortGeneOrder, readRnaJson } from '../rna.js';

export interface ChimeraTask3Options {
  featuresDir: string;
  coordinatesDir: string;
  eventKey: string;
  timeKey: string;
  /** Further keys removed from clinical (label keys under other names, e.g. the test ground truth's). */
  dropKeys: string[];
  missingMarkers: MissingMarker[];
  /** Key of a binary class label (e.g. 'BRS'); null: none. */
  classKey: string | null;
  positiveClasses: string[];
  negativeClasses: string[];
  /** Warn about a case without `<pid>_RNA.json` (Task 3 has RNA for every case; Task 2 none). */
  expectRna: boolean;
}

export const CHIMERA_TASK3_DEFAULTS: ChimeraTask3Options = {
  featuresDir: 'features',
  coordinatesDir: 'coordinates',
  eventKey: 'progression',
  timeKey: 'Time_to_prog_or_FUend',
  dropKeys: ['time_to_HG_recur_or_FUend'],
  missingMarkers: [...DEFAULT_MISSING_MARKERS],
  classKey: null,
  positiveClasses: ['BRS3'],
  negativeClasses: ['BRS1', 'BRS2'],
  expectRna: true,
};

/** The `chimera-task2` reader: the same layout with the BCG response subtype as a binary label (BRS3 vs BRS1/2). */
export const CHIMERA_TASK2_DEFAULTS: ChimeraTask3Options = { ...CHIMERA_TASK3_DEFAULTS, classKey: 'BRS', expectRna: false };

export const chimeraTask3OptionsSchema = {
  type: 'object',
  properties: {
    featuresDir: { type: 'string', minLength: 1, default: 'features', description: 'Folder (under root) of <pid>_HE.h5 / .npy patch features' },
    coordinatesDir: { type: 'string', minLength: 1, default: 'coordinates', description: 'Folder (under root) of <pid>_HE.npy coordinates' },
    eventKey: { type: 'string', minLength: 1, default: 'progression', description: 'Event key of <pid>_CD.json (0/1)' },
    timeKey: { type: 'string', minLength: 1, default: 'Time_to_prog_or_FUend', description: 'Time key of <pid>_CD.json (months)' },
    dropKeys: {
      type: 'array', items: { type: 'string' }, default: ['time_to_HG_recur_or_FUend'],
      description: 'Further keys removed from the clinical variables (label keys under other names)',
    },
    missingMarkers: {
      type: 'array', items: { type: ['string', 'number', 'null'] }, default: [...DEFAULT_MISSING_MARKERS],
      description: 'Clinical values read as missing (null); CHIMERA uses -1',
    },
    classKey: {
      type: ['string', 'null'], minLength: 1, default: null,
      description: 'Key of <pid>_CD.json holding a binary class label (e.g. BRS), removed from the clinical variables; null: none',
    },
    positiveClasses: { type: 'array', items: { type: 'string' }, minItems: 1, default: ['BRS3'], description: 'Values of classKey read as the positive class' },
    negativeClasses: { type: 'array', items: { type: 'string' }, minItems: 1, default: ['BRS1', 'BRS2'], description: 'Values of classKey read as the negative class' },
    expectRna: { type: 'boolean', default: true, description: 'Warn about cases without <pid>_RNA.json' },
  },
  additionalProperties: false,
} as const;

/** The options schema of the `chimera-task2` reader: the Task 3 reader's, with BRS as the class key. */
export const chimeraTask2OptionsSchema = {
  ...chimeraTask3OptionsSchema,
  properties: {
    ...chimeraTask3OptionsSchema.properties,
    classKey: { ...chimeraTask3OptionsSchema.properties.classKey, default: 'BRS' },
    expectRna: { ...chimeraTask3OptionsSchema.properties.expectRna, default: false },
  },
} as const;

const exists = async (p: string): Promise<boolean> => (await stat(p).catch(() => null))?.isFile() ?? false;

export class ChimeraTask3Reader implements DatasetReader {
  private readonly opts: ChimeraTask3Options;

  constructor(options: Partial<ChimeraTask3Options> = {}, private readonly format: 'chimera-task3' | 'chimera-task2' = 'chimera-task3') {
    this.opts = { ...(format === 'chimera-task2' ? CHIMERA_TASK2_DEFAULTS : CHIMERA_TASK3_DEFAULTS), ...options };
  }

  async read(rootDir: string): Promise<Cohort> {
    const root = resolve(rootDir);
    const entries = await readdir(root, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`${root}: cannot list the CHIMERA Task 3 folder (${err.code ?? err.message})`);
    });
    const pids: string[] = [];
    for (const e of entries) {
      if (e.isDirectory() && (await exists(join(root, e.name, `${e.name}_CD.json`)))) pids.push(e.name);
    }
    pids.sort();
    if (pids.length === 0) {
      throw new Error(`${root}: expected patient folders <pid>/<pid>_CD.json (CHIMERA Task 3 layout), found none ` +
        `among ${entries.length} entries`);
    }
    const warnings: string[] = [];
    const cases: Case[] = [];
    for (const pid of pids) cases.push(await this.readCase(root, pid, warnings));

    const profiles = cases.flatMap((c) => (c.rna ? [c.rna] : []));
    const noClass = this.opts.classKey ? cases.filter((c) => !c.binary).length : 0;
    if (noClass > 0) warnings.push(`${noClass} of ${cases.length} cases have no "${this.opts.classKey}" value (missing marker or absent), so no binary label`);
    const cohort: Cohort = { root, format: this.format, cases, warnings, timeUnit: 'months' };
    if (profiles.length > 0) {
      cohort.geneOrder = cohortGeneOrder(profiles);
      const partial = profiles.filter((p) => p.genes.length < cohort.geneOrder!.length).length;
      if (partial > 0) {
        warnings.push(`${partial} of ${profiles.length} RNA profiles lack some of the ${cohort.geneOrder.length} genes of the ` +
          'cohort (missing genes read as 0)');
      }
    }
    return cohort;
  }

  private async readCase(root: string, pid: string, warnings: string[]): Promise<Case> {
    const o = this.opts;
    const cdPath = join(root, pid, `${pid}_CD.json`);
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(cdPath, 'utf8'));
    } catch (err) {
      throw new Error(`${cdPath} (case '${pid}'): expected a JSON object of clinical data, found: ${(err as Error).message}`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new Error(`${cdPath} (case '${pid}'): expected a JSON object of clinical data, found ${JSON.stringify(raw)}`);
    }
    const record = raw as Record<string, unknown>;
    const c: Case = { id: pid, meta: { cancerType: 'bladder' } };
    if (pid.includes('_')) c.meta!.cohort = pid.slice(0, pid.indexOf('_'));
    const label = this.label(record, cdPath, pid);
    if (label) c.label = label;
    const binary = this.binaryLabel(record, cdPath, pid);
    if (binary) c.binary = binary;
    c.clinical = normaliseClinical(record, {
      missingMarkers: o.missingMarkers,
      dropKeys: [o.eventKey, o.timeKey, ...o.dropKeys, ...(o.classKey ? [o.classKey] : [])],
      where: `${cdPath} (case '${pid}')`,
    });

    const rnaPath = join(root, pid, `${pid}_RNA.json`);
    if (await exists(rnaPath)) {
      try {
        c.rna = await readRnaJson(rnaPath, { warnings });
      } catch (err) {
        throw new Error(`case '${pid}': ${(err as Error).message}`);
      }
    } else if (o.expectRna) warnings.push(`case '${pid}': no ${pid}_RNA.json`);

    const bag = await this.bag(root, pid);
    if (bag) c.wsi = [bag];
    else {
      const slide = (await exists(join(root, pid, `${pid}_HE.tif`))) ? `; only the slide ${pid}_HE.tif: extract patch features ` +
        'first (e.g. CLAM or TRIDENT with UNI) into the features folder' : '';
      warnings.push(`case '${pid}': no patch features (looked for ${this.featureCandidates(root, pid).join(', ')})${slide}`);
    }
    return c;
  }

  private label(record: Record<string, unknown>, cdPath: string, pid: string): Case['label'] | undefined {
    const { eventKey, timeKey } = this.opts;
    const hasE = eventKey in record;
    const hasT = timeKey in record;
    if (!hasE && !hasT) return undefined;
    if (hasE !== hasT) {
      throw new Error(`${cdPath} (case '${pid}'): found "${hasE ? eventKey : timeKey}" but not "${hasE ? timeKey : eventKey}"; ` +
        'a label needs both (or neither, for unlabelled test cases)');
    }
    const ev = record[eventKey];
    const t = record[timeKey];
    const event = ev === 1 || ev === '1' || ev === true ? true : ev === 0 || ev === '0' || ev === false ? false : undefined;
    if (event === undefined) {
      throw new Error(`${cdPath} (case '${pid}'): key "${eventKey}": expected 0 or 1, found ${JSON.stringify(ev)}`);
    }
    const time = typeof t === 'string' && t.trim() !== '' ? Number(t) : t;
    if (typeof time !== 'number' || !Number.isFinite(time) || time <= 0) {
      throw new Error(`${cdPath} (case '${pid}'): key "${timeKey}": expected a finite number of months > 0, found ${JSON.stringify(t)}`);
    }
    return { time, event };
  }

  private binaryLabel(record: Record<string, unknown>, cdPath: string, pid: string): Case['binary'] | undefined {
    const { classKey, positiveClasses, negativeClasses, missingMarkers } = this.opts;
    if (!classKey || !(classKey in record)) return undefined;
    const v = record[classKey];
    if (v === null || missingMarkers.some((m) => m === v || (typeof m === 'number' && typeof v === 'string' && v.trim() === String(m)))) return undefined;
    const s = String(v).trim();
    if (positiveClasses.includes(s)) return { positive: true };
    if (negativeClasses.includes(s)) return { positive: false };
    throw new Error(`${cdPath} (case '${pid}'): key "${classKey}": expected one of ${[...positiveClasses, ...negativeClasses].map((x) => JSON.stringify(x)).join(', ')} ` +
      `(positive: ${positiveClasses.join(', ')}) or a missing marker, found ${JSON.stringify(v)}`);
  }

  private featureCandidates(root: string, pid: string): string[] {
    const { featuresDir } = this.opts;
    return [
      join(root, featuresDir, `${pid}_HE.h5`),
      join(root, featuresDir, `${pid}_HE.npy`),
      join(root, pid, `${pid}_HE.h5`),
    ];
  }

  private async bag(root: string, pid: string): Promise<PatchBag | undefined> {
    let features: string | undefined;
    for (const p of this.featureCandidates(root, pid)) {
      if (await exists(p)) { features = p; break; }
    }
    if (!features) {
      for (const pt of [join(root, this.opts.featuresDir, `${pid}_HE.pt`), join(root, pid, `${pid}_HE.pt`)]) {
        if (await exists(pt)) throw new Error(`case '${pid}': ${ptNotSupportedError(pt).message}`);
      }
      return undefined;
    }
    const coords = join(root, this.opts.coordinatesDir, `${pid}_HE.npy`);
    const hasCoords = await exists(coords);
    try {
      return await bagFromFile(features, `${pid}_HE`, hasCoords ? { coordsPath: coords } : {});
    } catch (err) {
      throw new Error(`case '${pid}': ${(err as Error).message}`);
    }
  }
}
