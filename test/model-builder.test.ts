import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.ts';
import { buildDiscriminator, buildGenerator } from '../src/model/build.ts';
import { discriminatorChannels, generatorChannels, startSize } from '../src/plan/geometry.ts';
import { Conv2D, Conv2DTranspose } from '../src/model/conv.ts';
import { describeModel, formatModelDescription } from '../src/model/summary.ts';
import { discriminatorStep, type Gan, generatorStep, makeAdam } from '../src/train/step.ts';
import { LESSON_ADAM, lessonModel, mnistModel, tinyModel } from './parity/fixtures.ts';

type Rows = { name: string; type: string; outputShape: (number | null)[]; params: number }[];

/** name -> [outputShape, params] for the layers that have parameters or change the shape. */
function layerTable(m: tf.LayersModel): Record<string, [(number | null)[], number]> {
  return Object.fromEntries(describeModel(m).rows.map((r) => [r.name, [r.outputShape, r.params]]));
}

function rowsOfType(rows: Rows, type: string): string[] {
  return rows.filter((r) => r.type === type).map((r) => r.name);
}

function weightsOf(m: tf.LayersModel): Map<string, Float32Array> {
  return new Map(m.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
}

describe('geometry', () => {
  it('startSize is imageSize / 2^blocks when a whole number >= 1', () => {
    assert.equal(startSize(64, 4), 4);
    assert.equal(startSize(28, 2), 7);
    assert.equal(startSize(64, 6), 1);
    assert.equal(startSize(28, 3), null); // 3.5
    assert.equal(startSize(64, 7), null); // 0.5
    assert.equal(startSize(48, 5), null); // 1.5
  });

  it('channels: doubling ladders from baseChannels, or the explicit list', () => {
    assert.deepEqual(generatorChannels({ blocks: 4, baseChannels: 64 }), [512, 256, 128, 64]);
    assert.deepEqual(discriminatorChannels({ blocks: 4, baseChannels: 64 }), [64, 128, 256, 512]);
    assert.deepEqual(generatorChannels({ blocks: 2, baseChannels: 64, channels: [100, 30] }), [100, 30]);
    assert.deepEqual(discriminatorChannels({ blocks: 1, baseChannels: 8 }), [8]);
  });
});

describe('lesson 64x64 RGB models', () => {
  const model = lessonModel();

  it('generator: shapes and parameter counts', () => {
    const G = buildGenerator(model, 3, 0);
    // ConvTranspose kernels k*k*in*out, no bias; BN 4*c params: gamma, beta trainable, moving mean/var not.
    //   g_block1_convT 4*4*100*512 = 819,200    g_block1_bn 4*512 = 2,048
    //   g_block2_convT 4*4*512*256 = 2,097,152  g_block2_bn 4*256 = 1,024
    //   g_block3_convT 4*4*256*128 = 524,288    g_block3_bn 4*128 = 512
    //   g_block4_convT 4*4*128*64 = 131,072     g_block4_bn 4*64 = 256
    //   g_out_convT 4*4*64*3 = 3,072
    // total 3,574,784 + 3,840 = 3,578,624; non-trainable 2*(512+256+128+64) = 1,920;
    // trainable 3,576,704 (= the lesson's sum(p.numel() for p in net_G(100).parameters())).
    assert.deepEqual(layerTable(G), {
      g_input: [[null, 100], 0],
      g_reshape: [[null, 1, 1, 100], 0],
      g_block1_convT: [[null, 4, 4, 512], 819_200],
      g_block1_bn: [[null, 4, 4, 512], 2_048],
      g_block1_act: [[null, 4, 4, 512], 0],
      g_block2_convT: [[null, 8, 8, 256], 2_097_152],
      g_block2_bn: [[null, 8, 8, 256], 1_024],
      g_block2_act: [[null, 8, 8, 256], 0],
      g_block3_convT: [[null, 16, 16, 128], 524_288],
      g_block3_bn: [[null, 16, 16, 128], 512],
      g_block3_act: [[null, 16, 16, 128], 0],
      g_block4_convT: [[null, 32, 32, 64], 131_072],
      g_block4_bn: [[null, 32, 32, 64], 256],
      g_block4_act: [[null, 32, 32, 64], 0],
      g_out_convT: [[null, 64, 64, 3], 3_072],
      g_out_act: [[null, 64, 64, 3], 0],
    });
    const d = describeModel(G);
    assert.equal(d.totalParams, 3_578_624);
    assert.equal(d.trainableParams, 3_576_704);
    assert.equal(G.countParams(), 3_578_624);
    assert.deepEqual(rowsOfType(d.rows, 'ReLU').length, 4);
    const y = tf.tidy(() => (G.predict(tf.zeros([1, 100])) as tf.Tensor).shape);
    assert.deepEqual(y, [1, 64, 64, 3]);
  });

  it('discriminator: shapes and parameter counts, one logit', () => {
    const D = buildDiscriminator(model, 3, 0);
    //   d_block1_conv 4*4*3*64 = 3,072          d_block1_bn 256
    //   d_block2_conv 4*4*64*128 = 131,072      d_block2_bn 512
    //   d_block3_conv 4*4*128*256 = 524,288     d_block3_bn 1,024
    //   d_block4_conv 4*4*256*512 = 2,097,152   d_block4_bn 2,048
    //   d_out_conv 4*4*512*1 = 8,192
    // total 2,763,776 + 3,840 = 2,767,616; trainable 2,765,696 (the lesson's net_D(3)).
    assert.deepEqual(layerTable(D), {
      d_input: [[null, 64, 64, 3], 0],
      d_block1_conv: [[null, 32, 32, 64], 3_072],
      d_block1_bn: [[null, 32, 32, 64], 256],
      d_block1_act: [[null, 32, 32, 64], 0],
      d_block2_conv: [[null, 16, 16, 128], 131_072],
      d_block2_bn: [[null, 16, 16, 128], 512],
      d_block2_act: [[null, 16, 16, 128], 0],
      d_block3_conv: [[null, 8, 8, 256], 524_288],
      d_block3_bn: [[null, 8, 8, 256], 1_024],
      d_block3_act: [[null, 8, 8, 256], 0],
      d_block4_conv: [[null, 4, 4, 512], 2_097_152],
      d_block4_bn: [[null, 4, 4, 512], 2_048],
      d_block4_act: [[null, 4, 4, 512], 0],
      d_out_conv: [[null, 1, 1, 1], 8_192],
      d_logit: [[null, 1], 0],
    });
    const d = describeModel(D);
    assert.equal(d.totalParams, 2_767_616);
    assert.equal(d.trainableParams, 2_765_696);
    const leaky = D.getLayer('d_block1_act').getConfig();
    assert.equal(leaky.alpha, 0.2);
    // Batch norm as the lesson's BatchNorm2d(c, 0.8) with PyTorch momentum 0.1.
    const bn = D.getLayer('d_block1_bn').getConfig();
    assert.equal(bn.epsilon, 0.8);
    assert.equal(bn.momentum, 0.9);
    // No sigmoid anywhere: the loss takes the logit.
    assert.equal(rowsOfType(d.rows, 'Activation').length, 0);
  });

  it('initialisation: kernels ~ N(0, 0.02), gamma ~ N(1, 0.02), beta 0, moving mean 0, moving var 1', () => {
    const G = buildGenerator(model, 3, 3);
    const stats = (a: Float32Array) => {
      const mean = a.reduce((s, v) => s + v, 0) / a.length;
      const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
      return { mean, std };
    };
    const w = weightsOf(G);
    const kernel = stats(w.get('g_block2_convT/kernel')!);
    assert.ok(Math.abs(kernel.mean) < 1e-3 && Math.abs(kernel.std - 0.02) < 1e-3, JSON.stringify(kernel));
    const gamma = stats(w.get('g_block1_bn/gamma')!);
    assert.ok(Math.abs(gamma.mean - 1) < 5e-3 && Math.abs(gamma.std - 0.02) < 5e-3, JSON.stringify(gamma));
    assert.ok(w.get('g_block1_bn/beta')!.every((v) => v === 0));
    assert.ok(w.get('g_block1_bn/moving_mean')!.every((v) => v === 0));
    assert.ok(w.get('g_block1_bn/moving_variance')!.every((v) => v === 1));
  });
});

describe('other geometries', () => {
  it('28x28 grayscale from 7x7 with 2 blocks', () => {
    const model = mnistModel();
    const G = buildGenerator(model, 1, 0);
    // g_block1_convT 7*7*100*128 = 627,200 (kernel startSize 7, 1x1 -> 7x7); bn 512
    // g_block2_convT 4*4*128*64 = 131,072; bn 256; g_out_convT 4*4*64*1 = 1,024
    // total 759,296 + 768 = 760,064; trainable 759,296 + 384 = 759,680
    assert.deepEqual(layerTable(G), {
      g_input: [[null, 100], 0],
      g_reshape: [[null, 1, 1, 100], 0],
      g_block1_convT: [[null, 7, 7, 128], 627_200],
      g_block1_bn: [[null, 7, 7, 128], 512],
      g_block1_act: [[null, 7, 7, 128], 0],
      g_block2_convT: [[null, 14, 14, 64], 131_072],
      g_block2_bn: [[null, 14, 14, 64], 256],
      g_block2_act: [[null, 14, 14, 64], 0],
      g_out_convT: [[null, 28, 28, 1], 1_024],
      g_out_act: [[null, 28, 28, 1], 0],
    });
    assert.deepEqual(describeModel(G).trainableParams, 759_680);
    assert.deepEqual(describeModel(G).totalParams, 760_064);

    const D = buildDiscriminator(model, 1, 0);
    // d_block1_conv 4*4*1*64 = 1,024; bn 256; d_block2_conv 4*4*64*128 = 131,072; bn 512
    // d_out_conv 7*7*128*1 = 6,272 (kernel startSize 7, 7x7 -> 1x1)
    // total 138,368 + 768 = 139,136; trainable 138,368 + 384 = 138,752
    assert.deepEqual(layerTable(D), {
      d_input: [[null, 28, 28, 1], 0],
      d_block1_conv: [[null, 14, 14, 64], 1_024],
      d_block1_bn: [[null, 14, 14, 64], 256],
      d_block1_act: [[null, 14, 14, 64], 0],
      d_block2_conv: [[null, 7, 7, 128], 131_072],
      d_block2_bn: [[null, 7, 7, 128], 512],
      d_block2_act: [[null, 7, 7, 128], 0],
      d_out_conv: [[null, 1, 1, 1], 6_272],
      d_logit: [[null, 1], 0],
    });
    assert.equal(describeModel(D).trainableParams, 138_752);
    assert.equal(describeModel(D).totalParams, 139_136);

    const shapes = tf.tidy(() => {
      const img = G.apply(tf.randomNormal([2, 100]), { training: true }) as tf.Tensor;
      return [img.shape, (D.apply(img, { training: true }) as tf.Tensor).shape];
    });
    assert.deepEqual(shapes, [
      [2, 28, 28, 1],
      [2, 1],
    ]);
  });

  it('32x32: 3 blocks from 4x4, run end to end', () => {
    const model = lessonModel({ imageSize: 32, generator: { blocks: 3 }, discriminator: { blocks: 3 } });
    const G = buildGenerator(model, 3, 0);
    const D = buildDiscriminator(model, 3, 0);
    // G [256, 128, 64]: 16*(100*256 + 256*128 + 128*64 + 64*3) = 16*66,752 = 1,068,032 conv; BN 4*(256+128+64) = 1,792
    assert.equal(G.countParams(), 1_068_032 + 1_792);
    assert.deepEqual(layerTable(G).g_block1_convT[0], [null, 4, 4, 256]);
    // D [64, 128, 256]: 16*(3*64 + 64*128 + 128*256 + 256*1) = 16*41,408 = 662,528 conv; BN 4*448 = 1,792
    assert.equal(D.countParams(), 662_528 + 1_792);
    assert.deepEqual(layerTable(D).d_block3_conv[0], [null, 4, 4, 256]);
    const shapes = tf.tidy(() => {
      const img = G.predict(tf.randomNormal([1, 100])) as tf.Tensor;
      return [img.shape, (D.predict(img) as tf.Tensor).shape];
    });
    assert.deepEqual(shapes, [
      [1, 32, 32, 3],
      [1, 1],
    ]);
  });

  it('128x128: 5 blocks from 4x4 (shapes only)', () => {
    const model = lessonModel({ imageSize: 128, generator: { blocks: 5 }, discriminator: { blocks: 5 } });
    const G = layerTable(buildGenerator(model, 3, 0));
    assert.deepEqual(G.g_block1_convT, [[null, 4, 4, 1024], 16 * 100 * 1024]);
    assert.deepEqual(G.g_block5_convT, [[null, 64, 64, 64], 16 * 128 * 64]);
    assert.deepEqual(G.g_out_convT, [[null, 128, 128, 3], 16 * 64 * 3]);
    const D = layerTable(buildDiscriminator(model, 3, 0));
    assert.deepEqual(D.d_block1_conv, [[null, 64, 64, 64], 16 * 3 * 64]);
    assert.deepEqual(D.d_block5_conv, [[null, 4, 4, 1024], 16 * 512 * 1024]);
    assert.deepEqual(D.d_out_conv, [[null, 1, 1, 1], 16 * 1024]);
    assert.deepEqual(D.d_logit, [[null, 1], 0]);
  });

  it('explicit channel lists', () => {
    const model = lessonModel({
      latentDim: 16,
      imageSize: 16,
      generator: { blocks: 2, channels: [40, 24] },
      discriminator: { blocks: 2, channels: [8, 32] },
    });
    const G = layerTable(buildGenerator(model, 3, 0));
    assert.deepEqual(G.g_block1_convT, [[null, 4, 4, 40], 16 * 16 * 40]);
    assert.deepEqual(G.g_block2_convT, [[null, 8, 8, 24], 16 * 40 * 24]);
    assert.deepEqual(G.g_block2_bn, [[null, 8, 8, 24], 4 * 24]);
    assert.deepEqual(G.g_out_convT, [[null, 16, 16, 3], 16 * 24 * 3]);
    const D = layerTable(buildDiscriminator(model, 3, 0));
    assert.deepEqual(D.d_block1_conv, [[null, 8, 8, 8], 16 * 3 * 8]);
    assert.deepEqual(D.d_block2_conv, [[null, 4, 4, 32], 16 * 8 * 32]);
    assert.deepEqual(D.d_out_conv, [[null, 1, 1, 1], 16 * 32]);
  });
});

describe('options', () => {
  it('batchNorm false: no batch norm, every conv has a zero-initialised bias', () => {
    const model = lessonModel({
      imageSize: 32,
      generator: { blocks: 3, batchNorm: false },
      discriminator: { blocks: 3, batchNorm: false },
    });
    const G = buildGenerator(model, 3, 0);
    const gRows = describeModel(G).rows;
    assert.equal(rowsOfType(gRows, 'BatchNormalization').length, 0);
    // 1,068,032 kernel params (see the 32x32 case) + biases 256 + 128 + 64 + 3
    assert.equal(G.countParams(), 1_068_032 + 451);
    assert.equal(describeModel(G).trainableParams, G.countParams());
    const D = buildDiscriminator(model, 3, 0);
    // 662,528 kernel params + biases 64 + 128 + 256 + 1
    assert.equal(D.countParams(), 662_528 + 449);
    for (const [name, values] of [...weightsOf(G), ...weightsOf(D)]) {
      if (name.endsWith('/bias'))
        assert.ok(
          values.every((v) => v === 0),
          name,
        );
    }
    assert.equal([...weightsOf(G).keys()].filter((n) => n.endsWith('/bias')).length, 4);
    assert.equal([...weightsOf(D).keys()].filter((n) => n.endsWith('/bias')).length, 4);
  });

  it('discriminator batchNorm.firstBlock false: block 1 has no batch norm but a bias', () => {
    const model = lessonModel({ discriminator: { batchNorm: { momentum: 0.8, epsilon: 1e-5, firstBlock: false } } });
    const D = buildDiscriminator(model, 3, 0);
    const rows = describeModel(D).rows;
    assert.deepEqual(rowsOfType(rows, 'BatchNormalization'), ['d_block2_bn', 'd_block3_bn', 'd_block4_bn']);
    const biases = [...weightsOf(D).keys()].filter((n) => n.endsWith('/bias'));
    assert.deepEqual(biases, ['d_block1_conv/bias']);
    // lesson count 2,767,616 - block-1 BN 256 + block-1 bias 64
    assert.equal(D.countParams(), 2_767_616 - 256 + 64);
    assert.equal(D.getLayer('d_block2_bn').getConfig().momentum, 0.8);
    assert.equal(D.getLayer('d_block2_bn').getConfig().epsilon, 1e-5);
  });

  it('activations and output activation', () => {
    const small = (g: object, d: object) =>
      lessonModel({ latentDim: 4, imageSize: 8, generator: { blocks: 1, baseChannels: 4, ...g }, discriminator: { blocks: 1, baseChannels: 4, ...d } });
    const cases: [object, string, Record<string, unknown>][] = [
      [{ kind: 'relu' }, 'ReLU', {}],
      [{ kind: 'leakyRelu', alpha: 0.1 }, 'LeakyReLU', { alpha: 0.1 }],
      [{ kind: 'elu', alpha: 1 }, 'ELU', { alpha: 1 }],
      [{ kind: 'elu', alpha: 0.5 }, 'DcganScaledElu', { alpha: 0.5 }],
      [{ kind: 'selu' }, 'Activation', { activation: 'selu' }],
      [{ kind: 'swish' }, 'Activation', { activation: 'swish' }],
      [{ kind: 'tanh' }, 'Activation', { activation: 'tanh' }],
    ];
    for (const [activation, type, config] of cases) {
      const G = buildGenerator(small({ activation }, {}), 3, 0);
      const D = buildDiscriminator(small({}, { activation }), 3, 0);
      for (const layer of [G.getLayer('g_block1_act'), D.getLayer('d_block1_act')]) {
        assert.equal(layer.getClassName(), type);
        for (const [key, value] of Object.entries(config)) assert.equal(layer.getConfig()[key], value);
      }
    }
    assert.equal(
      buildGenerator(small({ output: 'sigmoid' }, {}), 3, 0)
        .getLayer('g_out_act')
        .getConfig().activation,
      'sigmoid',
    );
    const linear = describeModel(buildGenerator(small({ output: 'linear' }, {}), 3, 0)).rows;
    assert.equal(linear.at(-1)?.name, 'g_out_convT');
  });

  it('ELU with alpha != 1 (unsupported by the stock TF.js layer): values, gradient, save and load', async () => {
    const model = lessonModel({
      latentDim: 4,
      imageSize: 8,
      generator: { blocks: 1, baseChannels: 4, activation: { kind: 'elu', alpha: 0.5 } },
    });
    const G = buildGenerator(model, 3, 0);
    const layer = G.getLayer('g_block1_act');
    const [values, grads] = tf.tidy(() => {
      const x = tf.tensor1d([-2, -0.5, 0, 1.5]);
      const f = (t: tf.Tensor) => layer.apply(t) as tf.Tensor;
      return [f(x).arraySync() as number[], tf.grad(f)(x).arraySync() as number[]];
    });
    const expected = [-2, -0.5, 0, 1.5].map((v) => (v > 0 ? v : 0.5 * (Math.exp(v) - 1)));
    values.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `${v} vs ${expected[i]}`));
    [0.5 * Math.exp(-2), 0.5 * Math.exp(-0.5), 0.5, 1].forEach((g, i) => assert.ok(Math.abs(grads[i] - g) < 1e-6, `grad ${grads[i]} vs ${g}`));

    let artifacts: tf.io.ModelArtifacts | undefined;
    await G.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    assert.equal(loaded.getLayer('g_block1_act').getConfig().alpha, 0.5);
    const diff = tf.tidy(() => {
      const z = tf.randomNormal([2, 4], 0, 1, 'float32', 1);
      return tf.max(tf.abs(tf.sub(G.predict(z) as tf.Tensor, loaded.predict(z) as tf.Tensor))).dataSync()[0];
    });
    assert.equal(diff, 0);
  });

  it('rejects sizes that are not startSize * 2^blocks and channel lists of the wrong length', () => {
    assert.throws(() => buildGenerator(lessonModel({ imageSize: 48, generator: { blocks: 5 } }), 3, 0), UserError);
    assert.throws(() => buildDiscriminator(lessonModel({ imageSize: 28, discriminator: { blocks: 3 } }), 1, 0), UserError);
    assert.throws(() => buildGenerator(lessonModel({ generator: { channels: [64, 32] } }), 3, 0), /2 entries for 4 blocks/);
  });
});

