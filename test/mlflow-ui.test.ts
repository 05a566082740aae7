// The MLflow UI as a user sees a finished run, in real Chromium: the Model metrics tab's sample-grid card shows the
// grid at its default size, and its step slider moves through the epochs.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createTrackers } from '../src/track/create-trackers.ts';
import { train } from '../src/train/trainer.ts';
import type { Progress } from '../src/train/progress.ts';
import { MlflowClient } from '../src/track/mlflow/index.ts';
import { findChromium, launchChromium } from './support/chromium.ts';
import { needs } from './support/requirements.ts';
import { startMlflowServer } from './support/mlflow-server.ts';
import { screenshot } from './support/report-browser.ts';
import { tinyExperiment } from './support/tiny-config.ts';

const silent: Progress = { startEpoch() {}, step() {}, endEpoch() {}, log() {} };
const chromium = findChromium();

test(
  "the Model metrics tab shows the sample grid at the card's default size, and the step slider changes it",
  { skip: needs('chromium', 'missing' in chromium ? chromium.missing : false) },
  async () => {
    if ('missing' in chromium) return;
    const server = await startMlflowServer();
    after(() => server.stop());
    const experiment = `ui-${randomUUID().slice(0, 8)}`;
    const { config, file } = tinyExperiment({}, [`tracking.mlflow.experiment=${experiment}`, 'train.epochs=3', 'train.samples.count=16']);
    const { trackers, mlflow } = await createTrackers(config, { env: { MLFLOW_TRACKING_URI: server.uri }, warn: assert.fail });
    await train(config, { configFile: file, progress: silent, trackers });
    const runId = mlflow!.tracker.runId!;
    const experimentId = (await new MlflowClient({ trackingUri: server.uri }).getRun(runId)).info.experiment_id;

    const browser = await launchChromium(chromium.path);
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(`${server.uri}/#/experiments/${experimentId}/runs/${runId}/model-metrics`);
      // Chart sections by "/"-prefix: what a user reads together.
      for (const section of ['losses', 'epoch', 'throughput'])
        await page
          .getByText(new RegExp(`^${section}\\(\\d+\\)`))
          .first()
          .waitFor();

      // The grid card is below the metric sections; it loads its images once scrolled into view.
      await page.getByText('Model metrics', { exact: true }).last().scrollIntoViewIfNeeded();
      await page.getByText('samples', { exact: true }).first().scrollIntoViewIfNeeded();
      const image = page.locator('img[src*="samples%2Bstep%2B"]').first();
      await image.waitFor({ state: 'visible' });
      await page.waitForFunction((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0, await image.elementHandle());
      // The share of the grid a user sees without opening the card full screen: the part inside every clipping
      // ancestor (the card and its scrolling body), and that the grid is on top there.
      const seen = await image.evaluate((img) => {
        const box = img.getBoundingClientRect();
        let [left, top, right, bottom] = [box.left, box.top, box.right, box.bottom];
        for (let el = img.parentElement; el; el = el.parentElement) {
          if (getComputedStyle(el).overflow === 'visible') continue;
          const clip = el.getBoundingClientRect();
          [left, top, right, bottom] = [Math.max(left, clip.left), Math.max(top, clip.top), Math.min(right, clip.right), Math.min(bottom, clip.bottom)];
        }
        const onTop = document.elementFromPoint((left + right) / 2, (top + bottom) / 2) === img;
        return {
          width: Math.max(0, right - left) / box.width,
          height: Math.max(0, bottom - top) / box.height,
          px: [Math.round(box.width), Math.round(box.height)],
          onTop,
        };
      });
      const shot = await screenshot(page, 'mlflow-ui-model-metrics.png');
      process.stderr.write(
        `# screenshot: ${shot}; grid ${seen.px.join('x')} px, ${Math.round(seen.width * 100)}% of its width and ${Math.round(seen.height * 100)}% of its height in view\n`,
      );
      // MLflow centres a 256 px preview in a square wider than the card, so a little of the sides is always cut.
      assert.ok(seen.width >= 0.8 && seen.height >= 0.8, JSON.stringify(seen));
      assert.ok(seen.onTop, 'the grid is not covered');
      const slider = page.getByRole('slider').last();
      const first = await image.getAttribute('src');
      assert.match(first!, /step(%2B|\+)0(%2B|\+)/, 'the card opens at step 0: the untrained grid');
      // The slider's step box, as a user types the last epoch into it.
      const stepBox = slider.locator('xpath=ancestor::span[@dir="ltr"]/following-sibling::input');
      await stepBox.fill('3');
      await stepBox.press('Enter');
      await stepBox.blur();
      await page.waitForFunction(() => [...document.querySelectorAll('img')].some((img) => /samples%2Bstep%2B3%2B/.test(img.src)));
      assert.equal(await slider.getAttribute('aria-valuenow'), '3');
      assert.notEqual(await page.locator('img[src*="samples%2Bstep%2B"]').first().getAttribute('src'), first);
      await screenshot(page, 'mlflow-ui-model-metrics-step3.png');
    } finally {
      await browser.close();
    }
  },
);
