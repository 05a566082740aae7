// How a config is composed: `--set` overrides, `extends` merging, ${ENV} interpolation, and defaults.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, type Diagnostic } from '../src/config/diagnostics.ts';
import { loadExperiment } from '../src/config/load-experiment.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const POKEMON = join(ROOT, 'configs', 'pokemon.yaml');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'config');

/** The diagnostics of a load that must fail, as plain objects. */
function failure(file: string, overrides: string[] = []): Diagnostic[] {
  try {
    loadExperiment(file, overrides);
  } catch (error) {
    if (error instanceof ConfigError) return error.diagnostics;
    throw error;
  }
  assert.fail(`${file} with ${overrides.join(' ')} loaded without errors`);
}

const argument = (text: string) => ({ kind: 'argument', argument: text }) as const;

describe('--set overrides', () => {
  test('train.epochs=2 changes the value, read as YAML (a number)', () => {
    const { config } = loadExperiment(POKEMON, ['train.epochs=2']);
    assert.equal(config.train.epochs, 2);
    assert.equal(loadExperiment(POKEMON).config.train.epochs, 50);
  });

  test('a later override of the same key wins', () => {
    assert.equal(loadExperiment(POKEMON, ['train.epochs=2', 'train.epochs=3']).config.train.epochs, 3);
  });

  test('a value of the wrong type is reported against the argument', () => {
    assert.deepEqual(failure(POKEMON, ['train.epochs=abc']), [
      { origin: argument('train.epochs=abc'), message: 'train.epochs must be an integer, got a string ("abc")' },
    ]);
  });

  test('an out-of-range value is reported against the argument', () => {
    assert.deepEqual(failure(POKEMON, ['train.optimizers.generator.learningRate=-1']), [
      { origin: argument('train.optimizers.generator.learningRate=-1'), message: 'train.optimizers.generator.learningRate must be > 0, got -1' },
    ]);
  });

  for (const malformed of ['=3', 'train..x=1', 'train.epochs', '.train.epochs=2', 'train epochs=2']) {
    test(`a malformed override (${malformed}) says what an override looks like`, () => {
      assert.deepEqual(failure(POKEMON, [malformed]), [
        { origin: argument(malformed), message: 'an override must look like key.path=value, e.g. train.epochs=2' },
      ]);
    });
  }

  test('a value that is not valid YAML is reported without the YAML library position', () => {
    assert.deepEqual(failure(POKEMON, ['train.epochs=[1']), [
      { origin: argument('train.epochs=[1'), message: 'the value is not valid YAML: Flow sequence must end with a ]' },
    ]);
  });

  test('an override creating an unknown key is reported with did-you-mean', () => {
    assert.deepEqual(failure(POKEMON, ['train.epoch=2']), [
      { origin: argument('train.epoch=2'), message: 'unknown key "epoch" in train; did you mean "epochs"?' },
    ]);
    assert.deepEqual(failure(POKEMON, ['model.generator.activation.alfa=0.1']), [
      {
        origin: argument('model.generator.activation.alfa=0.1'),
        // The generator's activation is a relu: leakyRelu's alpha is not offered.
        message: 'unknown key "alfa" in model.generator.activation (known keys: kind)',
      },
    ]);
  });

  test('every bad override is reported at once, malformed ones first', () => {
    const diagnostics = failure(POKEMON, ['train.epochs=abc', '=3', 'train.backend=gpu']);
    assert.deepEqual(
      diagnostics.map((d) => d.origin),
      [argument('=3')],
      'a malformed override stops before validation: nothing else can be trusted',
    );
    const typed = failure(POKEMON, ['train.epochs=abc', 'train.backend=gpu']);
    assert.deepEqual(
      typed.map((d) => d.origin),
      [argument('train.epochs=abc'), argument('train.backend=gpu')],
    );
  });

  test('a list item by index: data.transforms.1.size with model.imageSize and the block count', () => {
    const { config } = loadExperiment(POKEMON, ['data.transforms.1.size=[32,32]', 'model.imageSize=32', 'model.generator.blocks=3']);
    assert.deepEqual(config.data.transforms[1], { kind: 'resize', size: [32, 32], fit: 'fill', background: '#ffffff' });
    assert.equal(config.data.transforms.length, 3, 'the other items stay');
    assert.deepEqual(config.data.transforms[0], { kind: 'flatten', background: '#ffffff' });
    assert.equal(config.data.transforms[2].kind, 'normalize');
    assert.equal(config.model.imageSize, 32);
    assert.equal(config.model.generator.blocks, 3);
    assert.equal(config.model.discriminator.blocks, 4, '32 = 2 * 2^4 works for the discriminator unchanged');
  });

  test('imageSize 48 with 4 blocks is valid: 48 = 3 * 2^4, the networks start from 3x3', () => {
    const { config } = loadExperiment(POKEMON, ['model.imageSize=48', 'data.transforms.1.size=[48,48]']);
    assert.equal(config.model.imageSize, 48);
    assert.equal(config.model.generator.blocks, 4);
    assert.equal(config.model.discriminator.blocks, 4);
  });

  test('a list index override alone reports the disagreement against the argument that made it', () => {
    assert.deepEqual(failure(POKEMON, ['data.transforms.1.size=[32,32]']), [
      {
        origin: argument('data.transforms.1.size=[32,32]'),
        message: 'data.transforms[1] makes 32x32 images but model.imageSize is 64: the last resize or crop must give [64, 64]',
      },
    ]);
  });

  test('an index past the end of a list, or a name into a list, is refused instead of leaving holes', () => {
    assert.deepEqual(failure(POKEMON, ['data.transforms.5.size=[32,32]']), [
      {
        origin: argument('data.transforms.5.size=[32,32]'),
        message: 'data.transforms is a list of 3 items: use an item number from 0 to 2 (or 3 to append), not "5"',
      },
    ]);
    assert.deepEqual(failure(POKEMON, ['data.transforms.x.size=[32,32]']), [
      {
        origin: argument('data.transforms.x.size=[32,32]'),
        message: 'data.transforms is a list of 3 items: use an item number from 0 to 2 (or 3 to append), not "x"',
      },
    ]);
  });

  test('the index just past the end appends an item', () => {
    const { config } = loadExperiment(POKEMON, ['data.transforms.3={kind: randomHorizontalFlip}']);
    assert.deepEqual(config.data.transforms[3], { kind: 'randomHorizontalFlip', p: 0.5 });
  });

  test('a whole mapping as a value replaces what was there', () => {
    const { config } = loadExperiment(POKEMON, ['model.discriminator.activation={kind: elu}']);
    assert.deepEqual(config.model.discriminator.activation, { kind: 'elu', alpha: 1 });
  });

  test('a key below a scalar is blamed on the override, not on the line of the scalar in the file', () => {
    assert.deepEqual(failure(POKEMON, ['train.epochs.deep=3']), [
      { origin: argument('train.epochs.deep=3'), message: 'train.epochs must be an integer, got a mapping' },
    ]);
  });

  test('a key below a mapping the file leaves to its defaults gets the rest of those defaults', () => {
    const minimal = join(FIXTURES, 'minimal.yaml');
    const { config } = loadExperiment(minimal, ['train.optimizers.generator.learningRate=0.001', 'train.ema.beta=0.99']);
    assert.deepEqual(config.train.optimizers.generator, { kind: 'adam', learningRate: 0.001, beta1: 0.5, beta2: 0.999, epsilon: 1e-8 });
    assert.deepEqual(config.train.optimizers.discriminator, { kind: 'adam', learningRate: 0.005, beta1: 0.5, beta2: 0.999, epsilon: 1e-8 });
    assert.ok(config.train.ema !== false && config.train.ema.beta === 0.99, 'a mapping in place of the default false');
    assert.equal(loadExperiment(minimal, ['model.discriminator.activation.alpha=0.3']).config.model.discriminator.activation.kind, 'leakyRelu');
  });

  test('setting kind to another kind replaces the mapping; the same kind keeps its settings', () => {
    const child = join(FIXTURES, 'extends', 'child.yaml');
    assert.deepEqual(loadExperiment(child, ['model.discriminator.activation.kind=relu']).config.model.discriminator.activation, { kind: 'relu' });
    assert.deepEqual(
      loadExperiment(child, ['model.discriminator.activation.kind=elu']).config.model.discriminator.activation,
      { kind: 'elu', alpha: 1 },
      "elu's default alpha, not leakyRelu's 0.1",
    );
    assert.deepEqual(loadExperiment(child, ['model.discriminator.activation.kind=leakyRelu']).config.model.discriminator.activation, {
      kind: 'leakyRelu',
      alpha: 0.1,
    });
    assert.deepEqual(failure(POKEMON, ['data.source.kind=idx']), [
      { origin: argument('data.source.kind=idx'), message: 'missing required key "images" in data.source' },
    ]);
  });

  test('an override does not reach another key through a YAML alias', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dcgan-run-alias-')), 'alias.yaml');
    writeFileSync(
      file,
      'name: alias\ndata: { source: { kind: imageFolder, root: sprites } }\nmodel:\n  generator: { activation: &act { kind: leakyRelu, alpha: 0.3 } }\n  discriminator: { activation: *act }\n',
    );
    const { config } = loadExperiment(file, ['model.generator.activation.alpha=0.1']);
    assert.deepEqual(config.model.generator.activation, { kind: 'leakyRelu', alpha: 0.1 });
    assert.deepEqual(config.model.discriminator.activation, { kind: 'leakyRelu', alpha: 0.3 });
  });

  for (const reserved of ['__proto__.polluted=1', 'constructor.prototype.polluted=1', 'model.prototype=1']) {
    test(`an override through JavaScript's object machinery (${reserved}) is refused and writes nothing`, () => {
      const key = /(__proto__|constructor|prototype)/.exec(reserved)![1];
      assert.deepEqual(failure(POKEMON, [reserved]), [
        {
          origin: argument(reserved),
          message: `"${key}" cannot be a key: no setting has this name, and JavaScript reserves __proto__, constructor and prototype`,
        },
      ]);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
    });
  }
});

