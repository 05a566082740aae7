// Where fetched datasets live: $DCGAN_RUN_DATA, else the platform's user cache folder (~/.cache/dcgan-run/datasets
// on Linux, ~/Library/Caches/dcgan-run/datasets on macOS, %LOCALAPPDATA%\dcgan-run\Cache\datasets on Windows).
import { join, resolve } from 'node:path';
import envPaths from 'env-paths';

export const DATA_DIR_ENV = 'DCGAN_RUN_DATA';

export function dataRoot(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env[DATA_DIR_ENV];
  return chosen ? resolve(chosen) : join(envPaths('dcgan-run', { suffix: '' }).cache, 'datasets');
}
