import { MlflowError } from './errors.ts';

/** Same set as mlflow.utils.request_utils._TRANSIENT_FAILURE_RESPONSE_CODES. */
export const RETRY_STATUS_CODES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

export interface TransportOptions {
  /** e.g. http://127.0.0.1:5000 (a path prefix is kept; user:pass@ in it is used as basic auth). */
  trackingUri: string;
  /** Bearer token (MLFLOW_TRACKING_TOKEN). Ignored when username and password are both set, as in MLflow. */
  token?: string;
  username?: string;
  password?: string;
  /** Retries after the first attempt (MLflow default 7). */
  maxRetries?: number;
  /** Delay before retry n (n >= 2) is factor * 2^(n-1) plus jitter; the first retry is immediate (urllib3). */
  backoffFactorMs?: number;
  backoffJitterMs?: number;
  /** Cap on any single wait, Retry-After included. */
  backoffMaxMs?: number;
  /** Per attempt, including reading the body. */
  timeoutMs?: number;
  /** Retry connection errors and timeouts too (urllib3 does, for every method). */
  retryNetworkErrors?: boolean;
  onRetry?: (event: RetryEvent) => void;
}

export interface RetryEvent {
  endpoint: string;
  /** The attempt that failed (1-based). */
  attempt: number;
  status?: number;
  errorCode: string;
  delayMs: number;
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  body?: Uint8Array;
  contentType?: string;
  /** Label used in errors; defaults to "<METHOD> <path without api/2.0/mlflow/>". */
  endpoint?: string;
  retry?: boolean;
  timeoutMs?: number;
}

export interface HttpResult {
  status: number;
  body: Buffer;
}

const DEFAULTS = {
  maxRetries: 7,
  backoffFactorMs: 2_000,
  backoffJitterMs: 1_000,
  backoffMaxMs: 120_000,
  timeoutMs: 120_000,
  retryNetworkErrors: true,
} as const;

