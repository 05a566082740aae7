// Training-step parity with the lesson's PyTorch code (test/parity/lesson_train.py). From identical weights, one
// real batch and one noise batch, K of the lesson's steps run here and in PyTorch one half at a time: our
// discriminatorStep against the lesson's update_D, our generatorStep against its update_G (trainStep is the one,
// then the other). After each half, what it changed is compared: its loss, its net's weights and Adam's two moments
// of each, and every batch norm's moving statistics (both halves run both nets in training mode: update_D passes
// G(z) through G, update_G passes G(z) through D). Moving variances are compared with what running_var would be
// under TF.js's (Keras's) rule, with the biased batch variance; torch's own running_var uses the unbiased one and
// is only reported.
//
// Each half starts from PyTorch's state. Before our generatorStep, D's weights, its moments and every moving
// statistic are set to PyTorch's after update_D (G's weights and moments are still PyTorch's, from the step
// before); before the next discriminatorStep, G's weights, its moments and every moving statistic are set to
// PyTorch's after update_G. Each side keeps its own iteration count, so the bias corrections of steps 2 and 3 are
// still ours. Run free, the trajectories part by far more than rounding: Adam's first steps move every weight by
// about lr * sign(g), however small g is (the lesson's lr 0.005 is a quarter of the init's std), so an entry whose
// gradient is at rounding level moves by +-lr on one side and not the other, and the next gradients amplify that
// (on 28x28 nets at batch 8, PyTorch's own float32 run is 1.5e-2 away from its float64 run after 3 free steps).
// The sync between the halves keeps each comparison to one half: rounding in update_D is not carried into update_G.
//
// Even from the same state, rounding decides the side of a ReLU's or LeakyReLU's kink for pre-activations close to
// it, and the full-width nets have 29 to 52 per half within KINK_BAND (3e-5) of their batch-norm channel's std.
// Most are harmless, but a beta's gradient is the sum of its channel's, which can be mostly cancellation. In step
// 1's update_G at full width, one of g_block4_bn's outputs is -1.1e-8 in float64 PyTorch (6e-7 of its channel's
// std), -6e-10 in float32 PyTorch and positive here (TensorFlow's FusedBatchNormV3); the ReLU passes its gradient,
// 2.1e-5, which is 68% of that channel's beta gradient, batch norm's backward spreads it over the channel, and
// every G gradient from g_block4_bn/beta back moves by 1.7e-3 to 2.9e-3 (against PyTorch float64; PyTorch's float32
// run of the same half, which put that value on the same side, agrees with it to 2e-6 on the moments and 8e-6 on
// the weights), which Adam's sign-like first step turns into 5.8e-2 on g_block1_bn/beta. So lesson_train.py lists
// each half's pre-activations within KINK_BAND std of a kink; before the half we read ours at those places
// (probeKinks); where ours is on the other side, PyTorch runs the half again from the same state with the gradient
// there taken from our side, and the half is compared with that (and reported against the unflipped half too). Ours
// must be within KINK_BAND std of PyTorch's at every listed place, and on the other side at no more than MAX_FLIPS
// per half: more would be no rounding.
//
// The error of a tensor is ||ours - torch|| / ||torch|| over the whole tensor, not elementwise: for the same
// reason, a weight whose gradient is near Adam's epsilon or a rounding-level difference of larger terms moves by
// a visibly different amount in each framework, while a real mistake shifts the whole tensor.
//
// Our Adam (src/train/adam.ts) computes its bias corrections in doubles, as PyTorch does; tfjs-core's keeps beta^t
// in float32, which made 1 - beta2^t 1.3e-5 low at t = 1 and each update 6e-6 to 1e-5 smaller than PyTorch's.
//
// The script also runs three mutants of each half of the last step, from the state the reference's half starts
// from; each must land far outside the tolerance on what it changes there, or the comparison would be blind to it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type { Adam, Model } from '../src/config/experiment.generated.ts';
import { type BackendName, useBackend } from '../src/backend/select.ts';
import { buildDiscriminator, buildGenerator, type ImageChannels } from '../src/model/build.ts';
import { discriminatorStep, type Gan, generatorStep, LESSON_STEP, makeAdam } from '../src/train/step.ts';
import { type NamedTensor, runTorchScript, runTorchScriptWithMeta, torchSkip } from './parity/exchange.ts';
import { LESSON_ADAM, lessonModel, lessonNetsMeta, mnistModel } from './parity/fixtures.ts';
import { normals } from './support/numeric.ts';
import { needsBackend } from './support/requirements.ts';

