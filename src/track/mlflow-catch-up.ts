// The passes that bring an MLflow run up to its run directory: records (params, tags, metrics, grids, warnings),
// files (checkpoints and the files a run writes last) and the final status. The live tracker runs them after an
// outage and at the end of a run; `dcgan-run sync` runs them all once.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunUploader, TerminalStatus } from './mlflow-uploader.ts';
import { readMetricLines, UNTRAINED_SAMPLE_FILE } from './run-dir.ts';
import { RUN_INFO_FILE } from './run-facts.ts';
import { readRunState, type ShownStatus } from './run-state.ts';
import type { RunStatus, RunSummary, RunWarning } from './run-types.ts';

/** A crashed run is FAILED (its note says why), a stopped one KILLED; a running one has no final status yet. */
export function mlflowStatus(status: ShownStatus): TerminalStatus | undefined {
  return ({ finished: 'FINISHED', failed: 'FAILED', crashed: 'FAILED', stopped: 'KILLED', running: undefined } as const)[status];
}

/**
 * What a live run sends as it goes, from its directory: params and tags, metrics.jsonl, sample grids, warnings and
 * the class table. Anything the uploader's state lists is skipped (and, after a failure, checked on the server).
 */
export async function sendRunRecords(uploader: RunUploader, runDir: string): Promise<void> {
  await uploader.describe();
  const records = readMetricLines(runDir);
  await uploader.sendMetrics(records, 0);

  const epochTimes = new Map(records.filter((r) => r.type === 'epoch').map((r) => [r.epoch, Math.round(r.time)]));
  for (const { step, path } of sampleGrids(runDir)) {
    if (uploader.hasImage('samples', step)) continue;
    await uploader.sendImage('samples', step, () => readFileSync(path), epochTimes.get(step) ?? Math.round(statSync(path).mtimeMs));
  }
  const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
  if (summary.warnings?.length) await uploader.setTags(warningTags(summary.warnings));
  await uploader.sendClassTable(records);
}

/** The run's sample grids as MLflow image steps: the untrained one at 0, then samples/epoch-NNNN.png at their epoch. */
export function sampleGrids(runDir: string): { step: number; path: string }[] {
  const grids: { step: number; path: string }[] = [];
  if (existsSync(join(runDir, UNTRAINED_SAMPLE_FILE))) grids.push({ step: 0, path: join(runDir, UNTRAINED_SAMPLE_FILE) });
  const samples = join(runDir, 'samples');
  for (const name of existsSync(samples) ? readdirSync(samples).sort() : []) {
    const match = /^epoch-(\d+)\.png$/.exec(name);
    if (match) grids.push({ step: Number(match[1]), path: join(samples, name) });
  }
  return grids;
}

/** The pointers `sample`, `eval` and `resume` read, sent after the checkpoints they point at. */
export const CHECKPOINT_POINTERS = ['checkpoints/latest.json', 'checkpoints/best.json'];

/**
 * What resuming a run needs beside its checkpoint, sent with each checkpoint before the pointer: a run whose
 * directory is lost (a queued sweep's worker machine) can be resumed from MLflow. Read after the checkpoint was
 * written, they are never older than it (resuming cuts metrics.jsonl back to the checkpoint).
 */
export const RESUME_FILES = ['config.yaml', RUN_INFO_FILE, 'metrics.jsonl', 'summary.json'];

/**
 * checkpoints/latest.json naming checkpoint `folder`, as the trainer writes it (src/train/checkpoint.ts). While
 * training, the local pointer may already name a newer checkpoint than the one just uploaded: the server gets
 * the one naming what it has, so that a reader of the server's pointer always finds its checkpoint whole.
 */
export function latestPointer(runDir: string, folder: string): Buffer {
  const { epoch, step } = JSON.parse(readFileSync(join(runDir, 'checkpoints', folder, 'state.json'), 'utf8')) as { epoch: number; step: number };
  return Buffer.from(JSON.stringify({ checkpoint: folder, epoch, step }));
}

/**
 * While the run trains: checkpoint `folder` is on the server; then the files resuming needs, then the pointers
 * (latest.json naming `folder`, best.json as it is). Without `folder` (checkpoints/best), no latest.json.
 */
