import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { slideExtractorSchema, validateExtractorSpec } from '../../../core/slide/extractor-spec.js';

describe('extractor spec', () => {
  it('fills the defaults of a tfjs spec and leaves the input untouched', () => {
    const input = { type: 'tfjs', modelDir: 'enc' };
    expect(validateExtractorSpec(input)).toEqual({
      type: 'tfjs', modelDir: 'enc', patchSize: 224, targetMpp: 0.5, baseMpp: null, minTissue: 0.5, maxPatches: 4096,
      seed: 0, batchSize: 32, normalise: 'imagenet',
    });
    expect(input).toEqual({ type: 'tfjs', modelDir: 'enc' });
    expect(validateExtractorSpec({ type: 'command', id: 'uni', command: ['python3', 'x.py'] })).toEqual({ type: 'command', id: 'uni', command: ['python3', 'x.py'], timeoutSeconds: 3600 });
  });

  it('reports every problem of a command spec with its path', () => {
    expect(() => validateExtractorSpec({ type: 'command', command: 'python3 x.py', timeoutSeconds: 0 }, 'uni.json')).toThrow(
      /^uni\.json: invalid slide extractor spec, 3 problems:\n {2}\/id: missing required key 'id'.*\n {2}\/command: expected array, found string "python3 x\.py"\n {2}\/timeoutSeconds: expected a number > 0, found 0$/,
    );
  });

  it('the exported JSON Schema agrees with the validator (editors see what mmsurv checks)', () => {
    const validate = new Ajv2020({ strict: false }).compile(slideExtractorSchema());
    const good = [{ type: 'tfjs', modelDir: 'm', baseMpp: 0.25 }, { type: 'command', id: 'x', command: ['a'], dim: 1024 }];
    const bad = [{ type: 'tfjs' }, { type: 'tfjs', modelDir: 'm', normalise: 'z' }, { type: 'command', id: 'x', command: [] }, { type: 'onnx' }, { type: 'tfjs', modelDir: 'm', extra: 1 }];
    for (const s of good) {
      expect(validate(s), JSON.stringify(s)).toBe(true);
      expect(() => validateExtractorSpec(s)).not.toThrow();
    }
    for (const s of bad) {
      expect(validate(s), JSON.stringify(s)).toBe(false);
      expect(() => validateExtractorSpec(s)).toThrow(/invalid slide extractor spec/);
    }
  });
});
