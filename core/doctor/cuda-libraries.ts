/**
 * Where the CUDA libraries tfjs-node-gpu needs are: its libtensorflow 2.9.1 dlopens the CUDA 11 runtime and cuDNN 8
 * by soname, so they must be on LD_LIBRARY_PATH, in the ldconfig cache, or in the folders the loader searches.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CudaSearch } from './check.js';

/** The sonames tfjs-node-gpu 4.22 (libtensorflow 2.9.1, CUDA 11.2 + cuDNN 8.1) cannot start without. */
export const CUDA_LIBRARIES: readonly string[] = ['libcudart.so.11.0', 'libcudnn.so.8'];

/** Folders searched after LD_LIBRARY_PATH and the ldconfig cache. */
export const CUDA_DIRS: readonly string[] = [
  '/usr/local/cuda/lib64',
  '/usr/local/cuda/lib',
  '/usr/local/cuda/targets/x86_64-linux/lib',
  '/usr/lib/x86_64-linux-gnu',
];

/** Same libraries, any version: used to say "CUDA 13 is here, but not 11". */
const ANY_VERSION = /^lib(cudart|cudnn)\.so\.\d[\d.]*$/;

/** soname -> path from `ldconfig -p` output (lines like `\tlibcudart.so.13 (libc6,x86-64) => /usr/.../libcudart.so.13`). */
export function parseLdconfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S.*?)\s*$/.exec(line);
    if (!m) continue;
    const [, soname, arch, path] = m as unknown as [string, string, string, string];
    if (/x86-64|64bit/.test(arch) || !out.has(soname)) out.set(soname, path);
  }
  return out;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export interface CudaSearchInput {
  /** `ldconfig -p` output; '' when ldconfig could not be run. */
  ldconfig: string;
  /** The LD_LIBRARY_PATH value (colon-separated), if set. */
  ldLibraryPath?: string | undefined;
  /** Folders searched last (default CUDA_DIRS). */
  dirs?: readonly string[];
  /** Sonames to find (default CUDA_LIBRARIES). */
  names?: readonly string[];
}

/**
 * Find each of `names` the way the dynamic loader would: LD_LIBRARY_PATH first, then the ldconfig cache, then
 * `dirs`. Also lists other versions of the CUDA runtime / cuDNN seen on the way (they do not satisfy libtensorflow).
 */
export function findCudaLibraries(input: CudaSearchInput): CudaSearch {
  const names = input.names ?? CUDA_LIBRARIES;
  const envDirs = (input.ldLibraryPath ?? '').split(':').filter((d) => d !== '');
  const dirs = input.dirs ?? CUDA_DIRS;
  const cache = parseLdconfig(input.ldconfig);
  const searched = [
    `LD_LIBRARY_PATH${envDirs.length ? ` (${envDirs.join(':')})` : ' (unset)'}`,
    input.ldconfig.trim() ? 'ldconfig -p' : 'ldconfig -p (could not be run)',
    ...dirs,
  ];

  const libraries = names.map((name) => {
    for (const d of envDirs) if (existsSync(join(d, name))) return { name, path: join(d, name), via: 'LD_LIBRARY_PATH' as const };
    const cached = cache.get(name);
    if (cached) return { name, path: cached, via: 'ldconfig' as const };
    for (const d of dirs) if (existsSync(join(d, name))) return { name, path: join(d, name), via: 'dir' as const };
    return { name, path: null, via: null };
  });

  const others = new Map<string, string>();
  const note = (soname: string, path: string) => {
    if (ANY_VERSION.test(soname) && !names.includes(soname) && !others.has(soname)) others.set(soname, path);
  };
  for (const d of envDirs) for (const f of listDir(d)) note(f, join(d, f));
  for (const [soname, path] of cache) note(soname, path);
  for (const d of dirs) for (const f of listDir(d)) note(f, join(d, f));
  const otherVersions = [...others].sort(([a], [b]) => a.localeCompare(b)).map(([soname, path]) => `${soname} (${path})`);

  return { libraries, searched, otherVersions };
}

/** The sonames of `search` that were not found. */
export function missingCudaLibraries(search: CudaSearch): string[] {
  return search.libraries.filter((l) => l.path === null).map((l) => l.name);
}
