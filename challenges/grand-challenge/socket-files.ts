/**
 * Reading socket values from the input folder: an image socket's single file, a JSON socket's value (from its
 * file, else inline), tolerant of the bare NaN / Infinity tokens Python's json module writes.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SocketValue } from './inputs-json.js';

const IMAGE_EXTENSIONS = ['.tif', '.tiff', '.mha'];

/** The one .tif/.tiff/.mha file in an image socket's folder (or the path itself when it names such a file). */
export async function imageSocketFile(inputDir: string, socket: SocketValue): Promise<string> {
  const path = join(inputDir, socket.relativePath);
  if (IMAGE_EXTENSIONS.some((e) => path.toLowerCase().endsWith(e))) return path;
  let names: string[];
  try {
    names = await readdir(path);
  } catch (err) {
    throw new Error(`socket ${socket.slug}: ${path}: cannot list the image folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const images = names.filter((n) => IMAGE_EXTENSIONS.some((e) => n.toLowerCase().endsWith(e))).sort();
  if (images.length !== 1) {
    throw new Error(`socket ${socket.slug}: ${path}: expected exactly one ${IMAGE_EXTENSIONS.join('/')} file, found ${images.length}` +
      (names.length > 0 ? ` (folder holds: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''})` : ' (empty folder)'));
  }
  return join(path, images[0]!);
}

/** Replace bare NaN, Infinity and -Infinity tokens outside strings by null; counts how many were replaced. */
export function nullifyNonFiniteTokens(text: string): { text: string; replaced: number } {
  let out = '';
  let replaced = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      out += ch;
      if (ch === '\\') out += text[++i] ?? '';
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') { inString = true; out += ch; continue; }
    const token = ['-Infinity', 'Infinity', 'NaN'].find((t) => text.startsWith(t, i));
    if (token) { out += 'null'; replaced++; i += token.length - 1; continue; }
    out += ch;
  }
  return { text: out, replaced };
}

/**
 * The value of a JSON socket: its file under the input folder when present, else the inline `value`.
 * Non-finite tokens (NaN, Infinity) become null with a warning; other invalid JSON is an error naming the file.
 */
export async function jsonSocketValue(inputDir: string, socket: SocketValue, warnings: string[]): Promise<unknown> {
  const path = join(inputDir, socket.relativePath);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && socket.value !== undefined && socket.value !== null) return socket.value;
    throw new Error(`socket ${socket.slug}: ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (first) {
    const { text: fixed, replaced } = nullifyNonFiniteTokens(text);
    if (replaced > 0) {
      try {
        const value = JSON.parse(fixed);
        warnings.push(`${path}: ${replaced} non-finite value(s) (NaN/Infinity) read as missing`);
        return value;
      } catch { /* fall through to the original error */ }
    }
    throw new Error(`socket ${socket.slug}: ${path}: expected JSON, found invalid JSON: ${(first as Error).message}`);
  }
}
