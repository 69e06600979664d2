/**
 * NumPy `.npy` files (format versions 1.0, 2.0, 3.0): read plain and structured arrays, write plain arrays.
 *
 * Supported element types: <f2 <f4 <f8 |i1 <i2 <i4 <i8 |u1 <u2 <u4 <u8 |b1 (big-endian '>' variants are byte-swapped).
 * float16 has no JS typed array: it is decoded to a Float32Array (`dtype` still says '<f2'). int64/uint64 come back as
 * BigInt64Array/BigUint64Array; `readNpyFloat32` converts any numeric array to float32.
 * Structured arrays (e.g. the CHIMERA coordinates `[('x','<i8'), ('y','<i8'), ...]`) come back column by column.
 */
import { open, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../services/run-store.js';

export type NpyData =
  | Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

export interface NpyArray {
  data: NpyData;
  shape: number[];
  /** The descr of the file, e.g. '<f4'. */
  dtype: string;
}

export interface NpyField { name: string; dtype: string; data: NpyData }

/** A structured (record) array: one column per field. */
export interface NpyRecords { shape: number[]; fields: NpyField[] }

export interface NpyHeader {
  /** Simple descr ('<f4') or the list of [name, descr] of a structured array. */
  descr: string | Array<[string, string]>;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the data. */
  dataOffset: number;
  /** Bytes per element (per record for structured arrays). */
  itemSize: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const SIZES: Record<string, number> = { f2: 2, f4: 4, f8: 8, i1: 1, i2: 2, i4: 4, i8: 8, u1: 1, u2: 2, u4: 4, u8: 8, b1: 1 };

function parseDescr(descr: string, where: string): { kind: string; size: number; bigEndian: boolean } {
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr);
  const key = m ? `${m[2]}${m[3]}` : '';
  if (!m || !(key in SIZES)) {
    throw new Error(`${where}: unsupported NumPy dtype '${descr}'; supported: <f2 <f4 <f8 <i1 <i2 <i4 <i8 |u1 <u2 <u4 <u8 |b1 ` +
      `(convert with arr.astype('<f4'))`);
  }
  return { kind: key, size: SIZES[key]!, bigEndian: m[1] === '>' };
}

/** Decode IEEE half-precision bit patterns to float32. */
export function float16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** A typed array over `bytes` (copied, so it is aligned) for a simple little-endian descr key. */
function typedFromBytes(kind: string, bytes: Uint8Array): NpyData {
  const buf = bytes.slice().buffer;
  switch (kind) {
    case 'f2': return float16ToFloat32(new Uint16Array(buf));
    case 'f4': return new Float32Array(buf);
    case 'f8': return new Float64Array(buf);
    case 'i1': return new Int8Array(buf);
    case 'i2': return new Int16Array(buf);
    case 'i4': return new Int32Array(buf);
    case 'i8': return new BigInt64Array(buf);
    case 'u1': case 'b1': return new Uint8Array(buf);
    case 'u2': return new Uint16Array(buf);
    case 'u4': return new Uint32Array(buf);
    case 'u8': return new BigUint64Array(buf);
    default: throw new Error(`unsupported dtype kind ${kind}`);
  }
}

function swapInPlace(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let o = 0; o + size <= bytes.length; o += size) bytes.subarray(o, o + size).reverse();
}

// --- a small parser for the Python literal of the header: dict, list, tuple, str, int, True/False/None ---

type PyValue = string | number | boolean | null | PyValue[] | { [k: string]: PyValue };