/** Reads the same variables as the Python client (times in seconds there). */
export function transportOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<TransportOptions> {
  const num = (name: string, scale = 1): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got '${raw}'`);
    return n * scale;
  };
  const opts: Partial<TransportOptions> = {
    token: env.MLFLOW_TRACKING_TOKEN || undefined,
    username: env.MLFLOW_TRACKING_USERNAME || undefined,
    password: env.MLFLOW_TRACKING_PASSWORD || undefined,
    maxRetries: num('MLFLOW_HTTP_REQUEST_MAX_RETRIES'),
    backoffFactorMs: num('MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR', 1000),
    backoffJitterMs: num('MLFLOW_HTTP_REQUEST_BACKOFF_JITTER', 1000),
    timeoutMs: num('MLFLOW_HTTP_REQUEST_TIMEOUT', 1000),
  };
  if (env.MLFLOW_TRACKING_URI) opts.trackingUri = env.MLFLOW_TRACKING_URI;
  for (const k of Object.keys(opts) as (keyof TransportOptions)[]) if (opts[k] === undefined) delete opts[k];
  return opts;
}

export function backoffDelayMs(
  failures: number,
  o: Pick<Required<TransportOptions>, 'backoffFactorMs' | 'backoffJitterMs' | 'backoffMaxMs'>,
  random = Math.random,
): number {
  if (failures <= 1) return 0;
  const raw = o.backoffFactorMs * 2 ** (failures - 1) + random() * o.backoffJitterMs;
  return Math.max(0, Math.min(o.backoffMaxMs, raw));
}

/** Retry-After as delta-seconds or an HTTP date; undefined when absent or unparsable. */
export function parseRetryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class HttpTransport {
  /** Base URL with credentials removed; safe to print. */
  readonly baseUrl: string;
  private readonly authHeader: string | undefined;
  private readonly opts: Required<Omit<TransportOptions, 'token' | 'username' | 'password' | 'onRetry' | 'trackingUri'>> & Pick<TransportOptions, 'onRetry'>;

  constructor(options: TransportOptions) {
    let url: URL;
    try {
      url = new URL(options.trackingUri);
    } catch {
      throw new Error(`Invalid MLflow tracking URI: not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`Unsupported MLflow tracking URI scheme '${url.protocol}' (only http/https servers are supported)`);
    }
    const username = options.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
    const password = options.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    this.baseUrl = url.toString();

    if (username && password) {
      this.authHeader = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    } else if (options.token) {
      this.authHeader = `Bearer ${options.token}`;
    }
    this.opts = {
      maxRetries: options.maxRetries ?? DEFAULTS.maxRetries,
      backoffFactorMs: options.backoffFactorMs ?? DEFAULTS.backoffFactorMs,
      backoffJitterMs: options.backoffJitterMs ?? DEFAULTS.backoffJitterMs,
      backoffMaxMs: options.backoffMaxMs ?? DEFAULTS.backoffMaxMs,
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      retryNetworkErrors: options.retryNetworkErrors ?? DEFAULTS.retryNetworkErrors,
      onRetry: options.onRetry,
    };
  }

  /** The timeout of each attempt, unless a request sets its own. */
  get timeoutMs(): number {
    return this.opts.timeoutMs;
  }

  async json<T>(method: string, path: string, req: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, req);
    const text = res.body.toString('utf8').trim();
    if (text === '') return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new MlflowError({
        endpoint: this.label(method, path, req),
        status: res.status,
        errorCode: 'INVALID_RESPONSE',
        message: `expected JSON from ${this.baseUrl}, got: ${snippet(text)}`,
      });
    }
  }

  /** Sends with retries; resolves only on 2xx, otherwise throws MlflowError. */
  async send(method: string, path: string, req: RequestOptions = {}): Promise<HttpResult> {
    const endpoint = this.label(method, path, req);
    const url = new URL(path, this.baseUrl);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));

    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.authHeader) headers.Authorization = this.authHeader;
    let body: Uint8Array<ArrayBuffer> | string | undefined;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['Content-Type'] = 'application/json';
    } else if (req.body !== undefined) {
      body = new Uint8Array(req.body); // a copy typed over a plain ArrayBuffer, as fetch's BodyInit wants
      headers['Content-Type'] = req.contentType ?? 'application/octet-stream';
    }
    const maxRetries = req.retry === false ? 0 : this.opts.maxRetries;
    const timeoutMs = req.timeoutMs ?? this.opts.timeoutMs;

    for (let attempt = 1; ; attempt++) {
      let status: number;
      let buf: Buffer;
      let retryAfter: string | null = null;
      try {
        const res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
        status = res.status;
        retryAfter = res.headers.get('retry-after');
        buf = Buffer.from(await res.arrayBuffer());
      } catch (err) {
        const { code, detail } = describeNetworkError(err, timeoutMs);
        if (!this.opts.retryNetworkErrors || attempt > maxRetries) {
          throw new MlflowError({
            endpoint,
            errorCode: code,
            message: `could not reach the MLflow server at ${this.baseUrl} (${detail})${attemptsNote(attempt)}`,
            attempts: attempt,
            cause: err,
          });
        }
        await this.pause(endpoint, attempt, code, undefined, undefined);
        continue;
      }
      if (status >= 200 && status < 300) return { status, body: buf };
      if (RETRY_STATUS_CODES.has(status) && attempt <= maxRetries) {
        await this.pause(endpoint, attempt, `HTTP_${status}`, status, parseRetryAfterMs(retryAfter));
        continue;
      }
      throw errorFromResponse(endpoint, status, buf, attempt);
    }
  }

  private async pause(endpoint: string, attempt: number, errorCode: string, status: number | undefined, retryAfterMs: number | undefined) {
    const delayMs = retryAfterMs !== undefined ? Math.min(retryAfterMs, this.opts.backoffMaxMs) : backoffDelayMs(attempt, this.opts);
    this.opts.onRetry?.({ endpoint, attempt, status, errorCode, delayMs });
    if (delayMs > 0) await sleep(delayMs);
  }

  private label(method: string, path: string, req: RequestOptions): string {
    return req.endpoint ?? `${method} ${path.replace(/^api\/2\.0\/mlflow\//, '')}`;
  }
}

function errorFromResponse(endpoint: string, status: number, body: Buffer, attempts: number): MlflowError {
  const text = body.toString('utf8');
  let errorCode = `HTTP_${status}`;
  let message = text.trim() === '' ? '(empty response body)' : snippet(text);
  try {
    const parsed = JSON.parse(text) as { error_code?: unknown; message?: unknown };
    if (typeof parsed.error_code === 'string') errorCode = parsed.error_code;
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // Not JSON (proxy error page, non-MLflow server): keep the text snippet.
  }
  if (status === 401 || status === 403) {
    message += ' (check MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD)';
  }
  return new MlflowError({ endpoint, status, errorCode, message: message + attemptsNote(attempts), attempts });
}

function attemptsNote(attempts: number): string {
  return attempts > 1 ? ` [after ${attempts} attempts]` : '';
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

function describeNetworkError(err: unknown, timeoutMs: number): { code: string; detail: string } {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return { code: 'TIMEOUT', detail: `no response within ${timeoutMs} ms` };
  }
  const cause = (err as { cause?: unknown })?.cause;
  const sysCode = errorCodeOf(cause) ?? errorCodeOf(err);
  const detail = sysCode ?? (cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err));
  return { code: 'NETWORK_ERROR', detail };
}

function errorCodeOf(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const inner = (e as { errors?: unknown }).errors;
  return Array.isArray(inner) ? errorCodeOf(inner[0]) : undefined;
}
