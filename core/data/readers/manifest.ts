/**
 * The `manifest` dataset reader: a cohort described by `<root>/cohort.json` (paths relative to root).
 *
 * {
 *   "format": "mmsurv-manifest", "version": 1, "name": "demo", "timeUnit": "months",
 *   "geneOrder": "genes.txt",          // optional: one gene per line; else the sorted union of all profiles
 *   "rnaMatrix": "rna.tsv",            // optional cohort matrix (see readRnaMatrix)
 *   "clinicalTable": "clinical.csv",   // optional cohort table (see readClinicalTable)
 *   "cases": [{ "id": "case-0001", "label": { "time": 12.5, "event": true },
 *               "wsi": ["features/case-0001.h5"],   // or [{ "features": "f/x.npy", "coords": "c/x.npy", "slideId": "x" }]
 *               "rna": "rna/case-0001.json", "clinical": { "age": 71 },   // or a JSON file path
 *               "texts": { "report": "reports/case-0001.txt" }, "meta": { "cancerType": "bladder" } }]
 * }
 *
 * Every mistake is an error naming cohort.json, the JSON path (/cases/3/label/time) and the case id.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Case, CaseMeta, PatchBag, RnaProfile } from '../../contracts/case.js';
import type { Cohort, DatasetReader } from '../../contracts/dataset-reader.js';
import { didYouMean } from '../../registry/did-you-mean.js';
import { DEFAULT_MISSING_MARKERS, normaliseClinical, readClinicalJson, readClinicalTable, type MissingMarker } from '../clinical.js';
import { bagFromFile } from '../patch-bag.js';
import { cohortGeneOrder, readRnaJson, readRnaMatrix } from '../rna.js';

export interface ManifestOptions {
  /** Manifest file name, relative to the cohort root. */
  manifest: string;
  missingMarkers: MissingMarker[];
}

export const MANIFEST_DEFAULTS: ManifestOptions = { manifest: 'cohort.json', missingMarkers: [...DEFAULT_MISSING_MARKERS] };

export const manifestOptionsSchema = {
  type: 'object',
  properties: {
    manifest: { type: 'string', minLength: 1, default: 'cohort.json', description: 'Manifest file, relative to the cohort root' },
    missingMarkers: {
      type: 'array', items: { type: ['string', 'number', 'null'] }, default: [...DEFAULT_MISSING_MARKERS],
      description: 'Clinical values read as missing (null)',
    },
  },
  additionalProperties: false,
} as const;

const TOP_KEYS = ['format', 'version', 'name', 'description', 'timeUnit', 'geneOrder', 'rnaMatrix', 'clinicalTable', 'cases', '$schema', '$comment'];
const CASE_KEYS = ['id', 'label', 'wsi', 'rna', 'clinical', 'texts', 'meta'];
const BAG_KEYS = ['features', 'coords', 'slideId'];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v).slice(0, 80));

export class ManifestReader implements DatasetReader {
  private readonly opts: ManifestOptions;

  constructor(options: Partial<ManifestOptions> = {}) {
    this.opts = { ...MANIFEST_DEFAULTS, ...options };
  }

  async read(rootDir: string): Promise<Cohort> {
    return new ManifestRead(resolve(rootDir), this.opts).run();
  }
}

/** One read of one manifest (holds the file name and the warnings). */
class ManifestRead {
  private readonly file: string;
  private readonly warnings: string[] = [];

  constructor(private readonly root: string, private readonly opts: ManifestOptions) {
    this.file = join(root, opts.manifest);
  }

  private error(ptr: string, msg: string, caseId?: string): Error {
    return new Error(`${this.file}: ${ptr || '/'}${caseId !== undefined ? ` (case '${caseId}')` : ''}: ${msg}`);
  }