const SCRIPT = fileURLToPath(new URL('./parity/lesson_train.py', import.meta.url));
const STEPS = 3;
const TOLERANCE = 1e-4;
/** How far outside the tolerance a mutant must land. */
const MARGIN = 100;
/**
 * How close to its kink, in standard deviations of its batch-norm channel over the pass, a pre-activation may lie
 * for rounding to decide its side. Measured on the full-width case over all six halves: PyTorch's float32
 * pre-activations are up to 9.5e-6 std from its float64 ones, ours up to 2.7e-6 std from PyTorch's float32 ones
 * at the listed places.
 */
const KINK_BAND = 3e-5;
/** More of our pre-activations than this on the other side of a kink than PyTorch's, in one half, is no rounding. */
const MAX_FLIPS = 3;
/** The lesson's Adam (lr 0.005, betas 0.5 and 0.999) with PyTorch's default epsilon, which the lesson keeps. */
const ADAM: Adam = { ...LESSON_ADAM, epsilon: 1e-8 };

interface Case {
  backend: BackendName;
  title: string;
  model: Model;
  imageChannels: ImageChannels;
  batch: number;
}

const narrow = (base: number) => ({ generator: { baseChannels: base }, discriminator: { baseChannels: base } });

// tensorflow runs the lesson's full widths at batch 8 (G 512..64, D 64..512), and the 28x28 nets at mnistModel's
// [128, 64] / [64, 128]. wasm and the pure-JS cpu backend run batch 4 and narrower nets, so that a case takes
// seconds: 64x64 at base width 16 (G 128..16) and 4 (G 32..4), 28x28 full on wasm and at base width 16 ([32, 16] /
// [16, 32]) on cpu.
const CASES: Case[] = [
  { backend: 'tensorflow', title: "the lesson's 64x64 RGB nets, batch 8", model: lessonModel(), imageChannels: 3, batch: 8 },
  { backend: 'tensorflow', title: '28x28 grayscale, batch 8', model: mnistModel(), imageChannels: 1, batch: 8 },
  { backend: 'wasm', title: '64x64 RGB at base width 16, batch 4', model: lessonModel(narrow(16)), imageChannels: 3, batch: 4 },
  { backend: 'wasm', title: '28x28 grayscale, batch 4', model: mnistModel(), imageChannels: 1, batch: 4 },
  { backend: 'cpu', title: '64x64 RGB at base width 4, batch 4', model: lessonModel(narrow(4)), imageChannels: 3, batch: 4 },
  { backend: 'cpu', title: '28x28 grayscale at base width 16, batch 4', model: mnistModel(narrow(16)), imageChannels: 1, batch: 4 },
];

type NetName = 'G' | 'D';
const NET_QUANTITIES = ['weights', 'Adam m', 'Adam v'] as const;
type Quantity = `loss${NetName}` | `${NetName} ${(typeof NET_QUANTITIES)[number]}` | 'moving mean' | 'moving variance';

/** The halves of a step, by the net each one trains, with their names in lesson_train.py's output. */
const HALVES: { net: NetName; name: string; ours: string }[] = [
  { net: 'D', name: 'update_D', ours: 'discriminatorStep' },
  { net: 'G', name: 'update_G', ours: 'generatorStep' },
];

/** What the half that trains `net` changes, and is compared on. */
const quantitiesOf = (net: NetName): Quantity[] => [`loss${net}`, ...NET_QUANTITIES.map((q) => `${net} ${q}` as const), 'moving mean', 'moving variance'];

function quantity(key: string): Quantity {
  if (key === 'lossD' || key === 'lossG') return key;
  if (key.endsWith('/moving_mean')) return 'moving mean';
  if (key.endsWith('/moving_variance')) return 'moving variance';
  const net = key.startsWith('G/') ? 'G' : 'D';
  if (key.endsWith('/m')) return `${net} Adam m`;
  if (key.endsWith('/v')) return `${net} Adam v`;
  return `${net} weights`;
}

const changedBy = (net: NetName) => (key: string) => quantitiesOf(net).includes(quantity(key));
const isMovingStatistic = (key: string) => quantity(key) === 'moving mean' || quantity(key) === 'moving variance';

