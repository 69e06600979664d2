import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { mmsurv } from '../../support/cli.js';

describe('mmsurv schema --of extractor', () => {
  it('prints the slide extractor schema: a valid spec passes, a wrong one fails at its path', async () => {
    const r = await mmsurv(['schema', '--of', 'extractor']);
    expect(r.exitCode, r.stderr).toBe(0);
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(JSON.parse(r.stdout) as object);
    expect(validate({ type: 'tfjs', modelDir: 'cnn', patchSize: 224, targetMpp: 1 })).toBe(true);
    expect(validate({ type: 'command', id: 'uni', command: ['python3', 'x.py', '{slide}', '{out}'] })).toBe(true);
    expect(validate({ type: 'tfjs', modelDir: 'cnn', patchSize: 'big' })).toBe(false);
    expect(validate.errors!.some((e) => e.instancePath === '/patchSize')).toBe(true);
  });
});
