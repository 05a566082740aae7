// The networks' convolutions, run as the plainest TF.js ops that compute them. tfjs-layers' own Conv2D runs
// through tf.fused.conv2d, whose gradient computes the input's, the filter's and the bias's gradients on every
// backward pass, needed or not; tf.conv2d's computes each only where the tape asks for it. A GAN step asks for few:
// the generator's update goes back through D without D's filter gradients, and D's update needs no gradient of the
// images its first conv reads (both were computed and thrown away, about 8% of a step). A convolution whose kernel
// covers its whole input (D's last layer; G's first, from 1x1) is a matrix product, and runs as one: convolution
// kernels are slow on such shapes (TensorFlow's about 6x at D's last layer, batch 16). Same weights, names and values
// as tfjs-layers' layers, and registered under their class names (as FusedBatchNorm is under BatchNormalization's):
// a saved model stays loadable by plain TF.js, and a Conv2D saved by anything loads as this class.
import * as tf from '@tensorflow/tfjs';

export type ConvArgs = Parameters<typeof tf.layers.conv2d>[0];
type ConvTransposeArgs = Parameters<typeof tf.layers.conv2dTranspose>[0];
// tfjs-layers exports factories, not the classes: take each class from an instance to extend it.
const LayersConv2D = Object.getPrototypeOf(tf.layers.conv2d({ filters: 1, kernelSize: 1 })).constructor as new (args: ConvArgs) => tf.layers.Layer;
const LayersConv2DTranspose = Object.getPrototypeOf(tf.layers.conv2dTranspose({ filters: 1, kernelSize: 1 })).constructor as new (
  args: ConvTransposeArgs,
) => tf.layers.Layer;

/** The fields of tfjs-layers' Conv2D (and Conv2DTranspose) that a subclass reads (protected there, untyped on the classes taken above). */
export interface ConvState {
  kernel: tf.LayerVariable;
  bias?: tf.LayerVariable;
  strides: [number, number];
  padding: 'same' | 'valid';
  dilationRate: [number, number];
  activation: { apply(x: tf.Tensor): tf.Tensor };
}

const single = (inputs: tf.Tensor | tf.Tensor[]) => (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
const isUnit = (pair: [number, number]) => pair[0] === 1 && pair[1] === 1;

function withBiasAndActivation(conv: ConvState, y: tf.Tensor): tf.Tensor {
  return conv.activation.apply(conv.bias ? tf.add(y, conv.bias.read()) : y);
}

export class Conv2D extends LayersConv2D {
  static className = 'Conv2D';

  /** The filter the convolution applies: the kernel itself here (spectral norm divides it by sigma). */
  protected filter(_training: boolean): tf.Tensor4D {
    return (this as unknown as ConvState).kernel.read() as tf.Tensor4D;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const conv = this as unknown as ConvState;
    const x = single(inputs);
    return tf.tidy(() => {
      const filter = this.filter(kwargs.training === true);
      const [batch, height, width, channels] = x.shape;
      const [kernelHeight, kernelWidth, , filters] = filter.shape;
      // One output pixel, the whole input under the kernel: y[b, f] = sum over (i, j, c) of x[b, i, j, c] k[i, j, c, f].
      const covers = conv.padding === 'valid' && isUnit(conv.dilationRate) && height === kernelHeight && width === kernelWidth;
      const y = covers
        ? tf.matMul(tf.reshape(x, [batch, height * width * channels]), tf.reshape(filter, [height * width * channels, filters])).reshape([batch, 1, 1, filters])
        : tf.conv2d(x, filter, conv.strides, conv.padding, 'NHWC', conv.dilationRate);
      return withBiasAndActivation(conv, y);
    });
  }
}

/** tfjs-layers' Conv2DTranspose, but from a 1x1 input (the generator's first layer) as a matrix product. */
export class Conv2DTranspose extends LayersConv2DTranspose {
  static className = 'Conv2DTranspose';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const conv = this as unknown as ConvState;
    const x = single(inputs);
    const [batch, height, width, channels] = x.shape;
    if (!(height === 1 && width === 1 && conv.padding === 'valid' && isUnit(conv.strides))) return super.call(inputs, kwargs) as tf.Tensor;
    return tf.tidy(() => {
      // y[b, i, j, f] = sum over c of x[b, c] k[i, j, f, c]: the kernel, [kh, kw, filters, channels], as rows.
      const kernel = conv.kernel.read() as tf.Tensor4D;
      const [kernelHeight, kernelWidth, filters] = kernel.shape;
      const rows = tf.reshape(kernel, [kernelHeight * kernelWidth * filters, channels]);
      const y = tf.matMul(tf.reshape(x, [batch, channels]), rows, false, true).reshape([batch, kernelHeight, kernelWidth, filters]);
      return withBiasAndActivation(conv, y);
    });
  }
}

for (const layer of [Conv2D, Conv2DTranspose]) {
  tf.serialization.registerClass(layer as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
}
