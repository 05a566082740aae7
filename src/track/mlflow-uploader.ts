// Uploads a run directory to MLflow, remembering what was sent in <run-dir>/mlflow.json. The live
// tracker feeds a RunUploader as training goes; the catch-up passes (mlflow-catch-up.ts) feed one from the files.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { writeFileAtomic } from '../io/atomic.ts';
import { classHistogramTable, metricPoints } from './metric-names.ts';
import { isMlflowError, type Metric, type MetricInput, type MlflowClient } from './mlflow/index.ts';
import { describeRun, SWEPT_KEYS_TAG, type RunDescription } from './mlflow-params.ts';
import { redactCredentials } from './redact.ts';
import type { RunFacts } from './run-facts.ts';
import type { MetricRecord } from './run-types.ts';

export const SYNC_STATE_FILE = 'mlflow.json';

export type TerminalStatus = 'FINISHED' | 'FAILED' | 'KILLED';

/**
 * What the MLflow server is known to have. Written after every successful request, so it can only
 * lag behind the server (a crash between a request and the write), never run ahead of it.
 * Never holds credentials: `trackingUri` is the client's base URL, which has them removed.
 */
export interface SyncState {
  version: 1;
  trackingUri: string;
  experimentName: string;
  experimentId: string;
  /** The MLflow run id. */
  runId: string;
  /** The local run id (runs/<experiment>/<run-id>). */
  localRunId: string;
  /** Params and tags logged. */
  described: boolean;
  /** Lines of metrics.jsonl sent, from the top. */
  metricLines: number;
  /** `<key>/<step>` -> artifact path stem of both image files (images/<key>+step+<step>+timestamp+<ms>+<uuid>). */
  images: Record<string, string>;
  /** Artifact path -> size and modification time of the local file that was uploaded (a hash for files made for MLflow). */
  artifacts: Record<string, { size: number; mtimeMs: number; sha256?: string }>;
  /** The final status set on the server, or null. */
  status: TerminalStatus | null;
  updatedAt: string;
}

/** What one uploader actually sent (zero everywhere: the server already had everything). */
export interface UploadCounts {
  created: boolean;
  adopted: boolean;
  described: boolean;
  metricLines: number;
  points: number;
  images: number;
  files: number;
  status: TerminalStatus | undefined;
}

export function readSyncState(runDir: string): SyncState | undefined {
  const path = join(runDir, SYNC_STATE_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const state = JSON.parse(readFileSync(path, 'utf8')) as SyncState;
    return state.version === 1 && typeof state.runId === 'string' ? state : undefined;
  } catch {
    return undefined; // Unreadable: start over; the server is checked before anything is re-sent.
  }
}

/** At most this many points per log-batch request (MLflow's limit), so one chunk is one request. */
const POINTS_PER_REQUEST = 1000;

/**
 * Uploads get a timeout that grows with their size: a checkpoint file of 29 MB on a slow link is not a dead server.
 * The floor is the client's own timeout; above it, this many bytes per millisecond (100 kB/s).
 */
const SLOWEST_UPLOAD_BYTES_PER_MS = 100;
export function uploadTimeoutMs(bytes: number, floorMs: number): number {
  return Math.round(floorMs + bytes / SLOWEST_UPLOAD_BYTES_PER_MS);
}

/** The resolved config as a dict artifact (mlflow.log_dict's JSON), beside config.yaml. */
export const CONFIG_DICT_ARTIFACT = 'config.json';
/** The class shares of every evaluation (mlflow.log_table's file and tag). */
export const CLASS_TABLE_ARTIFACT = 'class_histogram.json';
const LOGGED_ARTIFACTS_TAG = 'mlflow.loggedArtifacts';
/** The run's description on its MLflow page. */
const NOTE_TAG = 'mlflow.note.content';

const pointId = (p: { key: string; step?: number; timestamp: number; value: number }) => `${p.key}|${p.step ?? 0}|${p.timestamp}|${p.value}`;
const stepId = (p: { key: string; step?: number }) => `${p.key}|${p.step ?? 0}`;

const IMAGE_FILE = /^images\/(.+)\+step\+(-?\d+)\+timestamp\+(\d+)\+([^+/]+)(\.png|\+compressed\.webp)$/;

export interface BeginOptions {
  facts: RunFacts;
  experimentName: string;
  startTime: number;
  /**
   * live: a fresh run, created now; what the state says is exactly what the server has.
   * sync: reuse the run the state names (or find it by its tags), and check the server before sending
   * anything the state does not list (the state may lag behind it).
   * resume: a resumed run: the run the state names, fed live; found or created as sync does without a state.
   */
  mode: 'live' | 'sync' | 'resume';
}

