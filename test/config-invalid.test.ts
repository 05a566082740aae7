// Every file in test/fixtures/config/invalid/ is a test: its leading `# expect:` comment lines say which
// diagnostics loading it must give, in the order they are reported:
//
//   # expect: LINE:COL: exact message
//   # expect: LINE:COL: ~distinctive substring of the message
//   # expect: other-file.yaml:LINE:COL: message     (a diagnostic in another file, e.g. an extended base)
//
// Adding a fixture adds a test.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../src/config/diagnostics.ts';
import { loadExperiment } from '../src/config/load-experiment.ts';
import { UserError } from '../src/errors.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/config/invalid/', import.meta.url));
const EXPECT = /^# expect: (?:(?<file>[^\s:]+\.ya?ml):)?(?<line>\d+):(?<col>\d+): (?<message>.+)$/;

interface Expectation {
  file: string;
  line: number;
  col: number;
  /** Exact text, or with `substring` a part of it. */
  message: string;
  substring: boolean;
}

function expectations(fixture: string): Expectation[] {
  const lines = readFileSync(join(FIXTURES, fixture), 'utf8').split('\n');
  const header = lines.slice(
    0,
    lines.findIndex((line) => !line.startsWith('#')),
  );
  return header
    .filter((line) => line.startsWith('# expect:'))
    .map((line) => {
      const match = EXPECT.exec(line);
      assert.ok(match?.groups, `${fixture}: malformed expectation line: ${line}`);
      const { file, message } = match.groups;
      const substring = message.startsWith('~');
      return {
        file: file ?? fixture,
        line: Number(match.groups.line),
        col: Number(match.groups.col),
        message: substring ? message.slice(1) : message,
        substring,
      };
    });
}

