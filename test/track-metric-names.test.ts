// How metrics.jsonl lines are named in MLflow: one "/"-prefix per chart section, the speed once per logging window,
// and the class shares as a table instead of a chart per class.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classHistogramTable, metricPoints, qualityKey } from '../src/track/metric-names.ts';
import type { MetricRecord } from '../src/track/run-types.ts';

const step = (n: number, time: number, imagesPerSec: number): MetricRecord => ({
  type: 'step',
  step: n,
  epoch: 1,
  lossD: 0.7,
  lossG: 0.8,
  dReal: 0.6,
  dFake: 0.4,
  imagesPerSec,
  time,
});

test('step lines: losses/ per step, and the speed once per logging window, at its first step', () => {
  // logEvery 2: steps 1-2 share a window (same time and speed), steps 3-4 the next.
  const lines = [step(1, 1000, 50), step(2, 1000, 50), step(3, 2000, 60), step(4, 2000, 60)];
  const points = lines.flatMap((line, i) => metricPoints(line, lines[i - 1]));
  assert.deepEqual(
    points.filter((p) => p.key === 'throughput/images_per_sec').map((p) => [p.step, p.value]),
    [
      [1, 50],
      [3, 60],
    ],
  );
  assert.deepEqual([...new Set(points.map((p) => p.key))].sort(), ['losses/D', 'losses/D_fake', 'losses/D_real', 'losses/G', 'throughput/images_per_sec']);
});

test('epoch lines: epoch/ means, throughput/ per epoch', () => {
  const epoch: MetricRecord = {
    type: 'epoch',
    step: 2,
    epoch: 2,
    lossD: 0.7,
    lossG: 0.8,
    dReal: 0.6,
    dFake: 0.4,
    imagesPerSec: 55,
    epochSeconds: 3,
    time: 5000,
  };
  assert.deepEqual(
    metricPoints(epoch, undefined).map((p) => `${p.key}@${p.step}=${p.value}`),
    [
      'epoch/loss_D@2=0.7',
      'epoch/loss_G@2=0.8',
      'epoch/D_real@2=0.6',
      'epoch/D_fake@2=0.4',
      'throughput/epoch_images_per_sec@2=55',
      'throughput/epoch_seconds@2=3',
    ],
  );
  // An epoch that drew a sample grid: its spreads against real images, under epoch/ too.
  const drawn = metricPoints({ ...epoch, sampleSpread: { pixels: 0.8, colours: 0.3 } }, undefined).map((p) => `${p.key}@${p.step}=${p.value}`);
  assert.deepEqual(drawn.slice(-2), ['epoch/sample_spread_pixels@2=0.8', 'epoch/sample_spread_colours@2=0.3']);
});

test('eval lines: quality/ and quality_floor/ keys, one section each; class shares go to the table', () => {
  const values = {
    'fd/fmnist-cnn/n1000': 8.4,
    'real_vs_real/fd/fmnist-cnn/n1000': 1.85,
    'swd/patch7/n128/avg': 0.16,
    'class_hist/fmnist-cnn/n1000/c0': 0.1,
    'class_hist/fmnist-cnn/n1000/c1': 0.2,
    'real_vs_real/class_hist/fmnist-cnn/n1000/c0': 0.12,
  };
  const record: MetricRecord = { type: 'eval', step: 3, epoch: 3, values, time: 9000 };
  assert.deepEqual(
    metricPoints(record, undefined).map((p) => p.key),
    ['quality/fd_fmnist-cnn_n1000', 'quality_floor/fd_fmnist-cnn_n1000', 'quality/swd_patch7_n128_avg'],
  );
  assert.equal(qualityKey('kid_std/fmnist-cnn/n1000'), 'quality/kid_std_fmnist-cnn_n1000');
  assert.deepEqual(classHistogramTable([record]), {
    columns: ['epoch', 'sample', 'classifier', 'class', 'share'],
    data: [
      [3, 'generated', 'fmnist-cnn/n1000', 0, 0.1],
      [3, 'generated', 'fmnist-cnn/n1000', 1, 0.2],
      [3, 'real', 'fmnist-cnn/n1000', 0, 0.12],
    ],
  });
  assert.equal(classHistogramTable([step(1, 0, 1)]), undefined);
});