export class RunUploader {
  readonly sent: UploadCounts = { created: false, adopted: false, described: false, metricLines: 0, points: 0, images: 0, files: 0, status: undefined };
  readonly description: RunDescription;
  private histories: Map<string, Metric[]> | undefined;
  /** Set by reopen() after a crash: metric steps the server already has are not sent again. */
  private skipStepsOnServer = false;
  private readonly listings = new Map<string, Map<string, number | undefined>>();

  private constructor(
    readonly client: MlflowClient,
    readonly runDir: string,
    private readonly state: SyncState,
    private verify: boolean,
    description: RunDescription,
  ) {
    this.description = description;
  }

  get runId(): string {
    return this.state.runId;
  }

  get experimentId(): string {
    return this.state.experimentId;
  }

  get metricLines(): number {
    return this.state.metricLines;
  }

  /**
   * After a failed request the server may have more than the state says (a request it applied but did not answer):
   * from now on, what the state does not list is looked up on the server before it is sent.
   */
  checkServer(): void {
    this.verify = true;
    this.histories = undefined;
    this.listings.clear();
  }

  /** Caught up: the state is what the server has again, and is trusted without lookups. */
  trustState(): void {
    this.verify = false;
    this.histories = undefined;
    this.listings.clear();
  }

  /** Finds or creates the MLflow run for the run directory and records it in the state file. */
  static async begin(client: MlflowClient, runDir: string, options: BeginOptions): Promise<RunUploader> {
    const { facts, experimentName } = options;
    const description = describeRun(facts, facts.parentRunId ? await sweptKeys(client, facts.parentRunId) : []);
    const verify = options.mode === 'sync';
    const reuse = options.mode !== 'live';
    let state = reuse ? readSyncState(runDir) : undefined;
    if (state && (state.trackingUri !== client.trackingUri || state.localRunId !== facts.runId)) state = undefined;
    if (state) {
      try {
        const run = await client.getRun(state.runId);
        if (run.info.lifecycle_stage !== 'active') state = undefined;
      } catch (error) {
        if (!isMlflowError(error, 'RESOURCE_DOES_NOT_EXIST')) throw error;
        state = undefined;
      }
    }
    if (state) return new RunUploader(client, runDir, state, verify, description);

    const experimentId = await client.getOrCreateExperiment(experimentName);
    const fresh = (runId: string): SyncState => ({
      version: 1,
      trackingUri: client.trackingUri,
      experimentName,
      experimentId,
      runId,
      localRunId: facts.runId,
      described: false,
      metricLines: 0,
      images: {},
      artifacts: {},
      status: null,
      updatedAt: '',
    });
    // A crash between creating the run and writing the state leaves a run the state does not name.
    const existing = reuse ? await findRun(client, experimentId, description) : undefined;
    let uploader: RunUploader;
    if (existing) {
      uploader = new RunUploader(client, runDir, fresh(existing), true, description);
      uploader.sent.adopted = true;
    } else {
      const run = await client.createRun({
        experimentId,
        runName: description.runName,
        userId: facts.user,
        startTime: options.startTime,
        tags: description.tags,
      });
      uploader = new RunUploader(client, runDir, fresh(run.info.run_id), verify, description);
      uploader.sent.created = true;
    }
    uploader.save();
    return uploader;
  }

  /**
   * A resumed run's MLflow run is RUNNING again until it ends anew. metrics.jsonl was cut back to the checkpoint
   * (`metricLines` lines): lines sent past it, steps trained again, are counted from there.
   */
  async reopen(metricLines: number): Promise<void> {
    await this.client.updateRun(this.state.runId, { status: 'RUNNING' });
    this.state.status = null;
    // After a crash the server can hold steps trained after the checkpoint: trained again, they give the same
    // values, so the steps it has are not sent a second time. So too when the state counts fewer lines than were
    // kept (it lags the server, or it is new: a run resumed on another machine from its MLflow checkpoint).
    this.skipStepsOnServer = this.state.metricLines !== metricLines;
    this.state.metricLines = Math.min(this.state.metricLines, metricLines);
    this.save();
  }

  /** Params, tags and the config as a dict artifact (idempotent: MLflow accepts a param logged again with the same value). */
  async describe(): Promise<void> {
    if (this.state.described) return;
    await this.client.logBatch(this.state.runId, { params: this.description.params, tags: this.description.tags });
    await this.client.uploadArtifact(this.state.runId, CONFIG_DICT_ARTIFACT, Buffer.from(`${JSON.stringify(this.description.config, null, 2)}\n`));
    this.state.described = true;
    this.sent.described = true;
    this.save();
  }

