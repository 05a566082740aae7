// The CLI as a user runs it: `dcgan-run validate` and `dcgan-run plan`, spawned from the project root.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../src/config/diagnostics.ts';
import { loadExperiment } from '../src/config/load-experiment.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VALID = 'configs/pokemon.yaml';
const UNKNOWN_KEY = 'test/fixtures/config/invalid/05-unknown-top-level-key.yaml';
const SEVERAL = 'test/fixtures/config/invalid/56-several-schema-problems.yaml';
const SWEEP = 'test/fixtures/config/sweep-grid.yaml';
const INVALID = 'test/fixtures/config/invalid';

function cli(...args: string[]) {
  // A hang (reading a FIFO) ends in the timeout's error, which fails the test.
  const result = spawnSync(process.execPath, ['bin/dcgan-run.js', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** What loadExperiment says about a file, as the CLI should print it (paths relative to the project root). */
function formatted(file: string): string {
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    loadExperiment(file);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  } finally {
    process.chdir(cwd);
  }
  assert.fail(`${file} is valid`);
}

function assertNoStackTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /^ {4}at /m, 'a stack trace line');
  assert.doesNotMatch(stderr, /^\w*Error:/m, 'an "Error:" prefix');
  assert.doesNotMatch(stderr, /\bConfigError\b|\bUserError\b/, 'an error class name');
}

describe('dcgan-run validate', () => {
  test('a valid file: exit 0, "ok", nothing on stderr', () => {
    const { code, stdout, stderr } = cli('validate', VALID);
    assert.equal(stderr, '');
    assert.equal(stdout, `${VALID}: ok\n`);
    assert.equal(code, 0);
  });

  test('one valid and two invalid files: exit 2, the diagnostics of both invalid files, no stack trace', () => {
    const { code, stdout, stderr } = cli('validate', VALID, UNKNOWN_KEY, SEVERAL);
    assert.equal(code, 2);
    assert.equal(stdout, `${VALID}: ok\n`);
    assert.equal(stderr, `${formatted(UNKNOWN_KEY)}\n${formatted(SEVERAL)}\n2 of 3 files invalid\n`);
    // Spelled out, so a change to the formatting shows here too.
    assert.ok(
      stderr.startsWith(
        [
          `${UNKNOWN_KEY}:29:1: unknown key "trian" at the top level; did you mean "train"?`,
          '  29 | trian:',
          '     | ^^^^^',
          '1 error',
          `${SEVERAL}:16:3: unknown key "batch_size" in data; did you mean "batchSize"?`,
        ].join('\n'),
      ),
      stderr,
    );
    assert.match(stderr, /^4 errors$/m);
    assertNoStackTrace(stderr);
  });

  test('a YAML syntax error and an error in an extended file are reported the same way', () => {
    const yaml = 'test/fixtures/config/invalid/02-yaml-unclosed-quote.yaml';
    const base = 'test/fixtures/config/invalid/55-error-in-base-file.yaml';
    const { code, stderr } = cli('validate', yaml, base);
    assert.equal(code, 2);
    assert.equal(stderr, `${formatted(yaml)}\n${formatted(base)}\n2 of 2 files invalid\n`);
    assert.match(stderr, /^test\/fixtures\/config\/extends\/broken-base\.yaml:12:44: /m);
    assertNoStackTrace(stderr);
  });

  test('a file that does not exist: exit 2, one line, no stack trace', () => {
    const { code, stderr } = cli('validate', 'configs/no-such-file.yaml');
    assert.equal(code, 2);
    assert.equal(stderr, 'configs/no-such-file.yaml: no such config file\n1 of 1 file invalid\n');
    assertNoStackTrace(stderr);
  });
});

describe('dcgan-run validate: inputs that are not configs, or that would exhaust memory', () => {
  test('a FIFO, a directory, /dev/zero, an alias bomb, a non-config file and a million-trial grid: exit 2 at once, no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcgan-run-cli-inputs-'));
    const fifo = join(dir, 'pipe.yaml');
    execFileSync('mkfifo', [fifo]);
    mkdirSync(join(dir, 'folder'));
    const { code, stdout, stderr } = cli(
      'validate',
      fifo,
      join(dir, 'folder'),
      '/dev/zero',
      `${INVALID}/75-yaml-alias-bomb.yaml`,
      `${INVALID}/78-extends-not-a-config.yaml`,
      `${INVALID}/81-sweep-too-many-trials.yaml`,
    );
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, new RegExp(`^${fifo}: is a named pipe \\(FIFO\\), not a config file$`, 'm'));
    assert.match(stderr, new RegExp(`^${dir}/folder: is a directory, not a config file$`, 'm'));
    assert.match(stderr, /^\/dev\/zero: is a device, not a config file$/m);
    assert.match(stderr, /^test\/fixtures\/config\/invalid\/75-yaml-alias-bomb\.yaml:5:14: YAML aliases here expand to more than 100 copies/m);
    assert.match(stderr, /^test\/fixtures\/config\/invalid\/78-extends-not-a-config\.yaml:4:10: extends \.\.\/extends\/shadow-like: not an experiment file/m);
    assert.match(stderr, /^test\/fixtures\/config\/invalid\/81-sweep-too-many-trials\.yaml:37:3: the grid makes 1,000,000 trials/m);
    assert.match(stderr, /^6 of 6 files invalid$/m);
    for (const line of readFileSync('test/fixtures/config/extends/shadow-like', 'utf8').trim().split('\n'))
      assert.ok(!stderr.includes(line.slice(0, 12)), line);
    assertNoStackTrace(stderr);
  });
});

