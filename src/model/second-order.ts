// Second-order gradients through the discriminator, for gradient penalties (src/train/penalties.ts): a function of
// D's input gradient, differentiated again with respect to D's weights. tfjs-core records the inner backward pass
// on the outer tape whenever one is recording (tf.grad inside optimizer.minimize or tf.variableGrads), so the outer
// gradient flows through it as long as every kernel of that pass has a gradient that keeps the path to the
// weights. What tfjs-core 4.22 lacks for D's layers is registered here; the fused activation gradients' own
// gradients are in src/backend/fused-kernels.ts, and batch norm switches to tfjs-core ops inside
// `twiceDifferentiable` (src/model/layers.ts). Convolutions need nothing: Conv2DBackpropInput has a gradient, and
// the outer pass differentiates no Conv2DBackpropFilter.
import * as tf from '@tensorflow/tfjs';

let passes = 0;

/** Runs `forward`, a training-mode pass whose gradient will itself be differentiated, in that mode. */
export function twiceDifferentiable<T>(forward: () => T): T {
  passes++;
  try {
    return forward();
  } finally {
    passes--;
  }
}

/** Whether a `twiceDifferentiable` pass is running (forward or its backward). */
export const inTwiceDifferentiablePass = (): boolean => passes > 0;

// Comparisons mask tfjs-core's LeakyRelu and SELU gradients (Greater) and Minimum's (LessEqual, in ScaledElu) but
// have no gradient. They are flat wherever differentiable: zero, as TensorFlow's NotDifferentiable gives.
for (const kernelName of ['Greater', 'LessEqual']) {
  if (tf.getGradient(kernelName) !== undefined) continue;
  tf.registerGradient({
    kernelName,
    inputsToSave: ['a', 'b'],
    gradFunc: (_dy, [a, b]) => ({ a: () => tf.zerosLike(a!), b: () => tf.zerosLike(b!) }),
  });
}

// ELU's gradient from its output y, dy where y >= 0, else dy * (y + 1): linear in dy with the same factor, and dy
// where y < 0 in y.
if (tf.getGradient('EluGrad') === undefined) {
  tf.registerGradient({
    kernelName: 'EluGrad',
    inputsToSave: ['dy', 'y'],
    gradFunc: (ddx, [dy, y]) => ({
      dy: () => tf.engine().runKernel('EluGrad', { dy: ddx as tf.Tensor, y: y! }) as tf.Tensor,
      y: () => tf.mul(tf.mul(ddx as tf.Tensor, dy!), tf.step(tf.neg(y!))),
    }),
  });
}

// tfjs-core's Elu, Tanh and Sigmoid (swish) gradients read their saved output y, whose copy it puts on the tape
// before the node that makes y, so no gradient reaches the input through it (tf.grad of tf.grad of tf.tanh finds
// no path). In a twice-differentiable pass y is recomputed from the saved input; elsewhere the saved y serves.
for (const [kernelName, op] of [
  ['Elu', tf.elu],
  ['Tanh', tf.tanh],
  ['Sigmoid', tf.sigmoid],
] as const) {
  const stock = tf.getGradient(kernelName)!;
  tf.registerGradient({
    kernelName,
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, [x, y], attrs) => stock.gradFunc(dy, [passes > 0 ? op(x!) : y!], attrs),
  });
}
