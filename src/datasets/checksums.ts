// MD5 sums: of files on disk, and the sums a file must have. Tests serve copies that are not the official
// files; DCGAN_RUN_TEST_CHECKSUMS names an md5sum-style list ("<md5>  <dataset>/<file>" per line) that
// replaces the pinned sums for the files it lists. It is for tests only: users never need it.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { UserError } from '../errors.ts';
import type { IdxDataset } from './catalog.ts';

export const CHECKSUMS_OVERRIDE_ENV = 'DCGAN_RUN_TEST_CHECKSUMS';

/** "<dataset>/<file>" -> MD5. */
export type ChecksumOverride = Map<string, string>;

export async function md5OfFile(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The override named by $DCGAN_RUN_TEST_CHECKSUMS, or undefined when it is not set. */
export function checksumOverrideFromEnv(env: NodeJS.ProcessEnv = process.env): ChecksumOverride | undefined {
  const file = env[CHECKSUMS_OVERRIDE_ENV];
  return file ? readChecksumOverride(file) : undefined;
}

export function readChecksumOverride(file: string): ChecksumOverride {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserError(`${CHECKSUMS_OVERRIDE_ENV}: cannot read ${file} (${(error as Error).message})`);
  }
  const sums: ChecksumOverride = new Map();
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const match = /^([0-9a-f]{32}) [ *](\S+\/\S+)$/.exec(line.trim());
    if (!match) throw new UserError(`${file}:${index + 1}: expected "<md5>  <dataset>/<file>", got "${line.trim()}"`);
    sums.set(match[2], match[1]);
  });
  return sums;
}

/** The MD5 that `file` of `dataset` must have. */
export function expectedMd5(dataset: IdxDataset, file: string, override?: ChecksumOverride): string {
  return override?.get(`${dataset.name}/${file}`) ?? dataset.md5[file];
}
