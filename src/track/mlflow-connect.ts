// Which MLflow server a run or a sync talks to, and a start-up check that fails in seconds with a clear message.
import type { Experiment } from '../config/experiment.generated.ts';
import { UserError } from '../errors.ts';
import { MlflowClient, transportOptionsFromEnv, type TransportOptions } from './mlflow/index.ts';
import { redactCredentials } from './params.ts';

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

/** Short retries for a live run: a dead server costs seconds at the end of training, not minutes. */
export const LIVE_RETRIES: Partial<TransportOptions> = { maxRetries: 2, backoffFactorMs: 1_000, backoffJitterMs: 250, backoffMaxMs: 5_000, timeoutMs: 10_000 };
/** `sync` is what the user waits for: a few more retries, still bounded. */
export const SYNC_RETRIES: Partial<TransportOptions> = { maxRetries: 3, backoffFactorMs: 1_000, backoffJitterMs: 500, backoffMaxMs: 10_000, timeoutMs: 60_000 };

/** A URI fit for messages: user:password@ removed (the only place a URI carries credentials). */
export function redactUri(uri: string): string {
  try {
    const url = new URL(uri);
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return redactCredentials(uri);
  }
}

/**
 * A client for `target` with credentials from the environment (MLFLOW_TRACKING_TOKEN or
 * MLFLOW_TRACKING_USERNAME/PASSWORD), checked with one request: a wrong URI, a dead server or bad
 * credentials are a UserError naming the URI and the cause.
 */
export async function connectMlflow(
  target: MlflowTarget,
  options: { env?: NodeJS.ProcessEnv; retries: Partial<TransportOptions>; checkTimeoutMs?: number },
): Promise<MlflowClient> {
  const env = options.env ?? process.env;
  const shown = redactUri(target.uri);
  let client: MlflowClient;
  try {
    const { trackingUri: _ignored, ...fromEnv } = transportOptionsFromEnv(env);
    // Explicit retry settings in the environment (MLFLOW_HTTP_REQUEST_*) win over ours.
    client = new MlflowClient({ ...options.retries, ...fromEnv, trackingUri: target.uri });
  } catch (error) {
    throw new UserError(`MLflow tracking URI '${shown}' (${target.source}) is not usable: ${(error as Error).message}`);
  }
  try {
    await client.checkReachable(options.checkTimeoutMs ?? 5_000);
  } catch (error) {
    throw new UserError(`cannot use the MLflow tracking server at ${client.trackingUri} (${target.source}): ${(error as Error).message}`);
  }
  return client;
}
