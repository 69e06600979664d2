/**
 * A named list of float32 arrays on disk: `<name>.bin` (the arrays back to back, little-endian float32) and
 * `<name>.json` (name, shape and offset of each, plus the byte length and a sha256 of the .bin, checked on read).
 * Used for model weights and optimizer moments; both files are written atomically, the .bin first, so a reader
 * never pairs a new manifest with an old .bin.
 *
 * @example
 * await writeTensorBundle(join(dir, 'weights'), [{ name: 'encoders.wsi/0', shape: [1024, 512], data }]);
 * const entries = await readTensorBundle(join(dir, 'weights'));
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../services/run-store.js';

export interface TensorEntry {
  name: string;
  shape: number[];
  data: Float32Array;
}

interface Manifest {
  format: 'mmsurv-tensors';
  version: 1;
  bytes: number;
  sha256: string;
  entries: { name: string; shape: number[]; offset: number; length: number }[];
}

export async function writeTensorBundle(base: string, entries: readonly TensorEntry[]): Promise<void> {
  let total = 0;
  const index: Manifest['entries'] = [];
  for (const e of entries) {
    const length = e.shape.reduce((a, b) => a * b, 1);
    if (length !== e.data.length) throw new Error(`${base}: tensor ${e.name} has shape [${e.shape.join(', ')}] but ${e.data.length} values`);
    index.push({ name: e.name, shape: e.shape, offset: total, length });
    total += length;
  }
  const all = new Float32Array(total);
  entries.forEach((e, i) => all.set(e.data, index[i]!.offset));
  const bytes = new Uint8Array(all.buffer);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  await writeFileAtomic(`${base}.bin`, bytes);
  const manifest: Manifest = { format: 'mmsurv-tensors', version: 1, bytes: bytes.length, sha256, entries: index };
  await writeFileAtomic(`${base}.json`, JSON.stringify(manifest, null, 1) + '\n');
}

export async function readTensorBundle(base: string): Promise<TensorEntry[]> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(`${base}.json`, 'utf8')) as Manifest;
  } catch (err) {
    throw new Error(`${base}.json: cannot read the tensor manifest (${(err as Error).message})`);
  }
  if (manifest.format !== 'mmsurv-tensors') throw new Error(`${base}.json: expected format 'mmsurv-tensors', found ${JSON.stringify(manifest.format)}`);
  const buf = await readFile(`${base}.bin`);
  if (buf.length !== manifest.bytes) throw new Error(`${base}.bin: expected ${manifest.bytes} bytes as the manifest says, found ${buf.length}`);
  const sha = createHash('sha256').update(buf).digest('hex');
  if (sha !== manifest.sha256) throw new Error(`${base}.bin: content does not match the manifest's sha256 (a partial copy or a file from another save)`);
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  return manifest.entries.map((e) => ({ name: e.name, shape: e.shape, data: all.slice(e.offset, e.offset + e.length) }));
}
