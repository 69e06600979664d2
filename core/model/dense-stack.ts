/**
 * A stack of Dense layers with ReLU between them (none after the last): the shape every head's optional hidden layer
 * plus output layer takes.
 *
 * @example
 * const out = denseStack([hidden, logit], z, 'head');   // logit(relu(hidden(z)))
 */
import * as tf from '@tensorflow/tfjs';
import type { Dense } from './dense.js';

export function denseStack(layers: readonly Dense[], z: tf.Tensor2D, path: string): tf.Tensor2D {
  if (layers.length === 0) throw new Error(`${path}: call build(inDim) before forward`);
  return tf.tidy(() => {
    let h = z;
    layers.forEach((l, i) => {
      h = l.apply(h);
      if (i < layers.length - 1) h = tf.relu(h);
    });
    return h;
  });
}