describe('extends', () => {
  const child = join(FIXTURES, 'extends', 'child.yaml');
  const grandchild = join(FIXTURES, 'extends', 'deeper', 'grandchild.yaml');

  test('mappings merge key by key, at every depth', () => {
    const { config } = loadExperiment(child);
    assert.equal(config.name, 'child');
    assert.equal(config.seed, 3, 'from the base');
    assert.equal(config.data.batchSize, 128, 'from the base');
    assert.equal(config.model.generator.baseChannels, 32, 'from the child');
    assert.equal(config.model.generator.blocks, 4, 'from the base, next to the child key');
    assert.deepEqual(config.model.discriminator.activation, { kind: 'leakyRelu', alpha: 0.1 }, 'from the base');
    assert.equal(config.train.optimizers.generator.learningRate, 0.0002, 'from the child');
    assert.equal(config.train.optimizers.generator.beta1, 0.5, 'from the base, inside a mapping the child also wrote');
    assert.equal(config.train.epochs, 30, 'from the base');
  });

  test('lists are replaced, not merged or appended', () => {
    const { config } = loadExperiment(child);
    assert.deepEqual(
      config.data.transforms.map((t) => t.kind),
      ['flatten', 'resize', 'normalize'],
      "the child's three transforms; the base's randomHorizontalFlip is gone",
    );
  });

  test("a relative root in a base file in another folder is relative to that file's folder", () => {
    const { config } = loadExperiment(child);
    assert.deepEqual(config.data.source, { kind: 'imageFolder', root: join(FIXTURES, 'extends', 'shared', 'sprites') });
  });

  test('three levels: the nearest file wins, and its relative root is relative to its own folder', () => {
    const { config, composed } = loadExperiment(grandchild);
    assert.equal(config.name, 'grandchild');
    assert.equal(config.train.epochs, 5);
    assert.equal(config.model.generator.baseChannels, 32, 'from the middle file');
    assert.equal(config.seed, 3, 'from the base');
    assert.deepEqual(config.data.source, { kind: 'imageFolder', root: join(FIXTURES, 'extends', 'deeper', 'own-sprites') });
    assert.deepEqual(composed.files, [grandchild, child, join(FIXTURES, 'extends', 'shared', 'base.yaml')]);
    assert.equal('extends' in config, false, 'extends is consumed');
  });

  test('an error in a replaced list points at the file that wrote the list', () => {
    const file = join(FIXTURES, 'extends', 'deeper', 'grandchild-bad-list.yaml');
    const [diagnostic, ...rest] = failure(file);
    assert.deepEqual(rest, []);
    assert.equal(diagnostic.origin.kind === 'file' && `${diagnostic.origin.file}:${diagnostic.origin.line}:${diagnostic.origin.col}`, `${file}:7:32`);
    assert.equal(diagnostic.message, 'data.transforms[1].mean has 1 value but the images have 3 channels at this point: give one value per channel');
  });

  test('overrides apply on top of the whole chain', () => {
    const { config } = loadExperiment(grandchild, ['model.generator.baseChannels=16', 'train.optimizers.generator.beta1=0.9']);
    assert.equal(config.model.generator.baseChannels, 16);
    assert.equal(config.train.optimizers.generator.beta1, 0.9);
    assert.equal(config.train.optimizers.generator.learningRate, 0.0002);
  });

  test('a mapping whose kind the child changes is replaced, not blended with the base', () => {
    const { config } = loadExperiment(join(FIXTURES, 'extends', 'kind-switch.yaml'));
    assert.deepEqual(config.model.discriminator.activation, { kind: 'relu' }, "the base's leakyRelu alpha is gone");
    assert.deepEqual(
      config.data.source,
      { kind: 'idx', images: join(FIXTURES, 'extends', 'train-images-idx3-ubyte.gz') },
      "the base's imageFolder root is gone",
    );
    assert.deepEqual(config.model.generator.activation, { kind: 'relu' });
  });

  test('a cycle loaded from inside it names just the loop', () => {
    const a = join(FIXTURES, 'extends', 'a.yaml');
    const [diagnostic, ...rest] = failure(a);
    assert.deepEqual(rest, []);
    assert.equal(diagnostic.message, 'extends cycle: a.yaml -> b.yaml -> a.yaml');
    assert.ok(diagnostic.origin.kind === 'file' && diagnostic.origin.file === join(FIXTURES, 'extends', 'b.yaml') && diagnostic.origin.line === 2);
  });
});

