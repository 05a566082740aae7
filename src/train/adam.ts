// Adam with its bias corrections 1 / (1 - beta^t) computed in doubles on the CPU, as PyTorch does: tfjs-core keeps
// beta^t in a float32 variable, which makes 1 - beta2^t 1.3e-5 low at t = 1 and every early update about 1e-5 too
// small (test/train-parity.test.ts measures it). The per-variable update is three fused kernels (two moments, then
// the step) on a backend that registers them (src/backend/fused-kernels.ts; webgpu), TensorFlow's ResourceApplyAdam
// on the tensorflow backend (src/backend/tensorflow-adam.ts: one kernel), tfjs ops elsewhere. The saved state
// (moments, iteration count, beta^t) is tfjs-core's, so checkpoints read back either way.
import * as tf from '@tensorflow/tfjs';
import { FUSED, hasFused } from '../backend/fused-kernels.ts';
import { activeTensorflowBackend, ResourceAdam } from '../backend/tensorflow-adam.ts';

/** The parts of tfjs-core's AdamOptimizer that its TypeScript declarations keep private. */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
}

/** Its class name stays tfjs-core's 'Adam' (inherited), so saved optimizer state reads back either way. */
export class BiasCorrectedAdam extends tf.AdamOptimizer {
  /** TensorFlow's resource variables behind the update, from the first update on the tensorflow backend. */
  private native?: ResourceAdam;

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const tensorflow = activeTensorflowBackend();
    if (tensorflow) this.native ??= new ResourceAdam(tensorflow);
    // Its moments live in TensorFlow from the first update on; a run never changes backend half-way.
    else if (this.native) throw new Error(`this Adam optimizer updates on the tensorflow backend and cannot go on on ${tf.getBackend()}`);
    const fused = hasFused(FUSED.adamUpdate) && hasFused(FUSED.adamMoment);
    const state = this as unknown as AdamState;
    const named = Array.isArray(variableGradients) ? variableGradients : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    // beta^t from the iteration count, on the CPU: reading accBeta back from the device would stall the step.
    const t = this.iterations + 1;
    const c1 = 1 / (1 - this.beta1 ** t);
    const c2 = 1 / (1 - this.beta2 ** t);
    tf.tidy(() => {
      named.forEach(({ name, tensor: gradient }, i) => {
        const value = tf.engine().registeredVariables[name]!;
        state.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        state.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        if (gradient == null) return;
        const m = state.accumulatedFirstMoment[i]!.variable;
        const v = state.accumulatedSecondMoment[i]!.variable;
        if (this.native) {
          this.native.update(i, { value, m, v }, gradient, {
            learningRate: this.learningRate,
            beta1: this.beta1,
            beta2: this.beta2,
            epsilon: this.epsilon,
            step: t,
          });
          return;
        }
        const moment = (current: tf.Tensor, beta: number, squared: boolean) =>
          fused
            ? (tf.engine().runKernel(FUSED.adamMoment, { moment: current, gradient }, { beta, squared }) as tf.Tensor)
            : tf.add(tf.mul(current, beta), tf.mul(squared ? tf.square(gradient) : gradient, 1 - beta));
        m.assign(moment(m, this.beta1, false));
        v.assign(moment(v, this.beta2, true));
        const update = fused
          ? (tf.engine().runKernel(FUSED.adamUpdate, { value, m, v }, { learningRate: this.learningRate, c1, c2, epsilon: this.epsilon }) as tf.Tensor)
          : tf.sub(value, tf.div(tf.mul(tf.mul(m, c1), this.learningRate), tf.add(tf.sqrt(tf.mul(v, c2)), this.epsilon)));
        value.assign(update);
      });
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }

  /** The moments of a TensorFlow-backed update live in its resource variables until read back here. */
  override async getWeights(): ReturnType<tf.AdamOptimizer['getWeights']> {
    this.readMoments();
    return super.getWeights();
  }

  override dispose(): void {
    this.native?.dispose();
    this.native = undefined;
    super.dispose();
  }

  private readMoments(): void {
    const state = this as unknown as AdamState;
    this.native?.readMoments(state.accumulatedFirstMoment.map((m, i) => ({ m: m.variable, v: state.accumulatedSecondMoment[i]!.variable })));
  }
}
