import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mmsurv } from '../../support/cli.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'mmsurv-cli-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('mmsurv CLI', () => {
  it('--help lists the commands, and each command has an example', async () => {
    const help = await mmsurv(['--help']);
    expect(help.exitCode).toBe(0);
    for (const c of ['demo', 'synth', 'inspect', 'splits', 'validate', 'schema', 'plugins', 'extract', 'infer', 'package', 'test-container']) expect(help.stdout).toContain(`mmsurv ${c}`);
    for (const c of ['demo', 'synth', 'inspect', 'splits', 'validate', 'schema', 'plugins', 'extract', 'infer', 'package', 'test-container']) {
      const r = await mmsurv([c, '--help']);
      expect(r.exitCode, c).toBe(0);
      expect(r.stdout, c).toMatch(/Examples:\n\s+mmsurv /);
    }
  });

  it('an unknown command suggests the right one and exits 2', async () => {
    const r = await mmsurv(['plugin']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/Did you mean plugins\?/);
  });

  it('invalid arguments stop before the command runs: an unknown option or a missing required one writes nothing', async () => {
    const out = join(tmpdir(), `mmsurv-cli-invalid-${process.pid}`);
    await rm(out, { recursive: true, force: true });
    const unknown = await mmsurv(['synth', '--out', out, '--cases', '4', '--bogus']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown argument: bogus/);
    const missing = await mmsurv(['predict', '--run', out]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/Missing required argument: case/);
    expect(missing.stderr).not.toMatch(/paths\[0\]/); // the handler never ran with the missing argument
    await expect(readFile(join(out, 'synth.json'), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('plugins prints the table of registered components', async () => {
    const r = await mmsurv(['plugins']);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^id\s+kind\s+plugin\s+description/);
    const row = (id: string) => lines.find((l) => l.startsWith(id + ' '));
    expect(row('linear')).toMatch(/^linear\s+encoder\s+common\s+Linear token projection/);
    expect(row('concat')).toMatch(/^concat\s+fusion\s+common\s+/);
    expect(row('manifest')).toMatch(/^manifest\s+dataset\s+core\s+/);
    const rows = (id: string) => lines.filter((l) => l.startsWith(id + ' '));
    expect(rows('chimera-task3')).toEqual([expect.stringMatching(/^chimera-task3\s+challenge\s+chimera\s+CHIMERA Task 3/), expect.stringMatching(/^chimera-task3\s+dataset\s+core\s+/)]);
    const json = JSON.parse((await mmsurv(['plugins', '--kind', 'encoder', '--json'])).stdout);
    expect(json.map((e: { id: string }) => e.id)).toContain('linear');
    expect(json.every((e: { kind: string }) => e.kind === 'encoder')).toBe(true);
  });

  it('validate: a typo in a type fails with a did-you-mean; a wrong option type names its JSON path', async () => {
    const base = { data: { format: 'manifest', root: 'cohort' }, fusion: { type: 'concat' } };
    const typo = join(dir, 'typo.json');
    await writeFile(typo, JSON.stringify({ ...base, encoders: { wsi: { type: 'linaer' } } }));
    let r = await mmsurv(['validate', typo]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('/encoders/wsi/type');
    expect(r.stderr).toContain("'linear'");
    expect(r.stderr).toMatch(/did you mean/i);

    const wrongType = join(dir, 'wrong-type.json');
    await writeFile(wrongType, JSON.stringify({ ...base, encoders: { wsi: { type: 'linear', outDim: '512' } } }));
    r = await mmsurv(['validate', wrongType]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('/encoders/wsi/outDim');
    expect(r.stderr).toMatch(/expected integer/);
    expect(r.stderr).toContain('"512"');

    const good = join(dir, 'good.json');
    await writeFile(good, JSON.stringify({ _base_: 'wrong-type.json', encoders: { wsi: { outDim: 64 } } }));
    r = await mmsurv(['validate', good, '--json']);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(true);
    expect(out.resolved.encoders.wsi).toEqual({ type: 'linear', outDim: 64, activation: 'none', maxPatches: null });
    expect(out.resolved.train.folds).toBe(5); // core defaults are filled in
  });

  it('synth, inspect and splits work together on a chimera-task3 layout', async () => {
    const data = join(dir, 'task3');
    let r = await mmsurv(['synth', '--out', data, '--cases', '30', '--seed', '4', '--layout', 'chimera-task3', '--feature-dim', '8', '--max-patches', '80', '--quiet']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/oracle C-index\s+0\.\d{4}/);
    r = await mmsurv(['inspect', '--data', data, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.format).toBe('chimera-task3');
    expect(summary.cases).toBe(30);
    expect(summary.featureDim).toBe(8);
    r = await mmsurv(['splits', '--data', data, '--folds', '3', '--seed', '2']);
    expect(r.exitCode, r.stderr).toBe(0);
    const splits = JSON.parse(await readFile(join(data, 'splits.json'), 'utf8'));
    expect(splits.assignments).toHaveLength(3);
    expect(splits.assignments.flatMap((a: { val: string[] }) => a.val).sort()).toHaveLength(30);
    // the same folder read for Task 2: BRS3 counts in inspect, class-stratified splits of the cases with a BRS value
    r = await mmsurv(['inspect', '--data', data, '--format', 'chimera-task2', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const t2 = JSON.parse(r.stdout);
    r = await mmsurv(['splits', '--data', data, '--format', 'chimera-task2', '--binary', '--folds', '3', '--out', join(dir, 'splits-brs.json')]);
    expect(r.exitCode, r.stderr).toBe(0);
    const brs = JSON.parse(await readFile(join(dir, 'splits-brs.json'), 'utf8'));
    expect(brs.strata).toEqual({ 'class=0': t2.binary.labelled - t2.binary.positive, 'class=1': t2.binary.positive });
    expect(brs.assignments.flatMap((a: { val: string[] }) => a.val)).toHaveLength(t2.binary.labelled);
  });

  it('reading a folder that is not a cohort says what was expected', async () => {
    const r = await mmsurv(['inspect', '--data', dir]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/cannot tell the cohort layout .* --format with one of: chimera-task2, chimera-task3, manifest/);
  });
});