export async function sendCheckpointPointers(uploader: RunUploader, runDir: string, folder?: string): Promise<void> {
  for (const file of RESUME_FILES) {
    if (existsSync(join(runDir, file))) await uploader.sendArtifact(join(runDir, file), file);
  }
  if (folder) await uploader.sendMade('checkpoints/latest.json', latestPointer(runDir, folder));
  if (existsSync(join(runDir, 'checkpoints', 'best.json'))) await uploader.sendArtifact(join(runDir, 'checkpoints', 'best.json'), 'checkpoints/best.json');
}

/**
 * The run's files: every checkpoint with its pointers, in the order the trainer writes them; with `final`, also the
 * files a run writes last and its report folder. A run directory downloaded from MLflow then works with sample, eval and resume.
 */
export async function sendRunFiles(uploader: RunUploader, runDir: string, { final }: { final: boolean }): Promise<void> {
  const checkpoints = join(runDir, 'checkpoints');
  // While training, the checkpoint latest.json names before this pass: it goes up in the pass (newer ones may appear meanwhile).
  const pointer = existsSync(join(checkpoints, 'latest.json'))
    ? (JSON.parse(readFileSync(join(checkpoints, 'latest.json'), 'utf8')) as { checkpoint: string })
    : undefined;
  for (const name of existsSync(checkpoints) ? readdirSync(checkpoints).sort() : []) {
    if (/^(epoch-\d+(-step-\d+)?|best)$/.test(name) && statSync(join(checkpoints, name)).isDirectory()) {
      await uploader.sendArtifact(join(checkpoints, name), `checkpoints/${name}`);
    }
  }
  if (!final) return sendCheckpointPointers(uploader, runDir, pointer?.checkpoint);
  // The HTML report (train.report, or `dcgan-run report` before a sync) comes last: it is written after the run ends.
  for (const path of [...CHECKPOINT_POINTERS, 'config.yaml', 'losses.png', 'metrics.jsonl', RUN_INFO_FILE, 'summary.json', 'report']) {
    if (existsSync(join(runDir, path))) await uploader.sendArtifact(join(runDir, path), path);
  }
}

/**
 * The final status the run directory shows, unless it still runs: a crashed run is FAILED and a stopped one KILLED,
 * each with a note on its page saying why and what to do. `ended`: the live run's own word, which wins over a
 * summary that could not be written. Returns the local status and why it counts as crashed.
 */
export async function sendRunStatus(
  uploader: RunUploader,
  runDir: string,
  ended?: { status: RunStatus; error?: string },
): Promise<{ localStatus: ShownStatus; crash?: string }> {
  const shown = readRunState(runDir);
  const { summary, crash } = shown;
  const localStatus = ended?.status ?? shown.status;
  const status = mlflowStatus(localStatus);
  // A crashed run ended when it was last heard of: its summary's wall time stopped earlier.
  const endTime = ended ? Date.now() : crash ? shown.lastSeen : Date.parse(summary.startedAt) + summary.wallSeconds * 1000;
  const error = ended ? ended.error : (crash ?? summary.error);
  if (status) await uploader.setStatus(status, error, endTime, endNote(localStatus, summary, runDir, crash));
  return { localStatus, crash };
}

function endNote(status: ShownStatus, summary: RunSummary, runDir: string, crash: string | undefined): string | undefined {
  const where = summary.position
    ? `epoch ${summary.position.epoch}, step ${summary.position.stepInEpoch}/${summary.position.stepsPerEpoch}`
    : `epoch ${summary.epochsDone}`;
  if (status === 'crashed')
    return `Crashed at ${where}: ${crash?.replace(/^crashed: /, '')}; marked FAILED by dcgan-run sync. Continue it with: dcgan-run resume ${runDir}`;
  if (status === 'stopped') return `Stopped at ${where}. Continue it with: dcgan-run resume ${runDir}`;
  return undefined;
}

/** MLflow tags for a run's training warnings: dcgan.warning.<kind> = "epoch N: message". */
export function warningTags(warnings: readonly RunWarning[]): Record<string, string> {
  return Object.fromEntries(warnings.map((w) => [`dcgan.warning.${w.kind}`, `epoch ${w.epoch}: ${w.message}`]));
}
