import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findModelDir, MODEL_DIR_CANDIDATES, readModelMetadata } from '../../../core/infer/model-dir.js';

describe('model directory', () => {
  it('prefers the platform-mounted /opt/ml/model over the baked /opt/app/model', () => {
    expect(MODEL_DIR_CANDIDATES).toEqual(['/opt/ml/model', '/opt/app/model']);
  });

  it('takes the first candidate holding a metadata.json; an explicit one wins', async () => {
    const root = await mkdtemp(join(tmpdir(), 'model-dir-'));
    const mounted = join(root, 'ml');
    const baked = join(root, 'app');
    await mkdir(mounted, { recursive: true });
    await mkdir(baked, { recursive: true });
    await writeFile(join(baked, 'metadata.json'), '{}');
    expect(findModelDir(undefined, [mounted, baked])).toBe(baked); // an empty mount does not count
    await writeFile(join(mounted, 'metadata.json'), '{}');
    expect(findModelDir(undefined, [mounted, baked])).toBe(mounted);
    expect(findModelDir('/elsewhere', [mounted, baked])).toBe('/elsewhere');
    expect(() => findModelDir(undefined, [join(root, 'none')])).toThrow(/no model directory: none of .* holds metadata\.json; pass --model DIR/);
  });

  it('metadata must say what it is', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'model-dir-'));
    await writeFile(join(dir, 'metadata.json'), '{"format": "other"}');
    await expect(readModelMetadata(dir)).rejects.toThrow(/expected \{ "format": "mmsurv-model", "challenge": "<id>", \.\.\. \}, found \{"format":"other"\}/);
  });
});
