// `dcgan-run runs [dir]`: every run directory under a folder, newest first, with its status as commands see
// it (crashed included), epochs, last losses or quality metric, and how long ago it was last heard of.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { UserError } from '../errors.ts';
import { formatMetric } from '../sweep/summary.ts';
import { readRunState, type RunState } from '../track/run-state.ts';

/** runs/<experiment>/<run-id> is two levels down; a third allows pointing at a folder above runs/. */
const MAX_DEPTH = 3;

function runDirsUnder(dir: string, depth = 0): string[] {
  if (existsSync(join(dir, 'summary.json'))) return [dir];
  if (depth >= MAX_DEPTH) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => runDirsUnder(join(dir, entry.name), depth + 1));
}

/** The last quality metric when the run evaluates (the first that is not a real-vs-real floor), else the last epoch's losses. */
function lastMetric({ summary }: RunState): string {
  // The headline metric: FD where the classifier ran, else the patch SWD averaged over pyramid levels.
  const metrics = Object.entries(summary.lastEval?.values ?? {}).filter(([key]) => !key.startsWith('real_vs_real/'));
  const evaluated = metrics.find(([key]) => key.startsWith('fd/')) ?? metrics.find(([key]) => key.startsWith('swd/') && key.endsWith('/avg')) ?? metrics[0];
  if (evaluated) return `${evaluated[0]} ${formatMetric(evaluated[1])}`;
  return summary.finalLosses ? `lossD ${formatMetric(summary.finalLosses.lossD)} lossG ${formatMetric(summary.finalLosses.lossG)}` : '';
}

export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 2 * 86_400) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

interface Listed {
  path: string;
  state?: RunState;
  /** Why its summary.json could not be read. */
  unreadable?: string;
}

export function runsTable(dir: string, now = Date.now()): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${dir}: no such folder`);
  const runs = runDirsUnder(dir).map((path): Listed => {
    try {
      return { path, state: readRunState(path, now) };
    } catch (error) {
      return { path, unreadable: (error as Error).message };
    }
  });
  if (runs.length === 0) return `no runs under ${dir}\n`;
  const started = (run: Listed) => Date.parse(run.state?.summary.startedAt ?? '') || 0;
  runs.sort((a, b) => started(b) - started(a) || basename(b.path).localeCompare(basename(a.path)));

  const header = ['EXPERIMENT', 'RUN', 'STATUS', 'EPOCHS', 'LAST', 'AGE'];
  const rows = runs.map((run) => {
    if (!run.state) return [basename(dirname(run.path)), basename(run.path), 'unreadable', '', '', ''];
    const { summary, status, lastSeen } = run.state;
    return [summary.experiment, summary.runId, status, `${summary.epochsDone}/${summary.epochs}`, lastMetric(run.state), formatAge(now - lastSeen)];
  });
  const widths = header.map((_, i) => Math.max(header[i].length, ...rows.map((row) => row[i].length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const notes = runs.flatMap((run) => {
    const near = relative(process.cwd(), run.path);
    const where = near && !near.startsWith('..') ? near : run.path;
    if (run.unreadable) return [`${where}: unreadable summary.json (${run.unreadable})`];
    return run.state?.crash ? [`${where}: ${run.state.crash}`] : [];
  });
  return `${[line(header), ...rows.map(line), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n')}\n`;
}

/** Lists the runs under `dir` (default runs/). */
export async function runsCommand(dir = 'runs'): Promise<void> {
  process.stdout.write(runsTable(dir));
}
