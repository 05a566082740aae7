// `dcgan-run report <run-dir|sweep-dir> [--out dir] [--open]`: a static HTML report that opens from file://.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { useBackend } from '../backend/select.ts';
import { UserError } from '../errors.ts';
import { writeRunReport } from '../report/run-report.ts';
import { writeSweepReport } from '../report/sweep-report.ts';
import { MANIFEST } from '../track/sweep-manifest.ts';
import { readRunConfig } from '../track/run-dir.ts';

/** The system's way to open a file in the default browser. */
function openCommand(): [string, string[]] {
  if (process.platform === 'darwin') return ['open', []];
  if (process.platform === 'win32') return ['cmd', ['/c', 'start', '']];
  return ['xdg-open', []];
}

export async function reportCommand(dir: string, options: { out?: string; open?: boolean }): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const sweep = existsSync(join(dir, MANIFEST));
  if (!sweep && !existsSync(join(dir, 'config.yaml'))) throw new UserError(`${dir}: neither a run directory (config.yaml) nor a sweep directory (${MANIFEST})`);
  // The generator runs at report time for the nearest training images: on the backend the run trained with, or cpu for a sweep's many small ones.
  await useBackend(sweep ? 'cpu' : readRunConfig(dir).train.backend);
  const started = performance.now();
  const out = sweep ? await writeSweepReport(dir, { out: options.out, log }) : await writeRunReport(dir, { out: options.out, log });
  const index = join(out, 'index.html');
  process.stdout.write(`wrote ${index} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  if (options.open) {
    const [command, args] = openCommand();
    spawn(command, [...args, pathToFileURL(index).href], { detached: true, stdio: 'ignore' })
      .on('error', (error) => log(`could not open a browser (${error.message}); open ${index}`))
      .unref();
  }
}