/** lesson_train.py's MUTANTS, with what each one changes in each half: the quantities on which it must be caught. */
const MUTANTS: { name: string; title: string; checks: { net: NetName; affects: string; select: (key: string) => boolean }[] }[] = [
  {
    name: 'bias_correction_ahead',
    title: "Adam's bias correction one step ahead",
    checks: [
      { net: 'D', affects: "D's weights", select: (key) => quantity(key) === 'D weights' },
      { net: 'G', affects: "G's weights", select: (key) => quantity(key) === 'G weights' },
    ],
  },
  {
    name: 'no_moving_update',
    title: 'batch norm never updating its moving statistics',
    checks: [
      { net: 'D', affects: 'moving statistics', select: isMovingStatistic },
      { net: 'G', affects: 'moving statistics', select: isMovingStatistic },
    ],
  },
  {
    // G(z) is the same batch both times (G's weights have not moved yet, and training mode normalises with batch
    // statistics), so the gradients are the same: the only trace is one update of G's moving statistics fewer.
    // Its update_D is the reference's (lesson_train.py checks so, bitwise).
    name: 'reused_fake',
    title: "a G step that reuses D's fake batch",
    checks: [{ net: 'G', affects: "G's moving statistics", select: (key) => key.startsWith('G/') && isMovingStatistic(key) }],
  },
];

interface Worst {
  error: number;
  key: string;
}

/** lesson_train.py's record of a pre-activation near its kink: [net, batch norm before it, pass, NHWC index, value, channel std]. */
type Kink = [string, string, number, number, number, number];

/** One half of one step: its worst errors and the kinks on whose side we and PyTorch differ. */
interface HalfResult {
  /** The worst error of each quantity of the half. */
  errors: Map<Quantity, Worst>;
  /** Where our pre-activation is on the other side of its kink: the comparison is with PyTorch's half flipped there. */
  flips: Kink[];
  /** With flips: the worst error of each quantity against PyTorch's half as it ran, unflipped. */
  unflipped?: Map<Quantity, Worst>;
  /** The largest |ours - PyTorch's| / channel std over the pre-activations lesson_train.py found near a kink. */
  kinkDeviation: number;
}

interface CaseResult {
  /** Each step's halves, by half name. */
  steps: Map<string, HalfResult>[];
  /** After each half of the last step: each mutant's worst error on what it changes there, by `${name}/${net}`. */
  mutants: Map<string, Worst>;
  /** After the last step: our moving variances against torch's running_var (unbiased). */
  unbiasedVariance: Worst;
  seconds: { torch: number; ours: number };
}

/** ||actual - expected|| / ||expected|| over the whole tensor. */
function normRelativeError(actual: NamedTensor, expected: NamedTensor): number {
  assert.deepEqual(actual.shape, expected.shape);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.data.length; i++) {
    diff += (actual.data[i] - expected.data[i]) ** 2;
    norm += expected.data[i] ** 2;
  }
  return diff === 0 ? 0 : Math.sqrt(diff / norm);
}

/** The largest error over our tensors that `select` picks, each against torch's under `prefix`. */
function worst(
  ours: Map<string, NamedTensor>,
  torch: Map<string, NamedTensor>,
  prefix: string,
  select: (key: string) => boolean,
  torchKey = (key: string) => key,
): Worst {
  let result: Worst = { error: 0, key: '' };
  for (const [key, value] of ours) {
    if (!select(key)) continue;
    const expected = torch.get(prefix + torchKey(key));
    assert.ok(expected, `PyTorch wrote no ${prefix}${torchKey(key)}`);
    const error = normRelativeError(value, expected);
    if (!(error <= result.error)) result = { error, key };
  }
  return result;
}

const tensorOf = async (t: tf.Tensor): Promise<NamedTensor> => ({ shape: [...t.shape], data: (await t.data()) as Float32Array });

interface Net {
  prefix: 'G/' | 'D/';
  model: tf.LayersModel;
  optimizer: tf.AdamOptimizer;
}

/**
 * A net's training state by exchange name: weights and moving statistics as G/<layer>/<weight> (D/...), Adam's
 * moments as <weight>/m and /v once the first step has made them.
 */
