/**
 * The generic fusion behaviour suite (tests/support/behaviour/fusions.ts) over the kemm plugin alone, built with its
 * schema defaults for the suite's default token shapes (knowledge [4, 7], wsi [12, 8], rna [3, 6]): the same checks
 * tests/core/model/component-behaviour.test.ts runs over every registered fusion, here runnable on their own.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll } from 'vitest';
import { Registries } from '../../../core/registry/registry.js';
import { register } from '../../../plugins/kemm/index.js';
import { describeFusionBehaviour } from '../../support/behaviour/fusions.js';
import { behaviourEnv } from '../../support/behaviour/harness.js';

const registries = new Registries();
register(registries.registrar('kemm', 'plugins/kemm/index.ts'));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describeFusionBehaviour(behaviourEnv(registries, {
  encoderModalities: {}, encoderOptions: {}, fusionOptions: {}, fusionTokens: {}, headOptions: {},
}, 'tests/plugins/kemm/kecm-behaviour.test.ts'));
