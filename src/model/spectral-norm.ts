// Spectral normalization (Miyato et al. 2018) of a Conv2D kernel, computed as PyTorch's
// torch.nn.utils.spectral_norm computes it (test/model-spectral-norm.test.ts checks parity).
//
// The kernel [kh, kw, in, out] is read as the matrix M = [kh*kw*in, out], the transpose of PyTorch's
// weight.view(out, -1) up to the order of its rows, so both have the same singular values; u has
// PyTorch's layout (length out), v is in this kernel's row order (length kh*kw*in).
// Training-mode call: one power iteration v = normalize(M u), u = normalize(M^T v) writes u and v, then
// the kernel is divided by sigma = v^T M u with u and v held constant (the gradient flows through M only).
// Inference-mode call: no update; sigma from the stored u and v, as PyTorch's eval mode.
// Only ordinary differentiable ops: a gradient penalty can differentiate the input gradient again.
// Registered for (de)serialisation; u and v are non-trainable weights, so checkpoints keep them.
import * as tf from '@tensorflow/tfjs';
import { Conv2D, type ConvArgs, type ConvState } from './conv.ts';

/** PyTorch's F.normalize eps: a zero vector stays zero instead of becoming NaN. */
const EPSILON = 1e-12;

const normalize = (x: tf.Tensor1D): tf.Tensor1D => tf.div(x, tf.maximum(tf.norm(x), EPSILON));

/** One step of the power method on M (rows = kh*kw*in): PyTorch's v = normalize(W^T u), u = normalize(W v) with W = M^T. */
export function powerIteration(matrix: tf.Tensor2D, u: tf.Tensor1D): { u: tf.Tensor1D; v: tf.Tensor1D } {
  const v = normalize(tf.dot(matrix, u) as tf.Tensor1D);
  return { u: normalize(tf.dot(v, matrix) as tf.Tensor1D), v };
}

/** The estimate of M's largest singular value, v^T M u. */
export const sigmaOf = (matrix: tf.Tensor2D, u: tf.Tensor1D, v: tf.Tensor1D): tf.Scalar => tf.dot(v, tf.dot(matrix, u)) as tf.Scalar;

export class SpectralNormConv2D extends Conv2D {
  static override className = 'DcganSpectralNormConv2D';
  /** Seeds u's initial normal draw; tfjs draws from Math.random() when a seed is falsy, so one is required. */
  readonly seed: number;
  private u!: tf.LayerVariable;
  private v!: tf.LayerVariable;

  constructor(args: ConvArgs & { seed: number }) {
    super(args);
    if (!args.seed) throw new Error(`${this.name}: spectral normalization needs a non-zero seed for u`);
    if (args.dataFormat === 'channelsFirst') throw new Error(`${this.name}: spectral normalization supports channelsLast only`);
    this.seed = args.seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    super.build(inputShape);
    const [kh, kw, channels, filters] = (this as unknown as ConvState).kernel.shape as number[];
    this.u = this.addWeight('u', [filters], 'float32', tf.initializers.randomNormal({ mean: 0, stddev: 1, seed: this.seed }), undefined, false);
    this.v = this.addWeight('v', [kh * kw * channels], 'float32', tf.initializers.zeros(), undefined, false);
    // PyTorch draws v at random too, which makes its eval-mode sigma before the first training call a random
    // projection; v = normalize(M u) gives sigma = |M u| instead. Training calls overwrite v before using it.
    tf.tidy(() => {
      const u = normalize(this.u.read() as tf.Tensor1D);
      this.u.write(u);
      this.v.write(normalize(tf.dot(this.matrix(), u) as tf.Tensor1D));
    });
  }

  /** The kernel divided by sigma; `training` runs one power iteration first and stores u and v. */
  normalizedKernel(training: boolean): tf.Tensor4D {
    return tf.tidy(() => {
      const kernel = (this as unknown as ConvState).kernel.read() as tf.Tensor4D;
      const matrix = this.matrix();
      if (training) {
        const next = powerIteration(matrix, this.u.read() as tf.Tensor1D);
        this.u.write(next.u);
        this.v.write(next.v);
      }
      // Read back from the variables, which are leaves of the tape: u and v are constants to the gradient
      // (PyTorch's no_grad). The tape saves its own copies of the values, so the next call's update does not
      // reach a pending gradient of this one (PyTorch clones u and v for that).
      const sigma = sigmaOf(matrix, this.u.read() as tf.Tensor1D, this.v.read() as tf.Tensor1D);
      return tf.div(kernel, sigma);
    });
  }

  protected override filter(training: boolean): tf.Tensor4D {
    return this.normalizedKernel(training);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), seed: this.seed };
  }

  private matrix(): tf.Tensor2D {
    const kernel = (this as unknown as ConvState).kernel.read();
    return tf.reshape(kernel, [-1, kernel.shape[3]!]);
  }
}

// Conv2D's static fromConfig (new cls(config)) restores the seed from getConfig.
tf.serialization.registerClass(SpectralNormConv2D as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
