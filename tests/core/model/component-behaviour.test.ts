/**
 * Behaviour conformance: every registered Encoder, Fusion and Head, whatever plugin it comes from, keeps the
 * promises of its contract (core/contracts/{encoder,fusion,head}.ts). A new component is tested by registering it
 * (registry.json -> plugins/<name>/index.ts). The checks live in tests/support/behaviour/; the data in
 * tests/support/conformance-cohort.ts.
 *
 * Components are built as the trainer builds them (core/model/survival-model.ts): `{ type: id }` plus this file's
 * table entry is validated by validateConfig, which fills the schema defaults, then `registries.<kind>.build(resolved,
 * ctx)` with ctx for 'encoders.<key>', 'fusion' or 'head'; fusions get build(inputDims), heads build(inDim) + fit.
 * Default widths are not small (256, 512), so the cases are tiny.
 *
 * Per component, each its own test:
 * - shapes: encoders give finite [n >= 1, outDim] tokens in train and eval mode for cases with the modality (unseen
 *   probes: two slides, shuffled genes, an unseen category; training cases lacking other modalities), null without it, create every variable by the end of fit and leave nothing behind but their output; fusions a
 *   finite [1, outDim] z, finite attention and auxLoss; heads finite [b, k] outputs, finite losses on a batch with
 *   events, of one case and without events, and valid predictions (finite risk; times increasing > 0; survival in
 *   [0, 1], non-increasing; a lower curve never has a lower risk).
 * - gradients: every trainable variable gets a gradient above float32 noise (encoders and fusions: a fixed random
 *   readout of the tokens or z, plus auxLoss; heads: their loss); head losses on degenerate batches differentiate.
 * - seeds: the same seed gives identical outputs (two instances), another seed different ones (with variables).
 * - fusions: every non-empty proper subset of the modalities it fuses (those z depends on) gives a finite z.
 * - save/load: A trained 3 Adam steps; state() through JSON and the variables' values in order, into B built with
 *   another seed (restore / build), give identical eval outputs (1e-6).
 * - no leak: 20 optimizer.minimize steps (SGD: Adam's update costs more than the step itself on the cpu backend)
 *   leave tf.memory().numTensors where step 1 left it; dispose() frees everything the component made.
 *
 * A component that cannot be built with its schema defaults plus its entry in the tables below FAILS, with a message
 * naming the table to extend. Keep the tables small: a component should work with its defaults.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll } from 'vitest';
import { registerCoreComponents } from '../../../core/data/register.js';
import { loadRegistries } from '../../../core/registry/loader.js';
import { describeComponentBehaviour, type BehaviourTables } from '../../support/behaviour/index.js';

const tables: BehaviourTables = {
  /**
   * Modality keys (`encoders.<key>`) of encoders whose spec declares no `modalities`. Prefer `modalities` on the
   * spec (core/contracts/component.ts), which wins when both exist. Keys: wsi, rna, clinical read the Case field of
   * that name; any other key (knowledge, ...) is a text modality reading `knowledge` and `texts`.
   */
  encoderModalities: {
    linear: ['wsi', 'rna'],
  },
  /**
   * Options an encoder needs beyond its schema defaults: files, or options without a default; or, marked "speed",
   * a smaller width where the default makes this suite take minutes on the cpu backend (behaviour does not depend
   * on the width).
   */
  encoderOptions: {
    // The GMT file: four pathways over the cohort's genes GENE01..GENE40, one naming a gene the cohort lacks.
    pathways: (f) => ({ gmt: f.gmtFile }),
    // speed: at dim 512 one step takes ~1.5 s and the five tests ~90 s; at 64 (landmarks 32, so the bags of
    // 10-60 patches take the Nystrom path) about 7 s.
    transmil: () => ({ dim: 64, heads: 4 }),
  },
  /** Options a fusion needs beyond its schema defaults. */
  fusionOptions: {},
  /**
   * Token shapes ([nTokens, width] per modality) for fusions that refuse the default inputs. Default: wsi [12, 8],
   * rna [3, 6], clinical [1, 5], knowledge [4, 7] (restricted to the spec's `modalities` when a fusion spec declares
   * them). A fusion that ignores some inputs (role options such as `pathology: 'wsi'`) needs no entry: the suite
   * finds the modalities z depends on.
   */
  fusionTokens: {},
  /** Options a head needs beyond its schema defaults. Heads are built for a fused width of 6. */
  headOptions: {},
};

const registries = await loadRegistries({ builtins: registerCoreComponents });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describeComponentBehaviour(registries, tables, 'tests/core/model/component-behaviour.test.ts');
