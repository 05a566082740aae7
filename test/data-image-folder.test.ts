import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { Data, Transform } from '../src/config/experiment.generated.ts';
import { loadDataset, type ImageDataset } from '../src/data/dataset.ts';
import { UserError } from '../src/errors.ts';

const projectRoot = fileURLToPath(new URL('../', import.meta.url));
const pokemonRoot = path.join(projectRoot, 'node_modules/pokesprite-images/pokemon-gen8/regular');
const lesson: Transform[] = [
  { kind: 'flatten', background: '#ffffff' },
  { kind: 'resize', size: [64, 64], fit: 'fill', background: '#ffffff' },
];

function config(root: string | [string, ...string[]], transforms: Transform[] = [], extra: Partial<Data> = {}): Data {
  return { source: { kind: 'imageFolder', root }, transforms, batchSize: 256, shuffle: true, onBadImage: 'error', cache: false, ...extra };
}

/** A solid-colour PNG, or one with the given raw pixels. */
async function png(file: string, width: number, height: number, colour: string | { channels: 1 | 2 | 3 | 4; data: Uint8Array }): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const image =
    typeof colour === 'string'
      ? sharp({ create: { width, height, channels: 3, background: colour } })
      : sharp(colour.data, { raw: { width, height, channels: colour.channels } });
  await writeFile(file, await image.png().toBuffer());
}

/** Independent of the loader: every .png under `dir`, sorted the same way (by full path, code-unit order). */
async function walkPngs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.png'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort((a, b) => (a < b ? -1 : 1));
}

function pixel(dataset: ImageDataset, index: number, y: number, x: number): number[] {
  const at = ((index * dataset.height + y) * dataset.width + x) * dataset.channels;
  return [...dataset.pixels.subarray(at, at + dataset.channels)];
}

describe('Pokemon sprites (pokesprite-images gen8 regular)', () => {
  let tmp: string;
  let dataset: ImageDataset;
  let files: string[];

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'data-pokemon-'));
    files = await walkPngs(pokemonRoot);
    dataset = await loadDataset(config(pokemonRoot, lesson, { cache: true }), { cacheDir: tmp });
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  test('loads every sprite, sub-folders included, as 64x64x3', async () => {
    // 1332 sprites at the top level and 20 female variants in regular/female/.
    const topLevel = (await readdir(pokemonRoot)).filter((name) => name.endsWith('.png'));
    assert.equal(topLevel.length, 1332);
    assert.equal(files.length, 1352);
    assert.equal(dataset.count, 1352);
    assert.deepEqual([dataset.height, dataset.width, dataset.channels], [64, 64, 3]);
    assert.equal(dataset.pixels.length, 1352 * 64 * 64 * 3);
    assert.deepEqual(dataset.skipped, []);
    assert.equal(dataset.description, `1352 images from ${pokemonRoot} (imageFolder), 64x64x3`);
  });

  test('the sprites are 68 wide and 56 high with alpha', async () => {
    const meta = await sharp(path.join(pokemonRoot, 'bulbasaur.png')).metadata();
    assert.deepEqual([meta.width, meta.height, meta.hasAlpha], [68, 56, true]);
  });

  test('flatten + resize gives exactly what sharp gives for the same pipeline', async () => {
    for (const name of ['bulbasaur.png', 'pikachu.png', 'unown-b.png', 'female/pikachu.png']) {
      const file = path.join(pokemonRoot, name);
      const index = files.indexOf(file);
      assert.ok(index >= 0, name);
      const expected = await sharp(file)
        .flatten({ background: '#ffffff' })
        .resize(64, 64, { fit: 'fill', kernel: 'linear' })
        .toColourspace('srgb')
        .raw()
        .toBuffer();
      const size = 64 * 64 * 3;
      assert.deepEqual(Buffer.from(dataset.pixels.subarray(index * size, (index + 1) * size)), expected, name);
    }
  });

  test('a hand-checked sprite pixel: the transparent top-left corner is white', () => {
    const index = files.indexOf(path.join(pokemonRoot, 'bulbasaur.png'));
    assert.deepEqual(pixel(dataset, index, 0, 0), [255, 255, 255]);
  });

  test('transparent pixels become the flatten background colour', async () => {
    const navy = await loadDataset(config(pokemonRoot, [{ kind: 'flatten', background: '#102030' }, lesson[1]], { limit: 3 }), { cacheDir: tmp });
    for (let index = 0; index < 3; index++) assert.deepEqual(pixel(navy, index, 0, 0), [0x10, 0x20, 0x30]);
  });
});

