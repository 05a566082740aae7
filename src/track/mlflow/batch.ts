import { MlflowError } from './errors.ts';
import type { KeyValue, MetricInput } from './types.ts';

/** Limits from mlflow/utils/validation.py (MLflow 3.x). Lengths are in Unicode code points, like Python's len(). */
export const MLFLOW_LIMITS = {
  maxMetricsPerBatch: 1000,
  maxParamsPerBatch: 100,
  maxTagsPerBatch: 100,
  maxItemsPerBatch: 1000,
  /** MAX_BATCH_LOG_REQUEST_SIZE. The 3.x server checks len() of the parsed dict, so it never trips; we enforce it on bytes. */
  maxBodyBytes: 1_000_000,
  maxKeyLength: 250,
  /** Longer values are silently truncated by the server; we truncate first so what we send is what is stored. */
  maxParamValueLength: 6000,
  maxTagValueLength: 8000,
} as const;

export type BatchLimits = { -readonly [K in keyof typeof MLFLOW_LIMITS]: number };

export interface WireMetric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
}

export interface LogBatchBody {
  run_id: string;
  metrics: WireMetric[];
  params: KeyValue[];
  tags: KeyValue[];
}

export interface LogBatchInput {
  metrics?: readonly MetricInput[];
  params?: readonly KeyValue[] | Readonly<Record<string, string>>;
  tags?: readonly KeyValue[] | Readonly<Record<string, string>>;
}

const ENDPOINT = 'POST runs/log-batch';

/** JSON has no NaN/Infinity; MLflow's proto JSON parser accepts these strings. */
export function encodeMetricValue(value: number): number | string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return value;
}

export function decodeMetricValue(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (value === 'NaN' || value === 'nan') return NaN;
    if (value === 'Infinity' || value === 'inf') return Infinity;
    if (value === '-Infinity' || value === '-inf') return -Infinity;
    const n = Number(value);
    if (!Number.isNaN(n)) return n;
  }
  throw new TypeError(`Unexpected metric value from MLflow: ${JSON.stringify(value)}`);
}

export function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Truncate to `max` code points, never splitting a surrogate pair (Python slices by code point). */
export function truncateCodePoints(s: string, max: number): string {
  if (s.length <= max) return s;
  let out = '';
  let n = 0;
  for (const ch of s) {
    if (n === max) break;
    out += ch;
    n++;
  }
  return out;
}

function invalid(message: string): MlflowError {
  return new MlflowError({ endpoint: ENDPOINT, errorCode: 'INVALID_PARAMETER_VALUE', message });
}

function checkKey(kind: string, key: string, limits: BatchLimits): void {
  if (typeof key !== 'string' || key === '') throw invalid(`${kind} key must be a non-empty string`);
  const len = codePointLength(key);
  if (len > limits.maxKeyLength) {
    const preview = truncateCodePoints(key, 40);
    throw invalid(`${kind} key '${preview}…' is ${len} characters; MLflow allows at most ${limits.maxKeyLength}`);
  }
}

function toKeyValues(input: LogBatchInput['params']): KeyValue[] {
  if (input === undefined) return [];
  if (Array.isArray(input)) return [...(input as readonly KeyValue[])];
  return Object.entries(input).map(([key, value]) => ({ key, value }));
}

/** Validates, truncates and deduplicates; throws MlflowError before anything is sent. */
export function normalizeBatch(input: LogBatchInput, limits: BatchLimits = MLFLOW_LIMITS) {
  const metrics: WireMetric[] = (input.metrics ?? []).map((m) => {
    checkKey('metric', m.key, limits);
    if (typeof m.value !== 'number') throw invalid(`metric '${m.key}' value must be a number, got ${typeof m.value}`);
    if (!Number.isSafeInteger(m.timestamp) || m.timestamp < 0) {
      throw invalid(`metric '${m.key}' timestamp must be a non-negative integer (epoch ms), got ${m.timestamp}`);
    }
    const step = m.step ?? 0;
    if (!Number.isSafeInteger(step)) throw invalid(`metric '${m.key}' step must be an integer, got ${step}`);
    return { key: m.key, value: encodeMetricValue(m.value), timestamp: m.timestamp, step };
  });

  const params = new Map<string, string>();
  for (const p of toKeyValues(input.params)) {
    checkKey('param', p.key, limits);
    const value = truncateCodePoints(String(p.value), limits.maxParamValueLength);
    const prev = params.get(p.key);
    if (prev !== undefined && prev !== value) throw invalid(`param '${p.key}' given twice with different values`);
    params.set(p.key, value);
  }

  const tags = new Map<string, string>();
  for (const t of toKeyValues(input.tags)) {
    checkKey('tag', t.key, limits);
    tags.set(t.key, truncateCodePoints(String(t.value), limits.maxTagValueLength));
  }

  const kv = (m: Map<string, string>) => [...m].map(([key, value]) => ({ key, value }));
  return { metrics, params: kv(params), tags: kv(tags) };
}

const jsonBytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');

/**
 * Packs everything into as few log-batch bodies as the limits allow: params and tags first
 * (as the Python client does), metrics filling the remaining room.
 */
export function splitLogBatch(runId: string, input: LogBatchInput, limits: BatchLimits = MLFLOW_LIMITS): LogBatchBody[] {
  const { metrics, params, tags } = normalizeBatch(input, limits);
  const envelope = jsonBytes({ run_id: runId, metrics: [], params: [], tags: [] });
  const bodies: LogBatchBody[] = [];
  let pi = 0;
  let ti = 0;
  let mi = 0;

  while (pi < params.length || ti < tags.length || mi < metrics.length) {
    const body: LogBatchBody = { run_id: runId, metrics: [], params: [], tags: [] };
    let bytes = envelope;
    let items = 0;
    const fill = <T>(src: T[], start: number, dst: T[], max: number): number => {
      let i = start;
      while (i < src.length && dst.length < max && items < limits.maxItemsPerBatch) {
        const size = jsonBytes(src[i]) + 1; // +1 for the separating comma
        if (bytes + size > limits.maxBodyBytes) break;
        dst.push(src[i]!);
        bytes += size;
        items++;
        i++;
      }
      return i;
    };
    pi = fill(params, pi, body.params, limits.maxParamsPerBatch);
    ti = fill(tags, ti, body.tags, limits.maxTagsPerBatch);
    mi = fill(metrics, mi, body.metrics, limits.maxMetricsPerBatch);
    if (items === 0) throw invalid(`a single item does not fit in a ${limits.maxBodyBytes}-byte request`);
    bodies.push(body);
  }
  return bodies;
}
