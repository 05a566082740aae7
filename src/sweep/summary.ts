// The sweep's results table: every trial's swept values and last-epoch metrics, best first by a stated key.
import { redactCredentials } from '../track/redact.ts';
import type { FinalMetrics, SweepManifest, TrialRecord } from '../track/sweep-manifest.ts';
import { csvField } from '../io/csv-field.ts';

export interface SortKey {
  /** The column name in the tables. */
  column: string;
  /** The formula, for the table header. */
  formula: string;
  /** Why lower is better, for the table header. */
  meaning: string;
  score(metrics: FinalMetrics): number;
}

/**
 * GAN losses do not go down as the images get better, so no loss is ranked by its size. Both keys measure how
 * close the last epoch was to the game's equilibrium, where the discriminator outputs 1/2 for real and fake
 * alike. That is balance, not image quality: look at the samples of the best few trials.
 */
export const SORT_KEYS = {
  balance: {
    column: 'balance',
    formula: '|dReal - 0.5| + |dFake - 0.5|',
    meaning:
      'how far the last epoch is from the equilibrium where D outputs 1/2 on real and fake images; 0 is balanced, near 1 means one network won (e.g. D separates perfectly); it measures balance, not image quality',
    score: (m: FinalMetrics) => Math.abs(m.dReal - 0.5) + Math.abs(m.dFake - 0.5),
  },
  lossD: {
    column: 'lossD_vs_ln2',
    formula: '|lossD - ln 2|',
    meaning: "how far the discriminator's last-epoch loss is from ln 2, its value at the equilibrium D = 1/2",
    score: (m: FinalMetrics) => Math.abs(m.lossD - Math.LN2),
  },
} satisfies Record<string, SortKey>;

export type SortKeyName = keyof typeof SORT_KEYS;
export const DEFAULT_SORT_KEY: SortKeyName = 'balance';

export interface SummaryRow {
  rank: number | null;
  trial: TrialRecord;
  score: number | null;
}

/**
 * The rows best first. With sweep.objective (and no key asked for), by the objective at each trial's last
 * evaluation (objectiveRows); otherwise finished trials by `key`, then the others (stopped, failed, pending) in
 * sweep order, unranked.
 */
export function summaryRows(manifest: SweepManifest, key?: SortKey): SummaryRow[] {
  if (!key && manifest.objective) return objectiveRows(manifest, manifest.objective);
  const sortKey = key ?? SORT_KEYS[DEFAULT_SORT_KEY];
  const ranked = manifest.trials
    .filter((t) => t.status === 'finished' && t.metrics)
    .map((trial) => ({ trial, score: sortKey.score(trial.metrics!) }))
    .sort((a, b) => a.score - b.score || a.trial.index - b.trial.index)
    .map((row, i) => ({ ...row, rank: i + 1 }));
  const rest = manifest.trials
    .filter((t) => !(t.status === 'finished' && t.metrics))
    .map((trial) => ({ trial, rank: null, score: trial.metrics ? sortKey.score(trial.metrics) : null }));
  return [...ranked, ...rest];
}

/** A trial's objective at its last evaluation, when it is a number (NaN comes back from JSON as null). */
const objectiveOf = (trial: TrialRecord): number | null => {
  const value = trial.objective?.value;
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
};

/**
 * Ranked by sweep.objective: finished trials with a value, best first by its mode (ties in sweep order); then,
 * unranked, the finished ones without a value and those not ended (running, stopped, pending) in sweep order;
 * then the pruned ones, those that got furthest first and among them the best; the failed ones last.
 */
