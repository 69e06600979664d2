/**
 * Patch bags on disk: learn a bag's shape cheaply (`bagFromFile`), load its features when needed (`loadPatchBag`).
 *
 * Feature files: CLAM/TRIDENT HDF5 (.h5, .hdf5) or NumPy (.npy, [n, dim] or [1, n, dim]). Coordinates: in the h5
 * file, or a separate .npy: a plain [n, 2] array or a structured array with fields x and y (the CHIMERA organisers'
 * `coordinates/<pid>_HE.npy`). PyTorch `.pt` files are pickles and cannot be read here: convert them once.
 */
import { basename, extname, resolve } from 'node:path';
import type { FeatureSource, PatchBag } from '../contracts/case.js';
import { readPatchFeaturesH5, readPatchFeaturesShapeH5 } from './io/hdf5.js';
import { readNpyFloat32, readNpyHeader, readNpyRecords, toFloat32 } from './io/npy.js';

/** How to turn a .pt tensor into a .npy that mmsurv reads. */
export function ptConversionHint(ptPath: string): string {
  const npy = ptPath.replace(/\.pth?$/i, '.npy');
  return `python -c "import torch,numpy; numpy.save('${npy}', torch.load('${ptPath}', map_location='cpu').float().numpy())"`;
}

export function ptNotSupportedError(ptPath: string): Error {
  return new Error(`${ptPath}: PyTorch .pt files are pickles and are not supported; convert the features to .npy ` +
    `(or .h5) once, e.g.\n  ${ptConversionHint(ptPath)}`);
}

/** The feature format implied by a file name, or an error naming the supported ones. */
export function featureFormatOf(path: string): FeatureSource['format'] {
  const ext = extname(path).toLowerCase();
  if (ext === '.h5' || ext === '.hdf5') return 'h5';
  if (ext === '.npy') return 'npy';
  if (ext === '.pt' || ext === '.pth') throw ptNotSupportedError(path);
  throw new Error(`${path}: unsupported patch-feature file '${ext || '(no extension)'}'; expected .h5/.hdf5 ` +
    `(CLAM/TRIDENT: dataset 'features' [N, D]) or .npy ([N, D] float array)`);
}

/** [n, dim] of a [n, dim] or [1, n, dim] shape, else null. */
function rowsCols(shape: number[]): [number, number] | null {
  if (shape.length === 2) return [shape[0]!, shape[1]!];
  if (shape.length === 3 && shape[0] === 1) return [shape[1]!, shape[2]!];
  return null;
}

async function npyFeatureShape(path: string): Promise<{ n: number; dim: number }> {
  const h = await readNpyHeader(path);
  const rc = typeof h.descr === 'string' ? rowsCols(h.shape) : null;
  if (!rc) {
    throw new Error(`${path}: expected a numeric array of shape [N, D] (or [1, N, D]), found ` +
      (typeof h.descr === 'string' ? `shape [${h.shape.join(', ')}]` : `a structured array (${h.descr.map(([n]) => n).join(', ')})`));
  }
  return { n: rc[0], dim: rc[1] };
}

/** The number of coordinate rows in a coordinates .npy (plain [n, 2] or structured with x, y), from the header. */
export async function coordsCountNpy(path: string): Promise<number> {
  const h = await readNpyHeader(path);
  if (typeof h.descr === 'string') {
    const rc = rowsCols(h.shape);
    if (!rc || rc[1] !== 2) throw new Error(`${path}: expected coordinates of shape [N, 2], found [${h.shape.join(', ')}]`);
    return rc[0];
  }
  const names = h.descr.map(([n]) => n);
  if (!names.includes('x') || !names.includes('y') || h.shape.length !== 1) {
    throw new Error(`${path}: expected a structured array [N] with fields x and y, found fields ${names.join(', ')} ` +
      `and shape [${h.shape.join(', ')}]`);
  }
  return h.shape[0]!;
}

