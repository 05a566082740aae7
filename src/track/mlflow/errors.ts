/** Any failure talking to an MLflow tracking server (or a request rejected before sending). */
export class MlflowError extends Error {
  override readonly name = 'MlflowError';
  /** HTTP status; undefined when no response was received or the request was rejected client-side. */
  readonly status: number | undefined;
  /** MLflow `error_code` (e.g. RESOURCE_DOES_NOT_EXIST), or NETWORK_ERROR / TIMEOUT / HTTP_<status>. */
  readonly errorCode: string;
  /** e.g. "POST runs/log-batch". */
  readonly endpoint: string;
  /** How many HTTP attempts were made (0 when rejected before sending). */
  readonly attempts: number;

  constructor(init: { endpoint: string; errorCode: string; message: string; status?: number; attempts?: number; cause?: unknown }) {
    const what = init.status === undefined ? init.errorCode : `HTTP ${init.status} ${init.errorCode}`;
    super(`MLflow ${init.endpoint} failed (${what}): ${init.message}`, { cause: init.cause });
    this.status = init.status;
    this.errorCode = init.errorCode;
    this.endpoint = init.endpoint;
    this.attempts = init.attempts ?? 0;
  }
}

export function isMlflowError(e: unknown, errorCode?: string): e is MlflowError {
  return e instanceof MlflowError && (errorCode === undefined || e.errorCode === errorCode);
}
