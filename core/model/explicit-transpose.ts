/**
 * Which matmul gradient path a component's layers should use (see core/model/dense.ts): the run's Backend service
 * when the container has one, else the engine tfjs is on now (tests, scripts).
 *
 * @example
 * new Dense({ inDim, outDim, random: ctx.random.fork('fc'), explicitTranspose: explicitTransposeIn(ctx) });
 */
import * as tf from '@tensorflow/tfjs';
import type { Backend } from '../contracts/backend.js';
import type { BuildContext } from '../contracts/component.js';
import { TOKENS } from '../di/tokens.js';
import { explicitTransposeFor } from './dense.js';

export function explicitTransposeIn(ctx: Pick<BuildContext, 'container'>): boolean {
  const name = ctx.container.isRegistered(TOKENS.Backend, true)
    ? ctx.container.resolve<Backend>(TOKENS.Backend).name
    : tf.getBackend();
  return explicitTransposeFor(name);
}
