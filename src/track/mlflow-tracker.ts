// Logs a run to MLflow while it trains, with the RunUploader and catch-up passes `dcgan-run sync` uses. Calls
// return at once; requests go out in the background on two lanes: records (metrics, grids, tags) and files (checkpoints), so a
// large upload never holds up the metrics. The run directory is the spool: when the server goes away the tracker
// drops what is queued, probes the server with growing pauses, and once it answers sends everything from where
// the server's own data says it stopped. At the end a final pass (what `sync` does) comes before the status.
import PQueue from 'p-queue';
import type { MlflowClient } from './mlflow/index.ts';
import { metricPoints } from './metric-names.ts';
import { sendCheckpointPointers, sendRunFiles, sendRunRecords, sendRunStatus, warningTags } from './mlflow-catch-up.ts';
import { mlflowExperimentName } from './mlflow-connect.ts';
import { RunUploader } from './mlflow-uploader.ts';
import { readMetricLines, readRunSummary } from './run-dir.ts';
import { readRunFacts } from './run-facts.ts';
import type { MetricRecord, RunInfo, RunStatus, RunWarning } from './run-types.ts';
import type { Tracker } from './tracker.ts';

export interface MlflowTrackerOptions {
  /** Best built with short retries (LIVE_RETRIES): a dead server should be noticed in seconds. */
  client: MlflowClient;
  /** Default: tracking.mlflow.experiment, else the config's name. */
  experimentName?: string;
  /** Problems that do not stop training: the server going away (once per outage), still away at the end. */
  warn: (message: string) => void;
  /** Informational lines (the run's address on the server, the server answering again). */
  log?: (line: string) => void;
  /** Set when the server did not answer at start: the run begins logging locally and probes it. */
  unreachable?: string;
  /** Metric points are sent when this many are waiting... */
  maxPendingPoints?: number;
  /** ...or this often, and at every epoch's end. */
  flushIntervalMs?: number;
  /** Requests waiting on a lane at most; a server this far behind is treated as away. */
  maxQueuedRequests?: number;
  /** The first pause before probing a server that went away; it doubles after each failed probe... */
  probeMinMs?: number;
  /** ...up to this. */
  probeMaxMs?: number;
  /** At the end of the run, how long to keep trying a server that is away before leaving the rest to `sync`. */
  finalWaitMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class MlflowTracker implements Tracker {
  private readonly options: Required<Omit<MlflowTrackerOptions, 'experimentName' | 'log' | 'unreachable'>> &
    Pick<MlflowTrackerOptions, 'experimentName' | 'log' | 'unreachable'>;
  private uploader: RunUploader | undefined;
  private info: RunInfo | undefined;
  private runDir = '';
  /** A resumed run's metrics.jsonl lines at start: what reopen() cuts the server's count back to. */
  private resumedLines: number | undefined;
  private pending: MetricRecord[] = [];
  private pendingPoints = 0;
  /** metrics.jsonl line of pending[0], and the line before it. */
  private nextLine = 0;
  private lineBefore: MetricRecord | undefined;
  private readonly records = new PQueue({ concurrency: 1 });
  private readonly files = new PQueue({ concurrency: 1 });
  /** Files to send by a pass over the run directory (an upload failed, or the server was away). */
  private filesBehind = false;
  private timer: NodeJS.Timeout | undefined;
  /** Why the server is taken as away; undefined while it answers. */
  private outage: string | undefined;
  /** Things handed over while the server was away (the catch-up pass reads them from the run directory). */
  private missed = 0;
  private probeDelay: number;
  private probeTimer: NodeJS.Timeout | undefined;
  private recovering: Promise<void> | undefined;
  private finishing = false;

  constructor(options: MlflowTrackerOptions) {
    this.options = {
      maxPendingPoints: 1000,
      flushIntervalMs: 3_000,
      maxQueuedRequests: 200,
      probeMinMs: 1_000,
      probeMaxMs: 30_000,
      finalWaitMs: 10_000,
      ...options,
    };
    this.probeDelay = this.options.probeMinMs;
  }

  /** The MLflow run id, once the run exists. */
  get runId(): string | undefined {
    return this.uploader?.runId;
  }

  async start(info: RunInfo): Promise<void> {
    this.info = info;
    this.runDir = info.runDir;
    const earlier = info.resumed ? readMetricLines(info.runDir) : [];
    this.resumedLines = info.resumed ? earlier.length : undefined;
    this.nextLine = earlier.length;
    this.lineBefore = earlier.at(-1);
    this.timer = setInterval(() => this.flush(), this.options.flushIntervalMs);
    this.timer.unref();
    const { unreachable } = this.options;
    if (unreachable) {
      this.outage = unreachable;
      this.options.warn(
        `MLflow at ${this.options.client.trackingUri} unreachable (${unreachable}): logging locally; the run keeps trying the server, ` +
          `and \`dcgan-run sync ${info.runDir}\` uploads later`,
      );
      this.scheduleProbe();
      return;
    }
    try {
      await this.open(false);
    } catch (error) {
      this.down(error);
      return;
    }
    this.addRecords(() => this.uploader!.describe());
    // A resumed run goes on in the same MLflow run: lines of earlier sessions it lacks (the server was away) are sent first.
    if (info.resumed) this.addRecords(() => this.uploader!.sendMetrics(earlier, 0));
  }

  logMetrics(records: MetricRecord[]): void {
    if (records.length === 0) return;
    if (this.outage || !this.uploader) {
      this.missed += 1;
      this.nextLine += records.length;
      this.lineBefore = records.at(-1);
      return;
    }
    this.pending.push(...records);
    for (const record of records) this.pendingPoints += metricPoints(record, undefined).length;
    if (this.pendingPoints >= this.options.maxPendingPoints || records.some((r) => r.type !== 'step')) this.flush();
    if (records.some((r) => r.type === 'eval')) this.addRecords(() => this.uploader!.sendClassTable(readMetricLines(this.runDir)));
  }

  logImage(key: string, step: number, png: Uint8Array): void {
    this.flush();
    const timestamp = Date.now();
    this.addRecords(() => this.uploader!.sendImage(key, step, png, timestamp));
  }

  logArtifact(localPath: string, artifactPath: string): void {
    this.flush();
    this.addFiles(async () => {
      await this.uploader!.sendArtifact(localPath, artifactPath);
      if (!artifactPath.startsWith('checkpoints/')) return;
      const folder = artifactPath.slice('checkpoints/'.length);
      await sendCheckpointPointers(this.uploader!, this.runDir, folder === 'best' ? undefined : folder);
    });
  }

  logWarning(warning: RunWarning): void {
    this.addRecords(() => this.uploader!.setTags(warningTags([warning])));
  }

  /**
   * Sends the rest with a final pass over the run directory, then the status. A server that is away is tried for up
   * to finalWaitMs; after that the rest is left to `dcgan-run sync`.
   */
  async finish(status: RunStatus, error?: string): Promise<void> {
    this.flush();
    clearInterval(this.timer);
    this.finishing = true;
    clearTimeout(this.probeTimer);
    this.probeDelay = this.options.probeMinMs; // the final wait gets several tries, however long the outage was
    await this.recovering;
    await this.lanesIdle();
    const deadline = Date.now() + this.options.finalWaitMs;
    for (;;) {
      try {
        if (this.outage) await this.reconnect();
        await sendRunRecords(this.uploader!, this.runDir);
        await sendRunFiles(this.uploader!, this.runDir, { final: true });
        await sendRunStatus(this.uploader!, this.runDir, { status, error });
        if (this.outage) this.options.log?.(`MLflow: ${this.options.client.trackingUri} answers again: the run is complete on the server`);
        this.outage = undefined;
        return;
      } catch (failure) {
        this.down(failure);
        if (Date.now() + this.probeDelay > deadline) break;
        await sleep(this.probeDelay);
        this.probeDelay = Math.min(2 * this.probeDelay, this.options.probeMaxMs);
      }
    }
    this.options.warn(
      `MLflow: ${this.options.client.trackingUri} is still away at the end of the run (${this.outage}); ` +
        `the run directory has everything: upload the rest with: dcgan-run sync ${this.runDir}`,
    );
  }

  /** Finds or creates the MLflow run; `check`: what the state does not list is looked up on the server first. */
  private async open(check: boolean): Promise<void> {
    const info = this.info!;
    const { client } = this.options;
    const summary = readRunSummary(info.runDir);
    this.uploader = await RunUploader.begin(client, info.runDir, {
      facts: readRunFacts(info.runDir, summary),
      experimentName: this.options.experimentName ?? mlflowExperimentName(info.config),
      startTime: Date.parse(summary.startedAt),
      mode: info.resumed ? 'resume' : check ? 'sync' : 'live',
    });
    if (this.resumedLines !== undefined) await this.uploader.reopen(this.resumedLines);
    if (check) this.uploader.checkServer();
    this.options.log?.(`mlflow: ${client.trackingUri}#/experiments/${this.uploader.experimentId}/runs/${this.uploader.runId}`);
  }

  /** One probe of a server that was away; then the run found again, with everything checked against the server. */
  private async reconnect(): Promise<void> {
    await this.options.client.checkReachable(this.options.client.http.timeoutMs);
    if (this.uploader) this.uploader.checkServer();
    else await this.open(true);
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const records = this.pending;
    const firstLine = this.nextLine;
    const before = this.lineBefore;
    this.pending = [];
    this.pendingPoints = 0;
    this.nextLine += records.length;
    this.lineBefore = records.at(-1);
    this.addRecords(() => this.uploader!.sendMetrics(records, firstLine, before));
  }

  private addRecords(task: () => Promise<void>): void {
    if (this.outage || !this.uploader) {
      this.missed += 1;
      return;
    }
    if (this.records.size >= this.options.maxQueuedRequests) {
      this.down(new Error(`the server is ${this.records.size} requests behind`));
      return;
    }
    void this.records.add(async () => {
      if (this.outage) return;
      try {
        await task();
      } catch (error) {
        this.down(error);
      }
    });
  }

  /** Files wait for the server like records; after a failure the next file task sends every file the server lacks. */
  private addFiles(task: () => Promise<void>): void {
    if (this.outage || !this.uploader) return; // the catch-up after the outage, or the final pass, sends it
    if (this.files.size >= this.options.maxQueuedRequests) {
      this.filesBehind = true;
      return;
    }
    void this.files.add(async () => {
      if (this.outage) return;
      try {
        if (this.filesBehind) {
          this.filesBehind = false;
          await sendRunFiles(this.uploader!, this.runDir, { final: false });
        } else await task();
      } catch (error) {
        // Sizes set the timeout, so a failed upload is a server gone away: probed, then caught up, like records.
        this.filesBehind = true;
        this.down(error);
      }
    });
  }

  private async lanesIdle(): Promise<void> {
    await Promise.all([this.records.onIdle(), this.files.onIdle()]);
  }

  /** The server is taken as away: queued work is dropped (the run directory keeps it) and probing begins. */
  private down(error: unknown): void {
    if (this.outage) return;
    this.outage = messageOf(error);
    this.pending = [];
    this.pendingPoints = 0;
    this.options.warn(
      `MLflow: lost ${this.options.client.trackingUri} (${this.outage}). Training goes on and the run directory keeps everything; ` +
        `sending resumes from where the server stopped once it answers`,
    );
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.finishing) return;
    this.probeTimer = setTimeout(() => void (this.recovering = this.probe().finally(() => (this.recovering = undefined))), this.probeDelay);
    this.probeTimer.unref();
    this.probeDelay = Math.min(2 * this.probeDelay, this.options.probeMaxMs);
  }