function load(file: string): ConfigError {
  try {
    loadExperiment(file);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  assert.fail(`${basename(file)} loaded without errors`);
}

const fixtures = readdirSync(FIXTURES)
  .filter((name) => /\.ya?ml$/.test(name))
  .sort();

describe('invalid configs report every problem at its position', () => {
  // The env fixture needs this variable to be unset.
  delete process.env.DCGAN_TEST_UNSET_VAR;

  test('there are enough fixtures, each with expectations', () => {
    assert.ok(fixtures.length >= 32, `only ${fixtures.length} fixtures`);
    for (const fixture of fixtures) assert.ok(expectations(fixture).length > 0, `${fixture} has no "# expect:" line`);
  });

  for (const fixture of fixtures) {
    test(fixture, () => {
      const expected = expectations(fixture);
      const { diagnostics } = load(join(FIXTURES, fixture));
      const actual = diagnostics.map(({ origin, message }, index) => {
        assert.equal(origin.kind, 'file', `${fixture}: diagnostic ${index + 1} (${message}) has no file position`);
        if (origin.kind !== 'file') throw new Error('unreachable');
        // Compare a substring expectation by its text, so a mismatch still shows both lists in full.
        const want = expected[index];
        const shown = want?.substring && message.includes(want.message) ? want.message : message;
        return `${basename(origin.file)}:${origin.line}:${origin.col}: ${shown}`;
      });
      assert.deepEqual(
        actual,
        expected.map((e) => `${e.file}:${e.line}:${e.col}: ${e.message}`),
      );
    });
  }
});

describe('the formatted error message', () => {
  const display = (fixture: string) => relative(process.cwd(), join(FIXTURES, fixture));

  test('file:line:col: message, the source line, and a caret under the value', () => {
    const fixture = '26-beta1-one.yaml';
    assert.equal(
      load(join(FIXTURES, fixture)).message,
      [
        `${display(fixture)}:32:62: train.optimizers.generator.beta1 must be < 1, got 1`,
        '  32 |     generator:     { kind: adam, learningRate: 0.005, beta1: 1, beta2: 0.999 }',
        '     |                                                              ^',
        '1 error',
      ].join('\n'),
    );
  });

  test('several problems: each with its excerpt, carets as wide as the offending text, then the count', () => {
    const fixture = '56-several-schema-problems.yaml';
    const file = display(fixture);
    assert.equal(
      load(join(FIXTURES, fixture)).message,
      [
        `${file}:16:3: unknown key "batch_size" in data; did you mean "batchSize"?`,
        '  16 |   batch_size: 256',
        '     |   ^^^^^^^^^^',
        `${file}:30:43: model.discriminator.activation.alpha must be <= 1, got 1.5`,
        '  30 |     activation: { kind: leakyRelu, alpha: 1.5 }',
        '     |                                           ^^^',
        `${file}:36:48: train.optimizers.discriminator.learningRate must be > 0, got -0.005`,
        '  36 |     discriminator: { kind: adam, learningRate: -0.005, beta1: 0.5, beta2: 0.999 }',
        '     |                                                ^^^^^^',
        `${file}:39:12: train.backend must be one of: auto, webgpu, tensorflow, wasm, cpu; got "gpu" (there is no gpu backend: "webgpu" runs on a GPU through Vulkan; "tensorflow" runs TensorFlow's native kernels, built by \`dcgan-run setup tensorflow\`)`,
        '  39 |   backend: gpu',
        '     |            ^^^',
        '4 errors',
      ].join('\n'),
    );
  });

  test('a tab in the source line is kept in the caret line, so the caret stays under the spot', () => {
    const fixture = '71-tab-before-value.yaml';
    assert.equal(
      load(join(FIXTURES, fixture)).message,
      [
        `${display(fixture)}:36:12: train.backend must be one of: auto, webgpu, tensorflow, wasm, cpu; got "gpu" (there is no gpu backend: "webgpu" runs on a GPU through Vulkan; "tensorflow" runs TensorFlow's native kernels, built by \`dcgan-run setup tensorflow\`)`,
        '  36 |   backend:\tgpu',
        `     | ${' '.repeat('  backend:'.length)}\t^^^`,
        '1 error',
      ].join('\n'),
    );
  });

  test('an error in an extended file names that file', () => {
    const message = load(join(FIXTURES, '55-error-in-base-file.yaml')).message;
    const base = relative(process.cwd(), join(FIXTURES, '..', 'extends', 'broken-base.yaml'));
    assert.equal(
      message,
      [
        `${base}:12:44: train.optimizers.generator.learningRate must be > 0, got -0.001`,
        '  12 |     generator: { kind: adam, learningRate: -0.001 }',
        '     |                                            ^^^^^^',
        '1 error',
      ].join('\n'),
    );
  });
});

describe('what is read, and what is quoted back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcgan-run-config-files-'));
  const fifo = join(dir, 'pipe.yaml');
  execFileSync('mkfifo', [fifo]);
  mkdirSync(join(dir, 'folder.yaml'));
  const big = join(dir, 'big.yaml');
  writeFileSync(big, 'name: big\n');
  truncateSync(big, 2 * 1024 * 1024);
  const cases = [
    { name: 'a named pipe', file: fifo, problem: 'is a named pipe (FIFO), not a config file' },
    { name: 'a directory', file: join(dir, 'folder.yaml'), problem: 'is a directory, not a config file' },
    { name: 'a device', file: '/dev/zero', problem: 'is a device, not a config file' },
    { name: 'a file over 1 MiB', file: big, problem: 'is 2.0 MiB, more than the 1 MiB a config file may be' },
  ];

  for (const { name, file, problem } of cases) {
    test(`${name} as the config is refused before it is read (no hang, no unbounded read)`, () => {
      assert.throws(
        () => loadExperiment(file),
        (error: unknown) => {
          assert.ok(error instanceof UserError && !(error instanceof ConfigError));
          assert.equal(error.message, `${file}: ${problem}`);
          return true;
        },
      );
    });

    test(`${name} as an extended file is an error at the extends line`, () => {
      const child = join(dir, `extends-${basename(file)}.yaml`);
      writeFileSync(child, `name: child\nextends: ${file}\n`);
      assert.deepEqual(load(child).diagnostics, [
        {
          origin: { kind: 'file', file: child, line: 2, col: 10, length: file.length, sourceLine: `extends: ${file}` },
          message: `extends ${file}: ${problem}`,
        },
      ]);
    });
  }

  test('a UTF-8 byte-order mark does not shift the columns of line 1', () => {
    const file = join(dir, 'bom.yaml');
    writeFileSync(file, '\uFEFFname: "bad name"\ndata:\n  source: { kind: imageFolder, root: sprites }\n');
    assert.deepEqual(load(file).diagnostics, [
      {
        origin: { kind: 'file', file, line: 1, col: 7, length: 10, sourceLine: 'name: "bad name"' },
        message: `name may contain only letters, digits, '.', '_' and '-', and must start with a letter or digit, got "bad name"`,
      },
    ]);
  });

  const shadowLike = join(FIXTURES, '..', 'extends', 'shadow-like');
  const secretLines = readFileSync(shadowLike, 'utf8').trim().split('\n');

  test('a file that is not an experiment, extended: said so at the extends line, none of its lines quoted', () => {
    const { message } = load(join(FIXTURES, '78-extends-not-a-config.yaml'));
    for (const line of secretLines) assert.ok(!message.includes(line.slice(0, 12)), `quoted: ${line}`);
    assert.match(message, /extends \.\.\/extends\/shadow-like: not an experiment file/);
  });

  test('a file that is not an experiment, loaded itself: one line, no excerpt', () => {
    assert.equal(
      load(shadowLike).message,
      `${relative(process.cwd(), shadowLike)}:1:1: not an experiment file: its top level is not a YAML mapping of experiment settings (name:, data:, model:, ...)\n1 error`,
    );
  });

  test('a __proto__ key is refused, and nothing is written onto Object.prototype', () => {
    load(join(FIXTURES, '79-reserved-key.yaml'));
    load(join(FIXTURES, '82-sweep-reserved-path.yaml'));
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('a grid of a million trials is refused by its count, at once and in little memory', () => {
    const before = process.memoryUsage().heapUsed;
    const started = performance.now();
    load(join(FIXTURES, '81-sweep-too-many-trials.yaml'));
    assert.ok(performance.now() - started < 1000, `${performance.now() - started} ms`);
    assert.ok(process.memoryUsage().heapUsed - before < 100e6, 'under 100 MB more heap');
  });
});
