// The report of a small real run, opened from file:// in real Chromium: the epoch slider, the plots, the
// generator in the page (pixels as `dcgan-run sample` draws them), latent interpolation, and nothing that
// leaves the page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import type { RunReportData } from '../src/report/report-data.ts';
import { readMetrics } from '../src/track/run-dir.ts';
import { COLLAPSE_RATIO, COLOUR_COLLAPSE_RATIO } from '../src/track/collapse-thresholds.ts';
import { findChromium, launchChromium } from './support/chromium.ts';
import { chartInk, openReport, screenshot, type OpenedReport } from './support/report-browser.ts';
import { needs } from './support/requirements.ts';
import { runCli } from './support/sweep-cli.ts';
import { tinyExperiment } from './support/tiny-config.ts';

const chromium = findChromium();
const skip = needs('chromium', 'missing' in chromium ? chromium.missing : false);
const SEED = 5;
/** Largest difference of a pixel channel (0-255) between the page and `dcgan-run sample`, both on cpu. */
const TOLERANCE = 2;

let browser: Browser;
let runDir: string;
let report: string;
let opened: OpenedReport;

before(async () => {
  if (skip) return;
  const { file, dir } = tinyExperiment();
  const settings = [
    'train.epochs=3',
    'data.limit=40',
    'train.samples.count=16',
    'train.eval={every: 1, samples: 10, metrics: [patches]}',
    'train.checkpoint.keepBest=swd',
    // Wider initial weights than DCGAN's 0.02: a generator trained for a few steps whose images visibly follow the noise.
    'model.init={kind: normal, std: 0.3}',
  ];
  const trained = await runCli(['run', file, '--quiet', ...settings.flatMap((setting) => ['--set', setting])], { cwd: dir });
  assert.equal(trained.code, 0, trained.stderr);
  const experimentDir = join(dir, 'runs', 'tiny');
  runDir = join(experimentDir, readdirSync(experimentDir)[0]);
  const written = await runCli(['report', runDir], { cwd: dir });
  assert.equal(written.code, 0, written.stderr);
  report = join(runDir, 'report');
  browser = await launchChromium((chromium as { path: string }).path);
  opened = await openReport(browser, `${pathToFileURL(join(report, 'index.html')).href}?backend=cpu`);
  await generatorReady(opened.page, 7); // the config's seed
});

after(async () => {
  if (opened) await screenshot(opened.page, 'report-run.png');
  await browser?.close();
});

async function generatorReady(page: Page, seed: number): Promise<void> {
  await page.waitForSelector('#generator[data-state=ready]', { timeout: 30_000 });
  assert.match((await page.locator('#generator-status').textContent())!, new RegExp(`seed ${seed}, on TF.js cpu`));
}

/** Types a seed into the generator's field, as a person would, and waits for its images. */
async function typeSeed(page: Page, seed: number): Promise<void> {
  await page.locator('#seed').fill(String(seed));
  await page.locator('#seed').dispatchEvent('change');
  await generatorReady(page, seed);
}

/** RGB of every canvas in `selector`, one array per canvas. */
function canvasPixels(page: Page, selector: string): Promise<number[][]> {
  return page
    .locator(`${selector} canvas`)
    .evaluateAll((canvases: HTMLCanvasElement[]) =>
      canvases.map((canvas) => Array.from(canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data).filter((_, i) => i % 4 !== 3)),
    );
}

const meanDifference = (a: number[], b: number[]) => a.reduce((sum, value, i) => sum + Math.abs(value - b[i]), 0) / a.length;

test("the epoch slider shows each epoch's grid file, and play steps through them", { skip }, async () => {
  const { page } = opened;
  const image = page.locator('#samples-img');
  assert.match((await image.getAttribute('src'))!, /^samples\/epoch-0003\.png$/);
  await page.locator('#samples-slider').fill('1');
  assert.equal(await image.getAttribute('src'), 'samples/epoch-0001.png');
  await page.locator('#samples-slider').press('ArrowRight');
  assert.equal(await image.getAttribute('src'), 'samples/epoch-0002.png');
  assert.equal(await page.locator('#samples-epoch').textContent(), 'epoch 2');
  await page.locator('#samples-slider').fill('0');
  assert.equal(await image.getAttribute('src'), 'samples-untrained.png');
  await page.locator('#samples-play').click();
  await page.waitForFunction(() => document.querySelector('#samples-img')!.getAttribute('src') === 'samples/epoch-0003.png', undefined, { timeout: 5000 });
  assert.ok(await image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), 'the grid image loads');
});

