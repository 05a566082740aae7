// The report of one run: sample grids over the epochs, losses, quality metrics, the generator running in
// the page, the nearest training images, and what the run was.
import type { LossSeries, RunReportData } from '../report-data.ts';
import { chart, lineDefaults, pairs, type ChartOption } from './charts.ts';
import { el, factsTable, formatNumber, reportData, section } from './dom.ts';
import { epochSlider } from './epoch-slider.ts';
import { chooseBackend, drawImage, generate, loadGenerator, sampleNoise, slerpPath } from './generator.ts';

const INTERPOLATION_FRAMES = 10;

function header(data: RunReportData): HTMLElement {
  return el(
    'header',
    {},
    el('h1', {}, `${data.experiment} `, el('small', {}, data.runId)),
    el('p', {}, el('span', { class: `status status-${data.status}` }, data.status), data.statusDetail ? ` ${data.statusDetail}` : ''),
    ...data.warnings.map((warning) => el('p', { class: 'warning' }, warning)),
  );
}

function samplesSection(data: RunReportData): HTMLElement {
  if (data.samples.length === 0) return section('samples', 'Samples', el('p', {}, 'No sample grids yet.'));
  const image = el('img', { id: 'samples-img', alt: 'fixed-noise samples', class: 'pixelated' });
  const byEpoch = new Map(data.samples.map((s) => [s.epoch, s.src]));
  const slider = epochSlider(
    'samples',
    data.samples.map((s) => s.epoch),
    (epoch) => image.setAttribute('src', byEpoch.get(epoch)!),
  );
  return section('samples', 'Samples from fixed noise', slider, image);
}

/** Per-step lines (thin) and per-epoch means (with points) of two columns of the losses. */
function lossChart(id: string, data: RunReportData, columns: [keyof LossSeries, string][], yName: string): HTMLElement {
  const series = columns.flatMap(([column, name]) => [
    {
      name: `${name} (step)`,
      type: 'line' as const,
      showSymbol: false,
      lineStyle: { width: 1 },
      sampling: 'lttb' as const,
      data: pairs(data.steps.step, data.steps[column]),
    },
    { name: `${name} (epoch mean)`, type: 'line' as const, symbolSize: 5, lineStyle: { width: 2 }, data: pairs(data.epochs.step, data.epochs[column]) },
  ]);
  return chart(id, {
    ...lineDefaults,
    xAxis: { type: 'value', name: 'step', min: 'dataMin' as const },
    yAxis: { type: 'value', name: yName, scale: true },
    series,
  }).box;
}

/** The grid's two spreads over the epochs, each with the line below which the run warns of mode collapse. */
function spreadChart(spread: NonNullable<RunReportData['spread']>): HTMLElement {
  // Labels at either end of the chart: the two thresholds are close.
  const line = (name: string, values: number[], threshold: number, position: 'insideStartBottom' | 'insideEndTop') => ({
    name,
    type: 'line' as const,
    symbolSize: 5,
    data: pairs(spread.epoch, values),
    markLine: {
      symbol: 'none',
      label: { position, formatter: `${name}: collapse below ${threshold}` },
      lineStyle: { type: 'dashed' as const },
      data: [{ yAxis: threshold }],
    },
  });
  return chart('chart-spread', {
    ...lineDefaults,
    xAxis: { type: 'value', name: 'epoch', min: 'dataMin' as const, minInterval: 1 },
    yAxis: { type: 'value', name: "share of real images'", min: 0 },
    series: [
      line('pixels', spread.pixels, spread.thresholds.pixels, 'insideStartBottom'),
      line('colours', spread.colours, spread.thresholds.colours, 'insideEndTop'),
    ],
  }).box;
}