describe('seeding and saving', () => {
  const model = mnistModel({ latentDim: 8, generator: { baseChannels: 8 }, discriminator: { baseChannels: 8 } });

  it('same seed gives identical weights; a different seed different ones', () => {
    for (const build of [buildGenerator, buildDiscriminator]) {
      const a = weightsOf(build(model, 1, 42));
      const b = weightsOf(build(model, 1, 42));
      const c = weightsOf(build(model, 1, 43));
      assert.deepEqual([...a.keys()], [...b.keys()]);
      for (const [name, values] of a) {
        assert.deepEqual(b.get(name), values, name);
        const random = name.endsWith('/kernel') || name.endsWith('/gamma');
        assert.equal(Buffer.from(c.get(name)!.buffer).equals(Buffer.from(values.buffer)), !random, name);
      }
    }
  });

  it('saves and loads as TF.js LayersModels with readable weight names', async () => {
    const cases = [
      { net: buildGenerator(model, 1, 5), weight: 'g_block1_bn/moving_variance', input: () => tf.randomNormal([2, 8], 0, 1, 'float32', 1) },
      { net: buildDiscriminator(model, 1, 5), weight: 'd_block1_conv/kernel', input: () => tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 1) },
    ];
    for (const { net, weight, input } of cases) {
      let artifacts: tf.io.ModelArtifacts | undefined;
      await net.save(
        tf.io.withSaveHandler(async (a) => {
          artifacts = a;
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
      );
      assert.ok(artifacts?.weightSpecs);
      assert.ok(
        artifacts.weightSpecs.some((s) => s.name === weight),
        weight,
      );
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      // The same classes again, under tfjs-layers' names: D's convolutions (src/model/conv.ts) are saved as Conv2D.
      assert.deepEqual(
        loaded.layers.map((l) => l.constructor),
        net.layers.map((l) => l.constructor),
      );
      const diff = tf.tidy(() => {
        const x = input();
        return tf.max(tf.abs(tf.sub(net.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor))).dataSync()[0];
      });
      assert.equal(diff, 0, net.name);
    }
  });
});

describe('gradients a training step computes', () => {
  // D's convolutions run as tf.conv2d (src/model/conv.ts), whose gradient computes only what the tape asks for; a
  // convolution whose kernel covers its input (G's first, from 1x1; D's last) runs as a matrix product.
  const model = tinyModel();
  const convs = (net: tf.LayersModel) => net.layers.filter((l) => /conv/i.test(l.getClassName())).length;
  const count = async (run: () => unknown) => {
    const { kernels } = await tf.profile(() => {
      tf.dispose(run() as tf.TensorContainer);
    });
    const names = kernels.map((k) => k.name);
    const times = (name: string) => names.filter((n) => n === name).length;
    return { input: times('Conv2DBackpropInput'), filter: times('Conv2DBackpropFilter'), conv: times('Conv2D'), matMul: times('BatchMatMul') };
  };

  it("D's update computes no gradient of the images, G's update none of D's filters", async () => {
    const generator = buildGenerator(model, 3, 1);
    const discriminator = buildDiscriminator(model, 3, 2);
    const gan: Gan = { generator, discriminator, optimizers: { generator: makeAdam(LESSON_ADAM), discriminator: makeAdam(LESSON_ADAM) } };
    assert.deepEqual([convs(generator), convs(discriminator)], [3, 3]);
    // Of each network's 3 convolutions, 2 are convolutions and the one that covers its input is a matrix product.
    const real = tf.randomNormal([4, 16, 16, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const noise = tf.randomNormal([4, 8], 0, 1, 'float32', 4) as tf.Tensor2D;
    // D's update: G's forward (a transposed convolution is Conv2DBackpropInput; its first layer a product), then for
    // the real and the fake batch: D's forward (2 convolutions, 1 product), D's 3 filter gradients (the last one a
    // product) and the input gradients of D's last two layers (one conv, one product), none of its first.
    const dStep = await count(() => Object.values(discriminatorStep(gan, real, noise)));
    assert.deepEqual(dStep, { input: 2 + 2 * 1, filter: 2 * 2, conv: 2 * 2, matMul: 1 + 2 * (1 + 1 + 1) });
    // G's update: G's forward, D's forward and every D layer's input gradient on the way back (the last a product),
    // then G's filter gradients (the first a product) and the input gradients of G's last two layers (convolutions).
    const gStep = await count(() => generatorStep(gan, noise));
    assert.deepEqual(gStep, { input: 2 + 2, filter: 2, conv: 2 + 2, matMul: 1 + 1 + 1 + 1 });
    tf.dispose([real, noise]);
    for (const net of [generator, discriminator]) net.dispose();
    gan.optimizers.generator.dispose();
    gan.optimizers.discriminator.dispose();
  });
});

describe('convolutions that cover their input, as matrix products', () => {
  // Relative to the largest magnitude: float32 sums in another order.
  const assertClose = (actual: tf.Tensor, expected: tf.Tensor) => {
    assert.deepEqual(actual.shape, expected.shape);
    const scale = expected.abs().max().dataSync()[0]!;
    const error = actual.sub(expected).abs().max().dataSync()[0]!;
    assert.ok(scale > 0.1 && error <= 1e-5 * scale, `error ${error} against ${scale}`);
  };
  /** The layer's output and the gradients of a weighted sum of it, against the same from `reference`. */
  const assertSameAsConvolution = (layer: tf.layers.Layer, x: tf.Tensor4D, reference: (x: tf.Tensor4D, kernel: tf.Tensor4D) => tf.Tensor4D) => {
    const variable = layer.trainableWeights[0]!.read() as tf.Variable;
    const kernel = variable.clone() as tf.Tensor4D;
    const expected = reference(x, kernel);
    assertClose(layer.apply(x) as tf.Tensor, expected);
    const w = tf.randomNormal(expected.shape, 0, 1, 'float32', 5);
    const weighted = (y: tf.Tensor) => tf.sum(tf.mul(y, w)) as tf.Scalar;
    const [dx, dk] = tf.grads((a: tf.Tensor, k: tf.Tensor) => weighted(reference(a as tf.Tensor4D, k as tf.Tensor4D)))([x, kernel]);
    assertClose(tf.grad((a: tf.Tensor) => weighted(layer.apply(a) as tf.Tensor))(x), dx!);
    assertClose(tf.variableGrads(() => weighted(layer.apply(x) as tf.Tensor), [variable]).grads[variable.name]!, dk!);
  };

  it("D's last layer: a kernel as large as its input equals tf.conv2d, values and gradients", () => {
    const layer = new Conv2D({ filters: 3, kernelSize: 7, padding: 'valid', useBias: false, kernelInitializer: tf.initializers.randomNormal({ seed: 1 }) });
    const x = tf.randomNormal([5, 7, 7, 16], 0, 1, 'float32', 2) as tf.Tensor4D;
    layer.build(x.shape);
    assertSameAsConvolution(layer, x, (a, k) => tf.conv2d(a, k, 1, 'valid'));
  });

  it("G's first layer: from 1x1, equals tf.conv2dTranspose, values and gradients", () => {
    const layer = new Conv2DTranspose({
      filters: 6,
      kernelSize: 4,
      padding: 'valid',
      useBias: false,
      kernelInitializer: tf.initializers.randomNormal({ seed: 3 }),
    });
    const x = tf.randomNormal([5, 1, 1, 10], 0, 1, 'float32', 4) as tf.Tensor4D;
    layer.build(x.shape);
    assertSameAsConvolution(layer, x, (a, k) => tf.conv2dTranspose(a, k, [5, 4, 4, 6], 1, 'valid'));
  });
});

describe('summary', () => {
  it('formats a table with totals', () => {
    const text = formatModelDescription('Discriminator', describeModel(buildDiscriminator(lessonModel(), 3, 0)));
    const lines = text.split('\n');
    assert.equal(lines[0], 'Discriminator');
    assert.match(lines[1], /^Layer\s+Type\s+Output shape\s+Params$/);
    assert.ok(
      lines.some((l) => /^d_block4_conv\s+Conv2D\s+\[batch, 4, 4, 512\]\s+2,097,152$/.test(l)),
      text,
    );
    assert.equal(lines.at(-1), 'Total params: 2,767,616 (trainable 2,765,696, non-trainable 1,920)');
  });
});
