export { MlflowClient, encodeArtifactPath, type CreateRunOptions, type MlflowClientOptions, type SearchRunsOptions } from './client.ts';
export { MlflowError, isMlflowError } from './errors.ts';
export {
  HttpTransport,
  RETRY_STATUS_CODES,
  backoffDelayMs,
  parseRetryAfterMs,
  transportOptionsFromEnv,
  type RetryEvent,
  type TransportOptions,
} from './http.ts';
export {
  MLFLOW_LIMITS,
  splitLogBatch,
  normalizeBatch,
  encodeMetricValue,
  decodeMetricValue,
  truncateCodePoints,
  type BatchLimits,
  type LogBatchBody,
  type LogBatchInput,
} from './batch.ts';
export {
  imageArtifacts,
  imageArtifactStem,
  previewSize,
  validateImageKey,
  LOGGED_IMAGES_TAG,
  LOGGED_IMAGES_TAG_VALUE,
  COMPRESSED_IMAGE_SIZE,
  COMPRESSED_IMAGE_QUALITY,
  type ImageArtifact,
  type LoggedImage,
} from './images.ts';
export type * from './types.ts';
