// The report of a sweep: every trial in a sortable, filterable table (failed and stopped ones with their
// reason), parameters against a chosen metric in parallel coordinates, and every trial's samples at one epoch.
import type { CellValue, SweepReportData, SweepTrialRow } from '../report-data.ts';
import { chart, type ChartOption } from './charts.ts';
import { el, factsTable, formatNumber, reportData, section } from './dom.ts';
import { epochSlider } from './epoch-slider.ts';

interface Column {
  key: string;
  title: string;
  value: (trial: SweepTrialRow) => CellValue;
  cell?: (trial: SweepTrialRow) => Node | string;
}

/** The last path segment of a swept key: "learningRate" for train.optimizers.generator.learningRate. */
const shortName = (key: string) => key.split('.').pop()!;

function columns(data: SweepReportData): Column[] {
  return [
    { key: 'index', title: '#', value: (t) => t.index },
    {
      key: 'name',
      title: 'trial',
      value: (t) => t.name,
      cell: (t) => el('span', { class: 'trial-name', title: t.name }, t.report ? el('a', { href: t.report }, t.name) : t.name),
    },
    { key: 'status', title: 'status', value: (t) => t.status, cell: (t) => el('span', { class: `status status-${t.status}` }, t.status) },
    ...data.parameters.map((key) => ({ key: `param:${key}`, title: shortName(key), value: (t: SweepTrialRow) => t.values[key] ?? null })),
    { key: 'epochs', title: 'epochs', value: (t) => t.epochsDone },
    ...data.metrics.map((name) => ({ key: `metric:${name}`, title: name, value: (t: SweepTrialRow) => t.metrics[name] ?? null })),
    { key: 'wall', title: 'wall s', value: (t) => t.wallSeconds },
    { key: 'reason', title: 'reason', value: (t) => t.reason },
  ];
}

function text(value: CellValue): string {
  return typeof value === 'number' ? formatNumber(value) : (value ?? '');
}

/** Numbers before text, missing values last in either direction. */
function compare(a: CellValue, b: CellValue): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

function trialsTable(data: SweepReportData): HTMLElement {
  const cols = columns(data);
  const filter = el('input', { id: 'trial-filter', type: 'search', placeholder: 'filter: any text in a row', 'aria-label': 'filter trials' });
  const statuses = [...new Set(data.trials.map((t) => t.status))];
  const statusFilter = el(
    'select',
    { id: 'status-filter', 'aria-label': 'status' },
    el('option', { value: '' }, 'any status'),
    ...statuses.map((s) => el('option', { value: s }, s)),
  );
  const body = el('tbody');
  let sort = { key: 'index', direction: 1 };
  const headers = cols.map((col) => {
    const th = el('th', { 'data-column': col.key, title: 'sort' }, col.title);
    th.addEventListener('click', () => {
      sort = { key: col.key, direction: sort.key === col.key ? -sort.direction : 1 };
      draw();
    });
    return th;
  });
  const draw = () => {
    const column = cols.find((c) => c.key === sort.key)!;
    const needle = filter.value.trim().toLowerCase();
    const rows = data.trials
      .filter((t) => !statusFilter.value || t.status === statusFilter.value)
      .filter((t) => !needle || cols.some((c) => text(c.value(t)).toLowerCase().includes(needle)))
      .sort((a, b) => {
        const order = compare(column.value(a), column.value(b));
        // Missing values stay last whichever way the column is sorted.
        return column.value(a) === null || column.value(b) === null ? order : order * sort.direction;
      });
    for (const [i, th] of headers.entries()) th.dataset.sorted = cols[i].key === sort.key ? (sort.direction > 0 ? 'ascending' : 'descending') : '';
    body.replaceChildren(
      ...rows.map((t) =>
        el('tr', { 'data-trial': t.name, class: `status-${t.status}` }, ...cols.map((c) => el('td', {}, c.cell ? c.cell(t) : text(c.value(t))))),
      ),
    );
  };
  filter.addEventListener('input', draw);
  statusFilter.addEventListener('change', draw);
  draw();
  return section(
    'trials',
    'Trials',
    el('div', { class: 'controls' }, filter, statusFilter),
    el('div', { class: 'table-scroll' }, el('table', { id: 'trials-table', class: 'trials' }, el('thead', {}, el('tr', {}, ...headers)), body)),
  );
}

