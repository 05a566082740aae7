// The project's cache: decoded datasets (data) and trained classifiers (classifiers), in $DCGAN_RUN_CACHE or
// .cache/ in the folder a command runs from. Named datasets' files live in the data cache (src/datasets/location.ts).
import { join, resolve } from 'node:path';

export const CACHE_DIR_ENV = 'DCGAN_RUN_CACHE';

export function cacheFolder(kind: 'data' | 'classifiers', env: NodeJS.ProcessEnv = process.env): string {
  return join(resolve(env[CACHE_DIR_ENV] ?? '.cache'), kind);
}