function metricOption(data: RunReportData, name: string): ChartOption {
  const metric = data.evals.metrics.find((m) => m.name === name)!;
  const best = data.best && data.best.metric === name ? data.best : null;
  return {
    ...lineDefaults,
    xAxis: { type: 'value', name: 'epoch', min: 'dataMin' as const },
    yAxis: { type: 'value', name, scale: true },
    series: [
      {
        name,
        type: 'line',
        symbolSize: 6,
        data: pairs(data.evals.epoch, metric.values),
        markPoint: best ? { symbol: 'pin', data: [{ name: 'best checkpoint', coord: [best.epoch, best.value], value: 'best' }] } : undefined,
        markLine: data.best ? { symbol: 'none', label: { formatter: 'best checkpoint' }, data: [{ xAxis: data.best.epoch }] } : undefined,
      },
      { name: 'real vs real (floor)', type: 'line', symbol: 'none', lineStyle: { type: 'dashed' }, data: pairs(data.evals.epoch, metric.floor) },
    ],
  };
}

function metricsSection(data: RunReportData): HTMLElement | null {
  const names = data.evals.metrics.map((m) => m.name);
  if (names.length === 0) return null;
  const first = data.best && names.includes(data.best.metric) ? data.best.metric : names[0];
  const select = el('select', { id: 'metric-select', 'aria-label': 'metric' }, ...names.map((name) => el('option', { value: name }, name)));
  select.value = first;
  const plot = chart('chart-metrics', metricOption(data, first));
  select.addEventListener('change', () => plot.update(metricOption(data, select.value)));
  const best = data.best
    ? el('p', {}, `Best checkpoint: ${data.best.metric} ${formatNumber(data.best.value)} at epoch ${data.best.epoch} (checkpoints/best).`)
    : null;
  return section('metrics', 'Sample quality', el('label', {}, 'metric ', select), best, plot.box);
}

function generatorSection(data: RunReportData): HTMLElement | null {
  const generator = data.generator;
  if (!generator) return null;
  const { latentDim, scale, count, models } = generator;
  const modelSelect = el(
    'select',
    { id: 'checkpoint', 'aria-label': 'checkpoint' },
    ...models.map((m) => el('option', { value: m.id }, `${m.label} (epoch ${m.epoch})`)),
  );
  const seedInput = el('input', { id: 'seed', type: 'number', step: '1', value: String(generator.seed), 'aria-label': 'seed' });
  const newSamples = el('button', { type: 'button', id: 'new-samples' }, 'new samples');
  const fromInput = el('input', { id: 'from-sample', type: 'number', min: '0', max: String(count - 1), value: '0', 'aria-label': 'from sample' });
  const toInput = el('input', { id: 'to-sample', type: 'number', min: '0', max: String(count - 1), value: '1', 'aria-label': 'to sample' });
  const interpolateButton = el('button', { type: 'button', id: 'interpolate' }, 'interpolate');
  const status = el('p', { id: 'generator-status' }, 'loading TF.js...');
  const grid = el('div', { id: 'generator-samples', class: 'image-grid' });
  const strip = el('div', { id: 'interpolation', class: 'image-strip' });

  const choice = () => models.find((m) => m.id === modelSelect.value)!;
  const seed = () => Math.trunc(Number(seedInput.value));
  const show = (target: HTMLElement, images: Awaited<ReturnType<typeof generate>>, title: (n: number) => string) => {
    target.replaceChildren(
      ...Array.from({ length: images.count }, (_, n) => {
        const canvas = drawImage(images, n, scale);
        canvas.classList.add('pixelated');
        canvas.title = title(n);
        return canvas;
      }),
    );
  };
  // One render at a time, each reporting in the status line (and in data-state, for tests).
  let queue = Promise.resolve();
  const run = (what: string, work: () => Promise<void>) => {
    queue = queue.then(async () => {
      grid.parentElement!.dataset.state = 'busy';
      status.textContent = `${what}...`;
      try {
        await work();
        status.textContent = `${choice().label}, seed ${seed()}, on TF.js ${backend}`;
        grid.parentElement!.dataset.state = 'ready';
      } catch (error) {
        status.textContent = `could not run the generator: ${(error as Error).message}`;
        grid.parentElement!.dataset.state = 'error';
      }
    });
  };
  const drawSamples = () =>
    run('generating', async () => {
      const model = await loadGenerator(choice());
      show(grid, await generate(model, sampleNoise(seed(), count, latentDim), latentDim), (n) => `sample ${n}, seed ${seed()}`);
    });
  const drawInterpolation = () =>
    run('interpolating', async () => {
      const noise = sampleNoise(seed(), count, latentDim);
      const row = (n: number) => noise.subarray(n * latentDim, (n + 1) * latentDim);
      const model = await loadGenerator(choice());
      const path = slerpPath(row(Number(fromInput.value)), row(Number(toInput.value)), INTERPOLATION_FRAMES);
      show(strip, await generate(model, path, latentDim), (f) => `frame ${f}`);
    });
  const redraw = () => {
    drawSamples();
    drawInterpolation();
  };

  let backend = '';
  modelSelect.addEventListener('change', redraw);
  seedInput.addEventListener('change', redraw);
  newSamples.addEventListener('click', () => {
    seedInput.value = String(seed() + 1);
    redraw();
  });
  interpolateButton.addEventListener('click', drawInterpolation);
  const body = section(
    'generator',
    'The generator, in this page',
    el('div', { class: 'controls' }, el('label', {}, 'checkpoint ', modelSelect), el('label', {}, 'seed ', seedInput), newSamples),
    status,
    grid,
    el('h3', {}, 'Latent interpolation'),
    el('div', { class: 'controls' }, el('label', {}, 'from sample ', fromInput), el('label', {}, 'to sample ', toInput), interpolateButton),
    strip,
  );
  body.dataset.state = 'busy';
  // After the load event: the model's script is the page's biggest file, and the rest shows without it.
  window.addEventListener('load', () => {
    run('starting TF.js', async () => {
      backend = await chooseBackend();
    });
    redraw();
  });
  return body;
}