function parallelOption(data: SweepReportData, metric: string): ChartOption {
  const axes = [
    ...data.parameters.map((key) => ({ key, numeric: data.trials.every((t) => typeof t.values[key] === 'number') })),
    { key: metric, numeric: true },
  ];
  const valueOf = (t: SweepTrialRow, key: string) => (key === metric ? (t.metrics[metric] ?? null) : (t.values[key] ?? null));
  const scored = data.trials.filter((t) => typeof t.metrics[metric] === 'number');
  const values = scored.map((t) => t.metrics[metric]);
  return {
    animation: false,
    parallelAxis: axes.map(({ key, numeric }, dim) =>
      numeric
        ? { dim, name: shortName(key), type: 'value', scale: true }
        : { dim, name: shortName(key), type: 'category', data: [...new Set(data.trials.map((t) => String(t.values[key])))] },
    ),
    parallel: { left: 60, right: 90, top: 40, bottom: 30 },
    visualMap:
      values.length > 0
        ? {
            type: 'continuous',
            dimension: axes.length - 1,
            min: Math.min(...values),
            max: Math.max(...values),
            right: 0,
            top: 'middle',
            calculable: true,
            formatter: (value: unknown) => formatNumber(Number(value)),
            inRange: { color: ['#1f77b4', '#ff7f0e'] },
          }
        : undefined,
    series: [
      {
        type: 'parallel',
        lineStyle: { width: 2, opacity: 0.8 },
        data: scored.map((t) => axes.map(({ key, numeric }) => (numeric ? valueOf(t, key) : String(valueOf(t, key))))),
      },
    ],
  } as ChartOption;
}

function parallelSection(data: SweepReportData): HTMLElement | null {
  if (data.metrics.length === 0 || data.parameters.length === 0) return null;
  const select = el('select', { id: 'parallel-metric', 'aria-label': 'metric' }, ...data.metrics.map((name) => el('option', { value: name }, name)));
  select.value = data.defaultMetric ?? data.metrics[0];
  const plot = chart('chart-parallel', parallelOption(data, select.value));
  select.addEventListener('change', () => plot.update(parallelOption(data, select.value)));
  return section(
    'parallel',
    'Parameters against a metric',
    el('label', {}, 'metric ', select),
    el('p', {}, 'Trials without the metric (failed, not started) are left out.'),
    plot.box,
  );
}

function samplesSection(data: SweepReportData): HTMLElement {
  const cards = data.trials.map((t) => {
    const image = el('img', { alt: `samples of ${t.name}`, class: 'pixelated' });
    const missing = el('p', { class: 'missing' });
    const title = t.report ? el('a', { href: t.report }, t.name) : el('span', {}, t.name);
    const card = el(
      'figure',
      { class: `trial-card status-${t.status}`, 'data-trial': t.name },
      image,
      missing,
      el('figcaption', {}, title, ' ', el('span', { class: `status status-${t.status}` }, t.status)),
    );
    return { card, image, missing, trial: t };
  });
  const epochs = Array.from({ length: data.maxEpoch + 1 }, (_, i) => i);
  const slider = epochSlider('sweep', epochs, (epoch) => {
    for (const { image, missing, trial } of cards) {
      const src = trial.samples[epoch];
      image.hidden = !src;
      if (src) image.setAttribute('src', src);
      missing.textContent = src ? '' : `no grid at epoch ${epoch}`;
    }
  });
  return section('samples', 'Every trial at one epoch', slider, el('div', { class: 'trial-grid' }, ...cards.map((c) => c.card)));
}

function render(data: SweepReportData): void {
  document
    .getElementById('report')!
    .replaceChildren(
      el(
        'header',
        {},
        el('h1', {}, `${data.experiment} `, el('small', {}, data.sweepId)),
        el('p', {}, el('span', { class: `status status-${data.status}` }, data.status)),
      ),
      trialsTable(data),
      parallelSection(data) ?? '',
      samplesSection(data),
      section('sweep', 'The sweep', factsTable(data.facts)),
    );
}

render(reportData<SweepReportData>());
