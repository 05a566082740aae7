// Layer-by-layer description of a built network, for `dcgan-run plan`.
import type * as tf from '@tensorflow/tfjs';

export interface LayerRow {
  name: string;
  /** The TF.js layer class, e.g. Conv2DTranspose, BatchNormalization. */
  type: string;
  /** Output shape with the batch dimension as null. */
  outputShape: (number | null)[];
  /** Trainable and non-trainable (batch-norm moving statistics) together. */
  params: number;
}

export interface ModelDescription {
  rows: LayerRow[];
  totalParams: number;
  trainableParams: number;
}

export function describeModel(model: tf.LayersModel): ModelDescription {
  const rows = model.layers.map((layer) => {
    const shape = layer.outputShape;
    // A layer with several outputs reports a list of shapes; these networks have none, so take the first.
    const outputShape = (Array.isArray(shape[0]) ? shape[0] : shape) as (number | null)[];
    return { name: layer.name, type: layer.getClassName(), outputShape, params: layer.countParams() };
  });
  const size = (w: tf.LayerVariable) => w.shape.reduce<number>((a, b) => a * (b ?? 1), 1);
  return {
    rows,
    totalParams: rows.reduce((sum, r) => sum + r.params, 0),
    trainableParams: model.trainableWeights.reduce((sum, w) => sum + size(w), 0),
  };
}

/** A plain-text table: layer, type, output shape, params; then the totals. */
export function formatModelDescription(title: string, d: ModelDescription): string {
  const header = ['Layer', 'Type', 'Output shape', 'Params'];
  const body = d.rows.map((r) => [r.name, r.type, formatShape(r.outputShape), r.params.toLocaleString('en-US')]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const rule = '-'.repeat(widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1));
  const nonTrainable = d.totalParams - d.trainableParams;
  return [
    title,
    line(header),
    rule,
    ...body.map(line),
    rule,
    `Total params: ${d.totalParams.toLocaleString('en-US')} ` +
      `(trainable ${d.trainableParams.toLocaleString('en-US')}, non-trainable ${nonTrainable.toLocaleString('en-US')})`,
  ].join('\n');
}

function formatShape(shape: (number | null)[]): string {
  return `[${shape.map((s) => (s === null ? 'batch' : String(s))).join(', ')}]`;
}