  /**
   * Lines `firstLine`, `firstLine + 1`, ... of metrics.jsonl; lines already sent are skipped. `before` is line
   * `firstLine - 1` (how a line is logged can depend on the one before it).
   */
  async sendMetrics(records: readonly MetricRecord[], firstLine: number, before?: MetricRecord): Promise<void> {
    if (firstLine > this.state.metricLines) {
      throw new Error(`metrics.jsonl line ${firstLine + 1} would be sent before line ${this.state.metricLines + 1}`);
    }
    let next = this.state.metricLines - firstLine;
    while (next < records.length) {
      let end = next;
      let points: MetricInput[] = [];
      while (end < records.length) {
        const more = metricPoints(records[end], end > 0 ? records[end - 1] : before);
        if (points.length > 0 && points.length + more.length > POINTS_PER_REQUEST) break;
        points = points.concat(more);
        end++;
      }
      if (this.verify || this.skipStepsOnServer) {
        const keys = new Set(points.map((p) => p.key));
        const histories = await this.metricHistories(keys);
        const seen = this.skipStepsOnServer ? stepId : pointId;
        const present = new Set([...keys].flatMap((key) => histories.get(key)!.map(seen)));
        points = points.filter((p) => !present.has(seen(p)));
      }
      if (points.length > 0) await this.client.logBatch(this.state.runId, { metrics: points });
      this.state.metricLines = firstLine + end;
      this.sent.metricLines += end - next;
      this.sent.points += points.length;
      this.save();
      next = end;
    }
  }

  hasImage(key: string, step: number): boolean {
    return `${key}/${step}` in this.state.images;
  }

