// Named datasets: the data cache, fetching from mirrors with MD5 verification (against a local mirror with
// faults), importing files a user has, the Pokemon sprites package, and named sources in experiment files.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import type { Data } from '../src/config/experiment.generated.ts';
import { loadDataset } from '../src/data/dataset.ts';
import { resolveSource } from '../src/data/resolve-source.ts';
import { datasetFiles } from '../src/datasets/catalog.ts';
import { readChecksumOverride } from '../src/datasets/checksums.ts';
import { ALL_SPRITES, pokemonSpriteRoots, pokespriteDir } from '../src/datasets/pokemon-sprites.ts';
import { ensureFiles } from '../src/datasets/store.ts';
import { UserError } from '../src/errors.ts';
import { FASHION, FASHION_SUBSET } from './support/fashion-mnist.ts';
import { type FileServer, refusingUrl, startFileServer } from './support/file-server.ts';
import { cliEnv, runCli } from './support/sweep-cli.ts';
import { PROJECT_ROOT } from './support/tiny-config.ts';

// The mirror serves CI's full copy when it is there, else the committed subset: neither has the official
// sums, which the tests pin through the test-only override (and one test checks that without it they are refused).
const SHARED = resolve(PROJECT_ROOT, '../shared/data/fashion-mnist');
const SERVED = existsSync(join(SHARED, 'train-images-idx3-ubyte.gz')) ? SHARED : FASHION_SUBSET;
const FILES = datasetFiles(FASHION);
const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');
const served = Object.fromEntries(FILES.map((file) => [file, readFileSync(join(SERVED, file))]));

let mirror: FileServer;
let sums: string;
const work = mkdtempSync(join(tmpdir(), 'dcgan-run-named-'));

before(async () => {
  console.log(`mirror on 127.0.0.1 serving ${SERVED}`);
  mirror = await startFileServer(SERVED, FILES);
  sums = join(work, 'served.md5');
  writeFileSync(sums, FILES.map((file) => `${md5(served[file])}  fashion-mnist/${file}\n`).join(''));
});
after(() => mirror.close());

let caches = 0;
/** An empty data cache. */
function freshCache(): string {
  const root = join(work, `cache-${++caches}`);
  mkdirSync(root);
  return root;
}

/** The environment of a CLI child: this data cache, these mirrors, the served files' sums unless `official`. */
function env(root: string, mirrors: string[], official = false): NodeJS.ProcessEnv {
  // Not the override CI sets for its own cache: these runs have theirs, or none.
  const { DCGAN_RUN_TEST_CHECKSUMS: _ci, ...inherited } = cliEnv({ DCGAN_RUN_DATA: root, DCGAN_RUN_DATA_MIRRORS: mirrors.join(' ') });
  return official ? inherited : { ...inherited, DCGAN_RUN_TEST_CHECKSUMS: sums };
}

