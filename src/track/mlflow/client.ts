import { osUser } from '../../io/os-user.ts';
import { MLFLOW_LIMITS, decodeMetricValue, splitLogBatch, type BatchLimits, type LogBatchInput } from './batch.ts';
import { MlflowError, isMlflowError } from './errors.ts';
import { HttpTransport, transportOptionsFromEnv, type TransportOptions } from './http.ts';
import { imageArtifacts, LOGGED_IMAGES_TAG, LOGGED_IMAGES_TAG_VALUE, type LoggedImage } from './images.ts';
import type { MlflowExperiment, FileInfo, KeyValue, Metric, MlflowRun, MlflowRunInfo, MlflowRunStatus } from './types.ts';

const API = 'api/2.0/mlflow/';
const ARTIFACTS_API = 'api/2.0/mlflow-artifacts/artifacts/';

export interface MlflowClientOptions extends TransportOptions {
  batchLimits?: BatchLimits;
}

export interface CreateRunOptions {
  experimentId: string;
  runName?: string;
  /** Defaults to the OS user, as the Python client does; also sent as the mlflow.user tag. */
  userId?: string;
  startTime?: number;
  tags?: Readonly<Record<string, string>> | readonly KeyValue[];
}

export interface SearchRunsOptions {
  experimentIds: string[];
  filter?: string;
  orderBy?: string[];
  maxResults?: number;
  pageToken?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  png: 'image/png',
  webp: 'image/webp',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  json: 'application/json',
  yaml: 'text/plain',
  yml: 'text/plain',
  txt: 'text/plain',
  csv: 'text/csv',
  html: 'text/html',
};

interface WireRun {
  info: MlflowRunInfo;
  data?: { metrics?: (Omit<Metric, 'value'> & { value: unknown })[]; params?: KeyValue[]; tags?: KeyValue[] };
}

export class MlflowClient {
  readonly http: HttpTransport;
  private readonly limits: BatchLimits;
  private readonly artifactUris = new Map<string, string>();

  constructor(options: MlflowClientOptions) {
    this.http = new HttpTransport(options);
    this.limits = options.batchLimits ?? { ...MLFLOW_LIMITS };
  }

  /** Options from MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN/USERNAME/PASSWORD, MLFLOW_HTTP_REQUEST_*; `overrides` win. */
  static fromEnv(overrides: Partial<MlflowClientOptions> = {}, env: NodeJS.ProcessEnv = process.env): MlflowClient {
    const opts = { ...transportOptionsFromEnv(env), ...overrides };
    if (!opts.trackingUri) throw new Error('MLFLOW_TRACKING_URI is not set');
    return new MlflowClient(opts as MlflowClientOptions);
  }

  get trackingUri(): string {
    return this.http.baseUrl;
  }

  /**
   * One authenticated API call with a short timeout per attempt, so a wrong URI, a dead server or bad credentials
   * fail in seconds. With `retry` it is retried like any request (a 503, a 429 with Retry-After); without, it is
   * one attempt (start-up, and probing a server that went away).
   */
  async checkReachable(timeoutMs = 5_000, { retry = false }: { retry?: boolean } = {}): Promise<void> {
    await this.http.json('GET', `${API}experiments/search`, {
      query: { max_results: 1 },
      retry,
      timeoutMs,
      endpoint: 'GET experiments/search (reachability check)',
    });
  }

  async getExperimentByName(name: string): Promise<MlflowExperiment | undefined> {
    try {
      const res = await this.http.json<{ experiment: MlflowExperiment }>('GET', `${API}experiments/get-by-name`, {
        query: { experiment_name: name },
      });
      return res.experiment;
    } catch (e) {
      if (isMlflowError(e, 'RESOURCE_DOES_NOT_EXIST')) return undefined;
      throw e;
    }
  }

