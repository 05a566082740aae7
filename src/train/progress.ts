import cliProgress from 'cli-progress';

export interface Progress {
  startEpoch(epoch: number, epochs: number, batches: number): void;
  step(batchesDone: number, imagesPerSec: number): void;
  endEpoch(summary: string): void;
  log(line: string): void;
  /** A warning, shown even with --quiet, as "warning: <line>"; where left out, `log` shows that line. */
  warn?(line: string): void;
}

/** A bar per epoch on a terminal, plain lines otherwise, nothing but warnings with --quiet. */
export function createProgress(options: { quiet: boolean; stream?: NodeJS.WriteStream; prefix?: string }): Progress {
  const stream = options.stream ?? process.stderr;
  const prefix = options.prefix ? `[${options.prefix}] ` : '';
  const write = (line: string) => stream.write(`${prefix}${line}\n`);
  const warn = (line: string) => write(`warning: ${line}`);
  if (options.quiet) return { startEpoch() {}, step() {}, endEpoch() {}, log() {}, warn };
  if (!stream.isTTY) {
    let last = 0;
    let total = 0;
    let label = '';
    return {
      startEpoch(epoch, epochs, batches) {
        label = `epoch ${epoch}/${epochs}`;
        total = batches;
        last = Date.now();
      },
      step(done, imagesPerSec) {
        // At most a line every 10 s: logs stay readable on long epochs.
        if (Date.now() - last < 10_000 || done === total) return;
        last = Date.now();
        write(`${label}: ${done}/${total} batches, ${imagesPerSec.toFixed(1)} images/s`);
      },
      endEpoch: write,
      log: write,
      warn,
    };
  }
  let bar: cliProgress.SingleBar | undefined;
  return {
    startEpoch(epoch, epochs, batches) {
      bar = new cliProgress.SingleBar(
        {
          format: `${prefix}epoch ${epoch}/${epochs} [{bar}] {value}/{total} batches | {speed} images/s | ETA {eta_formatted}`,
          stream,
          hideCursor: false,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(batches, 0, { speed: '-' });
    },
    step(done, imagesPerSec) {
      bar?.update(done, { speed: imagesPerSec.toFixed(1) });
    },
    endEpoch(summary) {
      bar?.stop();
      bar = undefined;
      write(summary);
    },
    log(line) {
      if (bar) stream.write('\n');
      write(line);
    },
    warn(line) {
      this.log(`warning: ${line}`);
    },
  };
}