  /**
   * Once the server answers: the records the run directory has and the server lacks, in passes until a pass ends
   * with nothing new handed over meanwhile; then live sending resumes, and the files lane catches up on its own.
   */
  private async probe(): Promise<void> {
    const reason = this.outage;
    try {
      await this.lanesIdle();
      await this.reconnect();
      for (let pass = 0; pass < 3; pass++) {
        this.missed = 0;
        await sendRunRecords(this.uploader!, this.runDir);
        if (this.missed === 0 || this.finishing) break;
      }
    } catch {
      if (!this.finishing) this.scheduleProbe();
      return;
    }
    if (this.finishing) return; // finish() takes over from here
    // Nothing was handed over since the last pass began (or at most a pass's worth): the server has the whole file.
    const lines = readMetricLines(this.runDir);
    this.nextLine = lines.length;
    this.lineBefore = lines.at(-1);
    this.uploader!.trustState();
    this.outage = undefined;
    this.probeDelay = this.options.probeMinMs;
    this.options.log?.(`MLflow: ${this.options.client.trackingUri} answers again after "${reason}": caught up, sending live`);
    this.filesBehind = true;
    this.addFiles(async () => {});
    if (this.missed > 0) this.addRecords(() => sendRunRecords(this.uploader!, this.runDir));
  }
}
