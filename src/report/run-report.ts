// `dcgan-run report <run-dir>`: a static folder (index.html, data.js, the sample grids, the generators as
// scripts, the nearest training images, and the bundled page scripts) that works from file:// with no network.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pixelScale } from '../render/grid.ts';
import { readRunConfig } from '../track/run-dir.ts';
import { RUN_SCRIPT, writePageAssets } from './bundle.ts';
import { writePage } from './html.ts';
import { embedGenerators } from './models.ts';
import { writeNearestImages } from './nearest.ts';
import { readRunData, sampleFiles } from './run-data.ts';
import type { RunReportData } from './report-data.ts';

/** Images the page's generator draws at a time. */
export const PAGE_SAMPLES = 16;

export interface ReportOptions {
  /** The report folder (default: <dir>/report). */
  out?: string;
  log?: (line: string) => void;
}

/** Folders of a report that are rewritten whole, so that nothing of an earlier report stays behind. */
const GENERATED = ['samples', 'models', 'nearest', 'trials', 'assets'];

export function prepareReportFolder(out: string): void {
  for (const folder of GENERATED) rmSync(join(out, folder), { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
}

/**
 * The run's page in `out`, its scripts taken from `assets` (relative to `out`; a sweep's trials share the
 * sweep report's). Needs a TF.js backend set (the generator runs for the nearest images). Returns index.html.
 */
export async function writeRunPage(runDir: string, out: string, assets: string, log: (line: string) => void): Promise<string> {
  const data = readRunData(runDir);
  const samples = sampleFiles(runDir).map(({ epoch, file }) => {
    mkdirSync(dirname(join(out, file)), { recursive: true });
    copyFileSync(join(runDir, file), join(out, file));
    return { epoch, src: file };
  });
  const config = readRunConfig(runDir);
  const models = embedGenerators(runDir, out);
  // Three channels' worth fits grey images too: the page reads the first `channels` entries.
  const generator =
    models.length > 0 ? { latentDim: config.model.latentDim, scale: pixelScale(config, 3), seed: config.seed, count: PAGE_SAMPLES, models } : null;
  // The nearest images are drawn from the latest checkpoint, the page's default generator.
  const nearestItems = models[0]?.id.startsWith('latest') ? await writeNearestImages(runDir, config, out, log) : null;
  const nearest = nearestItems ? { model: models[0].id, seed: config.seed, items: nearestItems } : null;
  const page: RunReportData = { ...data, samples, generator, nearest };
  return writePage(out, page, assets, RUN_SCRIPT);
}

/** Writes the report of a run directory; returns the report folder. */
export async function writeRunReport(runDir: string, options: ReportOptions = {}): Promise<string> {
  const out = options.out ?? join(runDir, 'report');
  const log = options.log ?? (() => {});
  prepareReportFolder(out);
  await writePageAssets(join(out, 'assets'), ['run']);
  await writeRunPage(runDir, out, 'assets', log);
  return out;
}
