// `dcgan-run sweep status <sweep-id> --queue ...`: a sweep's trials from the queue, from any machine: each one's
// state (queued, running where, finished, failed, pruned, cancelled), then the summary table.
import { prunedNote, summaryText } from '../summary.ts';
import { connect, openQueue } from './connection.ts';
import { readSweepState, storedManifest } from './state.ts';

export async function sweepStatus(sweepId: string, url: string): Promise<string> {
  const redis = connect(url);
  const queue = openQueue(redis);
  try {
    const manifest = await storedManifest(redis, sweepId);
    const { trials, cancelled } = await readSweepState(queue, redis, manifest);
    const rows = [
      ['trial', 'state', 'where', 'attempts', 'error'],
      ...trials.map(({ record, state, where }) => [
        record.name,
        state,
        where ?? '',
        String(record.attempts),
        (record.error ?? prunedNote(record, manifest)).split('\n')[0],
      ]),
    ];
    const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
    const lines = rows.map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join('  ')
        .trimEnd(),
    );
    manifest.trials = trials.map((t) => t.record);
    return `sweep ${sweepId} (${manifest.experiment})${cancelled ? `, ${cancelled}` : ''}\n${lines.join('\n')}\n\n${summaryText(manifest)}`;
  } finally {
    await queue.close().catch(() => {});
    await redis.quit().catch(() => {});
  }
}
