/**
 * `mmsurv infer` (a container's entrypoint) run on the host over a packaged model directory: outputs keep the
 * model's risk order, and every kind of bad input gives a prediction with a warning or a clear error with a
 * non-zero exit, never a stack trace alone.
 */
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASK3_INPUT_FILES } from '../../../core/data/synth/write.js';
import { harrellC } from '../../../core/survival/concordance.js';
import { kmTime } from '../../../core/survival/calibration.js';
import { mmsurv } from '../../support/cli.js';
import { buildPackagedRunFixture, writeTinyCnn, type PackagedRunFixture } from '../../support/packaged-run.js';

let fx: PackagedRunFixture;
let model: string;
let ids: string[];

beforeAll(async () => {
  fx = await buildPackagedRunFixture(await mkdtemp(join(tmpdir(), 'mmsurv-infer-')), { trainCases: 48, inputCases: 12 });
  const ctx = join(fx.root, 'ctx');
  const r = await mmsurv(['package', '--run', fx.runDir, '--challenge', 'chimera-task3', '--target', 'gpu', '--tag', 't:1', '--out', ctx, '--no-build', '--quiet']);
  expect(r.exitCode, r.stderr).toBe(0);
  model = join(ctx, 'model');
  ids = (await readdir(fx.inputDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
}, 300_000);

afterAll(async () => {
  if (fx) await rm(fx.root, { recursive: true, force: true });
});

async function infer(input: string) {
  const out = await mkdtemp(join(tmpdir(), 'mmsurv-out-'));
  const r = await mmsurv(['infer', '--model', model, '--input', input, '--output', out, '--json']);
  const files = await readdir(out);
  const value = files.length ? (JSON.parse(await readFile(join(out, files[0]!), 'utf8')) as unknown) : undefined;
  await rm(out, { recursive: true });
  return { ...r, files, value, result: r.exitCode === 0 ? (JSON.parse(r.stdout) as { risk: number; time: number; warnings: string[] }) : null };
}

async function caseCopy(id: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mmsurv-case-'));
  await cp(join(fx.inputDir, id), dir, { recursive: true });
  return dir;
}

/** A clear error: exit 1, one `error:` line that names what is wrong, no stack frames. */
function expectClearError(r: { exitCode?: number; stderr: string; files: string[] }, message: RegExp): void {
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).toMatch(/^error: /m);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.files).toEqual([]);
}

