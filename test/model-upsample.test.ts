// model.generator.upsample: nearest (resize-convolutions, Odena et al. 2016): the layers it builds, and parity
// with PyTorch's nn.Upsample(scale_factor=2, mode='nearest') + Conv2d(3, 1, 1) (test/parity/upsample_generator.py):
// training-mode output, every weight's gradient and the eval-mode output, at 64x64 and 28x28.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { availableBackends, useBackend } from '../src/backend/select.ts';
import type { Model } from '../src/config/experiment.generated.ts';
import { buildGenerator, type ImageChannels } from '../src/model/build.ts';
import { generatorChannels, startSize } from '../src/plan/geometry.ts';
import { type NamedTensor, namedTensor, runTorchScript, torchSkip } from './parity/exchange.ts';
import { lessonModel, mnistModel } from './parity/fixtures.ts';
import { relativeError } from './support/numeric.ts';

const SCRIPT = fileURLToPath(new URL('./parity/upsample_generator.py', import.meta.url));
const TOLERANCE = 1e-4;
const NEAREST = { upsample: 'nearest' as const, batchNorm: { momentum: 0.9, epsilon: 1e-5 } };
// Narrow channels keep the cpu backend's gradients of the 64x64 network to a second.

before(async () => {
  await useBackend('cpu');
});

describe('model.generator.upsample: nearest', () => {
  it("the upsampling's gradient is the sum of dy over each 2x2 block, for every image of a batch, on every backend here", async () => {
    // tfjs-backend-cpu's own kernel read dy at the wrong batch offset (src/backend/cpu-kernels.ts replaces it).
    const backends = await availableBackends();
    assert.ok(backends.includes('cpu'));
    try {
      for (const backend of backends) {
        await useBackend(backend);
        const [dx, expected] = tf.tidy(() => {
          const x = tf.randomNormal([3, 7, 7, 5], 0, 1, 'float32', 1) as tf.Tensor4D;
          const dy = tf.randomNormal([3, 14, 14, 5], 0, 1, 'float32', 2) as tf.Tensor4D;
          const up = tf.layers.upSampling2d({ size: [2, 2], interpolation: 'nearest' });
          // The 2x2 block sums of dy, from a reshape: [3, 7, 2, 7, 2, 5] summed over the two 2-axes.
          return [tf.grad((v: tf.Tensor) => tf.sum(tf.mul(up.apply(v) as tf.Tensor, dy)))(x), tf.sum(dy.reshape([3, 7, 2, 7, 2, 5]), [2, 4])];
        });
        // webgpu reads back asynchronously only.
        const error = relativeError(await dx.data(), await expected.data());
        tf.dispose([dx, expected]);
        assert.ok(error < 1e-6, `${backend}: relative error ${error}`);
      }
    } finally {
      await useBackend('cpu');
    }
  });

  it('keeps the first block a transposed conv, then doubles the side by 2x2 repetition and a 3x3 conv, to the output', () => {
    const G = buildGenerator(lessonModel({ generator: NEAREST }), 3, 1);
    const layers = G.layers.map((l) => `${l.name} ${l.getClassName()} ${JSON.stringify(l.outputShape)}`);
    assert.deepEqual(
      layers.filter((l) => /convT|_conv |_up /.test(l)),
      [
        'g_block1_convT Conv2DTranspose [null,4,4,512]',
        'g_block2_up UpSampling2D [null,8,8,512]',
        'g_block2_conv Conv2D [null,8,8,256]',
        'g_block3_up UpSampling2D [null,16,16,256]',
        'g_block3_conv Conv2D [null,16,16,128]',
        'g_block4_up UpSampling2D [null,32,32,128]',
        'g_block4_conv Conv2D [null,32,32,64]',
        'g_out_up UpSampling2D [null,64,64,64]',
        'g_out_conv Conv2D [null,64,64,3]',
      ],
    );
    // 3x3 kernels, no biases: 4*4*100*512 + 9*(512*256 + 256*128 + 128*64 + 64*3) + batch norm 4*(512+256+128+64).
    assert.deepEqual(G.getLayer('g_block2_conv').getWeights()[0]!.shape, [3, 3, 512, 256]);
    assert.equal(G.countParams(), 819_200 + 9 * (131_072 + 32_768 + 8_192 + 192) + 4 * 960);
    // The default is the lesson's transposed convolutions.
    assert.ok(!buildGenerator(lessonModel(), 3, 1).layers.some((l) => l.getClassName() === 'UpSampling2D'));
  });
});

