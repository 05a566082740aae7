// The report of a small real sweep (two finished trials, two failed before training), opened from file:// in
// real Chromium: sorting and filtering the trials, the parallel coordinates, the shared epoch slider, and the
// links to each trial's own report.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { findChromium, launchChromium } from './support/chromium.ts';
import { chartInk, openReport, screenshot, type OpenedReport } from './support/report-browser.ts';
import { needs } from './support/requirements.ts';
import { onlySweepDir, runCli } from './support/sweep-cli.ts';
import { POKEMON_ROOT, tinyExperiment } from './support/tiny-config.ts';

const chromium = findChromium();
const skip = needs('chromium', 'missing' in chromium ? chromium.missing : false);

let browser: Browser;
let opened: OpenedReport;

before(async () => {
  if (skip) return;
  // Trials: 000 lr 0.0002, 001 lr 0.0002 on a missing folder, 002 lr 0.002, 003 lr 0.002 on a missing folder.
  const { file, dir } = tinyExperiment({
    name: 'report-sweep',
    train: { epochs: 2, samples: { count: 4 }, checkpoint: { every: 1 }, logEvery: 1, backend: 'cpu' },
    tracking: { runsDir: 'runs' },
    sweep: {
      parallel: 2,
      parameters: { 'train.optimizers.generator.learningRate': [0.0002, 0.002], 'data.source.root': [POKEMON_ROOT, '/nonexistent/sprites'] },
    },
  });
  const swept = await runCli(['run', file, '--quiet'], { cwd: dir });
  assert.equal(swept.code, 1, swept.stderr);
  const sweepDir = onlySweepDir(join(dir, 'runs'), 'report-sweep')!;
  const written = await runCli(['report', sweepDir], { cwd: dir });
  assert.equal(written.code, 0, written.stderr);
  browser = await launchChromium((chromium as { path: string }).path);
  opened = await openReport(browser, pathToFileURL(join(sweepDir, 'report', 'index.html')).href);
});

after(async () => {
  if (opened) await screenshot(opened.page, 'report-sweep-trial.png');
  await browser?.close();
});

const shownTrials = (page: Page) =>
  page.locator('#trials-table tbody tr').evaluateAll((rows: HTMLElement[]) => rows.map((row) => row.dataset.trial!.slice(0, 3)));

test('the trials table sorts by a column both ways and filters by text and by status; failed trials show their reason', { skip }, async () => {
  const { page } = opened;
  assert.deepEqual(await shownTrials(page), ['000', '001', '002', '003']);
  const failed = page.locator('#trials-table tr[data-trial^="001"]');
  assert.match((await failed.textContent())!, /failed.*the folder \/nonexistent\/sprites does not exist/);

  await page.locator('#trials-table th[data-column="metric:lossD"]').click();
  const ascending = await shownTrials(page);
  assert.deepEqual(ascending.slice(2).sort(), ['001', '003'], 'trials without the metric last');
  await page.locator('#trials-table th[data-column="metric:lossD"]').click();
  const descending = await shownTrials(page);
  assert.deepEqual(descending.slice(0, 2), ascending.slice(0, 2).reverse());
  assert.equal(await page.locator('#trials-table th[data-column="metric:lossD"]').getAttribute('data-sorted'), 'descending');

  await page.locator('#trials-table th[data-column="param:train.optimizers.generator.learningRate"]').click();
  assert.deepEqual((await shownTrials(page)).slice(0, 2).sort(), ['000', '001']);

  await page.locator('#trial-filter').fill('nonexistent');
  assert.deepEqual((await shownTrials(page)).sort(), ['001', '003']);
  await page.locator('#trial-filter').fill('');
  await page.locator('#status-filter').selectOption('finished');
  assert.deepEqual((await shownTrials(page)).sort(), ['000', '002']);
  await page.locator('#status-filter').selectOption('');
});

test("the parallel coordinates render; the shared slider moves every trial's grid to one epoch", { skip }, async () => {
  const { page } = opened;
  assert.ok((await chartInk(page, '#chart-parallel')) > 2000);
  const sources = () =>
    page
      .locator('.trial-card')
      .evaluateAll((cards: HTMLElement[]) =>
        cards.map((card) => (card.querySelector('img')!.hidden ? card.querySelector('.missing')!.textContent : card.querySelector('img')!.getAttribute('src'))),
      );
  assert.deepEqual(await sources(), ['trials/000/samples/epoch-0002.png', 'no grid at epoch 2', 'trials/002/samples/epoch-0002.png', 'no grid at epoch 2']);
  await page.locator('#sweep-slider').fill('1');
  assert.deepEqual(await sources(), ['trials/000/samples/epoch-0001.png', 'no grid at epoch 1', 'trials/002/samples/epoch-0001.png', 'no grid at epoch 1']);
  await page.locator('#sweep-slider').press('ArrowLeft');
  assert.deepEqual((await sources())[0], 'trials/000/samples-untrained.png');
  await screenshot(page, 'report-sweep.png');
});

test('each trial that ran links to its own report, which works; nothing leaves file:// and nothing logs an error', { skip }, async () => {
  const { page, errors, network } = opened;
  assert.equal(await page.locator('#trials-table a').count(), 2);
  await page.locator('#trials-table tr[data-trial^="002"] a').click();
  await page.waitForSelector('#generator[data-state=ready]', { timeout: 30_000 });
  assert.equal(await page.locator('#samples-img').getAttribute('src'), 'samples/epoch-0002.png');
  assert.ok((await chartInk(page, '#chart-losses')) > 2000);
  assert.deepEqual(errors, []);
  assert.deepEqual(network, []);
});