  async createExperiment(name: string, opts: { artifactLocation?: string; tags?: Record<string, string> } = {}): Promise<string> {
    const res = await this.http.json<{ experiment_id: string }>('POST', `${API}experiments/create`, {
      json: {
        name,
        artifact_location: opts.artifactLocation,
        tags: opts.tags && Object.entries(opts.tags).map(([key, value]) => ({ key, value })),
      },
    });
    return res.experiment_id;
  }

  /** Safe against concurrent creators: losing the create race falls back to reading by name. */
  async getOrCreateExperiment(name: string): Promise<string> {
    const existing = await this.getExperimentByName(name);
    if (existing) return existing.experiment_id;
    try {
      return await this.createExperiment(name);
    } catch (e) {
      if (!isMlflowError(e, 'RESOURCE_ALREADY_EXISTS')) throw e;
      const winner = await this.getExperimentByName(name);
      if (!winner) throw e;
      return winner.experiment_id;
    }
  }

  async createRun(opts: CreateRunOptions): Promise<MlflowRun> {
    const userId = opts.userId ?? osUser();
    const tags = new Map<string, string>();
    if (userId) tags.set('mlflow.user', userId);
    const given = Array.isArray(opts.tags) ? (opts.tags as readonly KeyValue[]) : Object.entries(opts.tags ?? {}).map(([key, value]) => ({ key, value }));
    for (const t of given) tags.set(t.key, t.value);
    const res = await this.http.json<{ run: WireRun }>('POST', `${API}runs/create`, {
      json: {
        experiment_id: opts.experimentId,
        run_name: opts.runName,
        user_id: userId,
        start_time: opts.startTime ?? Date.now(),
        tags: [...tags].map(([key, value]) => ({ key, value })),
      },
    });
    return this.remember(res.run);
  }

  async getRun(runId: string): Promise<MlflowRun> {
    const res = await this.http.json<{ run: WireRun }>('GET', `${API}runs/get`, { query: { run_id: runId } });
    return this.remember(res.run);
  }

  /** Splits into as many log-batch requests as the limits need; returns how many were sent. */
  async logBatch(runId: string, input: LogBatchInput): Promise<{ requests: number }> {
    const bodies = splitLogBatch(runId, input, this.limits);
    for (const body of bodies) await this.http.json('POST', `${API}runs/log-batch`, { json: body });
    return { requests: bodies.length };
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.http.json('POST', `${API}runs/set-tag`, { json: { run_id: runId, key, value } });
  }