async function stateOf(net: Net): Promise<[string, tf.Variable][]> {
  const weights = net.model.weights.map((w) => [net.prefix + w.originalName, w.read() as tf.Variable] as [string, tf.Variable]);
  // Adam names its moments after the variable's unique name; its first weight is the iteration count.
  const moments = new Map<string, string>(
    net.model.trainableWeights.flatMap((w) => ['m', 'v'].map((s) => [`${w.name}/${s}`, `${net.prefix}${w.originalName}/${s}`] as const)),
  );
  const [iterations, ...slots] = await net.optimizer.getWeights();
  assert.equal(iterations.name, 'iter');
  assert.ok(slots.length === 0 || slots.length === moments.size, 'an Adam moment per trainable weight and moment');
  return [
    ...weights,
    ...slots.map(({ name, tensor }) => [moments.get(name) ?? assert.fail(`unexpected Adam weight ${name}`), tensor as tf.Variable] as [string, tf.Variable]),
  ];
}

/** What the half that trains `net` changed, read back: its loss, then the state it changes of both nets. */
async function readHalf(net: NetName, loss: tf.Scalar, nets: Net[]): Promise<Map<string, NamedTensor>> {
  const state = new Map([[`loss${net}`, await tensorOf(loss)]]);
  for (const n of nets) for (const [key, variable] of await stateOf(n)) if (changedBy(net)(key)) state.set(key, await tensorOf(variable));
  return state;
}

/** Sets what the half that trains `net` changes to PyTorch's under `prefix`; Adam's iteration counts stay ours. */
async function adopt(torch: Map<string, NamedTensor>, prefix: string, net: NetName, nets: Net[]): Promise<void> {
  for (const n of nets) {
    for (const [key, variable] of await stateOf(n)) {
      if (!changedBy(net)(key)) continue;
      const value = torch.get(prefix + key) ?? assert.fail(`PyTorch wrote no ${prefix}${key}`);
      tf.tidy(() => variable.assign(tf.tensor(value.data, value.shape)));
    }
  }
}

/**
 * A model with the outputs of `model`'s batch norms (the activations' inputs) and its own output, sharing its
 * layers. It owns no weights and is never disposed: disposing it would release the shared layers.
 */
function probeOf(model: tf.LayersModel): { norms: string[]; model: tf.LayersModel } {
  const norms = model.layers.filter((l) => l.name.endsWith('_bn')).map((l) => l.name);
  const outputs = [...norms.map((name) => model.getLayer(name).output as tf.SymbolicTensor), model.outputs[0]];
  return { norms, model: tf.model({ inputs: model.inputs, outputs }) };
}

/**
 * Our values of the pre-activations at `kinks`, from the forward passes the half is about to make (D on the real
 * batch, then on G(z), in discriminatorStep; G on z, then D on G(z), in generatorStep), in training mode like the
 * half's. The passes move the moving statistics, which are put back.
 */
async function probeKinks(
  net: NetName,
  kinks: Kink[],
  probes: { G: ReturnType<typeof probeOf>; D: ReturnType<typeof probeOf> },
  nets: Net[],
  real: tf.Tensor4D,
  noise: tf.Tensor2D,
): Promise<number[]> {
  const moving = (await Promise.all(nets.map(stateOf))).flat().filter(([key]) => isMovingStatistic(key));
  const saved = moving.map(([, variable]) => variable.clone());
  const passes = new Map<string, tf.Tensor>();
  const run = (prefix: 'G/' | 'D/', input: tf.Tensor, pass: number): tf.Tensor => {
    const probe = probes[prefix === 'G/' ? 'G' : 'D'];
    const outputs = probe.model.apply(input, { training: true }) as tf.Tensor[];
    probe.norms.forEach((name, i) => passes.set(`${prefix}${name}/${pass}`, outputs[i]));
    return outputs[probe.norms.length];
  };
  try {
    if (net === 'D') {
      run('D/', real, 0);
      run('D/', run('G/', noise, 0), 1);
    } else {
      run('D/', run('G/', noise, 0), 0);
    }
    const values: number[] = [];
    for (const [kinkNet, norm, pass, index] of kinks) {
      const output = passes.get(`${kinkNet}${norm}/${pass}`) ?? assert.fail(`no pass ${pass} of ${kinkNet}${norm} in ${net}'s half`);
      values.push((await output.data())[index]);
    }
    return values;
  } finally {
    moving.forEach(([, variable], i) => variable.assign(saved[i]));
    tf.dispose([...saved, ...passes.values()]);
  }
}

