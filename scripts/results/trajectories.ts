// Trajectories over training (--trajectory): a loss or metric per arm at every epoch, mean ± sd over the seeds,
// and with --plots a line chart of the means.
import { UserError } from '../../src/errors.ts';
import type { Arms } from './arms.ts';
import { meanSd, table } from './markdown.ts';
import { isSummaryName } from './metric-kinds.ts';
import { writeTrajectoryPlot } from './trajectory-plot.ts';
import { isLoss, LOSSES, metricNames, valueIn, type Trial } from './trials.ts';

const rowAt = (t: Trial, epoch: number) => t.rows.find((r) => r.epoch === epoch);

/** The tables (and links to the plots written into `plotsDir`) for each --trajectory argument, in order. */
export async function trajectories(trials: Trial[], arms: Arms, metrics: string[], plotsDir: string | undefined): Promise<string[]> {
  const out: string[] = [];
  for (const metric of metrics) {
    for (const name of trajectoryNames(trials, metric)) {
      const at = (t: Trial, epoch: number) => valueIn(rowAt(t, epoch), name);
      const epochsWith = [...new Set(trials.flatMap((t) => t.rows.filter((r) => Number.isFinite(at(t, r.epoch))).map((r) => r.epoch)))].sort((a, b) => a - b);
      out.push(`### Trajectory: ${name}`, '');
      out.push(`Mean ± sd over each arm's seeds at every epoch with a value${isLoss(name) ? ' (epoch means)' : ''}; (k) where only k seeds have one.`, '');
      const rows = epochsWith.map((epoch) => [
        String(epoch),
        ...arms.names.map((arm) => {
          const values = arms.values(arm, (t) => at(t, epoch));
          return values.length === 0 ? '' : `${meanSd(values)}${values.length < arms.members(arm).length ? ` (${values.length})` : ''}`;
        }),
      ]);
      out.push(...table(['epoch', ...arms.names], rows), '');
      if (plotsDir) {
        const file = await writeTrajectoryPlot(plotsDir, name, arms, Math.max(...epochsWith), at);
        out.push(`![${name}](${file})`, '');
      }
    }
  }
  return out;
}

/** The names a --trajectory argument means: a loss, a full metric name, or the summary names under a prefix. */
function trajectoryNames(trials: Trial[], metric: string): string[] {
  if (isLoss(metric)) return [metric];
  const all = new Set(metricNames(trials));
  if (all.has(metric)) return [metric];
  const under = [...all].filter((n) => n.startsWith(`${metric}/`) && isSummaryName(n));
  if (under.length === 0) throw new UserError(`--trajectory ${metric}: no such loss (${LOSSES.join(', ')}) or metric`);
  return under;
}