function parsePyLiteral(text: string, where: string): PyValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${where}: cannot parse the .npy header (${what} at character ${i}): ${text.trim()}`);
  };
  const ws = () => { while (i < text.length && /\s/.test(text[i]!)) i++; };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[' || c === '(') {
      const close = c === '{' ? '}' : c === '[' ? ']' : ')';
      i++;
      const items: PyValue[] = [];
      const dict: Record<string, PyValue> = {};
      for (;;) {
        ws();
        if (text[i] === close) { i++; break; }
        const item = value();
        if (c === '{') {
          ws();
          if (text[i] !== ':') fail("expected ':'");
          i++;
          if (typeof item !== 'string') fail('expected a string key');
          dict[item as string] = value();
        } else items.push(item);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(`expected ',' or '${close}'`);
      }
      return c === '{' ? dict : items;
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail('unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    const m = /^(-?\d+|True|False|None)/.exec(text.slice(i));
    if (!m) return fail('unexpected token');
    i += m[0].length;
    return m[0] === 'True' ? true : m[0] === 'False' ? false : m[0] === 'None' ? null : Number(m[0]);
  };
  return value();
}

function parseHeader(bytes: Uint8Array, where: string): NpyHeader {
  if (bytes.length < 10 || !MAGIC.every((b, k) => bytes[k] === b)) {
    throw new Error(`${where}: not a NumPy .npy file (expected the magic string \\x93NUMPY at the start)`);
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) { headerLen = view.getUint16(8, true); start = 10; }
  else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new Error(`${where}: truncated .npy header`);
    headerLen = view.getUint32(8, true); start = 12;
  } else throw new Error(`${where}: unsupported .npy format version ${major}.${bytes[7]} (supported: 1.0, 2.0, 3.0)`);
  if (bytes.length < start + headerLen) throw new Error(`${where}: truncated .npy header`);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const dict = parsePyLiteral(text, where);
  if (typeof dict !== 'object' || dict === null || Array.isArray(dict)) throw new Error(`${where}: .npy header is not a dict: ${text}`);
  const { descr, fortran_order: fortran, shape } = dict as Record<string, PyValue>;
  if (!Array.isArray(shape) || !shape.every((s) => typeof s === 'number' && s >= 0)) {
    throw new Error(`${where}: .npy header has no valid 'shape': ${text.trim()}`);
  }
  let parsedDescr: NpyHeader['descr'];
  let itemSize: number;
  if (typeof descr === 'string') {
    parsedDescr = descr;
    itemSize = parseDescr(descr, where).size;
  } else if (Array.isArray(descr)) {
    parsedDescr = descr.map((f) => {
      if (!Array.isArray(f) || f.length !== 2 || typeof f[0] !== 'string' || typeof f[1] !== 'string') {
        throw new Error(`${where}: unsupported structured dtype field ${JSON.stringify(f)} (expected (name, simple dtype); ` +
          `sub-array and nested fields are not supported)`);
      }
      return [f[0], f[1]] as [string, string];
    });
    itemSize = parsedDescr.reduce((s, [, d]) => s + parseDescr(d, where).size, 0);
  } else throw new Error(`${where}: .npy header has no valid 'descr': ${text.trim()}`);
  return { descr: parsedDescr, fortranOrder: fortran === true, shape: shape as number[], dataOffset: start + headerLen, itemSize };
}

/** Read only the header (shape, dtype) of a .npy file. */
export async function readNpyHeader(path: string): Promise<NpyHeader> {
  const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new Error(`${path}: cannot open the .npy file (${err.code ?? err.message})`);
  });
  try {
    const head = Buffer.alloc(12);
    const { bytesRead } = await fh.read(head, 0, 12, 0);
    let len = bytesRead >= 10 && head[6] === 1 ? 10 + head.readUInt16LE(8) : bytesRead >= 12 ? 12 + head.readUInt32LE(8) : 12;
    len = Math.min(len, 1 << 24);
    const buf = Buffer.alloc(len);
    const r = await fh.read(buf, 0, len, 0);
    return parseHeader(new Uint8Array(buf.buffer, buf.byteOffset, r.bytesRead), path);
  } finally {
    await fh.close();
  }
}

async function readAll(path: string): Promise<{ header: NpyHeader; body: Uint8Array }> {
  const file = await readFile(path).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`${path}: cannot read the .npy file (${err.code ?? err.message})`);
  });
  const bytes = new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
  const header = parseHeader(bytes, path);
  const count = header.shape.reduce((a, b) => a * b, 1);
  const need = count * header.itemSize;
  if (bytes.length - header.dataOffset < need) {
    throw new Error(`${path}: truncated .npy data: shape [${header.shape.join(', ')}] needs ${need} bytes, found ` +
      `${bytes.length - header.dataOffset}`);
  }
  return { header, body: bytes.subarray(header.dataOffset, header.dataOffset + need) };
}

function fortranToC(data: NpyData, shape: number[]): NpyData {
  if (shape.length < 2) return data;
  // element (i0, ..., ik) sits at sum(i_j * prod(shape[0..j-1])) in Fortran order.
  const n = data.length;
  const out = new (data.constructor as new (n: number) => NpyData)(n);
  const idx = new Array<number>(shape.length).fill(0);
  const fStride = shape.map((_, j) => shape.slice(0, j).reduce((a, b) => a * b, 1));
  for (let c = 0; c < n; c++) {
    let f = 0;
    for (let j = 0; j < shape.length; j++) f += idx[j]! * fStride[j]!;
    (out as unknown as number[])[c] = (data as unknown as number[])[f]!;
    for (let j = shape.length - 1; j >= 0; j--) {
      if (++idx[j]! < shape[j]!) break;
      idx[j] = 0;
    }
  }
  return out;
}

/** Read a plain (non-structured) .npy array in C (row-major) order; Fortran-ordered files are transposed. */
export async function readNpy(path: string): Promise<NpyArray> {
  const { header, body } = await readAll(path);
  if (typeof header.descr !== 'string') {
    throw new Error(`${path}: expected a plain numeric array, found a structured dtype with fields ` +
      `${header.descr.map(([n]) => n).join(', ')} (use readNpyRecords)`);
  }
  const { kind, size, bigEndian } = parseDescr(header.descr, path);
  const bytes = bigEndian ? body.slice() : body;
  if (bigEndian) swapInPlace(bytes, size);
  let data = typedFromBytes(kind, bytes);
  if (header.fortranOrder) data = fortranToC(data, header.shape);
  return { data, shape: header.shape, dtype: header.descr };
}

/** Any numeric typed array -> Float32Array (bigint -> number). */
export function toFloat32(data: NpyData): Float32Array {
  if (data instanceof Float32Array) return data;
  const out = new Float32Array(data.length);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  } else out.set(data as ArrayLike<number>);
  return out;
}

/** Read a numeric .npy array as float32. */
export async function readNpyFloat32(path: string): Promise<{ data: Float32Array; shape: number[] }> {
  const a = await readNpy(path);
  return { data: toFloat32(a.data), shape: a.shape };
}

/** Read a structured (record) .npy array column by column. */
export async function readNpyRecords(path: string): Promise<NpyRecords> {
  const { header, body } = await readAll(path);
  if (typeof header.descr === 'string') {
    throw new Error(`${path}: expected a structured array (named fields), found a plain '${header.descr}' array`);
  }
  if (header.fortranOrder && header.shape.length > 1) {
    throw new Error(`${path}: Fortran-ordered structured arrays are not supported (save with np.ascontiguousarray)`);
  }
  const n = header.shape.reduce((a, b) => a * b, 1);
  let offset = 0;
  const fields: NpyField[] = [];
  for (const [name, descr] of header.descr) {
    const { kind, size, bigEndian } = parseDescr(descr, path);
    const col = new Uint8Array(n * size);
    for (let r = 0; r < n; r++) {
      const at = r * header.itemSize + offset;
      col.set(body.subarray(at, at + size), r * size);
    }
    if (bigEndian) swapInPlace(col, size);
    fields.push({ name, dtype: descr, data: typedFromBytes(kind, col) });
    offset += size;
  }
  return { shape: header.shape, fields };
}

/** Encode a .npy (version 1.0, or 2.0 when the header needs it) in memory. */
export function encodeNpy(data: Float32Array | Int32Array | Float64Array, shape: number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((s) => Number.isInteger(s) && s >= 0) || count !== data.length) {
    throw new Error(`writeNpy: shape [${shape.join(', ')}] holds ${count} values, but the data has ${data.length}`);
  }
  const descr = data instanceof Float32Array ? '<f4' : data instanceof Float64Array ? '<f8' : '<i4';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let version = 1;
  let pre = 10;
  let total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  if (total - pre > 0xffff) { version = 2; pre = 12; total = Math.ceil((pre + dict.length + 1) / 64) * 64; }
  const headerText = dict + ' '.repeat(total - pre - dict.length - 1) + '\n';
  const out = new Uint8Array(total + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = version; out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, headerText.length, true);
  else view.setUint32(8, headerText.length, true);
  out.set(new TextEncoder().encode(headerText), pre);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}

/** Write a little-endian C-order .npy atomically (temp file + rename). */
export async function writeNpy(path: string, data: Float32Array | Int32Array | Float64Array, shape: number[]): Promise<void> {
  await writeFileAtomic(path, encodeNpy(data, shape));
}
