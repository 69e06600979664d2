/**
 * plugins/common: building blocks shared by the published methods.
 * (Grows with the component library: ABMIL, TransMIL, SNN, MLP, tabular, Kronecker, co-attention ...)
 */
import type { Registrar } from '../../core/contracts/component.js';
import { concatFusionSpec } from './concat-fusion.js';
import { linearEncoderSpec } from './linear-encoder.js';

export function register(r: Registrar): void {
  r.encoder(linearEncoderSpec);
  r.fusion(concatFusionSpec);
}
