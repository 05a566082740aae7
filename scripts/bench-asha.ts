// What ASHA saves on a real sweep: the same 12-trial grid of small real trials (16x16 sprites, the patch SWD
// evaluated every epoch) run in full and with `sweep.earlyStop: asha`, counting trial-epochs trained and
// comparing the best trial of each (its name and objective: a trial ASHA keeps runs as in the full grid).
// node --import tsx scripts/bench-asha.ts [--epochs N] [--parallel N] [--reduction-factor N] [--workers N]   (prints a table)
// --workers N runs both sweeps over a Redis queue (Debian's redis-server) with N local workers instead of --parallel.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import type { SweepManifest } from '../src/track/sweep-manifest.ts';
import { startRedisServer } from '../test/support/redis-server.ts';
import { onlySweepDir, readManifest, runCli, startCli } from '../test/support/sweep-cli.ts';
import { POKEMON_ROOT } from '../test/support/tiny-config.ts';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '8' },
    parallel: { type: 'string', default: '2' },
    'reduction-factor': { type: 'string', default: '3' },
    workers: { type: 'string' },
  },
});
const epochs = Number(values.epochs);
const parallel = Number(values.parallel);
const reductionFactor = Number(values['reduction-factor']);
const workers = values.workers === undefined ? undefined : Number(values.workers);
const METRIC = 'swd/patch7/n200/avg';

interface SweepOutcome {
  seconds: number;
  manifest: SweepManifest;
}

async function runSweep(name: string, earlyStop: Record<string, unknown> | undefined): Promise<SweepOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'dcgan-run-bench-asha-'));
  const experiment = {
    name,
    seed: 7,
    data: {
      source: { kind: 'imageFolder', root: POKEMON_ROOT },
      transforms: [{ kind: 'flatten' }, { kind: 'resize', size: [16, 16] }, { kind: 'normalize', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }],
      batchSize: 32,
      limit: 512,
    },
    model: { latentDim: 16, imageSize: 16, generator: { blocks: 2, baseChannels: 16 }, discriminator: { blocks: 2, baseChannels: 16 } },
    train: {
      epochs,
      samples: { count: 4, every: 1000 },
      checkpoint: { every: 1 },
      logEvery: 1,
      backend: 'tensorflow',
      report: false,
      eval: { every: 1, samples: 200, metrics: ['patches'] },
    },
    tracking: { runsDir: 'runs' },
    sweep: {
      parallel,
      objective: { metric: METRIC, mode: 'min' },
      ...(earlyStop ? { earlyStop } : {}),
      parameters: { seed: [1, 2, 3], 'train.optimizers.generator.learningRate': [0.0002, 0.001, 0.005, 0.05] },
    },
  };
  writeFileSync(join(dir, 'bench.yaml'), stringify(experiment));
  const redis = workers ? await startRedisServer() : undefined;
  const pool = redis ? Array.from({ length: workers! }, () => startCli(['worker', '--queue', redis.url], { cwd: dir })) : [];
  const started = Date.now();
  const result = await runCli(['run', 'bench.yaml', '--quiet', ...(redis ? ['--queue', redis.url] : [])], { cwd: dir });
  const seconds = (Date.now() - started) / 1000;
  for (const worker of pool) worker.child.kill('SIGTERM');
  await Promise.all(pool.map((worker) => worker.done));
  await redis?.stop();
  if (result.code !== 0) throw new Error(`the ${name} sweep exited ${result.code}:\n${result.stderr}`);
  return { seconds, manifest: readManifest(onlySweepDir(join(dir, 'runs'), name)!) };
}

function trialEpochs(manifest: SweepManifest): number {
  return manifest.trials.reduce((sum, trial) => sum + (trial.epochsDone ?? 0), 0);
}

/** The objective at a run's last evaluation, from its metrics.jsonl. */
function lastObjective(runDir: string): number {
  const evals = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.includes('"type":"eval"'))
    .map((line) => JSON.parse(line) as { values: Record<string, number> });
  return evals.at(-1)?.values[METRIC] ?? Number.NaN;
}

/** The finished trial with the lowest objective at its last evaluation. */
function best(manifest: SweepManifest): { name: string; value: number } {
  const finished = manifest.trials.filter((t) => t.status === 'finished').map((t) => ({ name: t.name, value: lastObjective(t.runDir!) }));
  return finished.reduce((a, b) => (b.value < a.value ? b : a));
}

const full = await runSweep('bench-full-grid', undefined);
const asha = await runSweep('bench-asha', { kind: 'asha', minEpochs: 1, reductionFactor });
const fullBest = best(full.manifest);
const ashaBest = best(asha.manifest);
const statuses = (m: SweepManifest) => m.trials.map((t) => `${t.name}: ${t.status} after ${t.epochsDone ?? 0}`).join('\n  ');
process.stdout.write(
  `12 trials (16x16 sprites, ${epochs} epochs, ${METRIC} every epoch, tensorflow backend, ${workers ? `${workers} workers over Redis` : `${parallel} at a time`}), ASHA minEpochs 1, reductionFactor ${reductionFactor}\n` +
    `sweep       trial-epochs  wall time  pruned  best trial (${METRIC})\n` +
    `full grid   ${String(trialEpochs(full.manifest)).padEnd(12)}  ${full.seconds.toFixed(1).padStart(7)} s  ${'0'.padEnd(6)}  ${fullBest.name} ${fullBest.value.toFixed(4)}\n` +
    `asha        ${String(trialEpochs(asha.manifest)).padEnd(12)}  ${asha.seconds.toFixed(1).padStart(7)} s  ${String(asha.manifest.trials.filter((t) => t.status === 'pruned').length).padEnd(6)}  ${ashaBest.name} ${ashaBest.value.toFixed(4)}\n` +
    `compute saved: ${(100 * (1 - trialEpochs(asha.manifest) / trialEpochs(full.manifest))).toFixed(0)}% of trial-epochs, ${(full.seconds / asha.seconds).toFixed(2)}x wall time; ` +
    `best trial ${fullBest.name === ashaBest.name && fullBest.value === ashaBest.value ? 'unchanged' : 'CHANGED'}\n` +
    `asha trials:\n  ${statuses(asha.manifest)}\n`,
);
