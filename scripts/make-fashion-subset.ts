// Writes test/fixtures/fashion-mnist-subset/: the first N images of each split of a Fashion-MNIST folder, in
// the same gzip'd IDX format and under the official names, so the tests have real images without the full set.
//   node --import tsx scripts/make-fashion-subset.ts <fashion-mnist-dir> [--train 3000] [--test 2000]
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { train: { type: 'string', default: '3000' }, test: { type: 'string', default: '2000' } },
});
if (positionals.length !== 1) throw new Error('usage: make-fashion-subset.ts <fashion-mnist-dir> [--train N] [--test N]');
const from = resolve(positionals[0]);
const out = resolve(import.meta.dirname, '../test/fixtures/fashion-mnist-subset');
mkdirSync(out, { recursive: true });

/** The header with its count set to `count`, then the first `count` records. */
function firstRecords(file: string, count: number, headerBytes: number, recordBytes: number): Buffer {
  const bytes = gunzipSync(readFileSync(join(from, file)));
  const header = Buffer.from(bytes.subarray(0, headerBytes));
  header.writeUInt32BE(count, 4);
  return Buffer.concat([header, bytes.subarray(headerBytes, headerBytes + count * recordBytes)]);
}

const sums: string[] = [];
for (const [prefix, count] of [
  ['train', Number(values.train)],
  ['t10k', Number(values.test)],
] as const) {
  for (const [kind, header, record] of [
    ['images-idx3', 16, 784],
    ['labels-idx1', 8, 1],
  ] as const) {
    const file = `${prefix}-${kind}-ubyte.gz`;
    const gz = gzipSync(firstRecords(file, count, header, record), { level: 9 });
    writeFileSync(join(out, file), gz);
    sums.push(`${createHash('md5').update(gz).digest('hex')}  ${file}`);
  }
}
writeFileSync(join(out, 'MD5SUMS'), `${sums.join('\n')}\n`);
console.log(`wrote ${out}:\n${sums.join('\n')}`);
