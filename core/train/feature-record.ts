/**
 * Which slide extractor made a run's training features. `mmsurv extract` writes `extract.json` beside the HDF5
 * files it makes; when every slide a run trains on comes from one such folder (one weights hash), the trainer copies
 * that record into the run as `features-extractor.json`. `mmsurv package` then refuses an extractor whose weights
 * differ, so a container never encodes test slides with another model than the one training saw.
 *
 * @example
 * await recordFeatureExtractor(cases, store, logger);   // writes features-extractor.json, or nothing (with a reason)
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Case } from '../contracts/case.js';
import type { Logger } from '../contracts/logger.js';
import type { RunStore } from '../contracts/run-store.js';

export const FEATURE_EXTRACTOR_RECORD = 'features-extractor.json';
export const EXTRACT_MANIFEST = 'extract.json';

export interface FeatureExtractorRecord {
  id: string;
  kind: string;
  dim: number;
  weightsHash: string;
  settings: Record<string, unknown>;
  /** The extractor spec file `mmsurv extract --encoder` used (absolute), when known. */
  specFile: string | null;
  /** The extract.json the record was read from. */
  source: string;
}

export async function readExtractManifest(file: string): Promise<FeatureExtractorRecord> {
  const raw = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  const info = (raw['extractor'] ?? raw) as Record<string, unknown>;
  if (typeof info['weightsHash'] !== 'string' || typeof info['id'] !== 'string') {
    throw new Error(`${file}: expected an extract manifest with extractor { id, weightsHash, ... }, found keys ${Object.keys(raw).join(', ')}`);
  }
  return {
    id: info['id'] as string, kind: String(info['kind'] ?? ''), dim: Number(info['dim'] ?? 0), weightsHash: info['weightsHash'] as string,
    settings: (info['settings'] ?? {}) as Record<string, unknown>,
    specFile: typeof raw['specFile'] === 'string' ? (raw['specFile'] as string) : null,
    source: file,
  };
}

/** Write the run's feature-extractor record when all its slides come from one extract; returns it (or null). */
export async function recordFeatureExtractor(cases: readonly Case[], store: RunStore, logger: Logger): Promise<FeatureExtractorRecord | null> {
  const dirs = new Set<string>();
  for (const c of cases) for (const b of c.wsi ?? []) if (b.source) dirs.add(dirname(b.source.path));
  if (dirs.size === 0) return null;
  const manifests = [...dirs].map((d) => join(d, EXTRACT_MANIFEST));
  const found = manifests.filter((m) => existsSync(m));
  if (found.length === 0) {
    logger.debug(`no ${EXTRACT_MANIFEST} beside the training features: the run cannot say which extractor made them`);
    return null;
  }
  const records = await Promise.all(found.map(readExtractManifest));
  const hashes = new Set(records.map((r) => r.weightsHash));
  if (hashes.size > 1 || found.length < manifests.length) {
    logger.warn(`the training features come from ${hashes.size} extractor(s) in ${dirs.size} folder(s) (${found.length} with ${EXTRACT_MANIFEST}); not recording one extractor`);
    return null;
  }
  await store.writeJson(FEATURE_EXTRACTOR_RECORD, records[0]);
  return records[0]!;
}
