// The page's scripts, bundled from our TypeScript (src/report/page/) with esbuild at report time: TF.js, ECharts,
// the seeded RNG and the custom layers all come from node_modules and src/, so the page needs no network
// and draws the same noise as `dcgan-run sample`.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const PAGE = join(import.meta.dirname, 'page');

export const RUN_SCRIPT = 'run.js';
export const SWEEP_SCRIPT = 'sweep.js';
export const STYLESHEET = 'report.css';

const ENTRIES = { run: 'run-page.ts', sweep: 'sweep-page.ts' };

/** Writes the pages' scripts (run.js, sweep.js: `pages`) and report.css into `assetsDir`. */
export async function writePageAssets(assetsDir: string, pages: (keyof typeof ENTRIES)[]): Promise<void> {
  mkdirSync(assetsDir, { recursive: true });
  await build({
    entryPoints: Object.fromEntries(pages.map((page) => [page, join(PAGE, ENTRIES[page])])),
    outdir: assetsDir,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'error',
    // src/model/ imports the whole of TF.js; the page needs its core, layers and browser backends only.
    alias: { '@tensorflow/tfjs': join(PAGE, 'tfjs.ts') },
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  copyFileSync(join(PAGE, 'report.css'), join(assetsDir, STYLESHEET));
}