export function objectiveRows(manifest: SweepManifest, objective: NonNullable<SweepManifest['objective']>): SummaryRow[] {
  const sign = objective.mode === 'min' ? 1 : -1;
  const better = (a: number | null, b: number | null) => (a === null ? (b === null ? 0 : 1) : b === null ? -1 : sign * (a - b));
  const row = (trial: TrialRecord) => ({ trial, rank: null, score: objectiveOf(trial) });
  const ranked = manifest.trials
    .filter((t) => t.status === 'finished' && objectiveOf(t) !== null)
    .map(row)
    .sort((a, b) => better(a.score, b.score) || a.trial.index - b.trial.index)
    .map((r, i) => ({ ...r, rank: i + 1 }));
  const unranked = manifest.trials.filter((t) => !['pruned', 'failed'].includes(t.status) && !(t.status === 'finished' && objectiveOf(t) !== null)).map(row);
  const pruned = manifest.trials
    .filter((t) => t.status === 'pruned')
    .map(row)
    .sort(
      (a, b) =>
        (b.trial.pruned?.epoch ?? b.trial.objective?.epoch ?? 0) - (a.trial.pruned?.epoch ?? a.trial.objective?.epoch ?? 0) ||
        better(a.score, b.score) ||
        a.trial.index - b.trial.index,
    );
  const failed = manifest.trials.filter((t) => t.status === 'failed').map(row);
  return [...ranked, ...unranked, ...pruned, ...failed];
}

export const sweptPaths = (manifest: SweepManifest): string[] => [...new Set(manifest.trials.flatMap((t) => Object.keys(t.values)))];

const showValue = (value: unknown): string => (value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value));
/** A metric for tables and log lines; `missing` for none, and for the null that JSON makes of NaN and Infinity. */
export const formatMetric = (value: number | undefined | null, digits = 4, missing = ''): string =>
  value === undefined || value === null || !Number.isFinite(value) ? missing : value.toFixed(digits);

interface Table {
  header: string[];
  rows: string[][];
  /** The columns of numbers (right-aligned in Markdown). */
  numeric: string[];
}

function table(manifest: SweepManifest, asked: SortKey | undefined): Table {
  const paths = sweptPaths(manifest);
  const key = asked ?? SORT_KEYS[DEFAULT_SORT_KEY];
  const metrics = ['epochs', 'lossD', 'lossG', 'dReal', 'dFake', key.column];
  const metricCells = (trial: TrialRecord) => [
    trial.metrics ? String(trial.metrics.epoch) : '',
    formatMetric(trial.metrics?.lossD),
    formatMetric(trial.metrics?.lossG),
    formatMetric(trial.metrics?.dReal),
    formatMetric(trial.metrics?.dFake),
    formatMetric(trial.metrics ? key.score(trial.metrics) : null),
  ];
  const values = (trial: TrialRecord) => paths.map((path) => (path in trial.values ? showValue(trial.values[path]) : ''));
  const end = (trial: TrialRecord) => [trial.runId ?? '', trial.error ?? prunedNote(trial, manifest)];
  const rank = (r: number | null) => (r === null ? '' : String(r));
  // Ranked by the objective: its column comes first after the trial's name.
  if (!asked && manifest.objective) {
    const header = ['rank', 'trial', manifest.objective.metric, 'status', ...paths, ...metrics, 'runId', 'error'];
    const rows = summaryRows(manifest).map(({ rank: r, trial }) => [
      rank(r),
      trial.name,
      formatMetric(trial.objective?.value, 4, trial.objective ? 'NaN' : ''),
      trial.status,
      ...values(trial),
      ...metricCells(trial),
      ...end(trial),
    ]);
    return { header, rows, numeric: ['rank', manifest.objective.metric, ...metrics] };
  }
  const objective = manifest.objective ? [manifest.objective.metric] : [];
  const header = ['rank', 'trial', 'status', ...paths, ...metrics, ...objective, 'runId', 'error'];
  const rows = summaryRows(manifest, key).map(({ rank: r, trial }) => [
    rank(r),
    trial.name,
    trial.status,
    ...values(trial),
    ...metricCells(trial),
    ...objective.map(() => formatMetric(trial.objective?.value)),
    ...end(trial),
  ]);
  return { header, rows, numeric: ['rank', ...metrics, ...objective] };
}

export function summaryCsv(manifest: SweepManifest, key?: SortKey): string {
  const { header, rows } = table(manifest, key);
  // Swept values and errors can quote a URI with its password; the tables are written, shown and uploaded.
  return redactCredentials([header, ...rows].map((row) => row.map(csvField).join(',')).join('\n') + '\n');
}

/** What the table is sorted by, for the tables' header and the MLflow parent run. */
export function sortDescription(manifest: SweepManifest, key?: SortKey): string {
  if (!key && manifest.objective) {
    const { metric, mode } = manifest.objective;
    return `${metric} (sweep.objective) at the last evaluation, ${mode === 'min' ? 'lowest' : 'highest'} first`;
  }
  const { column, formula } = key ?? SORT_KEYS[DEFAULT_SORT_KEY];
  return `${column} = ${formula} at the last epoch, lowest first`;
}

