/**
 * plugins/common: building blocks shared by the published methods: token projections, MLP/SNN/ABMIL/tabular
 * encoders, simple fusions, the discrete-hazard and Cox heads, and a binary classification head.
 */
import type { Registrar } from '../../core/contracts/component.js';
import { abmilEncoderSpec } from './abmil-encoder.js';
import { binaryHeadSpec } from './binary-head.js';
import { concatFusionSpec } from './concat-fusion.js';
import { coxHeadSpec } from './cox-head.js';
import { discreteHeadSpec } from './discrete-head.js';
import { kroneckerFusionSpec } from './kronecker-fusion.js';
import { mcatFusionSpec } from './mcat-fusion.js';
import { survPathFusionSpec } from './survpath-fusion.js';
import { linearEncoderSpec } from './linear-encoder.js';
import { mlpEncoderSpec } from './mlp-encoder.js';
import { pathwaysEncoderSpec } from './pathways-encoder.js';
import { snnEncoderSpec } from './snn-encoder.js';
import { tabularEncoderSpec } from './tabular-encoder.js';
import { textEmbeddingEncoderSpec } from './text-embedding-encoder.js';
import { transmilEncoderSpec } from './transmil-encoder.js';

export function register(r: Registrar): void {
  r.encoder(linearEncoderSpec);
  r.encoder(mlpEncoderSpec);
  r.encoder(snnEncoderSpec);
  r.encoder(abmilEncoderSpec);
  r.encoder(tabularEncoderSpec);
  r.encoder(transmilEncoderSpec);
  r.encoder(pathwaysEncoderSpec);
  r.encoder(textEmbeddingEncoderSpec);
  r.fusion(concatFusionSpec);
  r.fusion(kroneckerFusionSpec);
  r.fusion(mcatFusionSpec);
  r.fusion(survPathFusionSpec);
  r.head(discreteHeadSpec);
  r.head(coxHeadSpec);
  r.head(binaryHeadSpec);
}
