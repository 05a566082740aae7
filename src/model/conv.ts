// The discriminator's convolutions, run as tf.conv2d. tfjs-layers' own Conv2D runs through tf.fused.conv2d, whose
// gradient computes the input's, the filter's and the bias's gradients on every backward pass, needed or not;
// tf.conv2d's computes each only where the tape asks for it. A GAN step asks for few: the generator's update goes
// back through D without D's filter gradients, and D's update needs no gradient of the images its first conv reads
// (both were computed and thrown away, about 8% of a step). Same weights, names and values as tfjs-layers' Conv2D,
// and registered under its class name (as FusedBatchNorm is under BatchNormalization's): a saved model stays
// loadable by plain TF.js, and a Conv2D saved by anything loads as this class.
import * as tf from '@tensorflow/tfjs';

export type ConvArgs = Parameters<typeof tf.layers.conv2d>[0];
// tfjs-layers exports a factory, not the class: take the class from an instance to extend it.
const LayersConv2D = Object.getPrototypeOf(tf.layers.conv2d({ filters: 1, kernelSize: 1 })).constructor as new (args: ConvArgs) => tf.layers.Layer;

/** The fields of tfjs-layers' Conv2D that a subclass reads (protected there, untyped on the class taken above). */
export interface ConvState {
  kernel: tf.LayerVariable;
  bias?: tf.LayerVariable;
  strides: [number, number];
  padding: 'same' | 'valid';
  dilationRate: [number, number];
  activation: { apply(x: tf.Tensor): tf.Tensor };
}

export class Conv2D extends LayersConv2D {
  static className = 'Conv2D';

  /** The filter the convolution applies: the kernel itself here (spectral norm divides it by sigma). */
  protected filter(_training: boolean): tf.Tensor4D {
    return (this as unknown as ConvState).kernel.read() as tf.Tensor4D;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const conv = this as unknown as ConvState;
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.tidy(() => {
      let y: tf.Tensor = tf.conv2d(x, this.filter(kwargs.training === true), conv.strides, conv.padding, 'NHWC', conv.dilationRate);
      if (conv.bias) y = tf.add(y, conv.bias.read());
      return conv.activation.apply(y);
    });
  }
}

tf.serialization.registerClass(Conv2D as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
