import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Data, Transform } from '../src/config/experiment.generated.ts';
import { planTransforms } from '../src/data/transform-stages.ts';
import { outputShape, transformedShape } from '../src/plan/data-shape.ts';
import { UserError } from '../src/errors.ts';

const lesson: Transform[] = [
  { kind: 'flatten', background: '#ffffff' },
  { kind: 'resize', size: [64, 64], fit: 'fill', background: '#ffffff' },
  { kind: 'randomHorizontalFlip', p: 0.5 },
  { kind: 'normalize', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
];

function data(source: Data['source'], transforms: Transform[]): Data {
  return { source, transforms, batchSize: 256, shuffle: true, onBadImage: 'error', cache: true };
}

describe('transform plan and shapes', () => {
  test('the cached prefix ends at the first random transform or normalize', () => {
    const plan = planTransforms(lesson);
    assert.deepEqual(plan.cached, lesson.slice(0, 2));
    assert.deepEqual(
      plan.perBatch.map((step) => [step.index, step.transform.kind]),
      [
        [2, 'randomHorizontalFlip'],
        [3, 'normalize'],
      ],
    );
    const gray = planTransforms([
      { kind: 'centerCrop', size: [2, 2] },
      { kind: 'grayscale' },
      { kind: 'normalize', mean: [0], std: [1] },
      { kind: 'grayscale' },
    ]);
    assert.equal(gray.cached.length, 2);
    assert.equal(gray.perBatch.length, 2);
  });

  test('flatten or resize after a random transform or normalize is refused with a clear message', () => {
    assert.throws(
      () =>
        planTransforms([
          { kind: 'randomCrop', size: [60, 60] },
          { kind: 'resize', size: [64, 64], fit: 'fill', background: '#ffffff' },
        ]),
      new UserError(
        'data.transforms[1] (resize) comes after data.transforms[0] (randomCrop): resize must come before any randomCrop, randomHorizontalFlip or normalize; move it up',
      ),
    );
    assert.throws(
      () => planTransforms([...lesson, { kind: 'flatten', background: '#000000' }]),
      /data\.transforms\[4\] \(flatten\) comes after data\.transforms\[2\]/,
    );
  });

  test('transformedShape follows resize, crops, flatten and grayscale', () => {
    assert.deepEqual(transformedShape(lesson, { height: 56, width: 68, channels: 3 }), { height: 64, width: 64, channels: 3 });
    assert.deepEqual(
      transformedShape(
        [
          { kind: 'flatten', background: '#ffffff' },
          { kind: 'centerCrop', size: [20, 24] },
          { kind: 'randomCrop', size: [16, 16] },
        ],
        { height: 28, width: 28, channels: 1 },
      ),
      { height: 16, width: 16, channels: 3 },
    );
    assert.deepEqual(transformedShape([{ kind: 'grayscale' }], { height: 5, width: 6, channels: 3 }), { height: 5, width: 6, channels: 1 });
    assert.throws(
      () => transformedShape([{ kind: 'centerCrop', size: [30, 10] }], { height: 28, width: 28, channels: 1 }),
      /data\.transforms\[0\] \(centerCrop\) crops 30x10 out of 28x28 images/,
    );
    assert.equal(transformedShape(lesson, { height: 28, width: 28, channels: 1 }).channels, 3, 'flatten makes grey images RGB');
    assert.throws(
      () => transformedShape([{ kind: 'grayscale' }, ...lesson.slice(2)], { height: 8, width: 8, channels: 3 }),
      new UserError('data.transforms[2].mean has 3 values but the images have 1 channel at this point: give one value per channel'),
    );
  });

  test('outputShape needs no files: channels from the source and transforms, size from the last resize or crop', () => {
    const folder = { kind: 'imageFolder', root: '/x' } as const;
    const idx = { kind: 'idx', images: '/x.gz' } as const;
    assert.deepEqual(outputShape(data(folder, lesson)), { height: 64, width: 64, channels: 3 });
    assert.deepEqual(outputShape(data(idx, [])), { height: null, width: null, channels: 1 });
    assert.deepEqual(outputShape(data(folder, [{ kind: 'grayscale' }])), { height: null, width: null, channels: 1 });
    assert.deepEqual(
      outputShape(
        data(idx, [
          { kind: 'resize', size: [36, 36], fit: 'fill', background: '#ffffff' },
          { kind: 'randomCrop', size: [32, 32] },
          { kind: 'flatten', background: '#ffffff' },
        ]),
      ),
      { height: 32, width: 32, channels: 3 },
    );
  });
});