function nearestSection(data: RunReportData): HTMLElement | null {
  if (!data.nearest) return null;
  const { model, seed, items } = data.nearest;
  return section(
    'nearest',
    'Nearest training images',
    el(
      'p',
      {},
      `The first ${items.length} samples of ${model} with seed ${seed} (left), then the training images closest to each in pixel space (mean squared distance below): copies of training images would show here.`,
    ),
    ...items.map((item, i) =>
      el(
        'figure',
        { class: 'nearest' },
        el('img', { src: item.src, alt: `sample ${i} and its nearest training images`, class: 'pixelated' }),
        el('figcaption', {}, `sample ${i}: ${item.distances.map(formatNumber).join(', ')}`),
      ),
    ),
  );
}

function render(data: RunReportData): void {
  const root = document.getElementById('report')!;
  root.replaceChildren(
    header(data),
    samplesSection(data),
    section(
      'training',
      'Training',
      el('h3', {}, 'Losses'),
      lossChart(
        'chart-losses',
        data,
        [
          ['lossD', 'D loss'],
          ['lossG', 'G loss'],
        ],
        'loss',
      ),
      el('h3', {}, 'Discriminator outputs'),
      lossChart(
        'chart-d',
        data,
        [
          ['dReal', 'D(x)'],
          ['dFake', 'D(G(z))'],
        ],
        'mean D output',
      ),
      ...(data.spread
        ? [
            el('h3', {}, 'How varied the samples are'),
            el(
              'p',
              {},
              "The fixed-noise grid's mean pairwise distance, of its pixels and of its foreground colours, as a share of the same on real images: a run warns of mode collapse when either stays below its dashed line.",
            ),
            spreadChart(data.spread),
          ]
        : []),
    ),
    metricsSection(data) ?? '',
    generatorSection(data) ?? '',
    nearestSection(data) ?? '',
    section('run', 'The run', factsTable(data.facts), el('h3', {}, 'Resolved config'), el('pre', { class: 'config' }, data.configYaml)),
  );
}

render(reportData<RunReportData>());