function sortNote(manifest: SweepManifest, key?: SortKey): string {
  if (!key && manifest.objective)
    return `Sorted by ${sortDescription(manifest)}. Only finished trials are ranked; pruned trials follow (the furthest first), failed ones come last.`;
  return `Sorted by ${sortDescription(manifest, key)}: ${(key ?? SORT_KEYS[DEFAULT_SORT_KEY]).meaning}. Only finished trials are ranked.`;
}

const mdCell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function summaryMarkdown(manifest: SweepManifest, key?: SortKey): string {
  const { header, rows, numeric } = table(manifest, key);
  const counts = statusCounts(manifest);
  const shownHeader = header.filter((h) => h !== 'error');
  const lines = [
    `# Sweep ${manifest.sweepId} of ${manifest.experiment}`,
    '',
    `${manifest.trials.length} trials (${manifest.strategy}): ${Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ')}. Definition hash ${manifest.definitionHash.slice(0, 12)}.`,
    '',
    sortNote(manifest, key),
    '',
    `| ${shownHeader.map(mdCell).join(' | ')} |`,
    `| ${shownHeader.map((h) => (numeric.includes(h) ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.slice(0, -1).map(mdCell).join(' | ')} |`),
  ];
  const failures = manifest.trials.filter((t) => t.error);
  if (failures.length > 0) {
    lines.push('', '## Errors', '');
    for (const t of failures) lines.push(`- **${mdCell(t.name)}** (${t.status}): ${mdCell(t.error!)}`);
  }
  return redactCredentials(`${lines.join('\n')}\n`);
}

/** A plain-text table for the terminal. */
export function summaryText(manifest: SweepManifest, key?: SortKey): string {
  const { header, rows } = table(manifest, key);
  const shown = [header.slice(0, -1), ...rows.map((row) => row.slice(0, -1))];
  const widths = shown[0].map((_, column) => Math.max(...shown.map((row) => row[column].length)));
  const format = (row: string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const lines = [sortNote(manifest, key), format(shown[0]), format(widths.map((w) => '-'.repeat(w))), ...shown.slice(1).map(format)];
  const failures = manifest.trials.filter((t) => t.error);
  if (failures.length > 0) lines.push('', `${failures.length === 1 ? 'Error' : 'Errors'}:`, ...failures.map((t) => `  ${t.name} (${t.status}): ${t.error}`));
  // sweep.earlyStop.promote: the trials that went on after being pruned (the tables' last column says it too).
  const promoted = manifest.trials.filter((t) => (t.promoted ?? []).length > 0);
  if (promoted.length > 0) lines.push('', 'Promoted:', ...promoted.map((t) => `  ${t.name} (${t.status}): ${prunedNote(t, manifest)}`));
  return redactCredentials(`${lines.join('\n')}\n`);
}

export function statusCounts(manifest: SweepManifest): Record<TrialRecord['status'], number> {
  const counts = { finished: 0, pruned: 0, failed: 0, stopped: 0, running: 0, pending: 0 };
  for (const t of manifest.trials) counts[t.status] += 1;
  return counts;
}

/** Every trial the sweep makes has ended as finished or pruned (tpe's not yet made count as not done). */
export function sweepComplete(manifest: SweepManifest): boolean {
  const counts = statusCounts(manifest);
  return counts.finished + counts.pruned === (manifest.plannedTrials ?? manifest.trials.length);
}

/** Why a pruned trial stopped, for the tables' last column. */
export function prunedNote(trial: TrialRecord, manifest: SweepManifest): string {
  const { pruned } = trial;
  // sweep.earlyStop.promote: where the trial was promoted (it had been pruned there) before it went on.
  const promoted = (trial.promoted ?? []).map((at) => `promoted at epoch ${at.epoch}`);
  if (!pruned) return promoted.join('; ');
  return [
    ...promoted,
    `pruned at epoch ${pruned.epoch} (rung ${pruned.rung}): ${manifest.objective?.metric ?? 'objective'} ${formatMetric(pruned.value, 4, 'NaN')} not in the rung's top share`,
  ].join('; ');
}