  private checkKeys(obj: Json, allowed: string[], ptr: string, caseId?: string): void {
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) {
        const hint = didYouMean(k, allowed);
        throw this.error(`${ptr}/${k}`, `unknown key${hint.length ? `; did you mean '${hint[0]}'?` : ''} (allowed: ` +
          `${allowed.filter((a) => !a.startsWith('$')).join(', ')})`, caseId);
      }
    }
  }

  /** A path string at `ptr`, resolved against the root, that must name an existing file. */
  private async filePath(v: unknown, ptr: string, caseId?: string): Promise<string> {
    if (typeof v !== 'string' || v.trim() === '') throw this.error(ptr, `expected a file path (string, relative to ${this.root}), found ${show(v)}`, caseId);
    const abs = resolve(this.root, v);
    const s = await stat(abs).catch(() => null);
    if (!s) throw this.error(ptr, `file not found: ${abs}`, caseId);
    if (!s.isFile()) throw this.error(ptr, `expected a file, found a directory: ${abs}`, caseId);
    return abs;
  }

  private async wrap<T>(ptr: string, caseId: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.error(ptr, (err as Error).message, caseId);
    }
  }

  async run(): Promise<Cohort> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      throw new Error(`${this.file}: cannot read the cohort manifest (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); ` +
        `a manifest cohort needs <root>/${this.opts.manifest} with { "format": "mmsurv-manifest", "version": 1, "cases": [...] }`);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new Error(`${this.file}: expected JSON, found a parse error: ${(err as Error).message}`);
    }
    if (!isObject(doc)) throw this.error('', `expected an object with "format", "version" and "cases", found ${show(doc)}`);
    this.checkKeys(doc, TOP_KEYS, '');
    if (doc.format !== 'mmsurv-manifest') throw this.error('/format', `expected "mmsurv-manifest", found ${show(doc.format)}`);
    if (doc.version !== 1) throw this.error('/version', `expected 1 (the only manifest version), found ${show(doc.version)}`);
    for (const k of ['name', 'description', 'timeUnit'] as const) {
      if (doc[k] !== undefined && typeof doc[k] !== 'string') throw this.error(`/${k}`, `expected a string, found ${show(doc[k])}`);
    }
    if (!Array.isArray(doc.cases)) throw this.error('/cases', `expected an array of cases, found ${show(doc.cases)}`);

    const seen = new Map<string, number>();
    const cases: Case[] = [];
    for (let i = 0; i < doc.cases.length; i++) {
      cases.push(await this.readCase(doc.cases[i], `/cases/${i}`, seen, i));
    }
    const byId = new Map(cases.map((c) => [c.id, c]));

    if (doc.rnaMatrix !== undefined) {
      const path = await this.filePath(doc.rnaMatrix, '/rnaMatrix');
      const matrix = await this.wrap('/rnaMatrix', undefined, () => readRnaMatrix(path, { warnings: this.warnings }));
      this.attach(matrix, byId, '/rnaMatrix', 'rna', 'an RNA file');
    }
    if (doc.clinicalTable !== undefined) {
      const path = await this.filePath(doc.clinicalTable, '/clinicalTable');
      const table = await this.wrap('/clinicalTable', undefined,
        () => readClinicalTable(path, { missingMarkers: this.opts.missingMarkers }));
      this.attach(table, byId, '/clinicalTable', 'clinical', 'clinical values');
    }

    const profiles = cases.flatMap((c) => (c.rna ? [c.rna] : []));
    let geneOrder: string[] | undefined;
    if (doc.geneOrder !== undefined) geneOrder = await this.readGeneOrder(doc.geneOrder);
    else if (profiles.length > 0) geneOrder = cohortGeneOrder(profiles);
    if (geneOrder) this.checkGenes(cases, geneOrder, doc.geneOrder !== undefined);

    for (const c of cases) {
      if (!c.wsi?.length && !c.rna && !c.clinical && !c.texts) this.warnings.push(`case '${c.id}': no modalities (no wsi, rna, clinical or texts)`);
    }
    const cohort: Cohort = { root: this.root, format: 'manifest', cases, warnings: this.warnings };
    if (geneOrder) cohort.geneOrder = geneOrder;
    if (typeof doc.timeUnit === 'string') cohort.timeUnit = doc.timeUnit;
    return cohort;
  }

  private attach<T extends RnaProfile | Record<string, unknown>>(
    table: Map<string, T>, byId: Map<string, Case>, ptr: string, key: 'rna' | 'clinical', what: string,
  ): void {
    const unknown: string[] = [];
    for (const [id, value] of table) {
      const c = byId.get(id);
      if (!c) { unknown.push(id); continue; }
      if (c[key] !== undefined) {
        throw this.error(ptr, `case '${id}' has ${what} both in ${ptr.slice(1)} and in its own "${key}" entry; keep one`, id);
      }
      (c as unknown as Record<string, unknown>)[key] = value;
    }
    if (unknown.length) {
      this.warnings.push(`${ptr.slice(1)}: ${unknown.length} id(s) match no case and are ignored: ${unknown.slice(0, 5).join(', ')}` +
        (unknown.length > 5 ? ', ...' : ''));
    }
  }

  private async readGeneOrder(v: unknown): Promise<string[]> {
    const path = await this.filePath(v, '/geneOrder');
    const genes = (await readFile(path, 'utf8')).split(/\r?\n/).map((g) => g.trim()).filter((g) => g !== '');
    const seen = new Set<string>();
    for (const g of genes) {
      if (seen.has(g)) throw this.error('/geneOrder', `${path}: gene '${g}' appears twice (one gene per line, each once)`);
      seen.add(g);
    }
    if (genes.length === 0) throw this.error('/geneOrder', `${path}: expected one gene per line, found no genes`);
    return genes;
  }

  private checkGenes(cases: Case[], geneOrder: string[], declared: boolean): void {
    const order = new Set(geneOrder);
    for (const c of cases) {
      if (!c.rna) continue;
      const have = new Set(c.rna.genes);
      const extra = declared ? c.rna.genes.filter((g) => !order.has(g)).length : 0;
      const absent = geneOrder.filter((g) => !have.has(g)).length;
      if (extra > 0) this.warnings.push(`case '${c.id}': ${extra} RNA gene(s) are missing from geneOrder and are ignored`);
      if (absent > 0) this.warnings.push(`case '${c.id}': ${absent} of ${geneOrder.length} genes of the gene order are absent from its RNA (read as 0)`);
    }
  }

  private async readCase(raw: unknown, ptr: string, seen: Map<string, number>, index: number): Promise<Case> {
    if (!isObject(raw)) throw this.error(ptr, `expected a case object with an "id", found ${show(raw)}`);
    const id = raw.id;
    if (typeof id !== 'string' || id.trim() === '') throw this.error(`${ptr}/id`, `expected a non-empty string, found ${show(id)}`);
    this.checkKeys(raw, CASE_KEYS, ptr, id);
    const prev = seen.get(id);
    if (prev !== undefined) throw this.error(`${ptr}/id`, `duplicate case id (also /cases/${prev}/id); ids must be unique`, id);
    seen.set(id, index);
    const c: Case = { id };
    if (raw.label !== undefined) c.label = this.label(raw.label, `${ptr}/label`, id);
    if (raw.wsi !== undefined) c.wsi = await this.wsi(raw.wsi, `${ptr}/wsi`, id);
    if (raw.rna !== undefined) {
      const path = await this.filePath(raw.rna, `${ptr}/rna`, id);
      c.rna = await this.wrap(`${ptr}/rna`, id, () => readRnaJson(path, { warnings: this.warnings }));
    }
    if (raw.clinical !== undefined) {
      const markers = this.opts.missingMarkers;
      if (isObject(raw.clinical)) {
        c.clinical = normaliseClinical(raw.clinical, { missingMarkers: markers, where: `${this.file}: ${ptr}/clinical (case '${id}')` });
      } else {
        const path = await this.filePath(raw.clinical, `${ptr}/clinical`, id);
        c.clinical = await this.wrap(`${ptr}/clinical`, id, () => readClinicalJson(path, { missingMarkers: markers }));
      }
    }
    if (raw.texts !== undefined) {
      if (!isObject(raw.texts)) throw this.error(`${ptr}/texts`, `expected an object {name: file path}, found ${show(raw.texts)}`, id);
      const texts: Record<string, string> = {};
      for (const [k, v] of Object.entries(raw.texts)) {
        texts[k] = await readFile(await this.filePath(v, `${ptr}/texts/${k}`, id), 'utf8');
      }
      c.texts = texts;
    }
    if (raw.meta !== undefined) c.meta = this.meta(raw.meta, `${ptr}/meta`, id);
    return c;
  }

  private label(v: unknown, ptr: string, id: string): Case['label'] {
    if (!isObject(v)) throw this.error(ptr, `expected { "time": number > 0, "event": boolean }, found ${show(v)}`, id);
    this.checkKeys(v, ['time', 'event'], ptr, id);
    const { time, event } = v;
    if (typeof time !== 'number' || !Number.isFinite(time) || time <= 0) {
      throw this.error(`${ptr}/time`, `expected a finite number > 0, found ${show(time)}`, id);
    }
    if (event !== true && event !== false && event !== 0 && event !== 1) {
      throw this.error(`${ptr}/event`, `expected true/false (or 1/0), found ${show(event)}`, id);
    }
    return { time, event: event === true || event === 1 };
  }

  private async wsi(v: unknown, ptr: string, id: string): Promise<PatchBag[]> {
    if (!Array.isArray(v)) throw this.error(ptr, `expected an array of feature files, found ${show(v)}`, id);
    const bags: PatchBag[] = [];
    for (let j = 0; j < v.length; j++) {
      const e = v[j];
      const p = `${ptr}/${j}`;
      let bag: PatchBag;
      if (typeof e === 'string') {
        const path = await this.filePath(e, p, id);
        bag = await this.wrap(p, id, () => bagFromFile(path));
      } else if (isObject(e)) {
        this.checkKeys(e, BAG_KEYS, p, id);
        const path = await this.filePath(e.features, `${p}/features`, id);
        const coordsPath = e.coords === undefined ? undefined : await this.filePath(e.coords, `${p}/coords`, id);
        if (e.slideId !== undefined && (typeof e.slideId !== 'string' || e.slideId === '')) {
          throw this.error(`${p}/slideId`, `expected a non-empty string, found ${show(e.slideId)}`, id);
        }
        const slideId = e.slideId as string | undefined;
        bag = await this.wrap(p, id, () => bagFromFile(path, slideId, coordsPath === undefined ? {} : { coordsPath }));
      } else {
        throw this.error(p, `expected a file path or { "features": path, "coords"?: path, "slideId"?: string }, found ${show(e)}`, id);
      }
      if (bags.some((b) => b.slideId === bag.slideId)) {
        throw this.error(p, `slide id '${bag.slideId}' appears twice in this case; give each slide a distinct "slideId"`, id);
      }
      bags.push(bag);
    }
    return bags;
  }

  private meta(v: unknown, ptr: string, id: string): CaseMeta {
    if (!isObject(v)) throw this.error(ptr, `expected an object of strings and numbers, found ${show(v)}`, id);
    const meta: CaseMeta = {};
    for (const [k, x] of Object.entries(v)) {
      const stringKey = k === 'cancerType' || k === 'cohort' || k === 'patientId';
      if (typeof x === 'string' || (!stringKey && typeof x === 'number' && Number.isFinite(x))) meta[k] = x;
      else throw this.error(`${ptr}/${k}`, `expected ${stringKey ? 'a string' : 'a string or a finite number'}, found ${show(x)}`, id);
    }
    return meta;
  }
}
