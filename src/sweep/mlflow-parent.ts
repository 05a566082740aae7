// The sweep's MLflow parent run: one per sweep directory (kept across resumes), tagged dcgan.sweep=true and
// named after the sweep id; every trial's run is its child (the trial's tracker tags it mlflow.parentRunId).
// A server that does not answer at start does not stop the sweep (unless tracking.mlflow.required): it runs
// without a parent run, and each trial logs locally and keeps trying the server, as a single run does.
import { readFileSync } from 'node:fs';
import type { Experiment } from '../config/experiment.generated.ts';
import { connectAtStart, mlflowExperimentName, type MlflowTarget } from '../track/mlflow-connect.ts';
import type { MlflowClient, MlflowRunStatus } from '../track/mlflow/index.ts';
import { SWEPT_KEYS_TAG } from '../track/mlflow-params.ts';
import type { SweepDirectory } from '../track/sweep-manifest.ts';
import { sortDescription, statusCounts, summaryRows, SORT_KEYS, DEFAULT_SORT_KEY } from './summary.ts';

export class ParentRun {
  private constructor(
    readonly client: MlflowClient,
    readonly runId: string,
  ) {}

  /**
   * The sweep directory's parent run, or a new one when it has none on this server (then recorded in the
   * manifest); undefined, with a warning, when the server does not answer. A UserError when it does not answer and
   * tracking.mlflow.required is set, or when it cannot be used (not a URI, refused credentials, not MLflow).
   */
  static async open(
    config: Experiment,
    directory: SweepDirectory,
    target: MlflowTarget,
    output: { log: (line: string) => void; warn: (line: string) => void },
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<ParentRun | undefined> {
    const { log, warn } = output;
    // The same connection rules as a single run: credentials from the environment, one check at start.
    const { client, unreachable } = await connectAtStart(config, target, env);
    if (unreachable) {
      warn(
        `MLflow at ${client.trackingUri} unreachable (${unreachable}): the sweep runs without its MLflow parent run; ` +
          `each trial logs locally and keeps trying the server, and \`dcgan-run sync <run-dir>\` uploads a trial later`,
      );
      return undefined;
    }
    const uri = client.trackingUri;
    const known = directory.manifest.mlflow;
    if (known && known.uri === uri) {
      try {
        await client.getRun(known.parentRunId);
        await client.updateRun(known.parentRunId, { status: 'RUNNING' });
        log(`MLflow: continuing parent run ${known.parentRunId}`);
        return new ParentRun(client, known.parentRunId);
      } catch {
        log(`MLflow: the sweep's parent run ${known.parentRunId} is gone; starting a new one`);
      }
    }
    const experimentName = mlflowExperimentName(config);
    const experimentId = await client.getOrCreateExperiment(experimentName);
    const { manifest } = directory;
    const run = await client.createRun({
      experimentId,
      runName: manifest.sweepId,
      tags: {
        'dcgan.sweep': 'true',
        'dcgan.sweep.id': manifest.sweepId,
        'dcgan.sweep.definitionHash': manifest.definitionHash,
        'dcgan.sweep.strategy': manifest.strategy,
        'dcgan.sweep.trials': String(manifest.trials.length),
        // Each trial logs these keys as params (src/track/mlflow-params.ts).
        [SWEPT_KEYS_TAG]: JSON.stringify(Object.keys(config.sweep?.parameters ?? {})),
        'dcgan.sweep.dir': directory.path,
        'dcgan.experiment': config.name,
        'mlflow.source.name': manifest.configFile,
        'mlflow.source.type': 'LOCAL',
      },
    });
    const parent = new ParentRun(client, run.info.run_id);
    directory.manifest.mlflow = { uri, experimentId, parentRunId: parent.runId };
    directory.save();
    // The definition: the sweep section as written and the expanded trials with their full configs.
    await parent.upload(directory, 'sweep.yaml', 'sweep/sweep.yaml');
    await parent.upload(directory, 'trials.json', 'sweep/trials.json');
    log(`mlflow: sweep parent run ${uri}#/experiments/${experimentId}/runs/${parent.runId}`);
    return parent;
  }

  async upload(directory: SweepDirectory, file: string, artifactPath: string): Promise<void> {
    await this.client.uploadArtifact(this.runId, artifactPath, readFileSync(directory.file(file)));
  }

  /** The summary as artifacts, counts and the best trial as metrics and tags, then the final status. */
  async finish(directory: SweepDirectory, status: MlflowRunStatus): Promise<void> {
    const { manifest } = directory;
    for (const file of ['summary.csv', 'summary.md', 'manifest.json']) await this.upload(directory, file, file);
    const counts = statusCounts(manifest);
    const now = Date.now();
    // The table's best: by sweep.objective where the sweep has one, else by balance.
    const best = summaryRows(manifest).find((row) => row.rank === 1);
    const column = manifest.objective?.metric ?? SORT_KEYS[DEFAULT_SORT_KEY].column;
    await this.client.logBatch(this.runId, {
      metrics: [
        ...Object.entries(counts).map(([name, value]) => ({ key: `trials_${name}`, value, timestamp: now })),
        ...(best && best.score !== null ? [{ key: `best_${column}`, value: best.score, timestamp: now }] : []),
      ],
      tags: {
        'dcgan.sweep.status': manifest.status,
        'dcgan.sweep.sortKey': sortDescription(manifest),
        ...(best ? { 'dcgan.sweep.best': best.trial.name, ...(best.trial.runId ? { 'dcgan.sweep.bestRunId': best.trial.runId } : {}) } : {}),
      },
    });
    await this.client.updateRun(this.runId, { status });
  }
}
