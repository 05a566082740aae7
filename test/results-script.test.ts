// scripts/results.ts on a tiny real sweep: Fashion-MNIST sneakers, ReLU against LeakyReLU in D, 3 seeds each, 2
// epochs, evaluated every epoch with the classifier, background and dead-unit metrics. The raw data it writes
// equals the runs' metrics.jsonl; every number in its tables is recomputed here from that raw data with src/stats;
// reading the raw data back (--from) gives the same tables; the grids put real sneakers beside the generated ones.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import sharp from 'sharp';
import { loadDataset } from '../src/data/dataset.ts';
import { BASELINE_PREFIX } from '../src/eval/metrics.ts';
import { pairedTTest, signFlipTest, summarize, welchTTest, holm } from '../src/stats/tests.ts';
import { readMetrics, readRunConfig } from '../src/track/run-dir.ts';
import type { SweepManifest } from '../src/track/sweep-manifest.ts';
import { fashionMnistForTests } from './support/fashion-mnist.ts';
import { cliEnv, onlySweepDir, readManifest, runCli } from './support/sweep-cli.ts';
import { PROJECT_ROOT, tinyExperiment } from './support/tiny-config.ts';

const SCRIPT = join(PROJECT_ROOT, 'scripts/results.ts');
const ACTIVATION = 'model.discriminator.activation';
const FD = 'fd/fmnist-cnn/n20';

let dir: string;
let sweepDir: string;
let manifest: SweepManifest;
let env: NodeJS.ProcessEnv;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function results(args: string[]): Promise<Result> {
  // `--import tsx` as from the project root: the script runs in the sweep's folder.
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), SCRIPT, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** The rows of the first markdown table after the heading `### title`, as cells. */
function tableAfter(markdown: string, title: string): string[][] {
  const lines = markdown.split('\n');
  let at = lines.indexOf(`### ${title}`);
  assert.ok(at >= 0, `no section ${title} in\n${markdown}`);
  while (!lines[at]!.startsWith('|')) at++;
  const rows: string[][] = [];
  for (; at < lines.length && lines[at]!.startsWith('|'); at++) rows.push(lines[at]!.slice(2, -2).split(' | '));
  return [rows[0]!, ...rows.slice(2)];
}

/** The second table of a section (the comparison with the baseline). */
function comparisonAfter(markdown: string, title: string): string[][] {
  const section = markdown.slice(markdown.indexOf(`### ${title}\n`));
  const rest = section.slice(section.indexOf('\nAgainst '));
  return tableAfter(`### x\n${rest.slice(rest.indexOf('\n|'))}`, 'x');
}

// The script's number formats.
const num = (x: number) => (!Number.isFinite(x) ? '–' : x === 0 || Math.abs(x) >= 0.01 ? x.toFixed(3) : x.toExponential(2));
const pValue = (p: number) => (!Number.isFinite(p) ? '–' : p >= 0.001 ? p.toFixed(3) : p.toExponential(1));
const compact = (x: number) => Number(x.toPrecision(7));

interface RawRow {
  trial: string;
  seed: number;
  params: Record<string, unknown>;
  epoch: number;
  step: number;
  dReal: number;
  metrics: Record<string, number> | null;
}