describe('${ENV} interpolation', () => {
  const file = join(FIXTURES, 'env.yaml');
  const names = ['DCGAN_TEST_NAME', 'DCGAN_TEST_EPOCHS', 'DCGAN_TEST_ROOT', 'DCGAN_TEST_HOST'];
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  afterEach(() => {
    for (const name of names) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });
  const setEnv = (values: Record<string, string | undefined>) => {
    for (const name of names) delete process.env[name];
    for (const [name, value] of Object.entries(values)) if (value !== undefined) process.env[name] = value;
  };

  test('${VAR} set, ${VAR:-default} unset, a whole-value reference becoming a number', () => {
    setEnv({ DCGAN_TEST_NAME: 'from-env', DCGAN_TEST_EPOCHS: '7' });
    const { config } = loadExperiment(file);
    assert.equal(config.name, 'from-env');
    assert.equal(config.train.epochs, 7, 'a value that is one reference alone is re-read as YAML');
    assert.equal(config.data.source.kind === 'imageFolder' && config.data.source.root, join(FIXTURES, 'sprites'), 'the default, then resolved');
    assert.equal(config.tracking.runsDir, 'runs-from-env', 'a reference inside a string stays a string');
    assert.equal(config.tracking.mlflow?.uri, 'http://127.0.0.1:5000');
  });

  test('a set variable wins over the default; an empty one counts as unset', () => {
    setEnv({ DCGAN_TEST_NAME: 'x', DCGAN_TEST_EPOCHS: '1', DCGAN_TEST_ROOT: '/data/sprites', DCGAN_TEST_HOST: '' });
    const { config } = loadExperiment(file);
    assert.equal(config.data.source.kind === 'imageFolder' && config.data.source.root, '/data/sprites');
    assert.equal(config.tracking.mlflow?.uri, 'http://127.0.0.1:5000');
  });

  test('unset variables without a default are each reported at their value, with the fix', () => {
    setEnv({});
    const diagnostics = failure(file).map((d) => (d.origin.kind === 'file' ? `${d.origin.line}:${d.origin.col}: ${d.message}` : d.message));
    assert.deepEqual(diagnostics, [
      '2:7: name: environment variable DCGAN_TEST_NAME is not set (write ${DCGAN_TEST_NAME:-default} to give a default)',
      '8:11: train.epochs: environment variable DCGAN_TEST_EPOCHS is not set (write ${DCGAN_TEST_EPOCHS:-default} to give a default)',
      '10:12: tracking.runsDir: environment variable DCGAN_TEST_NAME is not set (write ${DCGAN_TEST_NAME:-default} to give a default)',
    ]);
  });

  test('a variable whose content is not YAML names the variable, at the reference, without echoing its content', () => {
    setEnv({ DCGAN_TEST_NAME: 'x', DCGAN_TEST_EPOCHS: '[1, 2' });
    const [diagnostic, ...rest] = failure(file);
    assert.deepEqual(rest, []);
    assert.equal(
      diagnostic.message,
      'train.epochs: environment variable DCGAN_TEST_EPOCHS is not valid YAML (Flow sequence must end with a ]); a value that is one ${...} alone is read as YAML',
    );
    assert.ok(diagnostic.origin.kind === 'file' && diagnostic.origin.line === 8 && diagnostic.origin.col === 11);
  });

  test('a variable value of the wrong type is reported at the reference', () => {
    setEnv({ DCGAN_TEST_NAME: 'x', DCGAN_TEST_EPOCHS: 'many' });
    const [diagnostic] = failure(file);
    assert.equal(diagnostic.message, 'train.epochs must be an integer, got a string ("many")');
    assert.ok(diagnostic.origin.kind === 'file' && diagnostic.origin.line === 8 && diagnostic.origin.col === 11);
  });
});