describe('image folders', () => {
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'data-folder-'));
  });
  after(() => rm(tmp, { recursive: true, force: true }));
  const load = (data: Data, log?: (line: string) => void) => loadDataset(data, { cacheDir: path.join(tmp, 'cache'), log });

  test('class sub-folders and flat files, sorted by path', async () => {
    const root = path.join(tmp, 'classes');
    await png(path.join(root, 'z.png'), 4, 4, '#0000ff');
    await png(path.join(root, 'dogs', 'b.png'), 4, 4, '#00ff00');
    await png(path.join(root, 'cats', 'a.png'), 4, 4, '#ff0000');
    await writeFile(path.join(root, 'notes.txt'), 'not an image');
    const dataset = await load(config(root));
    assert.equal(dataset.count, 3);
    assert.deepEqual(
      [0, 1, 2].map((i) => pixel(dataset, i, 0, 0)),
      [
        [255, 0, 0],
        [0, 255, 0],
        [0, 0, 255],
      ],
    );
  });

  test('JPEG, WebP and the first frame of an animated GIF', async () => {
    const root = path.join(tmp, 'formats');
    await mkdir(root, { recursive: true });
    const solid = (colour: string) =>
      sharp({ create: { width: 8, height: 8, channels: 3, background: colour } })
        .png()
        .toBuffer();
    await writeFile(
      path.join(root, 'a.jpg'),
      await sharp(await solid('#808080'))
        .jpeg({ quality: 100 })
        .toBuffer(),
    );
    await writeFile(
      path.join(root, 'b.webp'),
      await sharp(await solid('#ff0000'))
        .webp({ lossless: true })
        .toBuffer(),
    );
    const frames = [await solid('#00ff00'), await solid('#0000ff')];
    await writeFile(
      path.join(root, 'c.gif'),
      await sharp(frames, { join: { animated: true } })
        .gif()
        .toBuffer(),
    );
    const dataset = await load(config(root));
    assert.equal(dataset.count, 3);
    assert.ok(pixel(dataset, 0, 4, 4).every((value) => Math.abs(value - 128) <= 2));
    assert.deepEqual(pixel(dataset, 1, 4, 4), [255, 0, 0]);
    assert.deepEqual(pixel(dataset, 2, 4, 4), [0, 255, 0]);
  });

  test('a grey PNG among RGB ones is expanded to three equal channels', async () => {
    const root = path.join(tmp, 'grey');
    await png(path.join(root, 'a.png'), 2, 1, { channels: 1, data: Uint8Array.from([10, 200]) });
    await png(path.join(root, 'b.png'), 2, 1, '#ff8000');
    const dataset = await load(config(root));
    assert.equal(dataset.channels, 3);
    assert.deepEqual(pixel(dataset, 0, 0, 0), [10, 10, 10]);
    assert.deepEqual(pixel(dataset, 0, 0, 1), [200, 200, 200]);
  });

  test('without flatten, alpha is dropped and the description says so', async () => {
    const root = path.join(tmp, 'alpha');
    await png(path.join(root, 'a.png'), 1, 1, { channels: 4, data: Uint8Array.from([50, 60, 70, 0]) });
    const dataset = await load(config(root));
    assert.deepEqual(pixel(dataset, 0, 0, 0), [50, 60, 70]);
    assert.match(dataset.description, /alpha channel dropped from 1 image \(add a flatten transform/);
    const flattened = await load(config(root, [{ kind: 'flatten', background: '#ffffff' }]));
    assert.deepEqual(pixel(flattened, 0, 0, 0), [255, 255, 255]);
    assert.doesNotMatch(flattened.description, /alpha channel/);
  });

  test('flatten composites half-transparent pixels as sharp does', async () => {
    const root = path.join(tmp, 'half');
    const data = Uint8Array.from({ length: 64 * 4 }, (_, i) => (i * 37 + 11) & 255);
    await png(path.join(root, 'a.png'), 8, 8, { channels: 4, data });
    const dataset = await load(config(root, [{ kind: 'flatten', background: '#2040ff' }]));
    const expected = await sharp(path.join(root, 'a.png')).flatten({ background: '#2040ff' }).raw().toBuffer();
    assert.deepEqual(Buffer.from(dataset.pixels), expected);
  });

  test('grayscale in the cached stage is BT.601 luma, one channel', async () => {
    const root = path.join(tmp, 'luma');
    await png(path.join(root, 'a.png'), 1, 1, '#c86432'); // 200, 100, 50
    const dataset = await load(config(root, [{ kind: 'grayscale' }]));
    assert.equal(dataset.channels, 1);
    assert.deepEqual([...dataset.pixels], [Math.round(0.299 * 200 + 0.587 * 100 + 0.114 * 50)]);
  });

  test('centerCrop takes the middle, and resize fit cover/contain make the asked size', async () => {
    const root = path.join(tmp, 'crop');
    await png(path.join(root, 'a.png'), 4, 1, { channels: 1, data: Uint8Array.from([1, 2, 3, 4]) });
    const cropped = await load(config(root, [{ kind: 'grayscale' }, { kind: 'centerCrop', size: [1, 2] }]));
    assert.deepEqual([...cropped.pixels], [2, 3]);
    for (const fit of ['cover', 'contain'] as const) {
      const resized = await load(config(root, [{ kind: 'resize', size: [6, 6], fit, background: '#000000' }]));
      assert.deepEqual([resized.height, resized.width, resized.channels], [6, 6, 3], fit);
    }
  });

  test('images of different sizes without a resize: an error naming the odd file', async () => {
    const root = path.join(tmp, 'sizes');
    await png(path.join(root, 'a.png'), 8, 8, '#ffffff');
    await png(path.join(root, 'b.png'), 10, 6, '#ffffff');
    await assert.rejects(load(config(root)), (error: Error) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, /b\.png is 6x10 but .*a\.png is 8x8/);
      assert.match(error.message, /add a resize/);
      return true;
    });
    const resized = await load(config(root, [{ kind: 'resize', size: [4, 4], fit: 'fill', background: '#ffffff' }]));
    assert.equal(resized.count, 2);
  });

  test('a truncated PNG is an error naming it; with onBadImage skip it is skipped and counted', async () => {
    const root = path.join(tmp, 'bad');
    for (const name of ['a', 'c', 'd']) await png(path.join(root, `${name}.png`), 4, 4, '#ff0000');
    const whole = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#00ff00' } })
      .png()
      .toBuffer();
    const broken = path.join(root, 'b.png');
    await writeFile(broken, whole.subarray(0, whole.length >> 1));
    await assert.rejects(load(config(root)), (error: Error) => {
      assert.ok(error instanceof UserError);
      assert.ok(error.message.startsWith(`${broken}: cannot decode the image`), error.message);
      assert.match(error.message, /onBadImage: skip/);
      return true;
    });
    const lines: string[] = [];
    const skipped = await load(config(root, [], { onBadImage: 'skip' }), (line) => lines.push(line));
    assert.equal(skipped.count, 3);
    assert.deepEqual(skipped.skipped, [broken]);
    assert.ok(lines.includes(`data: skipped 1 undecodable image: first ${broken}`), lines.join('\n'));
    assert.match(skipped.description, /1 undecodable skipped/);
    // limit counts decodable images: the file after the bad one fills its place.
    const limited = await load(config(root, [], { onBadImage: 'skip', limit: 2 }));
    assert.equal(limited.count, 2);
    assert.deepEqual(limited.skipped, [broken]);
  });

  test('limit keeps the first N files by path', async () => {
    const root = path.join(tmp, 'limit');
    for (const [name, colour] of [
      ['a', '#010101'],
      ['b', '#020202'],
      ['c', '#030303'],
    ])
      await png(path.join(root, `${name}.png`), 2, 2, colour);
    const dataset = await load(config(root, [], { limit: 2 }));
    assert.equal(dataset.count, 2);
    assert.deepEqual(
      [pixel(dataset, 0, 0, 0), pixel(dataset, 1, 0, 0)],
      [
        [1, 1, 1],
        [2, 2, 2],
      ],
    );
  });

  test('an empty folder lists the extensions looked for', async () => {
    const root = path.join(tmp, 'empty');
    await mkdir(path.join(root, 'sub'), { recursive: true });
    await writeFile(path.join(root, 'sub', 'readme.md'), '# nothing');
    await assert.rejects(load(config(root)), (error: Error) => {
      assert.ok(error instanceof UserError);
      assert.equal(error.message, `data.source.root: no images found under ${root} (looked for .png, .jpg, .jpeg, .webp, .gif, in sub-folders too)`);
      return true;
    });
  });

  test('several roots are one dataset: each folder in the order given, sorted within, the description naming them', async () => {
    const [first, second] = [path.join(tmp, 'roots', 'shiny'), path.join(tmp, 'roots', 'regular')];
    await png(path.join(first, 'b.png'), 4, 4, '#ff0000');
    await png(path.join(first, 'a.png'), 4, 4, '#00ff00');
    await png(path.join(second, 'a.png'), 4, 4, '#0000ff');
    const dataset = await load(config([first, second]));
    assert.equal(dataset.count, 3);
    assert.deepEqual(
      [0, 1, 2].map((i) => pixel(dataset, i, 0, 0)),
      [
        [0, 255, 0],
        [255, 0, 0],
        [0, 0, 255],
      ],
    );
    assert.equal(dataset.description, `3 images from 2 folders (${first}, ${second}) (imageFolder), 4x4x3`);
    const missing = path.join(tmp, 'roots', 'gone');
    await assert.rejects(load(config([first, missing])), new UserError(`data.source.root: the folder ${missing} does not exist`));
  });

  test('links to folders: followed inside the root, not out of it (`up -> ..`), loops listed once; the log line counts what was not followed', async () => {
    const tree = path.join(tmp, 'links');
    const root = path.join(tree, 'root');
    await png(path.join(root, 'a.png'), 2, 2, '#010101');
    await png(path.join(root, 'sub', 'b.png'), 2, 2, '#020202');
    await png(path.join(tree, 'elsewhere', 'c.png'), 2, 2, '#030303'); // beside the root: not part of it
    await symlink('..', path.join(root, 'up'));
    await symlink(path.join(tree, 'elsewhere'), path.join(root, 'away'));
    await symlink(root, path.join(root, 'sub', 'loop'));
    await symlink('sub', path.join(root, 'same'));
    const lines: string[] = [];
    const dataset = await load(config(root), (line) => lines.push(line));
    assert.equal(dataset.count, 2);
    assert.deepEqual(
      [pixel(dataset, 0, 0, 0), pixel(dataset, 1, 0, 0)],
      [
        [1, 1, 1],
        [2, 2, 2],
      ],
    );
    assert.equal(dataset.description, `2 images from ${root} (imageFolder), 2x2x3; 2 links to folders outside the root not followed`);
    assert.match(lines.join('\n'), /^data: 2 images from .*; 2 links to folders outside the root not followed \(decoded in/m);
  });

  test('macOS metadata files (._*, .DS_Store) are left out without an error, and counted', async () => {
    const root = path.join(tmp, 'macos');
    await png(path.join(root, 'a.png'), 2, 2, '#010101');
    await png(path.join(root, 'sub', 'b.png'), 2, 2, '#020202');
    // What macOS writes beside files on a FAT or network volume: AppleDouble headers, not images.
    await writeFile(path.join(root, '._a.png'), Buffer.from([0x00, 0x05, 0x16, 0x07, 0x00, 0x02, 0x00, 0x00]));
    await writeFile(path.join(root, 'sub', '._b.png'), Buffer.from([0x00, 0x05, 0x16, 0x07, 0x00, 0x02, 0x00, 0x00]));
    await writeFile(path.join(root, '.DS_Store'), Buffer.from('Bud1'));
    const dataset = await load(config(root));
    assert.equal(dataset.count, 2);
    assert.deepEqual(dataset.skipped, []);
    assert.equal(dataset.description, `2 images from ${root} (imageFolder), 2x2x3; 3 macOS metadata files (._*, .DS_Store) left out`);
  });

  test('an image file of 0x0 pixels is an error naming it', async () => {
    const root = path.join(tmp, 'zero');
    await png(path.join(root, 'a.png'), 2, 2, '#010101');
    // A PNG whose header says 0x0, which sharp cannot make: signature, then an IHDR chunk with width and height 0.
    const whole = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000000' } })
      .png()
      .toBuffer();
    const zero = Buffer.from(whole);
    zero.writeUInt32BE(0, 16);
    zero.writeUInt32BE(0, 20);
    const file = path.join(root, 'b.png');
    await writeFile(file, zero);
    await assert.rejects(load(config(root)), (error: Error) => {
      assert.ok(error instanceof UserError, error.stack);
      assert.ok(error.message.startsWith(`${file}: cannot decode the image`), error.message);
      return true;
    });
  });

  test('a missing root is an error naming it', async () => {
    const root = path.join(tmp, 'does-not-exist');
    await assert.rejects(load(config(root)), new UserError(`data.source.root: the folder ${root} does not exist`));
  });
});
