// Wall time of a 12-trial sweep of small real trials over the Redis queue: 1 worker against 3 local workers.
// node --import tsx scripts/bench-queue.ts [--epochs N]   (needs Debian's redis-server; prints a table)
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { startRedisServer } from '../test/support/redis-server.ts';
import { runCli, startCli } from '../test/support/sweep-cli.ts';
import { POKEMON_ROOT } from '../test/support/tiny-config.ts';

const { values } = parseArgs({ options: { epochs: { type: 'string', default: '3' } } });
const epochs = Number(values.epochs);

async function sweepSeconds(workers: number): Promise<number> {
  const redis = await startRedisServer();
  const dir = mkdtempSync(join(tmpdir(), 'dcgan-run-bench-queue-'));
  const experiment = {
    name: `bench-queue-${workers}`,
    seed: 7,
    data: {
      source: { kind: 'imageFolder', root: POKEMON_ROOT },
      transforms: [{ kind: 'flatten' }, { kind: 'resize', size: [16, 16] }, { kind: 'normalize', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }],
      batchSize: 16,
      limit: 128,
    },
    model: { latentDim: 16, imageSize: 16, generator: { blocks: 2, baseChannels: 8 }, discriminator: { blocks: 2, baseChannels: 8 } },
    train: { epochs, samples: { count: 4, every: 1000 }, checkpoint: { every: 1 }, logEvery: 1, backend: 'cpu', report: false },
    tracking: { runsDir: 'runs' },
    sweep: { parameters: { seed: [1, 2, 3, 4], 'train.optimizers.generator.learningRate': [0.0002, 0.0005, 0.001] } },
  };
  writeFileSync(join(dir, 'bench.yaml'), stringify(experiment));
  const pool = Array.from({ length: workers }, () => startCli(['worker', '--queue', redis.url], { cwd: dir }));
  const started = Date.now();
  const result = await runCli(['run', 'bench.yaml', '--queue', redis.url, '--quiet'], { cwd: dir });
  const seconds = (Date.now() - started) / 1000;
  for (const worker of pool) worker.child.kill('SIGTERM');
  await Promise.all(pool.map((worker) => worker.done));
  await redis.stop();
  if (result.code !== 0) throw new Error(`the sweep with ${workers} worker(s) exited ${result.code}:\n${result.stderr}`);
  return seconds;
}

const one = await sweepSeconds(1);
const three = await sweepSeconds(3);
process.stdout.write(
  `12 trials (16x16 sprites, ${epochs} epochs, cpu backend), ${process.env.HOSTNAME ?? 'this machine'}\n` +
    `workers  wall time\n1        ${one.toFixed(1)} s\n3        ${three.toFixed(1)} s  (${(one / three).toFixed(2)}x)\n`,
);
