// Which MLflow server and experiment a run or a sync talks to, and a start-up check that fails in seconds with a
// clear message.
import type { Experiment } from '../config/experiment.generated.ts';
import { UserError } from '../errors.ts';
import { isMlflowError, MlflowClient, RETRY_STATUS_CODES, transportOptionsFromEnv, type TransportOptions } from './mlflow/index.ts';
import { redactUri } from './redact.ts';

export interface MlflowTarget {
  uri: string;
  /** Where the URI came from, for messages. */
  source: string;
}

/** tracking.mlflow.uri wins over MLFLOW_TRACKING_URI; undefined when neither is set. */
export function mlflowTarget(config: Experiment, env: NodeJS.ProcessEnv = process.env): MlflowTarget | undefined {
  const fromConfig = config.tracking.mlflow?.uri?.trim();
  if (fromConfig) return { uri: fromConfig, source: 'tracking.mlflow.uri' };
  const fromEnv = env.MLFLOW_TRACKING_URI?.trim();
  if (fromEnv) return { uri: fromEnv, source: 'MLFLOW_TRACKING_URI' };
  return undefined;
}

/** The MLflow experiment a config logs to. */
export function mlflowExperimentName(config: Experiment): string {
  return config.tracking.mlflow?.experiment ?? config.name;
}

/** Short retries for a live run: a server that went away is noticed in seconds, then probed in the background. */
export const LIVE_RETRIES: Partial<TransportOptions> = { maxRetries: 2, backoffFactorMs: 1_000, backoffJitterMs: 250, backoffMaxMs: 5_000, timeoutMs: 10_000 };
/** `sync` is what the user waits for: a few more retries, still bounded. */
export const SYNC_RETRIES: Partial<TransportOptions> = { maxRetries: 3, backoffFactorMs: 1_000, backoffJitterMs: 500, backoffMaxMs: 10_000, timeoutMs: 60_000 };

export interface ConnectOptions {
  env?: NodeJS.ProcessEnv;
  retries: Partial<TransportOptions>;
  /** Per attempt of the check (default 5 s). */
  checkTimeoutMs?: number;
  /** Retry the check like any request (`sync`); without, one attempt (a run's start). */
  retryCheck?: boolean;
}

/**
 * A client for `target` with credentials from the environment (MLFLOW_TRACKING_TOKEN or
 * MLFLOW_TRACKING_USERNAME/PASSWORD); a URI that is not one is a UserError.
 */
function mlflowClient(target: MlflowTarget, env: NodeJS.ProcessEnv, retries: Partial<TransportOptions>): MlflowClient {
  try {
    const { trackingUri: _ignored, ...fromEnv } = transportOptionsFromEnv(env);
    // Explicit retry settings in the environment (MLFLOW_HTTP_REQUEST_*) win over ours.
    return new MlflowClient({ ...retries, ...fromEnv, trackingUri: target.uri });
  } catch (error) {
    throw new UserError(`MLflow tracking URI '${redactUri(target.uri)}' (${target.source}) is not usable: ${(error as Error).message}`);
  }
}

/** A server that did not answer, or answered that it is overloaded or down (not: bad credentials, not an MLflow server). */
function isUnreachable(error: unknown): boolean {
  return isMlflowError(error) && (error.status === undefined || RETRY_STATUS_CODES.has(error.status));
}

/** The check's failure as the UserError a command stops with. */
function unusableServer(client: MlflowClient, target: MlflowTarget, error: unknown): UserError {
  return new UserError(`cannot use the MLflow tracking server at ${client.trackingUri} (${target.source}): ${(error as Error).message}`);
}

export interface StartConnection {
  client: MlflowClient;
  /** Why the server did not answer the check; then the run or sweep starts logging locally. */
  unreachable?: string;
}

/**
 * A client for a run or a sweep about to start, with short retries (LIVE_RETRIES), checked with one request. A server
 * that does not answer does not stop the start, unless tracking.mlflow.required is set; a URI that is not one,
 * refused credentials or a server that is not MLflow are a UserError.
 */
export async function connectAtStart(config: Experiment, target: MlflowTarget, env: NodeJS.ProcessEnv, checkTimeoutMs = 5_000): Promise<StartConnection> {
  const client = mlflowClient(target, env, LIVE_RETRIES);
  try {
    await client.checkReachable(checkTimeoutMs);
    return { client };
  } catch (error) {
    if (config.tracking.mlflow?.required || !isUnreachable(error)) throw unusableServer(client, target, error);
    return { client, unreachable: (error as Error).message };
  }
}

/**
 * A client for `target`, checked with one request: a wrong URI, a dead server or bad credentials are a UserError
 * naming the URI and the cause.
 */
export async function connectMlflow(target: MlflowTarget, options: ConnectOptions): Promise<MlflowClient> {
  const client = mlflowClient(target, options.env ?? process.env, options.retries);
  try {
    await client.checkReachable(options.checkTimeoutMs ?? 5_000, { retry: options.retryCheck });
  } catch (error) {
    throw unusableServer(client, target, error);
  }
  return client;
}
