// Adam on the tensorflow backend as TensorFlow's own ResourceApplyAdam: one kernel updates a weight and both of its
// moments in place, where tfjs ops take ten, each a dispatch through tfjs-node (the cost that dominates a small
// model's step). The op works on TensorFlow resource variables, so each weight and moment has one beside its tfjs
// variable. After each update the weight is read back into its tfjs variable (one more kernel); the moments only
// when asked (`readMoments`, before the optimizer's state is saved). The tfjs variables stay the truth everywhere
// else: a weight assigned from outside (a checkpoint read back) has another dataId than the one read back, and
// moments set from outside (optimizer.setWeights) are new tfjs variables; either way the next update copies them
// into the resource first.
import * as tf from '@tensorflow/tfjs';
import type { OpAttr, TensorflowBackend } from './tensorflow-kernels.ts';

/** The settings of one Adam update, and its step t (from 1). */
export interface AdamScalars {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  step: number;
}

type Role = 'value' | 'm' | 'v';
const ROLES: Role[] = ['value', 'm', 'v'];

/** A tfjs variable as it was when last copied to or from its resource: the object, and its data then. */
interface Synced {
  variable: tf.Variable;
  dataId: object;
}

/** A weight's three resource variables, and what their tfjs variables were when last in step with them. */
interface Slot {
  handles: Record<Role, tf.Tensor>;
  synced: Partial<Record<Role, Synced>>;
}

/** The dataId that tfjs-core keeps on every tensor (a variable's changes with each assign). */
const dataIdOf = (t: tf.Tensor) => (t as unknown as { dataId: object }).dataId;
const syncedWith = (variable: tf.Variable): Synced => ({ variable, dataId: dataIdOf(variable) });
const isSynced = (synced: Synced | undefined, variable: tf.Variable) => synced?.variable === variable && synced.dataId === dataIdOf(variable);

let resourceCount = 0;

/** The tensorflow backend when it is the active one, else undefined. */
export function activeTensorflowBackend(): TensorflowBackend | undefined {
  return tf.getBackend() === 'tensorflow' ? (tf.backend() as unknown as TensorflowBackend) : undefined;
}

export class ResourceAdam {
  private readonly slots: Slot[] = [];

  constructor(private readonly native: TensorflowBackend) {}

  /** One Adam step of weight `i` with `gradient`; value, m and v are its tfjs variables. */
  update(i: number, variables: Record<Role, tf.Variable>, gradient: tf.Tensor, scalars: AdamScalars): void {
    const slot = (this.slots[i] ??= this.createSlot(variables.value.shape));
    for (const role of ROLES) {
      if (isSynced(slot.synced[role], variables[role])) continue;
      this.run('AssignVariableOp', this.dtypeAttr('dtype'), [slot.handles[role], variables[role]]);
      slot.synced[role] = syncedWith(variables[role]);
    }
    const { learningRate, beta1, beta2, epsilon, step } = scalars;
    // The op averages with weights 1 - beta computed in float32 inside it: 1 - 0.999f is 1.3e-5 below 0.001, so its v
    // is the average of an Adam whose beta2 is 0.999f. Bias corrections 1 / (1 - beta^t) for that same beta, in
    // doubles, make v's estimate unbiased again (at t = 1 exactly the squared gradient, as PyTorch's).
    const c1 = 1 / (1 - Math.fround(beta1) ** step);
    const c2 = 1 / (1 - Math.fround(beta2) ** step);
    // TensorFlow's update is value -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + epsilon), with beta^t in
    // float32; PyTorch's (ours) is value -= lr * c1 * m / (sqrt(v * c2) + epsilon). They are the same update when the
    // op gets beta^t = 0, the step size lr * c1 / sqrt(c2) and epsilon / sqrt(c2), all three computed here in doubles.
    tf.tidy(() => {
      const inputs = [0, 0, (learningRate * c1) / Math.sqrt(c2), beta1, beta2, epsilon / Math.sqrt(c2)].map((s) => tf.scalar(s));
      this.run(
        'ResourceApplyAdam',
        [...this.dtypeAttr('T'), this.boolAttr('use_locking', false), this.boolAttr('use_nesterov', false)],
        [slot.handles.value, slot.handles.m, slot.handles.v, ...inputs, gradient],
      );
      variables.value.assign(this.read(slot.handles.value));
    });
    slot.synced.value = syncedWith(variables.value);
  }

  /** Copies the moments of every updated weight back into their tfjs variables. */
  readMoments(moments: { m: tf.Variable; v: tf.Variable }[]): void {
    this.slots.forEach((slot, i) => {
      for (const role of ['m', 'v'] as const) {
        const variable = moments[i]?.[role];
        // A variable replaced since the last update (setWeights) is newer than its resource.
        if (!variable || !isSynced(slot.synced[role], variable)) continue;
        tf.tidy(() => variable.assign(this.read(slot.handles[role])));
        slot.synced[role] = syncedWith(variable);
      }
    });
  }

  dispose(): void {
    for (const slot of this.slots) {
      for (const handle of Object.values(slot.handles)) {
        this.run('DestroyResourceOp', [this.boolAttr('ignore_lookup_error', true)], [handle]);
        handle.dispose();
      }
    }
    this.slots.length = 0;
  }

  private createSlot(shape: number[]): Slot {
    // tfjs-node returns every op's outputs as tfjs tensors, tracked by the enclosing tidy: a handle must outlive it.
    const handle = () =>
      tf.keep(
        this.native.executeSingleOutput(
          'VarHandleOp',
          [
            ...this.dtypeAttr('dtype'),
            { name: 'shape', type: this.native.binding.TF_ATTR_SHAPE, value: shape },
            { name: 'container', type: this.native.binding.TF_ATTR_STRING, value: '' },
            // Resources are looked up by name: each needs its own.
            { name: 'shared_name', type: this.native.binding.TF_ATTR_STRING, value: `dcgan_adam_${resourceCount++}` },
          ],
          [],
        ) as tf.Tensor,
      );
    return { handles: { value: handle(), m: handle(), v: handle() }, synced: {} };
  }

  private read(handle: tf.Tensor): tf.Tensor {
    return this.native.executeSingleOutput('ReadVariableOp', this.dtypeAttr('dtype'), [handle]) as tf.Tensor;
  }

  private run(op: string, attrs: OpAttr[], inputs: tf.Tensor[]): void {
    this.native.executeMultipleOutputs(op, attrs, inputs, 0);
  }

  private dtypeAttr(name: string): OpAttr[] {
    return [{ name, type: this.native.binding.TF_ATTR_TYPE, value: this.native.binding.TF_FLOAT }];
  }

  private boolAttr(name: string, value: boolean): OpAttr {
    return { name, type: this.native.binding.TF_ATTR_BOOL, value };
  }
}
