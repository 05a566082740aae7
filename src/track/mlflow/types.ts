/** Shapes of the MLflow 3.x REST API (JSON field names as the server sends them). */

export type MlflowRunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface KeyValue {
  key: string;
  value: string;
}

export interface MlflowExperiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time?: number;
  last_update_time?: number;
  tags?: KeyValue[];
}

export interface MlflowRunInfo {
  run_id: string;
  run_name?: string;
  experiment_id: string;
  user_id?: string;
  status: MlflowRunStatus;
  start_time?: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: string;
}

/** A metric as read back: the server sends NaN as "NaN"; we decode it to a number. */
export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface MlflowRunData {
  metrics: Metric[];
  params: KeyValue[];
  tags: KeyValue[];
}

export interface MlflowRun {
  info: MlflowRunInfo;
  data: MlflowRunData;
}

export interface FileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/** A metric to log; `timestamp` is epoch milliseconds. */
export interface MetricInput {
  key: string;
  value: number;
  timestamp: number;
  step?: number;
}