const CASES: { title: string; model: Model; imageChannels: ImageChannels }[] = [
  { title: "64x64 RGB, the lesson's 4 blocks at 64, 32, 16, 8 channels", model: lessonModel({ generator: { ...NEAREST, baseChannels: 8 } }), imageChannels: 3 },
  {
    title: '28x28 grayscale (7x7, 2 blocks at 32, 16 channels), init std 0.1',
    model: mnistModel({ generator: NEAREST, init: { kind: 'normal', mean: 0, std: 0.1 } }),
    imageChannels: 1,
  },
];

for (const c of CASES) {
  describe(`PyTorch parity of upsample: nearest, ${c.title}`, { skip: torchSkip() }, () => {
    const batch = 3;
    let ours: Map<string, NamedTensor>;
    let torch: Map<string, NamedTensor>;

    before(() => {
      const G = buildGenerator(c.model, c.imageChannels, 5);
      const input = new Map<string, NamedTensor>();
      for (const w of G.weights) input.set(`G/${w.originalName}`, namedTensor(w.read()));
      ours = new Map();
      tf.tidy(() => {
        const z = tf.randomNormal([batch, c.model.latentDim], 0, 1, 'float32', 11);
        const r = tf.randomNormal([batch, c.model.imageSize, c.model.imageSize, c.imageChannels], 0, 1, 'float32', 12);
        input.set('z', namedTensor(z));
        input.set('r', namedTensor(r));
        const trainable = G.trainableWeights.map((w) => w.read() as tf.Variable);
        const { value, grads } = tf.variableGrads(() => {
          const y = G.apply(z, { training: true }) as tf.Tensor;
          ours.set('g_train', namedTensor(y));
          return tf.sum(tf.mul(y, r)) as tf.Scalar;
        }, trainable);
        value.dispose();
        for (const w of G.trainableWeights) ours.set(`grad/${w.originalName}`, namedTensor(grads[(w.read() as tf.Variable).name]!));
        for (const w of G.weights.filter((w) => /moving_(mean|variance)$/.test(w.originalName))) input.set(`tfstats/${w.originalName}`, namedTensor(w.read()));
        ours.set('g_eval', namedTensor(G.apply(z, { training: false }) as tf.Tensor));
      });
      G.dispose();
      const meta = {
        latentDim: c.model.latentDim,
        channels: generatorChannels(c.model.generator),
        imageChannels: c.imageChannels,
        firstKernel: startSize(c.model.imageSize, c.model.generator.blocks),
        epsilon: 1e-5,
        torchMomentum: 0.1,
      };
      torch = runTorchScript(SCRIPT, meta, input);
    });

    const compare = (name: string) => {
      const a = ours.get(name);
      const b = torch.get(name);
      assert.ok(a && b, `missing ${name}`);
      assert.deepEqual(a.shape, b.shape, name);
      const error = relativeError(a.data, b.data);
      assert.ok(error <= TOLERANCE, `${name}: relative error ${error.toExponential(2)}`);
    };

    it('training-mode output (batch statistics) and eval-mode output (moving statistics) match', () => {
      compare('g_train');
      compare('g_eval');
    });

    it('the gradient of every kernel, gamma and beta matches (the upsampling backward sums each 2x2 block)', () => {
      const names = [...ours.keys()].filter((n) => n.startsWith('grad/'));
      assert.equal(names.length, c.model.generator.blocks + 1 + 2 * c.model.generator.blocks, 'every kernel, gamma and beta');
      for (const name of names) compare(name);
    });

    it('is not blind: bilinear upsampling with the same weights is far outside the tolerance', () => {
      const error = relativeError(ours.get('g_train')!.data, torch.get('g_train_bilinear')!.data);
      assert.ok(error > 100 * TOLERANCE, `bilinear differs by only ${error}`);
    });
  });
}