test('the loss, D output and quality plots render, the metric with its floor and the best checkpoint', { skip }, async () => {
  const { page } = opened;
  for (const id of ['#chart-losses', '#chart-d', '#chart-metrics']) assert.ok((await chartInk(page, id)) > 2000, `${id} is drawn`);
  assert.match((await page.locator('#metrics').textContent())!, /Best checkpoint: swd\/patch7\/n10\/avg [\d.e-]+ at epoch \d/);
  const facts = (await page.locator('#run table.facts').textContent())!;
  for (const label of ['status', 'backend', 'versions', 'wall time', 'dataset']) assert.ok(facts.includes(label), label);
  assert.match((await page.locator('pre.config').textContent())!, /latentDim: 8/);
});

test("the samples' spread is plotted per epoch as metrics.jsonl records it, with the collapse warning's thresholds", { skip }, async () => {
  const { page } = opened;
  assert.ok((await chartInk(page, '#chart-spread')) > 2000, '#chart-spread is drawn');
  const epochs = readMetrics(runDir).filter((r) => r.type === 'epoch');
  const shown = await page.evaluate(() => (window as unknown as { DCGAN_REPORT: RunReportData }).DCGAN_REPORT.spread);
  assert.deepEqual(shown, {
    epoch: [1, 2, 3],
    pixels: epochs.map((r) => r.sampleSpread!.pixels),
    colours: epochs.map((r) => r.sampleSpread!.colours),
    thresholds: { pixels: COLLAPSE_RATIO, colours: COLOUR_COLLAPSE_RATIO },
  });
  assert.match((await page.locator('#training').textContent())!, /How varied the samples are/);
});

test('the generator in the page draws the pixels of `dcgan-run sample` for the same checkpoint and seed', { skip }, async () => {
  const { page } = opened;
  await typeSeed(page, SEED);
  const inPage = await canvasPixels(page, '#generator-samples');
  assert.equal(inPage.length, 16);

  const png = join(runDir, 'sample.png');
  const sampled = await runCli(['sample', runDir, '--count', '16', '--seed', String(SEED), '--out', png], { cwd: runDir });
  assert.equal(sampled.code, 0, sampled.stderr);
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const side = 8;
  let worst = 0;
  for (let n = 0; n < 16; n++) {
    const top = 2 + Math.floor(n / 4) * (side + 2);
    const left = 2 + (n % 4) * (side + 2);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        for (let c = 0; c < 3; c++) {
          const expected = data[((top + y) * info.width + left + x) * info.channels + c];
          worst = Math.max(worst, Math.abs(inPage[n][(y * side + x) * 3 + c] - expected));
        }
      }
    }
  }
  assert.ok(worst <= TOLERANCE, `largest pixel difference ${worst}`);
  process.stderr.write(`# in-page generator vs dcgan-run sample: largest pixel difference ${worst}\n`);

  // "new samples" moves to the next seed: other images.
  await page.locator('#new-samples').click();
  await generatorReady(page, SEED + 1);
  assert.ok(meanDifference((await canvasPixels(page, '#generator-samples'))[0], inPage[0]) > 1);
});

test('latent interpolation runs from one sample to the other in small steps', { skip }, async () => {
  const { page } = opened;
  await typeSeed(page, SEED);
  const samples = await canvasPixels(page, '#generator-samples');
  const frames = await canvasPixels(page, '#interpolation');
  assert.equal(frames.length, 10);
  assert.deepEqual(frames[0], samples[0], 'starts at sample 0');
  assert.ok(meanDifference(frames[9], samples[1]) < 0.5, 'ends at sample 1');
  const span = meanDifference(frames[0], frames[9]);
  const steps = frames.slice(1).map((frame, i) => meanDifference(frame, frames[i]));
  for (const step of steps)
    assert.ok(step > 0 && step < 0.5 * span, `steps ${steps.map((s) => s.toFixed(2)).join(', ')} against ${span.toFixed(2)} end to end`);
});

test('nearest training images are in the report; no console errors and no request leaves file://', { skip }, async () => {
  const { page, errors, network, loadMs } = opened;
  assert.equal(await page.locator('#nearest figure').count(), 6);
  assert.ok(
    await page
      .locator('#nearest img')
      .first()
      .evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0),
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(network, []);
  const bytes = readdirSync(report, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .reduce((sum, e) => sum + statSync(join(e.parentPath, e.name)).size, 0);
  process.stderr.write(`# report: ${(bytes / 1e6).toFixed(2)} MB, load event after ${loadMs} ms\n`);
});
