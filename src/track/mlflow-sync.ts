// `dcgan-run sync`: every catch-up pass once over a run directory (the command refuses a run that still trains).
import type { MlflowClient } from './mlflow/index.ts';
import { sendRunFiles, sendRunRecords, sendRunStatus } from './mlflow-catch-up.ts';
import { mlflowExperimentName } from './mlflow-connect.ts';
import { readSyncState, RunUploader, type UploadCounts } from './mlflow-uploader.ts';
import { readRunFacts } from './run-facts.ts';
import { readRunState, type ShownStatus } from './run-state.ts';

export interface SyncReport extends UploadCounts {
  trackingUri: string;
  experimentId: string;
  runId: string;
  localStatus: ShownStatus;
  /** Why a crashed run is taken for one (also sent as its dcgan.error tag). */
  crash?: string;
}

/**
 * Sends whatever the server does not have of a run directory: the run itself (created with its
 * params and tags when it was made with no server), metrics.jsonl, sample grids, artifacts and the
 * final status. Running it again sends nothing.
 */
export async function syncRunDir(runDir: string, client: MlflowClient): Promise<SyncReport> {
  const { summary } = readRunState(runDir);
  const facts = readRunFacts(runDir, summary);
  const state = readSyncState(runDir);
  const uploader = await RunUploader.begin(client, runDir, {
    facts,
    experimentName: state?.experimentName ?? mlflowExperimentName(facts.config),
    startTime: Date.parse(summary.startedAt),
    mode: 'sync',
  });
  await sendRunRecords(uploader, runDir);
  await sendRunFiles(uploader, runDir, { final: true });
  const { localStatus, crash } = await sendRunStatus(uploader, runDir);
  return { ...uploader.sent, trackingUri: client.trackingUri, experimentId: uploader.experimentId, runId: uploader.runId, localStatus, crash };
}
