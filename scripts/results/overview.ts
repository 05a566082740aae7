// The top of the markdown: the command line that made it, what was compared, and the overview tables per arm and
// per trial (losses, metrics and their floors at the compared epoch).
import type { Arms } from './arms.ts';
import type { ComparedEpoch } from './compared-epoch.ts';
import { meanSd, num, table } from './markdown.ts';
import { LOSSES, type Trial } from './trials.ts';

/** The command line as a comment, shell-quoted where needed, so the tables can be made again. */
export function commandLine(args: string[]): string[] {
  const quoted = args.map((a) => (/^[\w./=,:@+-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`));
  return [`<!-- node --import tsx scripts/results.ts ${quoted.join(' ')} -->`, ''];
}

export function overview(trials: Trial[], excluded: string[], arms: Arms, at: ComparedEpoch, metricColumns: string[]): string[] {
  const epochs = [...new Set(at.epochOf.values())];
  const compared = epochs.length === 1 ? `epoch ${epochs[0]}` : `each trial's last ${at.anyEval ? 'evaluation' : 'epoch'} (epochs ${epochs.join(', ')})`;
  const columns = [
    ...LOSSES.filter((l) => trials.some((t) => Number.isFinite(at.value(t, l)))),
    ...metricColumns,
    ...metricColumns.filter((name) => trials.some((t) => Number.isFinite(at.floor(t, name)))).map((name) => `floor ${name}`),
  ];
  const valueOf = (t: Trial, column: string) => (column.startsWith('floor ') ? at.floor(t, column.slice(6)) : at.value(t, column));
  return [
    `${trials.length} trials in ${arms.names.length} arms of ${arms.title}; compared at ${compared}` +
      `${at.anyEval ? '' : ' (no evaluations)'}. Losses and D outputs are epoch means. ± is the sample standard deviation over a group's trials (seeds).` +
      (excluded.length ? ` Left out (not finished): ${excluded.join(', ')}.` : ''),
    '',
    ...table(
      [arms.title, 'trials', ...columns],
      arms.names.map((arm) => [arm, String(arms.members(arm).length), ...columns.map((c) => meanSd(arms.values(arm, (t) => valueOf(t, c))))]),
    ),
    '',
    ...table(
      ['trial', 'seed', 'epoch', ...columns],
      trials.map((t) => [t.trial, String(t.seed), String(at.epochOf.get(t)), ...columns.map((c) => num(valueOf(t, c)))]),
    ),
    '',
  ];
}
