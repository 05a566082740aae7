// How metrics.jsonl lines appear in MLflow. The run page's Model metrics tab makes a chart section per
// "/"-prefix, so every key has exactly one: losses/ (per step), epoch/ (per-epoch means and the sample grid's spread), throughput/, and
// quality/ (train.eval) with quality_floor/ beside it (the same metrics between two real samples).
import { BASELINE_PREFIX } from '../eval/metrics.ts';
import type { MetricInput } from './mlflow/index.ts';
import type { MetricRecord } from './run-types.ts';

/** metrics.jsonl field -> MLflow key, for step lines and (under epoch/) epoch lines. */
const LOSS_KEYS = { lossD: 'D', lossG: 'G', dReal: 'D_real', dFake: 'D_fake' } as const;

/** src/eval's per-class shares: a histogram, logged as a table (classHistogramTable), not as a chart per class. */
const CLASS_HISTOGRAM = new RegExp(`^(${BASELINE_PREFIX})?class_hist/(.+)/c(\\d+)$`);

/** An eval metric's MLflow key: `fd/fmnist-cnn/n1000` -> `quality/fd_fmnist-cnn_n1000`. */
export function qualityKey(name: string): string {
  const floor = name.startsWith(BASELINE_PREFIX);
  const rest = floor ? name.slice(BASELINE_PREFIX.length) : name;
  return `${floor ? 'quality_floor' : 'quality'}/${rest.replaceAll('/', '_')}`;
}

/**
 * A metrics.jsonl line as MLflow points. Step lines of one logging window share their time and speed, so the
 * speed is logged once per window, at its first step (where it changes): a line, not a staircase. `previous` is
 * the line before this one in metrics.jsonl (undefined for the first).
 */
export function metricPoints(record: MetricRecord, previous: MetricRecord | undefined): MetricInput[] {
  const timestamp = Math.round(record.time);
  if (record.type === 'eval') {
    return Object.entries(record.values)
      .filter(([name]) => !CLASS_HISTOGRAM.test(name))
      .map(([name, value]) => ({ key: qualityKey(name), value, timestamp, step: record.epoch }));
  }
  const losses = Object.entries(LOSS_KEYS);
  if (record.type === 'step') {
    const points: MetricInput[] = losses.map(([field, key]) => ({
      key: `losses/${key}`,
      value: record[field as keyof typeof LOSS_KEYS],
      timestamp,
      step: record.step,
    }));
    const sameWindow = previous?.type === 'step' && previous.time === record.time && previous.imagesPerSec === record.imagesPerSec;
    if (!sameWindow) points.push({ key: 'throughput/images_per_sec', value: record.imagesPerSec, timestamp, step: record.step });
    return points;
  }
  return [
    ...losses.map(([field, key]) => ({
      key: `epoch/${key === 'D' || key === 'G' ? `loss_${key}` : key}`,
      value: record[field as keyof typeof LOSS_KEYS],
      timestamp,
      step: record.epoch,
    })),
    { key: 'throughput/epoch_images_per_sec', value: record.imagesPerSec, timestamp, step: record.epoch },
    { key: 'throughput/epoch_seconds', value: record.epochSeconds, timestamp, step: record.epoch },
    ...(record.sampleSpread
      ? [
          { key: 'epoch/sample_spread_pixels', value: record.sampleSpread.pixels, timestamp, step: record.epoch },
          { key: 'epoch/sample_spread_colours', value: record.sampleSpread.colours, timestamp, step: record.epoch },
        ]
      : []),
  ];
}

/** MLflow's table artifact (mlflow.log_table's JSON): columns and rows. */
export interface Table {
  columns: string[];
  data: (string | number)[][];
}

/** Every evaluation's class shares as one table (epoch, sample, classifier, class, share), or undefined when there are none. */
export function classHistogramTable(records: readonly MetricRecord[]): Table | undefined {
  const data: (string | number)[][] = [];
  for (const record of records) {
    if (record.type !== 'eval') continue;
    for (const [name, share] of Object.entries(record.values)) {
      const match = CLASS_HISTOGRAM.exec(name);
      if (match) data.push([record.epoch, match[1] ? 'real' : 'generated', match[2]!, Number(match[3]), share]);
    }
  }
  return data.length === 0 ? undefined : { columns: ['epoch', 'sample', 'classifier', 'class', 'share'], data };
}
