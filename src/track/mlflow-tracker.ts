// Logs a run to MLflow while it trains: the same RunUploader `dcgan-run sync` uses, fed as the trainer
// hands things over. Calls return at once; requests go out in the background, one at a time, in order.
import type { MlflowClient } from './mlflow/index.ts';
import { metricPoints, readMetricLines, RunUploader, mlflowStatus, warningTags } from './mlflow-sync.ts';
import { mlflowExperimentName, readRunFacts } from './params.ts';
import { readRunSummary, type MetricRecord, type RunStatus, type RunWarning } from './run-dir.ts';
import type { RunInfo, Tracker } from './tracker.ts';

export interface MlflowTrackerOptions {
  /** Best built with short retries (LIVE_RETRIES): a dead server should cost seconds, not minutes. */
  client: MlflowClient;
  /** Default: tracking.mlflow.experiment, else the config's name. */
  experimentName?: string;
  /** Called once, when the tracker gives up on the server; training goes on. */
  warn: (message: string) => void;
  /** Informational lines (the run's address on the server). */
  log?: (line: string) => void;
  /** Metric points are sent when this many are waiting... */
  maxPendingPoints?: number;
  /** ...or this often, and at every epoch's end. */
  flushIntervalMs?: number;
  /** Requests waiting at most; a server this far behind is given up on like a dead one (`sync` catches up later). */
  maxQueuedRequests?: number;
}

export class MlflowTracker implements Tracker {
  private readonly options: Required<Omit<MlflowTrackerOptions, 'experimentName' | 'log'>> & Pick<MlflowTrackerOptions, 'experimentName' | 'log'>;
  private uploader: RunUploader | undefined;
  private runDir = '';
  private pending: MetricRecord[] = [];
  private pendingPoints = 0;
  /** metrics.jsonl line of pending[0]. */
  private nextLine = 0;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private failure: string | undefined;

  constructor(options: MlflowTrackerOptions) {
    this.options = { maxPendingPoints: 1000, flushIntervalMs: 3_000, maxQueuedRequests: 200, ...options };
  }

  /** The MLflow run id, once the run exists. */
  get runId(): string | undefined {
    return this.uploader?.runId;
  }

  /** Why the tracker stopped sending, or undefined while it is healthy. */
  get failed(): string | undefined {
    return this.failure;
  }

  async start(info: RunInfo): Promise<void> {
    this.runDir = info.runDir;
    const { client } = this.options;
    try {
      const summary = readRunSummary(info.runDir);
      const facts = readRunFacts(info.runDir, summary);
      this.uploader = await RunUploader.begin(client, info.runDir, {
        facts,
        experimentName: this.options.experimentName ?? mlflowExperimentName(info.config),
        startTime: Date.parse(summary.startedAt),
        mode: info.resumed ? 'resume' : 'live',
      });
      if (info.resumed) {
        // The same MLflow run goes on: lines of earlier sessions it lacks (the server was away) are sent first.
        const earlier = readMetricLines(info.runDir);
        await this.uploader.reopen(earlier.length);
        this.nextLine = earlier.length;
        this.enqueue(() => this.uploader!.sendMetrics(earlier, 0));
      }
      const experiment = this.uploader.experimentId;
      this.options.log?.(`mlflow: ${client.trackingUri}#/experiments/${experiment}/runs/${this.uploader.runId}`);
    } catch (error) {
      this.fail(error);
      return;
    }
    this.enqueue(() => this.uploader!.describe());
    this.timer = setInterval(() => this.flush(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  logMetrics(records: MetricRecord[]): void {
    if (records.length === 0) return;
    if (this.failure) {
      this.nextLine += records.length;
      return;
    }
    this.pending.push(...records);
    for (const record of records) this.pendingPoints += metricPoints(record).length;
    if (this.pendingPoints >= this.options.maxPendingPoints || records.some((r) => r.type === 'epoch')) this.flush();
  }

  logImage(key: string, step: number, png: Uint8Array): void {
    this.flush();
    const timestamp = Date.now();
    this.enqueue(() => this.uploader!.sendImage(key, step, png, timestamp));
  }

  logArtifact(localPath: string, artifactPath: string): void {
    this.flush();
    this.enqueue(() => this.uploader!.sendArtifact(localPath, artifactPath));
  }

  logWarning(warning: RunWarning): void {
    this.enqueue(() => this.uploader!.setTags(warningTags([warning])));
  }

  /** Sends the rest and the final status; returns when the queue is empty (or the server was given up on). */
  async finish(status: RunStatus, error?: string): Promise<void> {
    this.flush();
    clearInterval(this.timer);
    this.timer = undefined;
    const terminal = mlflowStatus(status);
    const endTime = Date.now();
    if (terminal) this.enqueue(() => this.uploader!.setStatus(terminal, error, endTime));
    await this.queue;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const records = this.pending;
    const firstLine = this.nextLine;
    this.pending = [];
    this.pendingPoints = 0;
    this.nextLine += records.length;
    this.enqueue(() => this.uploader!.sendMetrics(records, firstLine));
  }

  private enqueue(task: () => Promise<void>): void {
    if (this.failure || !this.uploader) return;
    if (this.queued >= this.options.maxQueuedRequests) {
      this.fail(new Error(`the server is ${this.queued} requests behind`));
      return;
    }
    this.queued += 1;
    this.queue = this.queue.then(async () => {
      try {
        if (!this.failure) await task();
      } catch (error) {
        this.fail(error);
      } finally {
        this.queued -= 1;
      }
    });
  }

  private fail(error: unknown): void {
    if (this.failure) return;
    this.failure = error instanceof Error ? error.message : String(error);
    this.pending = [];
    this.pendingPoints = 0;
    clearInterval(this.timer);
    this.timer = undefined;
    this.options.warn(
      `MLflow: stopped sending to ${this.options.client.trackingUri}: ${this.failure}. ` +
        `Training goes on and the run directory has everything; upload the rest later with: dcgan-run sync ${this.runDir}`,
    );
  }
}
