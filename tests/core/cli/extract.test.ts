/**
 * `mmsurv extract` as a yargs command. Until it is listed in core/cli/commands/index.ts the built CLI does not
 * know it, so these tests run the CommandModule in a yargs instance with the CLI's global options.
 */
import 'reflect-metadata';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import yargs from 'yargs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { extractCommand } from '../../../core/cli/commands/extract.js';
import { saveSmallCnn, tempDir, writeRingSlide } from '../slide/support.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('mmsurv-cli-extract-'));
  (await saveSmallCnn(join(dir, 'encoders', 'cnn'), 32)).dispose();
  await writeFile(join(dir, 'encoders', 'cnn.json'), JSON.stringify({ type: 'tfjs', modelDir: 'cnn', patchSize: 32, targetMpp: 1.0, maxPatches: 25 }));
  await mkdir(join(dir, 'wsi', 'masks'), { recursive: true });
  const { maskPath } = await writeRingSlide(join(dir, 'wsi'), 'p1');
  await writeFile(join(dir, 'wsi', 'masks', 'p1.tif'), await readFile(maskPath));
});
afterAll(async () => cleanup());

async function run(args: string[]): Promise<{ stdout: string; error?: Error }> {
  const writes: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    writes.push(String(chunk));
    return true;
  });
  let error: Error | undefined;
  try {
    await yargs(args)
      .option('quiet', { type: 'boolean', global: true })
      .option('backend', { type: 'string', default: 'wasm', global: true })
      .command(extractCommand as never)
      .strict()
      .exitProcess(false)
      .fail((msg, err) => { throw err ?? new Error(msg); })
      .parseAsync();
  } catch (err) {
    error = err as Error;
  } finally {
    spy.mockRestore();
  }
  return { stdout: writes.join(''), ...(error ? { error } : {}) };
}

describe('mmsurv extract', () => {
  it('--help describes the options and gives examples', async () => {
    const help = await new Promise<string>((done) => {
      yargs().scriptName('mmsurv').wrap(null).command(extractCommand as never).exitProcess(false)
        .parse(['extract', '--help'], {}, (_err: unknown, _argv: unknown, output: string) => done(output));
    });
    for (const option of ['--slides', '--masks', '--out', '--encoder', '--overwrite']) expect(help).toContain(option);
    expect(help).toMatch(/Examples:\n\s+mmsurv extract --slides data\/task3 --out features\/uni --encoder encoders\/uni\.json/);
  });

  it('extracts a folder with a masks folder, then finds everything up to date', async () => {
    const args = ['extract', '--slides', join(dir, 'wsi'), '--masks', join(dir, 'wsi', 'masks'), '--out', join(dir, 'out'), '--encoder', join(dir, 'encoders', 'cnn.json'), '--quiet'];
    const first = await run(args);
    expect(first.error).toBeUndefined();
    expect(first.stdout).toMatch(/^extracted 1, up to date 0, failed 0: .*out \(\d+\.\d s\)\n$/);
    const record = JSON.parse(await readFile(join(dir, 'out', 'extract.json'), 'utf8'));
    expect(record.slides.p1).toMatchObject({ status: 'done', n: 25, dim: 16 });
    expect(record.slides.p1.mask).toBe(join(dir, 'wsi', 'masks', 'p1.tif'));
    const second = await run(args);
    expect(second.stdout).toMatch(/^extracted 0, up to date 1, failed 0/);
  });

  it('a bad spec file is an error naming the file and the JSON path', async () => {
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ type: 'tfjs', modelDir: 'cnn', targetMpp: 0 }));
    const r = await run(['extract', '--slides', join(dir, 'wsi'), '--out', join(dir, 'out2'), '--encoder', join(dir, 'bad.json'), '--quiet']);
    expect(r.error?.message).toMatch(/bad\.json: invalid slide extractor spec, 1 problem:\n {2}\/targetMpp: expected a number > 0, found 0/);
  });
});
