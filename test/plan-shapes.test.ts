import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Data, Transform } from '../src/config/experiment.generated.ts';
import { UserError } from '../src/errors.ts';
import { transformedShape } from '../src/plan/data-shape.ts';
import { geometryProblems, networkGeometry } from '../src/plan/geometry.ts';
import { planExperiment } from '../src/plan/index.ts';
import { lessonModel, mnistModel } from './parity/fixtures.ts';

const resize = (size: number): Transform => ({ kind: 'resize', size: [size, size], fit: 'fill', background: '#ffffff' });
const normalize = (values: 1 | 3): Transform => {
  const half = values === 1 ? ([0.5] as [number]) : ([0.5, 0.5, 0.5] as [number, number, number]);
  return { kind: 'normalize', mean: half, std: half };
};

function data(source: Data['source'], transforms: Transform[]): Data {
  return { source, transforms, batchSize: 64, shuffle: true, onBadImage: 'error', cache: true };
}

describe('the data plan', () => {
  test('a named IDX source fixes size and channels: 28x28x1 fits a 28 model as is, and a 32 model is told to resize', () => {
    const source = { kind: 'fashionMnist', split: 'train' } as const;
    assert.deepEqual(planExperiment({ data: data(source, [normalize(1)]), model: mnistModel() }), {
      images: { height: 28, width: 28, channels: 1 },
      problems: [],
    });
    assert.deepEqual(planExperiment({ data: data(source, []), model: mnistModel({ imageSize: 32 }) }).problems.at(-1), {
      path: ['data', 'source', 'kind'],
      message: 'data.source (fashionMnist) has 28x28 images but model.imageSize is 32: add a resize (and crop) to data.transforms that gives [32, 32]',
    });
  });

  test('named sprites are 56x68 RGB: a crop is checked against that before anything is read', () => {
    const source: Data['source'] = { kind: 'pokemonSprites', generations: ['gen8'], variants: ['regular'] };
    const plan = planExperiment({
      data: data(source, [
        { kind: 'flatten', background: '#ffffff' },
        { kind: 'centerCrop', size: [64, 64] },
      ]),
      model: lessonModel(),
    });
    assert.deepEqual(plan.images, { height: 64, width: 64, channels: 3 });
    assert.deepEqual(plan.problems, [
      { path: ['data', 'transforms', '1', 'size'], message: 'data.transforms[1] crops 64x64 out of 56x68 images: the crop must fit inside the image' },
    ]);
  });

  test("an image folder's size is unknown until a resize or crop; the last one must give model.imageSize", () => {
    const source = { kind: 'imageFolder', root: '/images' } as const;
    assert.deepEqual(planExperiment({ data: data(source, [normalize(3)]), model: lessonModel() }), {
      images: { height: null, width: null, channels: 3 },
      problems: [],
    });
    const plan = planExperiment({ data: data(source, [resize(32), { kind: 'randomCrop', size: [64, 64] }, resize(16)]), model: lessonModel() });
    assert.deepEqual(
      plan.problems.map((p) => [p.path.join('.'), p.message]),
      [
        ['data.transforms.1.size', 'data.transforms[1] crops 64x64 out of 32x32 images: the crop must fit inside the image'],
        [
          'data.transforms.2.kind',
          'data.transforms[2] (resize) comes after data.transforms[1] (randomCrop): resize must come before any randomCrop, randomHorizontalFlip or normalize; move it up',
        ],
        ['data.transforms.2.size', 'data.transforms[2] makes 16x16 images but model.imageSize is 64: the last resize or crop must give [64, 64]'],
      ],
    );
  });

  test('IDX files are grey: normalize takes one value until a flatten makes them RGB', () => {
    const source = { kind: 'idx', images: '/train-images-idx3-ubyte.gz' } as const;
    const grey = planExperiment({ data: data(source, [normalize(3)]), model: mnistModel() });
    assert.deepEqual(grey.images, { height: null, width: null, channels: 1 });
    assert.deepEqual(
      grey.problems.map((p) => p.path.join('.')),
      ['data.transforms.0.mean', 'data.transforms.0.std'],
    );
    assert.equal(grey.problems[0].message, 'data.transforms[0].mean has 3 values but the images have 1 channel at this point: give one value per channel');
    const rgb = planExperiment({ data: data(source, [{ kind: 'flatten', background: '#000000' }, normalize(3)]), model: mnistModel() });
    assert.deepEqual(rgb, { images: { height: null, width: null, channels: 3 }, problems: [] });
  });

  test('measured images: the first problem is a UserError naming the transform and the fix', () => {
    assert.deepEqual(transformedShape([{ kind: 'randomCrop', size: [24, 24] }], { height: 28, width: 28, channels: 1 }, 3), {
      height: 24,
      width: 24,
      channels: 1,
    });
    assert.throws(
      () => transformedShape([{ kind: 'randomCrop', size: [32, 32] }, normalize(3)], { height: 28, width: 28, channels: 1 }, 3),
      new UserError('data.transforms[3] (randomCrop) crops 32x32 out of 28x28 images: the crop must fit inside the image (resize first)'),
    );
  });
});

describe('the networks plan', () => {
  test('64 = 4 * 2^4: the lesson ladder, channels doubling towards the small end', () => {
    const model = lessonModel();
    assert.deepEqual(networkGeometry(model, 'generator'), { startSize: 4, channels: [512, 256, 128, 64] });
    assert.deepEqual(networkGeometry(model, 'discriminator'), { startSize: 4, channels: [64, 128, 256, 512] });
    assert.deepEqual(geometryProblems(model), []);
  });

  test('28 = 7 * 2^2; three blocks would need a 3.5x3.5 start, reported at the block count or else the image size', () => {
    assert.deepEqual(networkGeometry(mnistModel(), 'generator'), { startSize: 7, channels: [128, 64] });
    const model = mnistModel({ discriminator: { blocks: 3 } });
    assert.equal(networkGeometry(model, 'discriminator').startSize, null);
    assert.deepEqual(geometryProblems(model), [
      {
        path: ['model', 'discriminator', 'blocks'],
        fallback: ['model', 'imageSize'],
        message:
          'model.imageSize 28 must equal startSize * 2^blocks with an integer startSize >= 1, but model.discriminator.blocks 3 gives 28 / 8 = 3.5 (block counts that work for 28: 1, from 14x14; 2, from 7x7)',
      },
    ]);
  });

  test('an explicit channel list must have one entry per block', () => {
    const model = mnistModel({ generator: { channels: [32, 16, 8] } });
    assert.deepEqual(networkGeometry(model, 'generator').channels, [32, 16, 8]);
    assert.deepEqual(
      geometryProblems(model).map((p) => p.message),
      ['model.generator.channels lists 3 values but model.generator.blocks is 2: give one channel count per block'],
    );
  });
});