describe('mmsurv infer on a packaged model', () => {
  it('writes one bare number per case, time-like: the run-level calibration of the mean risk', async () => {
    const cal = JSON.parse(await readFile(join(model, 'calibration.json'), 'utf8'));
    const risks: number[] = [];
    const outputs: number[] = [];
    for (const id of ids.slice(0, 8)) {
      const r = await infer(join(fx.inputDir, id));
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.files).toEqual(['likelihood-of-bladder-cancer-recurrence.json']);
      expect(typeof r.value).toBe('number');
      expect(r.value).toBeCloseTo(kmTime(cal, r.result!.risk), 9);
      risks.push(r.result!.risk);
      outputs.push(r.value as number);
    }
    // strictly decreasing map: higher risk -> earlier time, and no ties the risks did not have
    const order = risks.map((_, i) => i).sort((a, b) => risks[a]! - risks[b]!);
    for (let k = 1; k < order.length; k++) expect(outputs[order[k]!]!).toBeLessThan(outputs[order[k - 1]!]!);
    const labels = JSON.parse(await readFile(join(fx.inputDir, 'labels.json'), 'utf8')) as Record<string, { time: number; event: number }>;
    const t = ids.slice(0, 8).map((id) => labels[id]!.time);
    const e = ids.slice(0, 8).map((id) => labels[id]!.event);
    expect(harrellC(t, e, outputs.map((x) => -x)).cIndex).toBe(harrellC(t, e, risks).cIndex);
  });

  it('missing socket: optional RNA -> prediction with a warning; required clinical -> clear error', async () => {
    const dir = await caseCopy(ids[0]!);
    const inputs = JSON.parse(await readFile(join(dir, 'inputs.json'), 'utf8')) as { interface: { slug: string } }[];
    await writeFile(join(dir, 'inputs.json'), JSON.stringify(inputs.filter((s) => s.interface.slug !== TASK3_INPUT_FILES.rnaSlug)));
    const noRna = await infer(dir);
    expect(noRna.exitCode, noRna.stderr).toBe(0);
    expect(noRna.stderr).toMatch(/warning: socket bulk-rna-seq-bladder-cancer not supplied: predicting without RNA/);
    await writeFile(join(dir, 'inputs.json'), JSON.stringify(inputs.filter((s) => s.interface.slug !== TASK3_INPUT_FILES.clinicalSlug)));
    expectClearError(await infer(dir), /the sockets do not match chimera-task3; missing: chimera-clinical-data-of-bladder-cancer-recurrence/);
  });

  it('corrupt TIFF: a clear error naming the slide', async () => {
    const dir = await caseCopy(ids[1]!);
    const slide = join(dir, TASK3_INPUT_FILES.slideDir, `${ids[1]}_HE.tif`);
    const bytes = await readFile(slide);
    await writeFile(slide, bytes.subarray(0, Math.floor(bytes.length / 3)));
    expectClearError(await infer(dir), new RegExp(`error: .*${ids[1]}_HE\\.tif`));
  });

  it('malformed clinical JSON: a clear error naming the file', async () => {
    const dir = await caseCopy(ids[2]!);
    await writeFile(join(dir, TASK3_INPUT_FILES.clinical), '{"age": 71, "sex": ');
    expectClearError(await infer(dir), /chimera-clinical-data-of-bladder-cancer-recurrence-patients\.json: expected JSON, found invalid JSON/);
  });

  it('empty tissue mask: a clear error that says no patch reaches the tissue threshold', async () => {
    const dir = await caseCopy(ids[3]!);
    const mask = join(dir, TASK3_INPUT_FILES.maskDir, `${ids[3]}_HE_mask.tif`);
    const meta = await sharp(mask).metadata();
    const empty = await sharp({ create: { width: meta.width!, height: meta.height!, channels: 3, background: { r: 0, g: 0, b: 0 } } }).tiff().toBuffer();
    await writeFile(mask, empty);
    expectClearError(await infer(dir), /no patch reaches minTissue/);
  });

  it('NaN in RNA and an unseen category: a prediction, with warnings', async () => {
    const dir = await caseCopy(ids[4]!);
    const rnaFile = join(dir, TASK3_INPUT_FILES.rna);
    const text = await readFile(rnaFile, 'utf8');
    const gene = Object.keys(JSON.parse(text) as object)[0]!;
    await writeFile(rnaFile, text.replace(new RegExp(`("${gene}": )[-0-9.e]+`), '$1NaN'));
    const clinFile = join(dir, TASK3_INPUT_FILES.clinical);
    const clinical = JSON.parse(await readFile(clinFile, 'utf8')) as Record<string, unknown>;
    await writeFile(clinFile, JSON.stringify({ ...clinical, smoking: 'Former (unseen)' }));
    const r = await infer(dir);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(typeof r.value).toBe('number');
    expect(r.stderr).toMatch(/warning: .*1 non-finite value\(s\) \(NaN\/Infinity\) read as missing/);
    expect(r.stderr).toMatch(/warning: .*clinical field 'smoking' holds "Former \(unseen\)", a category unseen in training/);
  });

  it('package records the extractor and refuses one with other weights than the training features', async () => {
    const meta = JSON.parse(await readFile(join(model, 'metadata.json'), 'utf8')) as { extractor: { id: string; dim: number }; challenge: string; plugins: string[] };
    expect(meta.challenge).toBe('chimera-task3');
    expect(meta.extractor).toMatchObject({ id: 'tfjs:cnn', dim: 16 });
    expect(meta.plugins).toEqual(['chimera', 'common']);
    const other = join(fx.root, 'other-encoder');
    await writeTinyCnn(join(other, 'cnn'), 32, 99);
    await writeFile(join(other, 'encoder.json'), await readFile(fx.encoderSpec, 'utf8'));
    const r = await mmsurv(['package', '--run', fx.runDir, '--challenge', 'chimera-task3', '--target', 'gpu', '--tag', 't:2', '--out', join(fx.root, 'ctx2'), '--no-build', '--extractor', join(other, 'encoder.json')]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/is not the one the run's features came from .* the image would see different features than training/);
    const again = await mmsurv(['package', '--run', fx.runDir, '--challenge', 'chimera-task3', '--target', 'gpu', '--tag', 't:1', '--out', join(fx.root, 'ctx'), '--no-build']);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/exists and is not empty; pass --overwrite or choose another --out\. Nothing was changed\./);
  });

  it('refuses a model folder that is not one, saying what it expected', async () => {
    const r = await mmsurv(['infer', '--model', fx.root, '--input', join(fx.inputDir, ids[0]!), '--output', join(fx.root, 'o')]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/metadata\.json: cannot read the model metadata .* is .* a model directory written by `mmsurv package`\?/);
  });
});
