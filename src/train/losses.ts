// The adversarial losses of train.loss, from D's logits (one raw score per image). The schema's train.loss
// description gives each one's paper.
import * as tf from '@tensorflow/tfjs';
import type { Train } from '../config/experiment.generated.ts';
import { sigmoidCrossEntropyMean } from '../backend/fused-kernels.ts';

export type LossKind = Train['loss'];

/** D's loss on one real and one fake batch (without any gradient penalty). */
export function discriminatorLoss(kind: LossKind, realLogits: tf.Tensor, fakeLogits: tf.Tensor): tf.Scalar {
  switch (kind) {
    case 'bce':
      return sigmoidCrossEntropyMean(realLogits, 1).add(sigmoidCrossEntropyMean(fakeLogits, 0)).div(2);
    case 'hinge':
      return tf
        .relu(tf.sub(1, realLogits))
        .mean()
        .add(tf.relu(tf.add(1, fakeLogits)).mean());
    case 'wgan-gp':
      return fakeLogits.mean().sub(realLogits.mean());
  }
}

/** G's loss on D's logits of a fake batch: the non-saturating BCE, or minus the mean score (hinge and WGAN). */
export function generatorLoss(kind: LossKind, fakeLogits: tf.Tensor): tf.Scalar {
  return kind === 'bce' ? sigmoidCrossEntropyMean(fakeLogits, 1) : (fakeLogits.mean().neg() as tf.Scalar);
}
