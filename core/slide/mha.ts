/**
 * A small MetaImage (.mha / .mhd) reader for 2-D uint8 images (grand-challenge image sockets may carry .mha).
 *
 * Supported: `NDims = 2` (or 3 with a third size of 1), `ElementType = MET_UCHAR` (MET_USHORT is scaled to 8 bits, nonzero stays nonzero),
 * `ElementNumberOfChannels` 1..4, raw or zlib data (`CompressedData = True`), data `LOCAL` or in a file beside the
 * header. The whole image is read into memory: fine for masks and small images, not for gigapixel slides.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { inflateSync } from 'node:zlib';

export interface MetaImage {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
  /** ElementSpacing of x in millimetres, when present. */
  spacingMm?: number;
}

const MAX_HEADER = 64 * 1024;

export async function readMetaImage(path: string): Promise<MetaImage> {
  const bytes = await readFile(path);
  const header: Record<string, string> = {};
  let offset = 0;
  let dataFile: string | undefined;
  while (offset < Math.min(bytes.length, MAX_HEADER)) {
    const end = bytes.indexOf(0x0a, offset);
    const stop = end < 0 ? bytes.length : end;
    const line = bytes.subarray(offset, stop).toString('latin1').replace(/\r$/, '');
    offset = stop + 1;
    const eq = line.indexOf('=');
    if (eq < 0) {
      if (line.trim() === '') continue;
      throw new Error(`${path}: not a MetaImage header: expected 'Key = Value' lines, found ${JSON.stringify(line.slice(0, 60))}`);
    }
    const key = line.slice(0, eq).trim();
    header[key] = line.slice(eq + 1).trim();
    if (key === 'ElementDataFile') { dataFile = header[key]; break; }
  }
  if (dataFile === undefined) throw new Error(`${path}: not a MetaImage file: no 'ElementDataFile' line in the first ${MAX_HEADER} bytes`);

  const dims = (header.DimSize ?? '').split(/\s+/).filter(Boolean).map(Number);
  if (dims.length < 2 || dims.some((d) => !Number.isInteger(d) || d < 1) || (dims.length === 3 && dims[2] !== 1) || dims.length > 3) {
    throw new Error(`${path}: expected a 2-D image (DimSize 'W H' or 'W H 1'), found DimSize ${JSON.stringify(header.DimSize ?? '')}`);
  }
  const [width, height] = dims as [number, number];
  const channels = Number(header.ElementNumberOfChannels ?? '1');
  if (!Number.isInteger(channels) || channels < 1 || channels > 4) {
    throw new Error(`${path}: expected ElementNumberOfChannels 1..4, found ${JSON.stringify(header.ElementNumberOfChannels)}`);
  }
  const type = header.ElementType ?? '';
  const size = type === 'MET_UCHAR' ? 1 : type === 'MET_USHORT' ? 2 : 0;
  if (!size) throw new Error(`${path}: expected ElementType MET_UCHAR or MET_USHORT, found ${JSON.stringify(type)}`);

  let raw: Buffer = dataFile === 'LOCAL' ? bytes.subarray(offset) : await readFile(resolve(dirname(path), dataFile));
  if (/^true$/i.test(header.CompressedData ?? '')) {
    try {
      raw = inflateSync(raw);
    } catch (err) {
      throw new Error(`${path}: CompressedData = True but the data do not inflate (${(err as Error).message}); the file is truncated or corrupt`);
    }
  }
  const expected = width * height * channels * size;
  if (raw.length < expected) {
    throw new Error(`${path}: expected ${expected} bytes of pixel data (${width} x ${height} x ${channels} x ${size}), found ${raw.length}; the file is truncated`);
  }
  let data: Uint8Array;
  if (size === 1) {
    data = new Uint8Array(raw.buffer, raw.byteOffset, expected);
  } else {
    const msb = /^true$/i.test(header.BinaryDataByteOrderMSB ?? header.ElementByteOrderMSB ?? '');
    data = new Uint8Array(expected / 2);
    for (let i = 0; i < data.length; i++) data[i] = (msb ? raw.readUInt16BE(2 * i) : raw.readUInt16LE(2 * i)) >> 8 || (raw[2 * i] || raw[2 * i + 1] ? 1 : 0);
  }
  const spacing = (header.ElementSpacing ?? header.ElementSize ?? '').split(/\s+/).filter(Boolean).map(Number);
  const spacingMm = spacing.length && Number.isFinite(spacing[0]) && spacing[0]! > 0 ? spacing[0] : undefined;
  return { width, height, channels, data, ...(spacingMm !== undefined ? { spacingMm } : {}) };
}