  async updateRun(runId: string, opts: { status: MlflowRunStatus; endTime?: number; runName?: string }): Promise<MlflowRunInfo> {
    const terminal = opts.status === 'FINISHED' || opts.status === 'FAILED' || opts.status === 'KILLED';
    const res = await this.http.json<{ run_info: MlflowRunInfo }>('POST', `${API}runs/update`, {
      json: {
        run_id: runId,
        status: opts.status,
        end_time: opts.endTime ?? (terminal ? Date.now() : undefined),
        run_name: opts.runName,
      },
    });
    return res.run_info;
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    const out: Metric[] = [];
    let pageToken: string | undefined;
    do {
      const res = await this.http.json<{ metrics?: WireRunMetric[]; next_page_token?: string }>('GET', `${API}metrics/get-history`, {
        query: { run_id: runId, metric_key: key, page_token: pageToken },
      });
      out.push(...(res.metrics ?? []).map(decodeMetric));
      pageToken = res.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  async searchRuns(opts: SearchRunsOptions): Promise<{ runs: MlflowRun[]; nextPageToken?: string }> {
    const res = await this.http.json<{ runs?: WireRun[]; next_page_token?: string }>('POST', `${API}runs/search`, {
      json: {
        experiment_ids: opts.experimentIds,
        filter: opts.filter,
        order_by: opts.orderBy,
        max_results: opts.maxResults,
        page_token: opts.pageToken,
      },
    });
    return { runs: (res.runs ?? []).map((r) => this.remember(r)), nextPageToken: res.next_page_token || undefined };
  }

  /** Upload through the server's artifact proxy; `path` is relative to the run's artifact root. */
  async uploadArtifact(runId: string, path: string, bytes: Uint8Array, options: { contentType?: string; timeoutMs?: number } = {}): Promise<void> {
    const url = await this.artifactUrl(runId, path);
    await this.http.send('PUT', url, {
      body: bytes,
      contentType: options.contentType ?? contentTypeFor(path),
      timeoutMs: options.timeoutMs,
      endpoint: `PUT mlflow-artifacts (run ${runId}, ${path})`,
    });
  }

  async downloadArtifact(runId: string, path: string): Promise<Buffer> {
    const url = await this.artifactUrl(runId, path);
    const res = await this.http.send('GET', url, { endpoint: `GET mlflow-artifacts (run ${runId}, ${path})` });
    return res.body;
  }

  /** Direct children of `path` (the root when omitted). */
  async listArtifacts(runId: string, path?: string): Promise<FileInfo[]> {
    const out: FileInfo[] = [];
    let pageToken: string | undefined;
    do {
      const res = await this.http.json<{ files?: FileInfo[]; next_page_token?: string }>('GET', `${API}artifacts/list`, {
        query: { run_id: runId, path, page_token: pageToken },
      });
      out.push(...(res.files ?? []));
      pageToken = res.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  /** Same files and tag as mlflow.log_image(image, key=, step=); returns the uploaded paths. */
  async logImage(runId: string, image: LoggedImage): Promise<string[]> {
    const files = await imageArtifacts(image);
    for (const f of files) await this.uploadArtifact(runId, f.path, f.bytes, { contentType: f.contentType });
    await this.setTag(runId, LOGGED_IMAGES_TAG, LOGGED_IMAGES_TAG_VALUE);
    return files.map((f) => f.path);
  }

  private remember(wire: WireRun): MlflowRun {
    const info = wire.info;
    if (info.run_id && info.artifact_uri) this.artifactUris.set(info.run_id, info.artifact_uri);
    return {
      info,
      data: {
        metrics: (wire.data?.metrics ?? []).map(decodeMetric),
        params: wire.data?.params ?? [],
        tags: wire.data?.tags ?? [],
      },
    };
  }

  private async artifactUrl(runId: string, path: string): Promise<string> {
    const uri = this.artifactUris.get(runId) ?? (await this.getRun(runId)).info.artifact_uri;
    return ARTIFACTS_API + proxyRoot(uri, runId) + '/' + encodeArtifactPath(path);
  }
}

type WireRunMetric = Omit<Metric, 'value'> & { value: unknown };

function decodeMetric(m: WireRunMetric): Metric {
  return { key: m.key, value: decodeMetricValue(m.value), timestamp: Number(m.timestamp), step: Number(m.step ?? 0) };
}

/** "mlflow-artifacts:/1/<run>/artifacts" -> "1/<run>/artifacts" (encoded). */
function proxyRoot(artifactUri: string, runId: string): string {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.+?)\/?$/.exec(artifactUri);
  if (!m) {
    throw new MlflowError({
      endpoint: `PUT mlflow-artifacts (run ${runId})`,
      errorCode: 'UNSUPPORTED_ARTIFACT_URI',
      message:
        `run artifact_uri '${artifactUri}' is not served by the tracking server's artifact proxy; ` +
        'start the server with artifact serving (the default) and without --default-artifact-root',
    });
  }
  return m[1]!.split('/').map(encodeURIComponent).join('/');
}

export function encodeArtifactPath(path: string): string {
  const segments = path.split('/');
  if (path === '' || segments.some((s) => s === '' || s === '.' || s === '..') || path.includes('\\')) {
    throw new Error(`Invalid artifact path '${path}': use a relative POSIX path without empty, '.' or '..' segments`);
  }
  return segments.map(encodeURIComponent).join('/');
}

function contentTypeFor(path: string): string {
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}