describe('defaults', () => {
  test('an almost-empty config gets the lesson settings', () => {
    const { config } = loadExperiment(join(FIXTURES, 'minimal.yaml'));
    assert.equal(config.data.batchSize, 256);
    assert.deepEqual(config.data.transforms, []);
    assert.equal(config.seed, 0);
    assert.equal(config.model.latentDim, 100);
    assert.equal(config.model.imageSize, 64);
    for (const net of ['generator', 'discriminator'] as const) {
      assert.equal(config.model[net].blocks, 4);
      assert.equal(config.model[net].baseChannels, 64);
      assert.equal(config.model[net].kernelSize, 4);
      const batchNorm = config.model[net].batchNorm;
      assert.ok(batchNorm !== false);
      assert.equal(batchNorm.epsilon, 0.8);
      assert.equal(batchNorm.momentum, 0.9);
      assert.deepEqual(config.train.optimizers[net], { kind: 'adam', learningRate: 0.005, beta1: 0.5, beta2: 0.999, epsilon: 1e-8 });
    }
    assert.deepEqual(config.model.generator.activation, { kind: 'relu' });
    assert.deepEqual(config.model.discriminator.activation, { kind: 'leakyRelu', alpha: 0.2 });
    assert.deepEqual(config.model.init, { kind: 'normal', mean: 0, std: 0.02 });
    assert.equal(config.model.generator.output, 'tanh');
    assert.equal(config.train.epochs, 50);
    assert.equal(config.train.loss, 'bce');
    assert.equal(config.train.backend, 'auto');
    assert.deepEqual(config.train.samples, { every: 1, count: 21 });
    assert.deepEqual(config.train.checkpoint, { every: 5, keepBest: false });
    assert.equal(config.train.eval, undefined, 'no quality metrics unless asked for');
    assert.equal(config.tracking.runsDir, 'runs');
    assert.equal(config.sweep, undefined);
  });

  test('a default is filled inside a mapping the user wrote in part', () => {
    const { config } = loadExperiment(join(FIXTURES, 'minimal.yaml'), [
      'model.discriminator.batchNorm={firstBlock: false}',
      'model.discriminator.activation={kind: leakyRelu}',
    ]);
    assert.deepEqual(config.model.discriminator.batchNorm, { firstBlock: false, momentum: 0.9, epsilon: 0.8 });
    assert.deepEqual(config.model.discriminator.activation, { kind: 'leakyRelu', alpha: 0.2 });
  });
});