/** Every file under the dataset's cache folder (partial downloads included). */
function cached(root: string): string[] {
  const dir = join(root, 'fashion-mnist');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

function assertCachedAsServed(root: string): void {
  assert.deepEqual(cached(root), [...FILES].sort(), 'the four files, no partial downloads');
  for (const file of FILES) assert.ok(readFileSync(join(root, 'fashion-mnist', file)).equals(served[file]), file);
}

describe('data fetch from mirrors', () => {
  test('fetches every file, verifies it, and data list shows it; a second fetch downloads nothing', async () => {
    const root = freshCache();
    const fetched = await runCli(['data', 'fetch', 'fashion-mnist'], { cwd: work, env: env(root, [mirror.url]) });
    assert.equal(fetched.code, 0, fetched.stderr);
    assertCachedAsServed(root);
    for (const file of FILES)
      assert.match(fetched.stderr, new RegExp(`^data: downloaded ${mirror.url}${file} \\([\\d.]+ [kM]B in [\\d.]+ s, MD5 verified\\)$`, 'm'));
    assert.match(fetched.stderr, new RegExp(`^fashion-mnist: 4 files written to ${join(root, 'fashion-mnist')}, every file MD5 verified$`, 'm'));

    const list = await runCli(['data', 'list'], { cwd: work, env: env(root, [mirror.url]) });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^data cache: ${root} \\(from \\$DCGAN_RUN_DATA\\)$`, 'm'));
    assert.match(list.stdout, /^checksums: the pinned MD5 sums are overridden by \$DCGAN_RUN_TEST_CHECKSUMS/m);
    assert.match(list.stdout, /^fashion-mnist +Fashion-MNIST, MIT \(Zalando SE\) +4 of 4 files verified, [\d.]+ MB$/m);
    assert.match(list.stdout, /^mnist +MNIST, .* +not fetched \(fetched on first use, or: dcgan-run data fetch mnist\)$/m);
    assert.match(list.stdout, /^pokemon-sprites +.* +5117 sprites, version 2\.\d+\.\d+, installed at /m);

    const requests = mirror.requests.length;
    const again = await runCli(['data', 'fetch', 'fashion-mnist'], { cwd: work, env: env(root, [mirror.url]) });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /^fashion-mnist: every file is already in .*, MD5 verified$/m);
    assert.equal(mirror.requests.length, requests, 'nothing downloaded');
  });

  test('under the published sums the served copies are refused, and nothing stays in the cache', async () => {
    const root = freshCache();
    const fetched = await runCli(['data', 'fetch', 'fashion-mnist'], { cwd: work, env: env(root, [mirror.url], true) });
    assert.equal(fetched.code, 2, fetched.stderr);
    const file = 'train-images-idx3-ubyte.gz';
    assert.match(
      fetched.stderr,
      new RegExp(`^Fashion-MNIST: ${file} is not in the data cache \\(${join(root, 'fashion-mnist')}\\) and could not be downloaded:$`, 'm'),
    );
    assert.ok(
      fetched.stderr.includes(`  ${mirror.url}${file}: MD5 ${md5(served[file])}, not the published 8d4fb7e6c68d591d4c3dfef9ec88bf0d: refused\n`),
      fetched.stderr,
    );
    assert.deepEqual(cached(root), [], 'no file and no partial download');
    assert.doesNotMatch(fetched.stderr, /\n\s+at /, 'no stack trace');
  });

  test('mirrors are tried in order: refused, missing, cut off and corrupted transfers give way to the next', async () => {
    const root = freshCache();
    const down = await refusingUrl();
    const broken = await startFileServer(SERVED, FILES);
    broken.faults.set('train-images-idx3-ubyte.gz', 'cut');
    broken.faults.set('train-labels-idx1-ubyte.gz', 'corrupt');
    broken.faults.set('t10k-images-idx3-ubyte.gz', 'notFound');
    try {
      const fetched = await runCli(['data', 'fetch', 'fashion-mnist'], { cwd: work, env: env(root, [down, broken.url, mirror.url]) });
      assert.equal(fetched.code, 0, fetched.stderr);
      assertCachedAsServed(root);
      assert.match(fetched.stderr, new RegExp(`^data: ${down}train-images-idx3-ubyte.gz: ECONNREFUSED$`, 'm'));
      assert.match(fetched.stderr, new RegExp(`^data: ${broken.url}train-images-idx3-ubyte.gz: the download broke off: `, 'm'));
      assert.match(
        fetched.stderr,
        new RegExp(
          `^data: ${broken.url}train-labels-idx1-ubyte.gz: MD5 [0-9a-f]{32}, not the published ${md5(served['train-labels-idx1-ubyte.gz'])}: refused$`,
          'm',
        ),
      );
      assert.match(fetched.stderr, new RegExp(`^data: ${broken.url}t10k-images-idx3-ubyte.gz: HTTP 404 Not Found$`, 'm'));
      assert.match(fetched.stderr, new RegExp(`^data: downloaded ${broken.url}t10k-labels-idx1-ubyte.gz `, 'm'));
    } finally {
      await broken.close();
    }
  });

  test('offline: a clear error naming every URL tried and what to do, exit 2, nothing left behind', async () => {
    const root = freshCache();
    const down = [await refusingUrl(), await refusingUrl()];
    const fetched = await runCli(['data', 'fetch', 'fashion-mnist'], { cwd: work, env: env(root, down) });
    assert.equal(fetched.code, 2);
    const expected = [
      `Fashion-MNIST: train-images-idx3-ubyte.gz is not in the data cache (${join(root, 'fashion-mnist')}) and could not be downloaded:`,
      `  ${down[0]}train-images-idx3-ubyte.gz: ECONNREFUSED`,
      `  ${down[1]}train-images-idx3-ubyte.gz: ECONNREFUSED`,
      'Offline? Run `dcgan-run data fetch fashion-mnist` where there is a network and copy that folder here, or import files you already have with `dcgan-run data fetch fashion-mnist --from <dir>`.',
    ].join('\n');
    assert.ok(fetched.stderr.endsWith(`${expected}\n`), fetched.stderr);
    assert.deepEqual(cached(root), []);
  });

  test('a cut-off download from the only mirror fails and removes its partial file', async () => {
    const root = freshCache();
    const broken = await startFileServer(SERVED, FILES);
    broken.faults.set('train-images-idx3-ubyte.gz', 'cut');
    try {
      const fetched = await runCli(['data', 'fetch', 'fashion-mnist'], { cwd: work, env: env(root, [broken.url]) });
      assert.equal(fetched.code, 2);
      assert.match(fetched.stderr, new RegExp(`^  ${broken.url}train-images-idx3-ubyte.gz: the download broke off: `, 'm'));
      assert.deepEqual(cached(root), []);
    } finally {
      await broken.close();
    }
  });

  test('a stalled mirror gives way to the next after the idle timeout', async () => {
    const root = freshCache();
    const stalled = await startFileServer(SERVED, FILES);
    stalled.faults.set('train-labels-idx1-ubyte.gz', 'stall');
    const lines: string[] = [];
    try {
      const [path] = await ensureFiles(FASHION, ['train-labels-idx1-ubyte.gz'], {
        root,
        mirrors: [stalled.url, mirror.url],
        checksums: readChecksumOverride(sums),
        idleTimeoutMs: 300,
        log: (line) => lines.push(line),
      });
      assert.ok(readFileSync(path).equals(served['train-labels-idx1-ubyte.gz']));
      assert.equal(lines[0], `data: ${stalled.url}train-labels-idx1-ubyte.gz: the download broke off: no data for 0.3 s`);
      assert.match(lines[1], new RegExp(`^data: downloaded ${mirror.url}train-labels-idx1-ubyte.gz `));
    } finally {
      await stalled.close();
    }
  });

  test('concurrent runs share the cache: both succeed, the files are whole and verified', async () => {
    const root = freshCache();
    const [first, second] = await Promise.all([1, 2].map(() => runCli(['data', 'fetch', 'fashion-mnist'], { cwd: work, env: env(root, [mirror.url]) })));
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.code, 0, second.stderr);
    assertCachedAsServed(root);
  });
});

describe('data fetch --from and the cached files', () => {
  test('--from a folder imports the files, verified; a file with the wrong sum is refused and not copied', async () => {
    const root = freshCache();
    const imported = await runCli(['data', 'fetch', 'fashion-mnist', '--from', SERVED], { cwd: work, env: env(root, []) });
    assert.equal(imported.code, 0, imported.stderr);
    assertCachedAsServed(root);
    for (const file of FILES) assert.match(imported.stderr, new RegExp(`^data: ${file} copied from ${SERVED} \\(MD5 verified\\)$`, 'm'));

    const other = freshCache();
    const wrong = join(work, 'wrong-files');
    mkdirSync(wrong);
    for (const file of FILES) writeFileSync(join(wrong, file), served[file]);
    writeFileSync(join(wrong, 'train-images-idx3-ubyte.gz'), Buffer.from('not the images'));
    const refused = await runCli(['data', 'fetch', 'fashion-mnist', '--from', wrong], { cwd: work, env: env(other, []) });
    assert.equal(refused.code, 2);
    assert.equal(
      refused.stderr.trim(),
      `data fetch fashion-mnist --from ${wrong}: ${join(wrong, 'train-images-idx3-ubyte.gz')} has MD5 ${md5(Buffer.from('not the images'))}, not the published ` +
        `${md5(served['train-images-idx3-ubyte.gz'])}: it is not the official train-images-idx3-ubyte.gz, so it was not copied`,
    );
    assert.deepEqual(cached(other), []);
  });

  test('--from a base URL downloads from it; an unknown dataset name lists the names', async () => {
    const root = freshCache();
    const fetched = await runCli(['data', 'fetch', 'fashion-mnist', '--from', mirror.url], { cwd: work, env: env(root, [await refusingUrl()]) });
    assert.equal(fetched.code, 0, fetched.stderr);
    assertCachedAsServed(root);
    const unknown = await runCli(['data', 'fetch', 'cifar10'], { cwd: work, env: env(root, []) });
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr.trim(), 'data fetch: no dataset named cifar10; the named datasets are fashion-mnist, mnist, pokemon-sprites');
  });

  test('a cached file whose sum no longer matches is not trusted: it is fetched again', async () => {
    const root = freshCache();
    const checksums = readChecksumOverride(sums);
    const file = 't10k-labels-idx1-ubyte.gz';
    const [path] = await ensureFiles(FASHION, [file], { root, mirrors: [mirror.url], checksums });
    const damaged = Buffer.from(served[file]);
    damaged[100] ^= 1;
    writeFileSync(path, damaged);
    const lines: string[] = [];
    await ensureFiles(FASHION, [file], { root, mirrors: [mirror.url], checksums, log: (line) => lines.push(line) });
    assert.equal(lines[0], `data: ${path} has MD5 ${md5(damaged)}, not ${md5(served[file])}: fetching it again`);
    assert.ok(readFileSync(path).equals(served[file]));
  });

  test('the checksum override names the line it cannot read', () => {
    const bad = join(work, 'bad.md5');
    writeFileSync(bad, `${md5(Buffer.from('x'))}  fashion-mnist/a.gz\nnot a sum\n`);
    assert.throws(
      () => readChecksumOverride(bad),
      (error: Error) => error instanceof UserError && error.message === `${bad}:2: expected "<md5>  <dataset>/<file>", got "not a sum"`,
    );
  });
});

describe('named sources in experiments', () => {
  test('fashionMnist is fetched on first use by a training run, then read from the cache', async () => {
    const root = freshCache();
    const dir = mkdtempSync(join(work, 'run-'));
    const file = join(dir, 'fashion.yaml');
    writeFileSync(
      file,
      stringify({
        name: 'named-fashion',
        data: { source: { kind: 'fashionMnist', classes: [7, 9] }, transforms: [{ kind: 'normalize', mean: [0.5], std: [0.5] }], batchSize: 8, limit: 16 },
        model: { latentDim: 8, imageSize: 28, generator: { blocks: 2, baseChannels: 4 }, discriminator: { blocks: 2, baseChannels: 4 } },
        train: { epochs: 1, samples: { count: 4 }, backend: 'cpu' },
        tracking: { runsDir: join(dir, 'runs') },
      }),
    );
    const run = await runCli([file], { cwd: dir, env: env(root, [mirror.url]) });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr + run.stdout, new RegExp(`data: downloaded ${mirror.url}train-images-idx3-ubyte.gz `));
    assert.match(
      run.stdout + run.stderr,
      new RegExp(`data: 16 images from ${join(root, 'fashion-mnist', 'train-images-idx3-ubyte.gz')} \\(fashionMnist train, classes 7,9\\), 28x28x1`),
    );
    assert.deepEqual(cached(root), ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'], 'only the split the run reads');
  });

  test('split: test reads the t10k files; classes keep only those labels', async () => {
    const root = freshCache();
    const store = { root, mirrors: [mirror.url], checksums: readChecksumOverride(sums) };
    const source = await resolveSource({ kind: 'fashionMnist', split: 'test', classes: [8] }, store);
    assert.deepEqual(source, {
      kind: 'idx',
      images: join(root, 'fashion-mnist', 't10k-images-idx3-ubyte.gz'),
      labels: join(root, 'fashion-mnist', 't10k-labels-idx1-ubyte.gz'),
      classes: [8],
    });
    const data: Data = {
      source: { kind: 'fashionMnist', split: 'test', classes: [8] },
      transforms: [],
      batchSize: 8,
      shuffle: false,
      onBadImage: 'error',
      cache: false,
    };
    const dataset = await loadDataset(data, { cacheDir: join(root, 'decoded'), store });
    const labels = gunzipSync(readFileSync(join(root, 'fashion-mnist', 't10k-labels-idx1-ubyte.gz'))).subarray(8);
    assert.equal(dataset.count, labels.filter((label) => label === 8).length);
    assert.ok(dataset.labels!.every((label) => label === 8));
  });

  test("pokemonSprites: the package's folders, every generation and variant by default, or a choice", async () => {
    const dir = pokespriteDir();
    assert.equal(dir, join(PROJECT_ROOT, 'node_modules', 'pokesprite-images'));
    assert.deepEqual(pokemonSpriteRoots(ALL_SPRITES), [
      join(dir, 'pokemon-gen8', 'regular'),
      join(dir, 'pokemon-gen8', 'shiny'),
      join(dir, 'pokemon-gen7x', 'regular'),
      join(dir, 'pokemon-gen7x', 'shiny'),
    ]);
    const data = { transforms: [], batchSize: 8, shuffle: false, onBadImage: 'error' as const, cache: false };
    const gen8 = await loadDataset(
      { ...data, source: { kind: 'pokemonSprites', generations: ['gen8'], variants: ['regular'] } },
      { cacheDir: join(work, 'decoded') },
    );
    assert.deepEqual([gen8.count, gen8.height, gen8.width, gen8.channels], [1352, 56, 68, 3]);
    assert.match(gen8.description, /^1352 images from .*pokemon-gen8\/regular \(pokemonSprites\), 56x68x3; alpha channel dropped/);
  });

  test('pokemonSprites without the package says what to install', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'no-packages-'));
    assert.throws(
      () => pokemonSpriteRoots(ALL_SPRITES, join(elsewhere, 'index.js')),
      (error: Error) =>
        error instanceof UserError &&
        error.message ===
          'data.source (pokemonSprites): the npm package pokesprite-images is not installed where dcgan-run is (it is a dependency of dcgan-run): ' +
            'run `npm install pokesprite-images` in the folder dcgan-run is installed in, or reinstall dcgan-run',
    );
  });

  test("validate knows a named dataset's image size: a model of another size without a resize is an error at data.source.kind", async () => {
    const file = join(work, 'size.yaml');
    writeFileSync(file, 'name: size\ndata:\n  source: { kind: fashionMnist }\nmodel:\n  imageSize: 32\n');
    const result = await runCli(['validate', file], { cwd: work, env: env(freshCache(), []) });
    assert.equal(result.code, 2);
    assert.ok(
      (result.stdout + result.stderr).startsWith(
        'size.yaml:3:19: data.source (fashionMnist) has 28x28 images but model.imageSize is 32: add a resize (and crop) to data.transforms that gives [32, 32]\n' +
          '  3 |   source: { kind: fashionMnist }\n' +
          '    |                   ^^^^^^^^^^^^\n',
      ),
      result.stdout + result.stderr,
    );
  });
});
