/**
 * The slides of a folder and their tissue masks.
 *
 * Slides: files ending in .tif, .tiff, .svs or .mha (any case), found recursively, in sorted path order; the slide
 * id is the file name without its extension and must be unique. Masks:
 * - with a masks folder: the file (found recursively there) named `<id>.<ext>` or `<id>_mask.<ext>`; a slide
 *   without one gets a warning and is tiled without a mask;
 * - without: `<id>_mask.<ext>` beside the slide (the CHIMERA layout `<pid>_HE.tif` + `<pid>_HE_mask.tif`).
 * Files whose name ends in `_mask` are never slides, nor is anything inside the masks folder.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, relative, resolve } from 'node:path';

export const SLIDE_EXTENSIONS = ['.tif', '.tiff', '.svs', '.mha'] as const;

export interface SlideEntry {
  slideId: string;
  slidePath: string;
  maskPath?: string;
}

function isImage(name: string): boolean {
  return (SLIDE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());
}

function stem(name: string): string {
  return basename(name, extname(name));
}

function isMaskName(name: string): boolean {
  return /_mask$/i.test(stem(name));
}

async function walk(dir: string, skip: string | undefined, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (skip && resolve(p) === skip) continue;
      await walk(p, skip, out);
    } else if ((e.isFile() || e.isSymbolicLink()) && isImage(e.name)) {
      out.push(p);
    }
  }
}

async function checkDir(dir: string, flag: string): Promise<string> {
  const abs = resolve(dir);
  try {
    if (!(await stat(abs)).isDirectory()) throw new Error(`${abs}: ${flag} must be a folder, found a file`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${abs}: ${flag} folder not found`);
    throw err;
  }
  return abs;
}

/** Slides under `slidesDir` with their masks; `warnings` lists slides left without a mask. */
export async function findSlides(slidesDir: string, masksDir?: string): Promise<{ slides: SlideEntry[]; warnings: string[] }> {
  const root = await checkDir(slidesDir, '--slides');
  const maskRoot = masksDir ? await checkDir(masksDir, '--masks') : undefined;
  const files: string[] = [];
  await walk(root, maskRoot, files);
  const slideFiles = files.filter((f) => !isMaskName(basename(f)));
  if (slideFiles.length === 0) {
    throw new Error(`${root}: no slides found: expected files ending in ${SLIDE_EXTENSIONS.join(', ')} (searched recursively; ` +
      `files named *_mask.* count as masks)`);
  }
  const byId = new Map<string, string>();
  for (const f of slideFiles) {
    const id = stem(f);
    const other = byId.get(id);
    if (other) throw new Error(`${root}: two slides have the id '${id}': ${relative(root, other)} and ${relative(root, f)}; slide ids (file names without extension) must be unique`);
    byId.set(id, f);
  }
  const warnings: string[] = [];
  let maskIndex: Map<string, string> | undefined;
  if (maskRoot) {
    const maskFiles: string[] = [];
    await walk(maskRoot, undefined, maskFiles);
    maskIndex = new Map();
    for (const f of maskFiles) if (!maskIndex.has(stem(f))) maskIndex.set(stem(f), f);
  }
  const beside = new Set(files.filter((f) => isMaskName(basename(f))));
  const slides: SlideEntry[] = [];
  for (const [slideId, slidePath] of byId) {
    let maskPath: string | undefined;
    if (maskIndex) {
      maskPath = maskIndex.get(slideId) ?? maskIndex.get(`${slideId}_mask`);
      if (!maskPath) warnings.push(`${slidePath}: no mask in ${maskRoot} (looked for ${slideId}.* and ${slideId}_mask.*); tiled without a mask`);
    } else {
      const dir = slidePath.slice(0, slidePath.length - basename(slidePath).length);
      const ext = extname(slidePath);
      const candidates = [ext, ...SLIDE_EXTENSIONS].map((e) => join(dir, `${slideId}_mask${e}`));
      maskPath = candidates.find((c) => beside.has(c));
    }
    slides.push({ slideId, slidePath, ...(maskPath ? { maskPath } : {}) });
  }
  return { slides, warnings };
}
