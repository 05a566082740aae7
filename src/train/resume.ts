// Resuming a run from its latest checkpoint: what is checked before training goes on (its status, its config)
// and the point it goes on from. metrics.jsonl is cut back to that checkpoint, so that the steps trained again
// after a crash are not recorded twice.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Experiment } from '../config/experiment.generated.ts';
import { configDifferences } from '../config/diff.ts';
import { UserError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { readMetricLines, readRunConfig } from '../track/run-dir.ts';
import { readRunFacts } from '../track/run-facts.ts';
import { redactCredentials } from '../track/redact.ts';
import type { MetricRecord, RunSummary } from '../track/run-types.ts';
import { readRunState } from '../track/run-state.ts';
import { type CheckpointPosition } from './checkpoint.ts';
import { latestCheckpoint } from '../track/run-checkpoints.ts';

export interface ResumePoint {
  runDir: string;
  /** The checkpoint folder training goes on from. */
  checkpoint: string;
  position: CheckpointPosition;
  /** Epochs complete at the checkpoint. */
  epochsDone: number;
  /** The summary the run left: its start, wall time, warnings, evaluations and best checkpoint carry on. */
  summary: RunSummary;
  /** metrics.jsonl up to the checkpoint. */
  records: MetricRecord[];
  /** The config file the run was started from (run-info.json). */
  configFile: string;
}

/** Whether a checkpoint ends its epoch (checkpoints from before step positions were all taken at an epoch's end). */
export const epochComplete = (position: CheckpointPosition): boolean =>
  position.stepInEpoch === undefined || position.stepsPerEpoch === undefined || position.stepInEpoch >= position.stepsPerEpoch;

/**
 * Checks that `config` may resume the run in `runDir` (the run is not running; nothing but train.epochs
 * changed; epochs are left to train) and trims metrics.jsonl to its latest checkpoint. Throws a UserError otherwise.
 */
export function prepareResume(runDir: string, config: Experiment): ResumePoint {
  const previous = readRunConfig(runDir);
  // A run whose summary says running but whose process is gone (kill -9, power loss) shows as crashed: resumable.
  const { status, summary } = readRunState(runDir);
  if (status === 'running') {
    throw new UserError(
      `${runDir}: cannot resume, the run is still running (its process ${summary.owner?.pid ?? '?'} on ${summary.owner?.host ?? '?'} is alive); stop it first (Ctrl-C)`,
    );
  }
  // config.yaml keeps the config as writeConfig wrote it: compared the same way, extended epochs aside.
  const written = parse(redactCredentials(stringify(config))) as Experiment;
  const changes = configDifferences({ ...previous, train: { ...previous.train, epochs: 0 } }, { ...written, train: { ...written.train, epochs: 0 } });
  if (changes.length > 0) {
    throw new UserError(
      [
        `${runDir}: cannot resume with a changed config; only train.epochs may change (to extend the run). Changed:`,
        ...changes.map((line) => `  ${line}`),
      ].join('\n'),
    );
  }
  const checkpoint = latestCheckpoint(runDir);
  const position = JSON.parse(readFileSync(join(checkpoint, 'state.json'), 'utf8')) as CheckpointPosition;
  const epochsDone = epochComplete(position) ? position.epoch : position.epoch - 1;
  const { epochs } = config.train;
  if (epochs < epochsDone || (epochs === epochsDone && epochComplete(position))) {
    throw new UserError(
      epochs === epochsDone
        ? `${runDir}: nothing to resume, the run has trained all ${epochs} epochs; extend it with --set train.epochs=${epochs + 1} (or more)`
        : `${runDir}: train.epochs ${epochs} is below the ${epochsDone} epochs the run has trained`,
    );
  }
  // Rewritten whole: a crash can also leave a last line cut short.
  const records = readMetricLines(runDir).filter((r) => (r.type === 'step' ? r.step <= position.step : r.epoch <= epochsDone));
  writeFileAtomic(join(runDir, 'metrics.jsonl'), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return { runDir, checkpoint, position, epochsDone, summary, records, configFile: readRunFacts(runDir, summary).configFile };
}
