/**
 * Depthwise 2-D convolution with stride 1 and 'same' zero padding, for odd kernel sizes, that trains on every
 * backend.
 *
 *   y[i, j, c] = sum_{a < kh, b < kw} x[i + a - (kh-1)/2, j + b - (kw-1)/2, c] * kernel[a, b, c]   (x = 0 outside)
 *
 * This is PyTorch's `nn.Conv2d(C, C, (kh, kw), padding=(kh//2, kw//2), groups=C, bias=False)` (a cross-correlation)
 * with the channels last.
 *
 * Why a custom gradient: tfjs's depthwiseConv2d has no gradient on the wasm backend (its backprop kernels are
 * missing; REFERENCE.md D), but its forward kernel exists everywhere. Both gradients are themselves forward
 * depthwise convolutions, so `tf.customGrad` computes them with that kernel:
 *   dx      = 'same' convolution of dy with the kernel flipped in both spatial axes,
 *   dkernel = 'valid' convolution of the zero-padded x with dy as the filter:
 *             dkernel[a, b, c] = sum_{i,j} xpad[i + a, j + b, c] * dy[i, j, c].
 * An earlier version summed kh*kw shifted slices (tf.pad + tf.slice) times per-channel weights; on wasm that was
 * ~8x slower than the forward kernel for a 7x7 filter over a 64x64x512 grid (the slices are strided copies), so the
 * shifted-slice form survives only as the plain-JS reference in the tests.
 *
 * @example
 * const y = depthwiseConv2dSame(grid, kernel);   // grid [H, W, C], kernel [7, 7, C] -> [H, W, C]
 */
import * as tf from '@tensorflow/tfjs';

function same(x: tf.Tensor3D, kernel: tf.Tensor3D): tf.Tensor3D {
  const [kh, kw, c] = kernel.shape;
  return tf.depthwiseConv2d(x, tf.reshape(kernel, [kh, kw, c, 1]) as tf.Tensor4D, 1, 'same');
}

const depthwiseSame = tf.customGrad<tf.Tensor3D>((...args) => {
  const [x, kernel, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
  save([x, kernel]);
  return {
    value: same(x, kernel),
    gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => {
      const [xs, ks] = saved as [tf.Tensor3D, tf.Tensor3D];
      const [kh, kw] = ks.shape;
      const [h, w, c] = xs.shape;
      const dx = tf.tidy(() => same(dy, tf.reverse(ks, [0, 1]) as tf.Tensor3D));
      const dk = tf.tidy(() => {
        const ph = (kh - 1) / 2;
        const pw = (kw - 1) / 2;
        const padded = tf.pad(xs, [[ph, ph], [pw, pw], [0, 0]]) as tf.Tensor3D;
        return tf.depthwiseConv2d(padded, tf.reshape(dy, [h, w, c, 1]) as tf.Tensor4D, 1, 'valid');
      });
      return [dx, dk];
    },
  };
});

/** y = depthwise 'same' convolution of x [H, W, C] with kernel [kh, kw, C] (kh, kw odd); see the file comment. */
export function depthwiseConv2dSame(x: tf.Tensor3D, kernel: tf.Tensor3D): tf.Tensor3D {
  if (x.rank !== 3 || kernel.rank !== 3) {
    throw new Error(`depthwiseConv2dSame: expected x [H, W, C] and kernel [kh, kw, C], found [${x.shape.join(', ')}] and [${kernel.shape.join(', ')}]`);
  }
  const [kh, kw, kc] = kernel.shape;
  if (kh % 2 !== 1 || kw % 2 !== 1) throw new Error(`depthwiseConv2dSame: kernel sizes must be odd ('same' padding), found ${kh}x${kw}`);
  if (kc !== x.shape[2]) throw new Error(`depthwiseConv2dSame: kernel has ${kc} channels, x has ${x.shape[2]}`);
  return depthwiseSame(x, kernel);
}
