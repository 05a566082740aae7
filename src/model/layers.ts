// TF.js's ELU layer throws for any alpha other than 1 ("not supported ... yet"), so ELU with the
// config's alpha is this small layer. It is registered for (de)serialisation: loading a saved model
// that uses it needs this module imported first. alpha = 1 keeps the stock layer.
import * as tf from '@tensorflow/tfjs';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export class ScaledElu extends tf.layers.Layer {
  static className = 'DcganScaledElu';
  readonly alpha: number;

  constructor(args: LayerArgs & { alpha: number }) {
    super(args);
    this.alpha = args.alpha;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    // relu(x) + alpha * elu(min(x, 0)): built from differentiable ops only (tf.greater has no gradient).
    return tf.tidy(() => tf.add(tf.relu(x), tf.mul(tf.elu(tf.minimum(x, 0)), this.alpha)));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), alpha: this.alpha };
  }
}

tf.serialization.registerClass(ScaledElu);