async function runCase(c: Case): Promise<CaseResult> {
  await useBackend(c.backend);
  const side = c.model.imageSize;
  const real = tf.tensor4d(normals(c.batch * side * side * c.imageChannels, 41).map(Math.tanh), [c.batch, side, side, c.imageChannels]);
  const noise = tf.tensor2d(normals(c.batch * c.model.latentDim, 42), [c.batch, c.model.latentDim]);
  const [g, d]: Net[] = [
    { prefix: 'G/', model: buildGenerator(c.model, c.imageChannels, 7), optimizer: makeAdam(ADAM) },
    { prefix: 'D/', model: buildDiscriminator(c.model, c.imageChannels, 8), optimizer: makeAdam(ADAM) },
  ];
  const nets = [g, d];
  const gan: Gan = { generator: g.model, discriminator: d.model, optimizers: { generator: g.optimizer, discriminator: d.optimizer } };
  const probes = { G: probeOf(g.model), D: probeOf(d.model) };
  try {
    const input = new Map([
      ['x', await tensorOf(real)],
      ['z', await tensorOf(noise)],
    ]);
    for (const net of nets) for (const [key, variable] of await stateOf(net)) input.set(key, await tensorOf(variable));
    const meta = { ...lessonNetsMeta(c.model, c.imageChannels), adam: ADAM, kinkBand: KINK_BAND };
    let started = performance.now();
    const reference = runTorchScriptWithMeta(SCRIPT, { ...meta, steps: STEPS }, input);
    const torch = reference.tensors;
    const kinks = (reference.meta as { kinks: Record<string, Kink[]> }).kinks;
    const seconds = { torch: (performance.now() - started) / 1000, ours: 0 };

    const steps: CaseResult['steps'] = [];
    /** Our result of each half of the last step. */
    const last = new Map<NetName, Map<string, NamedTensor>>();
    started = performance.now();
    for (let step = 1; step <= STEPS; step++) {
      const halves = new Map<string, HalfResult>();
      for (const half of HALVES) {
        // The other half's changes, as PyTorch made them: update_G's of the step before, or this step's update_D.
        const other = half.net === 'D' ? { net: 'G' as const, name: 'update_G', step: step - 1 } : { net: 'D' as const, name: 'update_D', step };
        if (other.step > 0) await adopt(torch, `reference/${other.step}/${other.name}/`, other.net, nets);
        const near = kinks[`${step}/${half.name}`] ?? assert.fail(`PyTorch wrote no kinks of ${step}/${half.name}`);
        const values = near.length > 0 ? await probeKinks(half.net, near, probes, nets, real, noise) : [];
        const flips = near.filter(([, , , , value], i) => values[i]! > 0 !== value > 0);
        const kinkDeviation = Math.max(0, ...near.map(([, , , , value, std], i) => Math.abs(values[i]! - value) / std));
        // Where we are on the other side of a kink, PyTorch runs the half again from the same state, flipped there.
        const start = new Map(input);
        const iterations = { G: g.optimizer.iterations, D: d.optimizer.iterations };
        if (flips.length > 0) for (const net of nets) for (const [key, variable] of await stateOf(net)) start.set(key, await tensorOf(variable));
        let loss: tf.Scalar;
        if (half.net === 'D') {
          const metrics = discriminatorStep(gan, real, noise, LESSON_STEP);
          tf.dispose([metrics.dReal, metrics.dFake]);
          loss = metrics.lossD;
        } else {
          loss = generatorStep(gan, noise, LESSON_STEP);
        }
        const ours = await readHalf(half.net, loss, nets);
        loss.dispose();
        last.set(half.net, ours);
        const errorsAgainst = (expected: Map<string, NamedTensor>, prefix: string) =>
          new Map(quantitiesOf(half.net).map((q) => [q, worst(ours, expected, prefix, (key) => quantity(key) === q)]));
        const unflipped = errorsAgainst(torch, `reference/${step}/${half.name}/`);
        if (flips.length === 0) {
          halves.set(half.name, { errors: unflipped, flips, kinkDeviation });
        } else {
          const flipped = runTorchScript(SCRIPT, { ...meta, half: { name: half.name, iterations, flips: flips.map((k) => k.slice(0, 4)) } }, start);
          halves.set(half.name, { errors: errorsAgainst(flipped, 'flipped/'), flips, unflipped, kinkDeviation });
        }
      }
      steps.push(halves);
    }
    seconds.ours = (performance.now() - started) / 1000;
    const mutants = new Map<string, Worst>();
    for (const m of MUTANTS) {
      for (const check of m.checks) {
        const half = HALVES.find((h) => h.net === check.net)!;
        mutants.set(`${m.name}/${check.net}`, worst(last.get(check.net)!, torch, `${m.name}/${STEPS}/${half.name}/`, check.select));
      }
    }
    return {
      steps,
      mutants,
      unbiasedVariance: worst(
        last.get('G')!,
        torch,
        `reference/${STEPS}/update_G/`,
        (key) => quantity(key) === 'moving variance',
        (key) => key.replace(/moving_variance$/, 'running_var'),
      ),
      seconds,
    };
  } finally {
    tf.dispose([real, noise]);
    for (const net of nets) {
      net.optimizer.dispose();
      net.model.dispose();
    }
  }
}

