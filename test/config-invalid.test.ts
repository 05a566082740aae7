// Every file in test/fixtures/config/invalid/ is a test: its leading `# expect:` comment lines say which
// diagnostics loading it must give, in the order they are reported:
//
//   # expect: LINE:COL: exact message
//   # expect: LINE:COL: ~distinctive substring of the message
//   # expect: other-file.yaml:LINE:COL: message     (a diagnostic in another file, e.g. an extended base)
//
// Adding a fixture adds a test.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../src/config/diagnostics.ts';
import { loadExperiment } from '../src/config/validate.ts';

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
  const header = lines.slice(0, lines.findIndex((line) => !line.startsWith('#')));
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
