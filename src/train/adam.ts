// Adam whose per-variable update is three fused kernels (two moments, then the step) on a backend that has
// them (src/backend/fused-kernels.ts; webgpu), instead of tfjs-core's thirteen. Everywhere else, and for the
// saved state (checkpoints hold the same moments and iteration count), it is tf.train.adam.
import * as tf from '@tensorflow/tfjs';
import { FUSED, hasFused } from '../backend/fused-kernels.ts';

/** The parts of tfjs-core's AdamOptimizer that its TypeScript declarations keep private. */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
}

/** Its class name stays tfjs-core's 'Adam' (inherited), so saved optimizer state reads back either way. */
export class FusedAdam extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (!hasFused(FUSED.adamUpdate) || !hasFused(FUSED.adamMoment)) {
      super.applyGradients(variableGradients);
      return;
    }
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
        const moment = (current: tf.Tensor, beta: number, squared: boolean) =>
          tf.engine().runKernel(FUSED.adamMoment, { moment: current, gradient }, { beta, squared }) as tf.Tensor;
        m.assign(moment(m, this.beta1, false));
        v.assign(moment(v, this.beta2, true));
        value.assign(tf.engine().runKernel(FUSED.adamUpdate, { value, m, v }, { learningRate: this.learningRate, c1, c2, epsilon: this.epsilon }) as tf.Tensor);
      });
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }
}
