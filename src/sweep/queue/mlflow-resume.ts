// A lost worker's trial whose run directory is not reachable here (it was on the other machine): its latest
// checkpoint comes from the trial's MLflow run instead. The live tracker sends, with each checkpoint and before
// the checkpoints/latest.json pointer, the files resuming needs (src/track/mlflow-catch-up.ts, RESUME_FILES); so
// the pointer read first names a checkpoint whose files are all on the server. They are downloaded into a fresh
// run directory (made whole under a temporary name, then renamed), which the trial resumes as `dcgan-run resume`
// would, logging on to the same MLflow run.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Experiment } from '../../config/experiment.generated.ts';
import { LIVE_RETRIES, connectMlflow, mlflowExperimentName, mlflowTarget } from '../../track/mlflow-connect.ts';
import { RESUME_FILES } from '../../track/mlflow-catch-up.ts';
import type { MlflowClient } from '../../track/mlflow/index.ts';
import { SYNC_STATE_FILE, type SyncState } from '../../track/mlflow-uploader.ts';
import { readRunSummary } from '../../track/run-dir.ts';
import type { RunSummary } from '../../track/run-types.ts';
import type { CheckpointPosition } from '../../train/checkpoint.ts';
import { epochComplete } from '../../train/resume.ts';

export interface DownloadedRun {
  runDir: string;
  /** The checkpoint folder it resumes from (epoch-NNNN[-step-NNNNNNNN]). */
  checkpoint: string;
  mlflowRunId: string;
}

/** Every file under an artifact folder, recursively. */
async function filesUnder(client: MlflowClient, runId: string, path: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await client.listArtifacts(runId, path)) {
    if (entry.is_dir) files.push(...(await filesUnder(client, runId, entry.path)));
    else files.push(entry.path);
  }
  return files;
}

/**
 * Downloads the latest checkpoint of the MLflow run of local run `runId` (tag dcgan.runId) into `runDir`, with
 * the files resuming needs, ready for the trial to resume; or says why it cannot (no MLflow for this config, the
 * server does not answer, no such run, no checkpoint or resume files uploaded).
 */
export async function downloadCheckpoint(
  config: Experiment,
  runId: string,
  runDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DownloadedRun | { reason: string }> {
  const target = mlflowTarget(config, env);
  if (!target) return { reason: 'the trial does not log to MLflow' };
  if (existsSync(runDir)) return { reason: `${runDir} exists already` };
  let client: MlflowClient;
  try {
    client = await connectMlflow(target, { env, retries: LIVE_RETRIES });
  } catch (error) {
    return { reason: (error as Error).message };
  }
  const experimentName = mlflowExperimentName(config);
  const experiment = await client.getExperimentByName(experimentName);
  if (!experiment) return { reason: `no MLflow experiment ${experimentName}` };
  const { runs } = await client.searchRuns({ experimentIds: [experiment.experiment_id], filter: `tags.\`dcgan.runId\` = '${runId}'`, maxResults: 1 });
  const mlflowRunId = runs[0]?.info.run_id;
  if (!mlflowRunId) return { reason: `no MLflow run of run ${runId} in experiment ${experimentName}` };
  const root = (await client.listArtifacts(mlflowRunId)).map((entry) => entry.path);
  const checkpoints = (await client.listArtifacts(mlflowRunId, 'checkpoints')).map((entry) => entry.path);
  if (!checkpoints.includes('checkpoints/latest.json')) return { reason: `MLflow run ${mlflowRunId} has no checkpoint` };
  const missing = RESUME_FILES.filter((file) => !root.includes(file));
  if (missing.length > 0) return { reason: `MLflow run ${mlflowRunId} lacks ${missing.join(', ')} (uploaded with each checkpoint since this version)` };

  // The pointer first: the checkpoint it names, and the files sent before it, are complete on the server.
  const pointer = await client.downloadArtifact(mlflowRunId, 'checkpoints/latest.json');
  const checkpoint = (JSON.parse(pointer.toString('utf8')) as { checkpoint: string }).checkpoint;
  if (!/^epoch-\d+(-step-\d+)?$/.test(checkpoint)) return { reason: `MLflow run ${mlflowRunId}: checkpoints/latest.json names ${checkpoint}` };
  const temporary = `${runDir}.download-${process.pid}`;
  rmSync(temporary, { recursive: true, force: true });
  try {
    const write = (path: string, bytes: Uint8Array) => {
      mkdirSync(dirname(join(temporary, path)), { recursive: true });
      writeFileSync(join(temporary, path), bytes);
    };
    for (const path of await filesUnder(client, mlflowRunId, `checkpoints/${checkpoint}`)) write(path, await client.downloadArtifact(mlflowRunId, path));
    for (const path of RESUME_FILES) write(path, await client.downloadArtifact(mlflowRunId, path));
    write('checkpoints/latest.json', pointer);
    const position = JSON.parse(readFileSync(join(temporary, 'checkpoints', checkpoint, 'state.json'), 'utf8')) as CheckpointPosition;
    // Lost after its last checkpoint but before the job ended: nothing is left to resume.
    if (epochComplete(position) && position.epoch >= config.train.epochs) {
      rmSync(temporary, { recursive: true, force: true });
      return { reason: `its checkpoint in MLflow run ${mlflowRunId} is of its last epoch` };
    }
    // Its summary says running, by a process on the lost machine: stopped at the checkpoint, as far as this copy goes.
    const { owner: _lost, ...summary } = readRunSummary(temporary);
    writeFileSync(join(temporary, 'summary.json'), `${JSON.stringify({ ...summary, status: 'stopped' } satisfies RunSummary, null, 2)}\n`);
    // The MLflow run it goes on in, with nothing known to be sent: the resumed run sends the lines of metrics.jsonl
    // whose steps the server lacks (those logged after the file was uploaded are skipped; see RunUploader.reopen).
    const state: SyncState = {
      version: 1,
      trackingUri: client.trackingUri,
      experimentName,
      experimentId: experiment.experiment_id,
      runId: mlflowRunId,
      localRunId: runId,
      described: true,
      metricLines: 0,
      images: {},
      artifacts: {},
      status: null,
      updatedAt: new Date().toISOString(),
    };
    writeFileSync(join(temporary, SYNC_STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
    mkdirSync(dirname(runDir), { recursive: true });
    renameSync(temporary, runDir);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
  return { runDir, checkpoint, mlflowRunId };
}