before(async () => {
  const fashion = await fashionMnistForTests();
  // This process reads the same files (the grids test loads the dataset).
  Object.assign(process.env, fashion.env);
  // The project's cache: the classifier trained once for the test data is reused.
  env = cliEnv({ ...fashion.env, DCGAN_RUN_CACHE: join(PROJECT_ROOT, '.cache') });
  const experiment = `results-script-${Date.now()}`;
  const made = tinyExperiment({
    name: experiment,
    data: { source: { kind: 'fashionMnist', classes: [7] }, transforms: [{ kind: 'normalize', mean: [0.5], std: [0.5] }], batchSize: 16, limit: 48 },
    model: { latentDim: 8, imageSize: 28, generator: { blocks: 2, baseChannels: 4 }, discriminator: { blocks: 2, baseChannels: 4 } },
    train: {
      epochs: 2,
      samples: { count: 6 },
      checkpoint: { every: 2 },
      logEvery: 1,
      backend: 'cpu',
      report: false,
      eval: { every: 1, samples: 20, metrics: ['classifier', 'background', 'deadUnits'] },
    },
    sweep: { parallel: 2, parameters: { [ACTIVATION]: [{ kind: 'relu' }, { kind: 'leakyRelu', alpha: 0.2 }], seed: [0, 1, 2] } },
  });
  dir = made.dir;
  const run = await runCli(['run', made.file, '--quiet'], { cwd: dir, env });
  assert.equal(run.code, 0, `--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
  sweepDir = onlySweepDir(join(dir, 'runs'), experiment)!;
  manifest = readManifest(sweepDir);
  assert.deepEqual(
    manifest.trials.map((t) => t.status),
    Array(6).fill('finished'),
  );
});

describe('scripts/results.ts', () => {
  let markdown: string;
  let raw: RawRow[];

  test('writes the raw data: one row per trial and epoch, equal to the runs metrics.jsonl, as JSON lines and CSV', async () => {
    const out = await results([
      sweepDir,
      '--group',
      ACTIVATION,
      '--baseline',
      '{kind:relu}',
      '--jsonl',
      'out/raw.jsonl',
      '--csv',
      'out/raw.csv',
      '--trajectory',
      'dReal',
      '--trajectory',
      FD,
      '--plots',
      'out/plots',
      '--grids',
      'out/grids',
    ]);
    assert.equal(out.code, 0, out.stderr);
    markdown = out.stdout;
    raw = readFileSync(join(dir, 'out/raw.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RawRow);
    assert.equal(raw.length, 12, '6 trials x 2 epochs');
    for (const trial of manifest.trials) {
      const rows = raw.filter((r) => r.trial === trial.name);
      assert.deepEqual(
        rows.map((r) => r.epoch),
        [1, 2],
      );
      const config = readRunConfig(trial.runDir!);
      const records = readMetrics(trial.runDir!);
      for (const row of rows) {
        assert.equal(row.seed, config.seed);
        assert.deepEqual(row.params, trial.values);
        const epochLine = records.find((r) => r.type === 'epoch' && r.epoch === row.epoch)!;
        const evaluation = records.find((r) => r.type === 'eval' && r.epoch === row.epoch)!;
        assert.equal(row.step, epochLine.step);
        assert.equal(row.dReal, compact(epochLine.type === 'epoch' ? epochLine.dReal : NaN));
        assert.deepEqual(Object.keys(row.metrics!).sort(), Object.keys(evaluation.type === 'eval' ? evaluation.values : {}).sort());
        for (const [name, value] of Object.entries(evaluation.type === 'eval' ? evaluation.values : {})) assert.equal(row.metrics![name], compact(value), name);
      }
    }
    // The CSV: the same rows, every metric and floor a column.
    const [header, ...lines] = readFileSync(join(dir, 'out/raw.csv'), 'utf8').trim().split('\n');
    const columns = header!.split(',');
    assert.deepEqual(columns.slice(0, 10), ['trial', 'status', 'seed', 'params', 'epoch', 'step', 'lossD', 'lossG', 'dReal', 'dFake']);
    assert.ok(columns.includes(FD) && columns.includes(`${BASELINE_PREFIX}${FD}`) && columns.includes('class_hist/fmnist-cnn/n20/c7'));
    assert.equal(lines.length, 12);
    const last = lines[lines.length - 1]!;
    const rawLast = raw[raw.length - 1]!;
    // The params field is quoted JSON with commas; the numbers after it split cleanly.
    const numbers = last.slice(last.lastIndexOf('}"') + 3).split(',');
    assert.equal(Number(numbers[columns.indexOf(FD) - 4]), rawLast.metrics![FD]);
  });

  test("per arm: mean ± sd, the 95% t interval, the floor and the ratio to it, from the raw data's numbers", () => {
    const at2 = (arm: string) => raw.filter((r) => r.epoch === 2 && (r.params[ACTIVATION] as { kind: string }).kind === arm).sort((a, b) => a.seed - b.seed);
    const relu = at2('relu');
    const leaky = at2('leakyRelu');
    const rows = tableAfter(markdown, FD);
    assert.deepEqual(rows[0], [ACTIVATION, 'seeds', 'mean ± sd', '95% CI', 'floor', 'x floor (mean ± sd)', 'x floor 95% CI']);
    for (const [row, members] of [
      [rows[1]!, relu],
      [rows[2]!, leaky],
    ] as const) {
      const values = members.map((r) => r.metrics![FD]!);
      const floors = members.map((r) => r.metrics![`${BASELINE_PREFIX}${FD}`]!);
      const ratios = values.map((v, i) => v / floors[i]!);
      const s = summarize(values);
      const f = summarize(floors);
      const q = summarize(ratios);
      assert.deepEqual(row.slice(1), [
        '3',
        `${num(s.mean)} ± ${num(s.sd)}`,
        `[${num(s.low)}, ${num(s.high)}]`,
        `${num(f.mean)} ± ${num(f.sd)}`,
        `${num(q.mean)} ± ${num(q.sd)}`,
        `[${num(q.low)}, ${num(q.high)}]`,
      ]);
    }
    assert.deepEqual(
      rows.slice(1).map((r) => r[0]),
      ['{kind:relu}', '{kind:leakyRelu, alpha:0.2}'],
    );

    // Against the baseline, paired by seed: the paired t-test, the exact sign-flip test, d_z, Holm (one comparison: p itself), Welch.
    const compared = comparisonAfter(markdown, FD);
    const x = leaky.map((r) => r.metrics![FD]!);
    const y = relu.map((r) => r.metrics![FD]!);
    const t = pairedTTest(x, y);
    const flip = signFlipTest(x, y);
    assert.ok(flip.exact && flip.p >= 0.25, 'three pairs: 2/8 at best');
    const significant = holm([t.p])[0]! < 0.05;
    assert.deepEqual(compared[1], [
      '{kind:leakyRelu, alpha:0.2}',
      'value',
      '3',
      num(t.meanDiff),
      `[${num(t.low)}, ${num(t.high)}]`,
      pValue(t.p),
      pValue(flip.p),
      num(t.dz),
      pValue(t.p),
      pValue(flip.p),
      pValue(welchTTest(x, y).p),
      significant ? 't only' : 'no',
    ]);
    assert.equal(compared[2]![1], 'x floor');
    assert.match(markdown, /Note: with 3 pairs the exact sign-flip test cannot go below p = 0\.250/);
  });

  test('class histograms with class names, trajectories, and the tables again from the raw data alone', async () => {
    const histogram = tableAfter(markdown, 'Class histogram, class_hist/fmnist-cnn/n20');
    assert.deepEqual(histogram[0]!.slice(0, 4), [ACTIVATION, 'images', '0 T-shirt/top', '1 Trouser']);
    assert.equal(histogram[0]![9], '7 Sneaker');
    assert.deepEqual(
      histogram.slice(1).map((r) => r[1]),
      ['generated', 'real', 'generated', 'real'],
    );
    const realSneakers = raw
      .filter((r) => r.epoch === 2 && (r.params[ACTIVATION] as { kind: string }).kind === 'relu')
      .map((r) => r.metrics![`${BASELINE_PREFIX}class_hist/fmnist-cnn/n20/c7`]!);
    assert.equal(histogram[2]![9], num(summarize(realSneakers).mean));

    const trajectory = tableAfter(markdown, 'Trajectory: dReal');
    assert.deepEqual(trajectory[0], ['epoch', '{kind:relu}', '{kind:leakyRelu, alpha:0.2}']);
    const epoch1 = raw.filter((r) => r.epoch === 1 && (r.params[ACTIVATION] as { kind: string }).kind === 'relu').map((r) => r.dReal);
    const s = summarize(epoch1);
    assert.deepEqual(trajectory[1]!.slice(0, 2), ['1', `${num(s.mean)} ± ${num(s.sd)}`]);
    assert.equal(trajectory.length, 3);
    const plot = await sharp(join(dir, 'out/plots/trajectory-dReal.png')).metadata();
    assert.deepEqual([plot.format, plot.width], ['png', 800]);
    assert.ok(existsSync(join(dir, `out/plots/trajectory-${FD.replaceAll('/', '_')}.png`)));

    const again = await results([
      '--from',
      'out/raw.jsonl',
      '--group',
      ACTIVATION,
      '--baseline',
      '{kind:relu}',
      '--trajectory',
      'dReal',
      '--trajectory',
      FD,
      '--plots',
      'out/plots',
    ]);
    assert.equal(again.code, 0, again.stderr);
    const body = (text: string) => text.slice(text.indexOf('-->'));
    assert.equal(body(again.stdout), body(markdown));
  });

  test('grids: the last sample grid, and real images of the trial’s class beside it', async () => {
    const dataset = await loadDataset(readRunConfig(manifest.trials[0]!.runDir!).data, { cacheDir: join(PROJECT_ROOT, '.cache', 'data') });
    const size = 28 * 28;
    const sneakers = new Set(Array.from({ length: dataset.count }, (_, i) => Buffer.from(dataset.pixels.subarray(i * size, (i + 1) * size)).toString('hex')));
    for (const trial of manifest.trials) {
      const samples = readdirSync(join(trial.runDir!, 'samples')).sort();
      assert.deepEqual(readFileSync(join(dir, 'out/grids', `${trial.name}.png`)), readFileSync(join(trial.runDir!, 'samples', samples.at(-1)!)));
      // 6 real images in a row with 2-pixel gaps, each one of the class's training images (sneakers only).
      const { data, info } = await sharp(join(dir, 'out/grids', `${trial.name}-real.png`))
        .extractChannel(0)
        .raw()
        .toBuffer({ resolveWithObject: true });
      assert.deepEqual([info.width, info.height, info.channels], [6 * 30 + 2, 32, 1]);
      for (let k = 0; k < 6; k++) {
        const tile = Buffer.alloc(size);
        for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) tile[y * 28 + x] = data[(2 + y) * info.width + 2 + k * 30 + x]!;
        assert.ok(sneakers.has(tile.toString('hex')), `${trial.name}: real tile ${k} is a training sneaker`);
      }
      const side = await sharp(join(dir, 'out/grids', `${trial.name}-side.png`)).metadata();
      assert.ok(side.width! > 2 * info.width && side.height! > info.height);
    }
  });

  test('scripts/compare-runs.ts puts each distance beside its floor and its ratio to it', async () => {
    const [first, second] = manifest.trials;
    const child = spawn(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), join(PROJECT_ROOT, 'scripts/compare-runs.ts'), `a=${first!.runDir}`, `b=${second!.runDir}`, '--metrics', 'fd'],
      { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    assert.equal(await new Promise((resolve) => child.on('close', resolve)), 0);
    assert.match(stdout, new RegExp(`^\\| epoch \\| step \\| wall \\(min\\) \\| ${FD} \\| real_vs_real/${FD} \\| ${FD} x floor \\|$`, 'm'));
    const values = readMetrics(first!.runDir!).find((r) => r.type === 'eval' && r.epoch === 2)!;
    const v = values.type === 'eval' ? values.values : {};
    const row = stdout.split('\n').find((line) => line.startsWith('| 2 |'))!;
    assert.deepEqual(row.slice(2, -2).split(' | ').slice(3, 6), [
      v[FD]!.toFixed(3),
      v[`${BASELINE_PREFIX}${FD}`]!.toFixed(3),
      (v[FD]! / v[`${BASELINE_PREFIX}${FD}`]!).toFixed(3),
    ]);
  });

  test('the older command lines still work; a wrong baseline or group is a clear error', async () => {
    const old = await results([sweepDir, '--group', ACTIVATION, '--metrics', 'fd,class_share', '--floors', 'fd,class_share']);
    assert.equal(old.code, 0, old.stderr);
    assert.match(old.stdout, new RegExp(`^\\| ${ACTIVATION.replaceAll('.', '\\.')} \\| trials \\| lossD \\| lossG \\| dReal \\| dFake \\| ${FD} \\|`, 'm'));
    assert.match(old.stdout, /^\| 000-activation=relu,seed=0 \| 0 \| 2 \| /m);
    // Grouped by the class: one arm, named by the class.
    const byClass = await results([sweepDir, '--group', 'data.source.classes', '--metrics', 'fd']);
    assert.equal(byClass.code, 0, byClass.stderr);
    assert.match(byClass.stdout, /^\| 7 Sneaker \| 6 \| /m);
    const wrong = await results([sweepDir, '--group', ACTIVATION, '--baseline', 'tanh']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /--baseline tanh: no such arm; the arms are '\{kind:relu\}', '\{kind:leakyRelu, alpha:0\.2\}'/);
    const missing = await results(['--from', 'out/raw.jsonl', '--group', 'train.loss']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /has no value for train\.loss/);
  });
});
