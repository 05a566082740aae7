import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.ts';
import { isMlflowError } from '../track/mlflow/index.ts';
import { connectMlflow, SYNC_RETRIES, mlflowTarget, type MlflowTarget } from '../track/mlflow-connect.ts';
import { readSyncState, SYNC_STATE_FILE } from '../track/mlflow-uploader.ts';
import { syncRunDir, type SyncReport } from '../track/mlflow-sync.ts';
import { readRunConfig } from '../track/run-dir.ts';
import { readRunState } from '../track/run-state.ts';

/** The server to sync to: --uri, else the one the run was sent to, else the run's config, else MLFLOW_TRACKING_URI. */
function syncTarget(runDir: string, uri: string | undefined, env: NodeJS.ProcessEnv): MlflowTarget {
  if (uri) return { uri, source: '--uri' };
  const state = readSyncState(runDir);
  if (state) return { uri: state.trackingUri, source: SYNC_STATE_FILE };
  const target = mlflowTarget(readRunConfig(runDir), env);
  if (!target) throw new UserError(`no MLflow server to sync to: pass --uri, or set tracking.mlflow.uri or MLFLOW_TRACKING_URI`);
  return target;
}

export function describeSync(runDir: string, report: SyncReport): string {
  const what = [
    report.described ? 'params and tags' : '',
    report.points ? `${report.points} metric points (${report.metricLines} metrics.jsonl lines)` : '',
    report.images ? `${report.images} sample grid${report.images === 1 ? '' : 's'}` : '',
    report.files ? `${report.files} artifact file${report.files === 1 ? '' : 's'}` : '',
    report.status ? `status ${report.status}` : '',
  ].filter(Boolean);
  const where = `${report.trackingUri}#/experiments/${report.experimentId}/runs/${report.runId}`;
  const still =
    report.localStatus === 'running'
      ? ' (the run directory says it is still running: its status was left as is)'
      : report.crash
        ? ` (${report.crash}; its MLflow run is FAILED)`
        : '';
  const run = report.created ? 'created the MLflow run' : report.adopted ? 'found the MLflow run by its tags' : '';
  if (what.length === 0) return `${runDir}: ${run ? `${run}; ` : ''}the server has everything: ${where}${still}`;
  return `${runDir}: ${run ? `${run} and sent` : 'sent'} ${what.join(', ')}: ${where}${still}`;
}

/** Uploads whatever the server does not have yet; running it again sends nothing. */
export async function syncCommand(runDir: string, options: { uri?: string }): Promise<void> {
  const env = process.env;
  const dir = resolve(runDir);
  for (const file of ['summary.json', 'config.yaml']) {
    if (!existsSync(join(dir, file))) throw new UserError(`${runDir} is not a run directory: it has no ${file}`);
  }
  // A live run sends everything itself; a second sender could log a grid the live queue has not sent yet twice.
  const { status, summary } = readRunState(dir);
  if (status === 'running' && summary.owner) {
    throw new UserError(
      `${runDir} is still training (process ${summary.owner.pid} on ${summary.owner.host}): its own tracker sends it to MLflow as it goes ` +
        `and catches up when it ends. Run sync once it has ended (or crashed: \`dcgan-run runs\` shows it)`,
    );
  }
  const client = await connectMlflow(syncTarget(dir, options.uri, env), { env, retries: SYNC_RETRIES, retryCheck: true });
  let report: SyncReport;
  try {
    report = await syncRunDir(dir, client);
  } catch (error) {
    if (!isMlflowError(error)) throw error;
    throw new UserError(
      `sync of ${runDir} stopped: ${error.message}\nWhat was sent is recorded in ${join(runDir, SYNC_STATE_FILE)}; run sync again to send the rest.`,
    );
  }
  process.stdout.write(`${describeSync(runDir, report)}\n`);
}
