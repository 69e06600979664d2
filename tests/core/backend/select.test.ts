import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { BackendName } from '../../../core/contracts/backend.js';
import {
  packageInstalled,
  BACKEND_ORDER,
  describeBackend,
  nativeImportFailure,
  selectBackend,
  type BackendCandidate,
} from '../../../core/backend/select.js';
import { nativeMatmulStatus } from '../../../core/backend/native-matmul.js';
import { MemoryLogger } from '../../../core/services/logger.js';

const nativeInstalled = packageInstalled('@tensorflow/tfjs-node-gpu') || packageInstalled('@tensorflow/tfjs-node');

/** A fake candidate: records its load in `log`, fails with `failWith` when given. */
function fake(name: BackendName, log: string[], failWith?: string): BackendCandidate {
  return {
    name,
    async load() {
      log.push(name);
      if (failWith !== undefined) throw new Error(failWith);
    },
  };
}

describe('selectBackend on this machine (tfjs-node-gpu absent)', () => {
  it("'auto' selects wasm, records why tfjs-node-gpu and tfjs-node were skipped, and logs the backend and matmul lines", async (ctx) => {
    if (nativeInstalled) ctx.skip('@tensorflow/tfjs-node(-gpu) is installed here, so auto would not fall back to wasm');
    const logger = new MemoryLogger();
    const b = await selectBackend({ logger });
    expect(b.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(b.tf).toBe(tf); // the one tfjs namespace
    expect(b.explicitTransposeGrad).toBe(!nativeMatmulStatus().active); // the native sgemm takes transposes as flags
    expect(b.attempts.map((a) => [a.name, a.ok])).toEqual([
      ['tfjs-node-gpu', false],
      ['tfjs-node', false],
      ['wasm', true],
    ]);
    const gpu = b.attempts[0]!.reason!;
    expect(gpu).toMatch(/^not installed: @tensorflow\/tfjs-node-gpu is an optional dependency/);
    expect(gpu).toContain('libtensorflow (CUDA 11.2 + cuDNN 8.1)');
    expect(gpu).toContain('absent when that download failed or was skipped');
    expect(b.attempts[1]!.reason).toMatch(/^not installed: @tensorflow\/tfjs-node /);
    const infos = logger.lines.filter((l) => l.level === 'info').map((l) => l.message);
    expect(infos).toEqual(['backend: wasm (tfjs-node-gpu: not installed; tfjs-node: not installed)', `matmul: ${b.matmul}`]);
    expect(b.matmul).toMatch(/^(native sgemm: \S+, \d+ threads?|wasm matmul \(native sgemm off: .+\))/);
    expect(describeBackend(b)).toBe('wasm (tfjs-node-gpu: not installed; tfjs-node: not installed)');

    // the engine really computes on wasm
    const y = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0]);
    expect(y).toBe(11);
  });

  it('selecting the same backend again returns the current selection', async (ctx) => {
    if (nativeInstalled) ctx.skip('@tensorflow/tfjs-node(-gpu) is installed here');
    const a = await selectBackend();
    const logger = new MemoryLogger();
    const b = await selectBackend({ logger });
    expect(b).toBe(a);
    expect(logger.lines).toEqual([]);
  });

  it("prefer: 'cpu' gives cpu with a single attempt", async () => {
    const logger = new MemoryLogger();
    const b = await selectBackend({ prefer: 'cpu', logger });
    expect(b.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(b.explicitTransposeGrad).toBe(false);
    expect(b.attempts).toEqual([{ name: 'cpu', ok: true }]);
    expect(logger.lines.map((l) => l.message)).toEqual(['backend: cpu (requested)']);
  });

  it("prefer: 'wasm' after cpu switches the engine back to wasm", async () => {
    const b = await selectBackend({ prefer: 'wasm' });
    expect(b.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it("prefer: 'tfjs-node-gpu' throws, saying it is not installed and listing the alternatives", async (ctx) => {
    if (packageInstalled('@tensorflow/tfjs-node-gpu')) ctx.skip('@tensorflow/tfjs-node-gpu is installed here');
    const before = tf.getBackend();
    const err = await selectBackend({ prefer: 'tfjs-node-gpu' }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    const msg = err!.message;
    expect(msg).toContain("backend 'tfjs-node-gpu' was requested but is not available");
    expect(msg).toContain('not installed: @tensorflow/tfjs-node-gpu is an optional dependency');
    expect(msg).toMatch(/Alternatives: 'tfjs-node' .*'wasm' .*'cpu' .*'auto'/s);
    expect(msg).not.toMatch(/Alternatives:.*'tfjs-node-gpu'/s);
    expect(tf.getBackend()).toBe(before); // a failed request leaves the engine alone
  });

  it('an unknown backend name is an error that lists the valid ones', async () => {
    await expect(selectBackend({ prefer: 'gpu' as BackendName })).rejects.toThrow(
      "unknown backend 'gpu': expected 'auto' or one of 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'",
    );
  });
});

describe('selectBackend fallback order (injected candidates)', () => {
  it('exposes the auto order', () => {
    expect(BACKEND_ORDER).toEqual(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']);
  });

  it('first fails, second fails, third loads: the third is chosen and the fourth never tried', async () => {
    const log: string[] = [];
    const logger = new MemoryLogger();
    const b = await selectBackend({
      logger,
      candidates: [
        fake('tfjs-node-gpu', log, 'not installed: gpu package absent'),
        fake('tfjs-node', log, 'failed to load: libtensorflow.so.2: cannot open shared object file\nsecond line'),
        fake('wasm', log),
        fake('cpu', log),
      ],
    });
    expect(log).toEqual(['tfjs-node-gpu', 'tfjs-node', 'wasm']);
    expect(b.name).toBe('wasm');
    expect(b.explicitTransposeGrad).toBe(!nativeMatmulStatus().active); // the native sgemm takes transposes as flags
    expect(b.attempts).toEqual([
      { name: 'tfjs-node-gpu', ok: false, reason: 'not installed: gpu package absent' },
      {
        name: 'tfjs-node',
        ok: false,
        reason: 'failed to load: libtensorflow.so.2: cannot open shared object file\nsecond line',
      },
      { name: 'wasm', ok: true },
    ]);
    expect(logger.lines.filter((l) => l.level === 'info').map((l) => l.message)).toEqual([
      'backend: wasm (tfjs-node-gpu: not installed; tfjs-node: failed to load: libtensorflow.so.2: cannot open shared object file)',
    ]);
  });

  it('the first candidate that loads wins', async () => {
    const log: string[] = [];
    const b = await selectBackend({ candidates: [fake('tfjs-node-gpu', log), fake('cpu', log)] });
    expect(b.name).toBe('tfjs-node-gpu');
    expect(b.explicitTransposeGrad).toBe(false);
    expect(log).toEqual(['tfjs-node-gpu']);
    expect(describeBackend(b)).toBe('tfjs-node-gpu');
  });

  it('all fail: the error lists every candidate with its reason, in order', async () => {
    const log: string[] = [];
    const err = await selectBackend({
      candidates: [fake('tfjs-node-gpu', log, 'reason A'), fake('wasm', log, 'reason B'), fake('cpu', log, 'reason C')],
    }).then(
      () => null,
      (e: Error) => e,
    );
    expect(log).toEqual(['tfjs-node-gpu', 'wasm', 'cpu']);
    expect(err?.message).toMatch(/no TensorFlow\.js backend could be loaded/);
    expect(err?.message).toMatch(/- tfjs-node-gpu: reason A\n\s+- wasm: reason B\n\s+- cpu: reason C/);
  });

  it('prefer with injected candidates tries only that one', async () => {
    const log: string[] = [];
    const err = await selectBackend({
      prefer: 'wasm',
      candidates: [fake('tfjs-node-gpu', log), fake('wasm', log, 'wasm broke'), fake('cpu', log)],
    }).then(
      () => null,
      (e: Error) => e,
    );
    expect(log).toEqual(['wasm']);
    expect(err?.message).toContain("backend 'wasm' was requested but is not available: wasm broke");
    expect(err?.message).toMatch(/Alternatives: 'tfjs-node-gpu' .*'tfjs-node' .*'cpu' /s);
  });
});

describe('nativeImportFailure: an absent package vs a package that fails to load', () => {
  const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

  it('the package itself not found -> not installed, with the explanation', () => {
    const err = withCode("Cannot find package '@tensorflow/tfjs-node-gpu' imported from /app/core/backend/select.js", 'ERR_MODULE_NOT_FOUND');
    expect(nativeImportFailure('tfjs-node-gpu', err)).toMatch(
      /^not installed: @tensorflow\/tfjs-node-gpu is an optional dependency whose install downloads libtensorflow \(CUDA 11\.2 \+ cuDNN 8\.1\); it is absent when that download failed or was skipped/,
    );
  });

  it('missing CUDA library -> failed to load, first line of the error, and what it needs', () => {
    const err = withCode(
      'libcudart.so.11.0: cannot open shared object file: No such file or directory\n    at Module._extensions..node',
      'ERR_DLOPEN_FAILED',
    );
    const reason = nativeImportFailure('tfjs-node-gpu', err);
    expect(reason).toMatch(/^failed to load: libcudart\.so\.11\.0: cannot open shared object file: No such file or directory \(/);
    expect(reason).toContain('CUDA 11.2 and cuDNN 8.1');
    expect(reason).not.toContain('Module._extensions');
  });

  it('a file missing inside the installed package is a load failure, not "not installed"', () => {
    const err = withCode(
      "Cannot find module '/app/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node'\nRequire stack:\n- /app/x.js",
      'MODULE_NOT_FOUND',
    );
    const reason = nativeImportFailure('tfjs-node', err);
    expect(reason).toMatch(/^failed to load: Cannot find module '.*tfjs_binding\.node'/);
    expect(reason).toContain('npm rebuild @tensorflow/tfjs-node');
  });

  it("a dependency of the package missing is a load failure naming that dependency", () => {
    const err = withCode(
      "Cannot find package '@tensorflow/tfjs' imported from /app/node_modules/@tensorflow/tfjs-node-gpu/dist/index.js",
      'ERR_MODULE_NOT_FOUND',
    );
    expect(nativeImportFailure('tfjs-node-gpu', err)).toBe(
      "failed to load: Cannot find package '@tensorflow/tfjs' imported from /app/node_modules/@tensorflow/tfjs-node-gpu/dist/index.js",
    );
  });
});