  /** The two files of mlflow.log_image(png, key, step) and its tag; nothing when the server has them. */
  async sendImage(key: string, step: number, png: Uint8Array | (() => Uint8Array), timestamp = Date.now()): Promise<void> {
    const id = `${key}/${step}`;
    if (id in this.state.images) return;
    let uuid: string | undefined;
    if (this.verify) {
      // This key and step's files on the server, as their stems (images/<key>+step+<step>+timestamp+<ms>+<uuid>) and kinds.
      const files = [...(await this.listing('images')).keys()]
        .map((path) => IMAGE_FILE.exec(path))
        .filter((m): m is RegExpExecArray => m !== null && m[1] === key.replace(/\//g, '~') && Number(m[2]) === step)
        .map((m) => ({ stem: `images/${m[1]}+step+${m[2]}+timestamp+${m[3]}+${m[4]}`, timestamp: Number(m[3]), uuid: m[4], png: m[5] === '.png' }));
      const complete = files.find((f) => f.png && files.some((o) => !o.png && o.stem === f.stem));
      if (complete) {
        this.state.images[id] = complete.stem;
        this.save();
        return;
      }
      // Half uploaded: finish it under the same name rather than adding a second image for the step.
      if (files[0]) ({ timestamp, uuid } = files[0]);
    }
    const bytes = typeof png === 'function' ? png() : png;
    const paths = await this.client.logImage(this.state.runId, { key, step, timestamp, uuid, png: bytes });
    this.state.images[id] = paths[0]!.replace(/\.png$/, '');
    this.sent.images += 1;
    this.save();
  }

  /** A file, or every file under a folder (paths relative to it kept under `artifactPath`). */
  async sendArtifact(localPath: string, artifactPath: string): Promise<void> {
    if (!statSync(localPath).isDirectory()) return this.sendFile(localPath, artifactPath);
    for (const file of filesUnder(localPath)) {
      await this.sendFile(join(localPath, file), posix.join(artifactPath, file.split(sep).join('/')));
    }
  }

  private async sendFile(localPath: string, artifactPath: string): Promise<void> {
    const { size, mtimeMs } = statSync(localPath);
    const known = this.state.artifacts[artifactPath];
    if (known && known.size === size && known.mtimeMs === mtimeMs) return;
    // Checkpoint files never change once written: a file of the same size on the server is this one. Others (the
    // pointers, checkpoints/best/, summary.json, losses.png, config.yaml) may have changed: sent again.
    if (this.verify && /^checkpoints\/epoch-[^/]+\//.test(artifactPath)) {
      const listed = (await this.listing(posix.dirname(artifactPath))).get(artifactPath);
      if (listed === size) {
        this.state.artifacts[artifactPath] = { size, mtimeMs };
        this.save();
        return;
      }
    }
    let bytes: Uint8Array = readFileSync(localPath);
    // The resolved config holds tracking.mlflow.uri as given, user:password@ included.
    if (artifactPath === 'config.yaml') bytes = Buffer.from(redactCredentials(Buffer.from(bytes).toString('utf8')));
    await this.upload(artifactPath, bytes);
    this.state.artifacts[artifactPath] = { size, mtimeMs };
    this.sent.files += 1;
    this.save();
  }

  /** A file made for MLflow (no local file): sent when its content changed. */
  async sendMade(artifactPath: string, bytes: Uint8Array): Promise<void> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (this.state.artifacts[artifactPath]?.sha256 === sha256) return;
    await this.upload(artifactPath, bytes);
    this.state.artifacts[artifactPath] = { size: bytes.length, mtimeMs: 0, sha256 };
    this.sent.files += 1;
    this.save();
  }

  /** The class shares of every evaluation so far as a table artifact, with log_table's tag; nothing without any. */
  async sendClassTable(records: readonly MetricRecord[]): Promise<void> {
    const table = classHistogramTable(records);
    if (!table) return;
    await this.sendMade(CLASS_TABLE_ARTIFACT, Buffer.from(JSON.stringify(table)));
    // Python's json.dumps of [{"path": ..., "type": "table"}], as log_table sets it.
    await this.setTags({ [LOGGED_ARTIFACTS_TAG]: `[{"path": "${CLASS_TABLE_ARTIFACT}", "type": "table"}]` });
  }

  private async upload(artifactPath: string, bytes: Uint8Array): Promise<void> {
    const timeoutMs = uploadTimeoutMs(bytes.length, this.client.http.timeoutMs);
    await this.client.uploadArtifact(this.state.runId, artifactPath, bytes, { timeoutMs });
  }

  /** Tags set after the run began (training warnings); idempotent. */
  async setTags(tags: Record<string, string>): Promise<void> {
    await this.client.logBatch(this.state.runId, { tags });
  }

  /** The final status, with the error as the dcgan.error tag and a note for the run's page. */
  async setStatus(status: TerminalStatus, error: string | undefined, endTime: number, note?: string): Promise<void> {
    if (this.state.status === status) return;
    // Set already (by the live run, before a crash): keep its end time.
    if (this.verify && (await this.client.getRun(this.state.runId)).info.status === status) {
      this.state.status = status;
      this.save();
      return;
    }
    const tags: Record<string, string> = {};
    if (error) tags['dcgan.error'] = redactCredentials(error);
    if (note) tags[NOTE_TAG] = redactCredentials(note);
    if (Object.keys(tags).length > 0) await this.client.logBatch(this.state.runId, { tags });
    await this.client.updateRun(this.state.runId, { status, endTime: Math.round(endTime) });
    this.state.status = status;
    this.sent.status = status;
    this.save();
  }

  private save(): void {
    this.state.updatedAt = new Date().toISOString();
    writeFileAtomic(join(this.runDir, SYNC_STATE_FILE), `${JSON.stringify(this.state, null, 2)}\n`);
  }

  /** Each key's points on the server (read once per key). */
  private async metricHistories(keys: Set<string>): Promise<Map<string, Metric[]>> {
    this.histories ??= new Map();
    for (const key of keys) {
      if (!this.histories.has(key)) this.histories.set(key, await this.client.getMetricHistory(this.state.runId, key));
    }
    return this.histories;
  }

  /** Artifact path -> size of the files directly in `dir` on the server (read once per folder). */
  private async listing(dir: string): Promise<Map<string, number | undefined>> {
    let files = this.listings.get(dir);
    if (!files) {
      files = new Map((await this.client.listArtifacts(this.state.runId, dir)).filter((f) => !f.is_dir).map((f) => [f.path, f.file_size]));
      this.listings.set(dir, files);
    }
    return files;
  }
}

/** The active run logged for this run directory, if any (matched on the local run id and folder). */
async function findRun(client: MlflowClient, experimentId: string, description: RunDescription): Promise<string | undefined> {
  const runId = description.tags['dcgan.runId']!;
  const runDir = description.tags['dcgan.runDir']!;
  if (runId.includes("'") || runDir.includes("'")) return undefined;
  const { runs } = await client.searchRuns({
    experimentIds: [experimentId],
    filter: `tags.\`dcgan.runId\` = '${runId}' and tags.\`dcgan.runDir\` = '${runDir}'`,
    orderBy: ['attributes.start_time ASC'],
    maxResults: 1,
  });
  return runs[0]?.info.run_id;
}

/** The config keys the sweep of a trial's parent run varies; none when the parent is gone or has no such tag. */
async function sweptKeys(client: MlflowClient, parentRunId: string): Promise<string[]> {
  try {
    const tag = (await client.getRun(parentRunId)).data.tags.find((t) => t.key === SWEPT_KEYS_TAG);
    return tag ? (JSON.parse(tag.value) as string[]) : [];
  } catch (error) {
    if (!isMlflowError(error, 'RESOURCE_DOES_NOT_EXIST')) throw error;
    return [];
  }
}

/** Relative paths of every file under `dir`, sorted. */
function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}
