import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.ts';
import { isMlflowError } from '../track/mlflow/index.ts';
import { connectMlflow, SYNC_RETRIES, mlflowTarget, type MlflowTarget } from '../track/mlflow-connect.ts';
import { readSyncState, syncRunDir, SYNC_STATE_FILE, type SyncReport } from '../track/mlflow-sync.ts';
import { readRunConfig } from '../track/run-dir.ts';

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
    report.created ? 'created the run' : report.adopted ? 'found the run by its tags' : '',
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
  return what.length === 0 ? `${runDir}: the server has everything: ${where}${still}` : `${runDir}: sent ${what.join(', ')}: ${where}${still}`;
}

/** Uploads whatever the server does not have yet; running it again sends nothing. */
export async function syncCommand(runDir: string, options: { uri?: string }): Promise<void> {
  const env = process.env;
  const dir = resolve(runDir);
  for (const file of ['summary.json', 'config.yaml']) {
    if (!existsSync(join(dir, file))) throw new UserError(`${runDir} is not a run directory: it has no ${file}`);
  }
  const client = await connectMlflow(syncTarget(dir, options.uri, env), { env, retries: SYNC_RETRIES });
  let report: SyncReport;
  try {
    report = await syncRunDir(dir, client);
  } catch (error) {
    if (!isMlflowError(error)) throw error;
    throw new UserError(`sync of ${runDir} stopped: ${error.message}\nWhat was sent is recorded in ${join(runDir, SYNC_STATE_FILE)}; run sync again to send the rest.`);
  }
  process.stdout.write(`${describeSync(runDir, report)}\n`);
}
