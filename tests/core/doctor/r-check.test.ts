/** probeR against stand-in Rscript executables on PATH (the real R is checked by the CLI test when present). */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { probeR, rCheck } from '../../../core/doctor/r-check.js';

const root = mkdtempSync(join(tmpdir(), 'mmsurv-doctor-r-'));
const savedPath = process.env['PATH'];
afterEach(() => { process.env['PATH'] = savedPath; });

/** A folder holding an `Rscript` shell script with `body`, put first on PATH (the system's sh stays reachable). */
function fakeRscript(name: string, body: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Rscript'), `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/args"\n${body}\n`);
  chmodSync(join(dir, 'Rscript'), 0o755);
  process.env['PATH'] = `${dir}:/usr/bin:/bin`;
  return dir;
}

describe('probeR and rCheck', () => {
  it('both libraries load: pass with the versions R printed', async () => {
    const dir = fakeRscript('ok', "printf '4.2.2\\n3.4.0\\n2023.03.22\\n'");
    const f = await probeR();
    expect(f).toEqual({ found: true, ok: true, timedOut: false, versions: { r: '4.2.2', survival: '3.4.0', riskRegression: '2023.03.22' } });
    const args = readFileSync(join(dir, 'args'), 'utf8');
    expect(args).toContain('library(survival)');
    expect(args).toContain('library(riskRegression)');
    const c = rCheck(f);
    expect(c.status).toBe('pass');
    expect(c.summary).toBe('R 4.2.2, survival 3.4.0, riskRegression 2023.03.22 (the reference tests run)');
    expect(c.fix).toBeNull();
  });

  it('a missing package: warn, with what R said and the apt-get fix', async () => {
    fakeRscript('nopkg', `echo "Error in library(riskRegression) : there is no package called 'riskRegression'" >&2\necho "Execution halted" >&2\nexit 1`);
    const f = await probeR();
    expect(f).toMatchObject({ found: true, ok: false, timedOut: false });
    const c = rCheck(f);
    expect(c.status).toBe('warn');
    expect(c.summary).toMatch(/^R is present but library\(survival\); library\(riskRegression\) fails/);
    expect(c.detail.join(' ')).toContain("there is no package called 'riskRegression'");
    expect(c.fix).toMatch(/^apt-get install -y r-base-core r-cran-survival r-cran-riskregression/);
  });

  it('no Rscript on PATH: warn with the apt-get fix', async () => {
    process.env['PATH'] = join(root, 'empty-path');
    const f = await probeR();
    expect(f).toMatchObject({ found: false, ok: false });
    const c = rCheck(f);
    expect(c.status).toBe('warn');
    expect(c.summary).toMatch(/^Rscript is not on PATH/);
    expect(c.fix).toBe('apt-get install -y r-base-core r-cran-survival r-cran-riskregression');
  });

  it('an R that hangs is killed after the timeout', async () => {
    fakeRscript('hang', 'exec sleep 30');
    const t0 = Date.now();
    const f = await probeR({ timeoutMs: 300 });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(f).toMatchObject({ found: true, ok: false, timedOut: true });
    expect(rCheck(f).status).toBe('warn');
  });
});