const noTorch = torchSkip();
const skipBackend = new Map<BackendName, string | false>();
for (const { backend } of CASES) skipBackend.set(backend, backend === 'cpu' ? false : await needsBackend(backend));
const skipReason = (backend: BackendName) => noTorch || skipBackend.get(backend)!;
const format = (w: Worst) => `${w.error.toExponential(2)}${w.key && ` (${w.key})`}`;

for (const c of CASES) {
  describe(`training-step parity with PyTorch on ${c.backend}: ${c.title}`, { skip: skipReason(c.backend) }, () => {
    let result: CaseResult;
    before(async () => {
      result = await runCase(c);
    });
    after(() => {
      if (result)
        console.log(
          `# ${c.backend} ${c.title}: ${STEPS} steps in ${result.seconds.ours.toFixed(1)} s here, PyTorch script ${result.seconds.torch.toFixed(1)} s`,
        );
    });

    for (const half of HALVES) {
      it(`${half.ours} against ${half.name}: our pre-activations within ${KINK_BAND} channel std of PyTorch's near a kink, on its side of at most ${MAX_FLIPS} per half`, (t) => {
        result.steps.forEach((s, i) => {
          const h = s.get(half.name)!;
          const flips = h.flips.map(([net, norm, pass, index, value, std]) => `${net}${norm} pass ${pass} [${index}] at ${(value / std).toExponential(1)} std`);
          t.diagnostic(`step ${i + 1}: largest deviation ${h.kinkDeviation.toExponential(2)} std; on the other side: ${flips.join(', ') || 'none'}`);
          if (h.unflipped)
            t.diagnostic(
              `  so compared with PyTorch's ${half.name} flipped there; against it unflipped: ${[...h.unflipped].map(([q, w]) => `${q} ${format(w)}`).join(', ')}`,
            );
        });
        result.steps.forEach((s, i) => {
          const h = s.get(half.name)!;
          assert.ok(h.kinkDeviation <= KINK_BAND, `step ${i + 1}: ours ${h.kinkDeviation.toExponential(2)} std from PyTorch's near a kink`);
          assert.ok(h.flips.length <= MAX_FLIPS, `step ${i + 1}: ${h.flips.length} pre-activations on the other side of a kink`);
        });
      });
      for (const q of quantitiesOf(half.net)) {
        it(`${half.ours} against ${half.name}: ${q} within ${TOLERANCE} of PyTorch in each of ${STEPS} steps`, (t) => {
          const errors = result.steps.map((s) => s.get(half.name)!.errors.get(q)!);
          t.diagnostic(`worst per step: ${errors.map(format).join(', ')}`);
          if (q === 'moving variance' && half.net === 'G')
            t.diagnostic(`against torch's own running_var (unbiased batch variance): ${format(result.unbiasedVariance)}`);
          errors.forEach((w, i) => assert.ok(w.error <= TOLERANCE, `step ${i + 1}: ${format(w)} > ${TOLERANCE}`));
        });
      }
    }

    for (const m of MUTANTS) {
      for (const check of m.checks) {
        const half = HALVES.find((h) => h.net === check.net)!;
        it(`the comparison catches ${m.title} in ${half.ours} (${check.affects} at least ${MARGIN}x the tolerance off)`, (t) => {
          const w = result.mutants.get(`${m.name}/${check.net}`)!;
          t.diagnostic(`after the last step's ${half.name}: ${format(w)}`);
          assert.ok(w.error > MARGIN * TOLERANCE, `${m.title} is within ${MARGIN}x the tolerance: ${format(w)}; the comparison is blind to it`);
        });
      }
    }
  });
}