describe('dcgan-run plan', () => {
  test('--set train.epochs=2: the resolved config, both networks with their parameter counts, Runs: 1', () => {
    const { code, stdout, stderr } = cli('plan', VALID, '--set', 'train.epochs=2');
    assert.equal(code, 0, stderr);
    const [resolved] = stdout.split('\n# Generator');
    assert.ok(resolved.startsWith('# Resolved config (defaults filled)\n'));
    const config = parseYaml(resolved) as { name: string; train: { epochs: number; optimizers: { generator: { learningRate: number } } } };
    assert.equal(config.name, 'pokemon-dcgan');
    assert.equal(config.train.epochs, 2);
    assert.equal(config.train.optimizers.generator.learningRate, 0.005);
    assert.match(stdout, /^ {2}epochs: 2$/m);
    // The lesson's nets in PyTorch (test/parity/lesson_dcgan.py, sum(p.numel())): net_G 3,576,704 trainable,
    // net_D 2,765,696; each also has 1,920 batch-norm running statistics (2 x 960 channels).
    assert.match(stdout, /^# Generator \(RGB 64x64\)$/m);
    assert.match(stdout, /^Total params: 3,578,624 \(trainable 3,576,704, non-trainable 1,920\)$/m);
    assert.match(stdout, /^# Discriminator \(RGB 64x64\)$/m);
    assert.match(stdout, /^Total params: 2,767,616 \(trainable 2,765,696, non-trainable 1,920\)$/m);
    assert.match(stdout, /^g_block1_convT +Conv2DTranspose +\[batch, 4, 4, 512\] +819,200$/m);
    assert.match(stdout, /^d_out_conv +Conv2D +\[batch, 1, 1, 1\] +8,192$/m);
    assert.match(stdout, /^# Runs: 1 \(no sweep\)$/m);
    assertNoStackTrace(stderr);
  });

  test('a sweep config: the number of trials and each trial', () => {
    const { code, stdout, stderr } = cli('plan', SWEEP);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^# Sweep: grid, 4 trials, 1 at a time$/m);
    const trials = stdout.split('# Sweep:')[1].trim().split('\n').slice(1);
    assert.equal(trials.length, 4, stdout);
    assert.doesNotMatch(stdout, /# Runs: 1/);
  });

  test('a bad override: exit 2 and the argument named, no stack trace', () => {
    const { code, stdout, stderr } = cli('plan', VALID, '--set', 'train.epochs=abc');
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.equal(stderr, 'argument train.epochs=abc: train.epochs must be an integer, got a string ("abc")\n1 error\n');
  });

  test('a sweep whose values are invalid together: exit 2, the trial and its values named', () => {
    const { code, stdout, stderr } = cli('plan', `${INVALID}/80-sweep-combination-invalid.yaml`);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(
      stderr,
      /:37:3: sweep trial 0 of 4 \(model\.generator\.blocks=3, model\.generator\.channels=\[512,256,128,64\], seed=0\): model\.generator\.channels lists 4 values but model\.generator\.blocks is 3/,
    );
    assertNoStackTrace(stderr);
  });

  test('a sweep of 1,000 trials: the count and the first 20; a password in the MLflow URI is not printed', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dcgan-run-plan-')), 'big-sweep.yaml');
    const values = (n: number) => `[${Array.from({ length: n }, (_, i) => i + 1).join(', ')}]`;
    writeFileSync(file, `extends: ${join(ROOT, VALID)}\nsweep:\n  parameters:\n    seed: ${values(100)}\n    train.epochs: ${values(10)}\n`);
    const { code, stdout, stderr } = cli('plan', file, '--set', 'tracking.mlflow.uri=http://bob:hunter2@mlflow.example:5000');
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^# Sweep: grid, 1000 trials, 1 at a time$/m);
    const listed = stdout.split('# Sweep:')[1].trim().split('\n').slice(1);
    assert.equal(listed.length, 21, stdout);
    assert.match(listed[0], /^ {2}000-seed=1,epochs=1: seed=1 {2}train\.epochs=1$/);
    assert.equal(listed[20], '  ... and 980 more');
    assert.match(stdout, /^ {4}uri: http:\/\/mlflow\.example:5000$/m);
    assert.doesNotMatch(stdout, /hunter2/);
  });
});

describe('dcgan-run eval --metrics', () => {
  /** A run directory with just its config (written as a run writes it): the metrics are checked before anything loads. */
  const runWith = (configFile: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'dcgan-run-eval-metrics-'));
    writeFileSync(join(dir, 'config.yaml'), readFileSync(join(ROOT, configFile), 'utf8'));
    return dir;
  };

  test('a name train.eval.metrics does not take, perClass without classifier, classifier on unlabelled data: exit 2, one line each, no stack trace', () => {
    const fashion = runWith('configs/fashion-mnist.yaml');
    const cases: [string, string, string][] = [
      [fashion, 'classifier,perclass', '--metrics: no metric perclass; there are patches, classifier, background, deadUnits, perClass'],
      [fashion, 'patches,perClass', "--metrics: train.eval.metrics: perClass is measured on the classifier's features: add classifier"],
      [fashion, ' , ', '--metrics: none given; there are patches, classifier, background, deadUnits, perClass'],
      [
        runWith(VALID),
        'classifier',
        '--metrics: train.eval.metrics: classifier needs a labelled data source: fashionMnist, mnist, or idx with labels (the classifier is trained on its training split); use patches for image folders',
      ],
    ];
    for (const [dir, metrics, message] of cases) {
      const { code, stderr } = cli('eval', dir, '--metrics', metrics);
      assert.equal(code, 2, stderr);
      assert.equal(stderr.trim(), message);
    }
  });
});