/** Read coordinates from a .npy: [n, 2] numbers or a structured array with fields x and y -> Float32Array n * 2. */
export async function readCoordsNpy(path: string): Promise<{ coords: Float32Array; n: number }> {
  const h = await readNpyHeader(path);
  if (typeof h.descr === 'string') {
    const { data, shape } = await readNpyFloat32(path);
    const rc = rowsCols(shape);
    if (!rc || rc[1] !== 2) throw new Error(`${path}: expected coordinates of shape [N, 2], found [${shape.join(', ')}]`);
    return { coords: data, n: rc[0] };
  }
  const rec = await readNpyRecords(path);
  const x = rec.fields.find((f) => f.name === 'x');
  const y = rec.fields.find((f) => f.name === 'y');
  if (!x || !y || rec.shape.length !== 1) {
    throw new Error(`${path}: expected a structured array [N] with fields x and y, found fields ` +
      `${rec.fields.map((f) => f.name).join(', ')} and shape [${rec.shape.join(', ')}]`);
  }
  const xs = toFloat32(x.data);
  const ys = toFloat32(y.data);
  const coords = new Float32Array(xs.length * 2);
  for (let i = 0; i < xs.length; i++) { coords[2 * i] = xs[i]!; coords[2 * i + 1] = ys[i]!; }
  return { coords, n: xs.length };
}

export interface BagFileOptions {
  /** A separate coordinates .npy for this bag. */
  coordsPath?: string;
}

/** A bag header (n, dim, source) from a features file, reading only its shape. */
export async function bagFromFile(path: string, slideId?: string, opts: BagFileOptions = {}): Promise<PatchBag> {
  const abs = resolve(path);
  const format = featureFormatOf(abs);
  const { n, dim } = format === 'h5' ? await readPatchFeaturesShapeH5(abs) : await npyFeatureShape(abs);
  const source: FeatureSource = { path: abs, format };
  if (opts.coordsPath !== undefined) {
    const coordsPath = resolve(opts.coordsPath);
    const nc = await coordsCountNpy(coordsPath);
    if (nc !== n) {
      throw new Error(`${coordsPath}: ${nc} coordinates, but the features file ${abs} has ${n} patches; they must match row for row`);
    }
    source.coordsPath = coordsPath;
  }
  return { slideId: slideId ?? basename(abs, extname(abs)), n, dim, source };
}

/** A copy of `bag` with `features` (and `coords` when known) loaded; checks n and dim against the header. */
export async function loadPatchBag(bag: PatchBag): Promise<PatchBag> {
  const src = bag.source;
  if (!src) {
    if (bag.features) return { ...bag };
    throw new Error(`slide ${bag.slideId}: the bag has neither features nor a source file to load them from`);
  }
  let features: Float32Array;
  let n: number;
  let dim: number;
  let coords: Float32Array | undefined;
  if (src.format === 'h5') {
    const r = await readPatchFeaturesH5(src.path);
    ({ features, n, dim, coords } = r);
  } else if (src.format === 'npy') {
    const r = await readNpyFloat32(src.path);
    const rc = rowsCols(r.shape);
    if (!rc) throw new Error(`${src.path}: expected features of shape [N, D] (or [1, N, D]), found [${r.shape.join(', ')}]`);
    features = r.data;
    [n, dim] = rc;
  } else {
    throw new Error(`slide ${bag.slideId}: unknown feature format ${JSON.stringify((src as FeatureSource).format)}`);
  }
  if (n !== bag.n || dim !== bag.dim) {
    throw new Error(`${src.path}: slide ${bag.slideId}: expected [${bag.n}, ${bag.dim}] as recorded when the cohort was read, ` +
      `found [${n}, ${dim}] (did the file change? read the cohort again)`);
  }
  if (src.coordsPath) {
    const c = await readCoordsNpy(src.coordsPath);
    if (c.n !== n) {
      throw new Error(`${src.coordsPath}: ${c.n} coordinates, but slide ${bag.slideId} has ${n} patches (${src.path})`);
    }
    coords = c.coords;
  }
  const out: PatchBag = { ...bag, features };
  if (coords) out.coords = coords;
  return out;
}
