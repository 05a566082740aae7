// The training loop, top to bottom: backend and data; models, optimizers and random streams; a resume's
// checkpoint; the run directory and trackers; then epochs of the lesson's two-update step, each ended by its
// records, sample grid, evaluation and checkpoint; and the run's end, whatever it was.
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Experiment } from '../config/experiment.generated.ts';
import { UserError } from '../errors.ts';
import { describeBackend, useBackend, type BackendName } from '../backend/select.ts';
import { batchShape, batchesPerEpoch, epochBatches, loadDataset, type ImageDataset } from '../data/dataset.ts';
import { bestMetric, createEvaluator, isBetter, type Evaluator } from '../eval/evaluate.ts';
import { cacheFolder } from '../io/cache-folder.ts';
import { buildDiscriminator, buildGenerator } from '../model/build.ts';
import { deriveSeed } from '../random/rng.ts';
import { lineChartPng } from '../render/loss-plot.ts';
import { writeRunReport } from '../report/run-report.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { recordRunFacts } from '../track/run-facts.ts';
import { newRunId, RunDirectory } from '../track/run-dir.ts';
import type { LossRecord, MetricRecord, RunStatus, RunSummary } from '../track/run-types.ts';
import { startHeartbeat } from '../track/run-owner.ts';
import type { Tracker } from '../track/tracker.ts';
import { checkWritableFolder } from '../io/writable.ts';
import { restoreCheckpoint, saveCheckpoint, type CheckpointPosition } from './checkpoint.ts';
import { divergenceMessage, STEP_VALUES } from './divergence.ts';
import { GeneratorAverage } from './ema.ts';
import { type SampleSpread, TrainingHealth, type TrainingWarning } from './health.ts';
import type { Progress } from './progress.ts';
import { restoreStreams, streamStates, trainingRandomness, type TrainingRandomness } from './random-streams.ts';
import { epochComplete, type ResumePoint } from './resume.ts';
import { SampleGrids } from './sample-grids.ts';
import { makeAdam, trainStep } from './step.ts';
import { StepWindow } from './step-window.ts';

export interface TrainOptions {
  configFile: string;
  progress: Progress;
  trackers?: Tracker[];
  /** Polled after every step: true stops the run after that step, with a checkpoint (Ctrl-C). */
  shouldStop?: () => boolean;
  /** Called after each train.eval evaluation; true stops the run at this epoch's end, with a checkpoint (a sweep's early stopping). */
  onEvaluated?: (epoch: number, values: Record<string, number>) => Promise<boolean>;
  runId?: string;
  parentRunId?: string;
  /** Go on with this run from its latest checkpoint (prepareResume), instead of starting a new one. */
  resume?: ResumePoint;
}

export interface TrainResult {
  runDir: string;
  summary: RunSummary;
}

/** The two networks, their optimizers, and the generator's weight average with train.ema. */
interface Networks {
  generator: tf.LayersModel;
  discriminator: tf.LayersModel;
  optimizers: { generator: tf.Optimizer; discriminator: tf.Optimizer };
  average?: GeneratorAverage;
  /** What draws the sample grids and is evaluated: the weight average when train.ema is on. */
  sampler: tf.LayersModel;
}

/** What every stage of a run shares. */
interface Training {
  config: Experiment;
  options: TrainOptions;
  progress: Progress;
  trackers: Tracker[];
  dataset: ImageDataset;
  shape: { height: number; width: number; channels: 1 | 3 };
  nets: Networks;
  random: TrainingRandomness;
  grids: SampleGrids;
  evaluator?: Evaluator;
  health: TrainingHealth;
  run: RunDirectory;
  summary: RunSummary;
  batchesPerEpoch: number;
  /** Steps of the run so far. */
  step: number;
  lastCheckpoint?: string;
  /** onEvaluated asked to stop at this epoch's end. */
  stopAtEpochEnd?: boolean;
  /** Every epoch's mean losses: the loss plot. */
  history: { lossD: number[]; lossG: number[] };
  wallSeconds(): number;
}

/** How an epoch's steps ended: all done, cut short (a stop, train.maxSteps, a divergence) or with nothing trained. */
interface EpochSteps {
  done: number;
  images: number;
  seconds: number;
  values: Record<(typeof STEP_VALUES)[number], number[]>;
  stopped: boolean;
  reachedMaxSteps: boolean;
  diverged?: string;
}

export async function train(config: Experiment, options: TrainOptions): Promise<TrainResult> {
  const { progress, trackers = [], resume } = options;
  const started = Date.now();
  // A runs folder that cannot be written is found now, not after the data has been loaded.
  checkWritableFolder(config.tracking.runsDir, 'tracking.runsDir');

  // Backend and data.
  const backend = await useBackend(config.train.backend);
  progress.log(`backend: ${await describeBackend(backend)}${config.train.backend === 'auto' ? ' (auto: the fastest installed)' : ''}`);
  const dataset = await loadDataset(config.data, { cacheDir: cacheFolder('data'), log: progress.log });
  const shape = imageShape(dataset, config);
  const evaluation = config.train.eval;
  const evaluator = evaluation && (await createEvaluator(config, evaluation, dataset, { cacheDir: cacheFolder('classifiers'), log: progress.log }));

  // Models, optimizers and random streams, all seeded from the config.
  const nets = buildNetworks(config, shape.channels);
  const random = trainingRandomness(config);
  const grids = new SampleGrids(config, dataset, shape);
  const health = new TrainingHealth(config.train.loss, Math.ceil(config.train.epochs / 5));

  // A resumed run carries on from its checkpoint: weights, optimizer moments, the weight average, random streams.
  const position = resume && (await restoreCheckpoint(resume.checkpoint, { ...nets, generatorAverage: nets.average?.model }));
  if (position?.random) restoreStreams(random.streams, position.random);
  else if (position)
    warnLine(progress, `${resume!.checkpoint} is from an older dcgan-run and has no random state: the resumed run will not match an uninterrupted one`);

  // The run directory, its summary and the trackers.
  const run = resume
    ? new RunDirectory(dirname(dirname(resume.runDir)), basename(dirname(resume.runDir)), basename(resume.runDir))
    : new RunDirectory(config.tracking.runsDir, config.name, options.runId ?? newRunId());
  run.writeConfig(config);
  const summary = startSummary(config, run, backend, dataset, started, resume, position);
  run.writeSummary(summary);
  const facts = {
    experiment: config.name,
    runId: run.runId,
    runDir: run.path,
    config,
    configFile: options.configFile,
    backend,
    versions: summary.versions,
    datasetSize: dataset.count,
    parentRunId: options.parentRunId,
    resumed: resume !== undefined,
  };
  if (!resume) recordRunFacts(facts); // run-info.json: what `dcgan-run sync` needs to describe the run later
  for (const tracker of trackers) await tracker.start(facts);
  progress.log(`run: ${run.path}`);

  const previousEpochs = (resume?.records ?? []).filter((r) => r.type === 'epoch');
  // The earlier epochs' warnings are in the summary already: replayed for the streaks only.
  for (const r of previousEpochs) health.checkEpoch(r.epoch, r);
  const t: Training = {
    config,
    options,
    progress,
    trackers,
    dataset,
    shape,
    nets,
    random,
    grids,
    evaluator,
    health,
    run,
    summary,
    batchesPerEpoch: batchesPerEpoch(dataset, config.data.batchSize),
    step: position?.step ?? 0,
    history: { lossD: previousEpochs.map((r) => r.lossD), lossG: previousEpochs.map((r) => r.lossG) },
    // Wall time adds up over the sessions of a resumed run.
    wallSeconds: () => (resume?.summary.wallSeconds ?? 0) + (Date.now() - started) / 1000,
  };

  // Where training goes on: the epoch in progress at the checkpoint and the steps of it done.
  const firstEpoch = position ? (epochComplete(position) ? position.epoch + 1 : position.epoch) : 1;
  const stepsDoneInFirst = position && !epochComplete(position) ? position.stepInEpoch! : 0;
  if (position)
    progress.log(
      `resuming from ${basename(resume!.checkpoint)}: epoch ${firstEpoch}, step ${stepsDoneInFirst + 1}/${t.batchesPerEpoch} (step ${position.step + 1} of the run)`,
    );

  let status: RunStatus = 'finished';
  let failure: string | undefined;
  let thrown: unknown;
  const stopHeartbeat = startHeartbeat(run);
  try {
    // What the untrained generator draws: step 0 of the samples, where MLflow's image card opens.
    if (!resume) logGrid(t, 0, await t.grids.draw(t.nets.sampler));
    for (let epoch = firstEpoch; epoch <= config.train.epochs; epoch++) {
      const steps = await trainEpoch(t, epoch, epoch === firstEpoch ? stepsDoneInFirst : 0);
      if (steps.diverged) {
        [status, failure] = ['failed', steps.diverged];
        progress.endEpoch(`epoch ${epoch}/${config.train.epochs}: diverged`); // also ends a progress bar mid-epoch
        break;
      }
      if (steps.values.lossD.length === 0) break;
      if (steps.stopped && steps.done < t.batchesPerEpoch) {
        status = 'stopped';
        await stopWithinEpoch(t, epoch, steps.done);
        break;
      }
      if (steps.stopped) status = 'stopped';
      await endEpoch(t, epoch, steps, epoch === config.train.epochs || status !== 'finished' || steps.reachedMaxSteps);
      if (t.stopAtEpochEnd) status = 'stopped';
      if (status !== 'finished' || steps.reachedMaxSteps) break;
    }
  } catch (error) {
    status = 'failed';
    thrown = error;
    // WebAssembly's 32-bit heap stops at 4 GB; the wasm runtime then aborts without saying why.
    if (backend === 'wasm' && error instanceof WebAssembly.RuntimeError) {
      thrown = new UserError(
        `the wasm backend ran out of memory (its heap is limited to 4 GB) at data.batchSize ${config.data.batchSize}: lower data.batchSize or use the tensorflow backend`,
      );
    }
    failure = thrown instanceof Error ? thrown.message : String(thrown);
    throw thrown;
  } finally {
    stopHeartbeat();
    await finishRun(t, status, failure, thrown);
  }
  return { runDir: run.path, summary };
}

/** The batch shape the transforms make, which must be the model's. */
function imageShape(dataset: ImageDataset, config: Experiment): Training['shape'] {
  const shape = batchShape(dataset, config.data);
  if (shape.height !== config.model.imageSize || shape.width !== config.model.imageSize) {
    throw new UserError(
      `data: the images are ${shape.height}x${shape.width} after the transforms but model.imageSize is ${config.model.imageSize}: add { kind: resize, size: [${config.model.imageSize}, ${config.model.imageSize}] } to data.transforms`,
    );
  }
  return { height: shape.height, width: shape.width, channels: shape.channels as 1 | 3 };
}

function buildNetworks(config: Experiment, channels: 1 | 3): Networks {
  const generator = buildGenerator(config.model, channels, config.seed);
  const discriminator = buildDiscriminator(config.model, channels, config.seed);
  const optimizers = { generator: makeAdam(config.train.optimizers.generator), discriminator: makeAdam(config.train.optimizers.discriminator) };
  const { ema } = config.train;
  const average = ema ? GeneratorAverage.start(generator, buildGenerator(config.model, channels, config.seed), ema) : undefined;
  return { generator, discriminator, optimizers, average, sampler: average?.model ?? generator };
}

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function versions(backend: string): Record<string, string> {
  return {
    'dcgan-run': PACKAGE.version,
    tfjs: tf.version.tfjs,
    node: process.versions.node,
    backend,
    ...(backend === 'tensorflow'
      ? { tensorflow: String((tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding?.TF_Version ?? 'unknown') }
      : {}),
  };
}

/** The summary a run starts with; a resumed run's carries on from the one it left. */
function startSummary(
  config: Experiment,
  run: RunDirectory,
  backend: BackendName,
  dataset: ImageDataset,
  started: number,
  resume?: ResumePoint,
  position?: CheckpointPosition,
): RunSummary {
  const earlier = resume?.summary;
  const summary: RunSummary = {
    ...earlier,
    status: 'running',
    experiment: config.name,
    runId: run.runId,
    epochsDone: resume?.epochsDone ?? 0,
    epochs: config.train.epochs,
    steps: position?.step ?? 0,
    finalLosses: earlier?.finalLosses ?? null,
    backend,
    versions: versions(backend),
    dataset: dataset.description,
    startedAt: earlier?.startedAt ?? new Date(started).toISOString(),
    wallSeconds: earlier?.wallSeconds ?? 0,
  };
  delete summary.error; // a resumed run's earlier failure is behind it
  return summary;
}

/** Records go to metrics.jsonl and every tracker. */
function record(t: Training, records: MetricRecord[]): void {
  t.run.appendMetrics(records);
  for (const tracker of t.trackers) tracker.logMetrics(records);
}

function warn(t: Training, warning: TrainingWarning): void {
  t.summary.warnings = [...(t.summary.warnings ?? []), warning];
  warnLine(t.progress, warning.message);
  for (const tracker of t.trackers) tracker.logWarning(warning);
}

/**
 * The steps of one epoch, from `skip` (the steps a resumed epoch trained before its checkpoint): each batch in the
 * epoch's seeded order, the two updates, and every train.logEvery steps the losses read back and checked.
 */
async function trainEpoch(t: Training, epoch: number, skip: number): Promise<EpochSteps> {
  const { config, nets, random, shape, progress } = t;
  const { latentDim } = config.model;
  const { maxSteps } = config.train;
  const started = Date.now();
  // A resumed epoch's means include the steps trained before the checkpoint.
  const before = (t.options.resume?.records ?? []).filter((r): r is LossRecord => r.type === 'step' && r.epoch === epoch);
  const values = Object.fromEntries(STEP_VALUES.map((key) => [key, before.map((r) => r[key])])) as EpochSteps['values'];
  const steps: EpochSteps = { done: skip, images: 0, seconds: 0, values, stopped: false, reachedMaxSteps: false };
  const window = new StepWindow(nets);
  const readWindow = async () => {
    if (window.size === 0) return;
    const reading = await window.read(epoch);
    record(t, reading.records);
    for (const key of STEP_VALUES) values[key].push(...reading.values[key]);
    if (reading.diverged) steps.diverged = divergenceMessage(config, { ...reading.diverged, epoch, lastCheckpoint: t.lastCheckpoint });
  };
  progress.startEpoch(epoch, config.train.epochs, t.batchesPerEpoch);

  for (const batch of epochBatches(t.dataset, config.data, { seed: config.seed, epoch })) {
    // The epoch's data order and transforms are its own: a resumed epoch makes its batches again and skips those trained.
    if (batch.index < skip) continue;
    if (maxSteps !== undefined && t.step >= maxSteps) {
      steps.reachedMaxSteps = true;
      break;
    }
    const real = tf.tensor4d(batch.images, [batch.count, shape.height, shape.width, shape.channels]);
    const noise = tf.tensor2d(random.noise.normals(batch.count * latentDim), [batch.count, latentDim]);
    const metrics = trainStep(nets.generator, nets.discriminator, nets.optimizers, real, noise, random.stepOptions);
    tf.dispose([real, noise]);
    t.step += 1;
    steps.done += 1;
    nets.average?.update(nets.generator, t.step);
    steps.images += batch.count;
    window.add(metrics, t.step, batch.count);
    if (window.size >= config.train.logEvery) await readWindow();
    if (steps.diverged) break;
    progress.step(batch.index + 1, steps.images / Math.max((Date.now() - started) / 1000, 1e-9));
    // tfjs runs kernels synchronously: let timers, the trackers' uploads and signal handlers run between steps.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (t.options.shouldStop?.()) {
      steps.stopped = true;
      break;
    }
  }
  if (!steps.diverged) await readWindow();
  steps.reachedMaxSteps ||= maxSteps !== undefined && t.step >= maxSteps;
  steps.seconds = (Date.now() - started) / 1000;
  return steps;
}

/** Stopped within an epoch: a checkpoint of this step; the epoch's line, grid and evaluation wait for its end. */
async function stopWithinEpoch(t: Training, epoch: number, done: number): Promise<void> {
  recomputeAverageStatistics(t);
  await checkpoint(t, epoch, done);
  Object.assign(t.summary, { steps: t.step, position: { epoch, stepInEpoch: done, stepsPerEpoch: t.batchesPerEpoch }, wallSeconds: t.wallSeconds() });
  t.run.writeSummary(t.summary);
  t.progress.endEpoch(`epoch ${epoch}/${t.config.train.epochs}: stopped after step ${done}/${t.batchesPerEpoch} (step ${t.step} of the run)`);
}

/** An epoch's end: its line and record, the health checks, the grid and loss plot, the evaluation and the checkpoint. */
async function endEpoch(t: Training, epoch: number, steps: EpochSteps, last: boolean): Promise<void> {
  const { config, summary } = t;
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const [lossD, lossG, dReal, dFake] = STEP_VALUES.map((key) => mean(steps.values[key]));
  const imagesPerSec = steps.images / steps.seconds;
  t.history.lossD.push(lossD);
  t.history.lossG.push(lossG);
  const drawing = epoch % config.train.samples.every === 0 || last;
  const evaluating = t.evaluator !== undefined && (epoch % config.train.eval!.every === 0 || last);
  const saving = epoch % config.train.checkpoint.every === 0 || last;
  if (drawing || evaluating || saving) recomputeAverageStatistics(t);
  // The grid is drawn first: its spread against real images goes into the epoch's record.
  const grid = drawing ? await t.grids.draw(t.nets.sampler) : undefined;
  const spread = grid && { sampleSpread: grid.spread };
  record(t, [{ type: 'epoch', step: epoch, epoch, lossD, lossG, dReal, dFake, imagesPerSec, epochSeconds: steps.seconds, time: Date.now(), ...spread }]);
  const cut = steps.done < t.batchesPerEpoch ? ` (train.maxSteps: ${steps.done}/${t.batchesPerEpoch} steps)` : '';
  t.progress.endEpoch(
    `epoch ${epoch}/${config.train.epochs}: loss D ${lossD.toFixed(4)}, loss G ${lossG.toFixed(4)}, ${imagesPerSec.toFixed(1)} images/s, ${steps.seconds.toFixed(1)} s${cut}`,
  );
  const wins = t.health.checkEpoch(epoch, { lossD, dReal, dFake });
  if (wins) warn(t, wins);
  if (grid) logGrid(t, epoch, grid);
  t.run.writeLossPlot(
    await lineChartPng(
      [
        { label: 'discriminator', colour: 'orange', values: t.history.lossD },
        { label: 'generator', colour: 'blue', values: t.history.lossG },
      ],
      { x: 'epoch', y: 'loss' },
    ),
  );
  if (evaluating) await evaluate(t, epoch, steps.done);
  // An evaluation that asks to stop at this epoch's end (a pruned sweep trial) gets its checkpoint now.
  if (saving || t.stopAtEpochEnd) await checkpoint(t, epoch, steps.done);
  const complete = steps.done === t.batchesPerEpoch;
  Object.assign(summary, {
    epochsDone: complete ? epoch : epoch - 1,
    steps: t.step,
    position: { epoch, stepInEpoch: steps.done, stepsPerEpoch: t.batchesPerEpoch },
    finalLosses: { lossD, lossG },
    wallSeconds: t.wallSeconds(),
  });
  t.run.writeSummary(summary);
}

/** Before the weight average is drawn from, evaluated or saved: batch-norm statistics of its own, seeded by the step. */
function recomputeAverageStatistics(t: Training): void {
  t.nets.average?.recomputeStatistics(deriveSeed(t.config.seed, `ema-statistics:${t.step}`), t.config.data.batchSize);
}

/** The grid of the fixed noise after `epoch` (0: untrained), checked for collapse after training started. */
function logGrid(t: Training, epoch: number, { png, spread }: { png: Buffer; spread: SampleSpread }): void {
  if (epoch === 0) {
    t.run.writeUntrainedSample(png);
  } else {
    const collapse = t.health.checkSamples(epoch, spread);
    if (collapse) warn(t, collapse);
    t.run.writeSample(epoch, png);
  }
  for (const tracker of t.trackers) tracker.logImage('samples', epoch, png);
}

/** train.eval's metrics of the sampler; with keepBest, a better value saves checkpoints/best. */
async function evaluate(t: Training, epoch: number, stepInEpoch: number): Promise<void> {
  const values = await t.evaluator!.evaluate(t.nets.sampler, t.nets.discriminator);
  record(t, [{ type: 'eval', step: epoch, epoch, values, time: Date.now() }]);
  t.summary.lastEval = { epoch, values };
  if (await t.options.onEvaluated?.(epoch, values)) t.stopAtEpochEnd = true;
  const keepBest = t.config.train.checkpoint.keepBest;
  if (keepBest === false) return;
  const { name, value, higherIsBetter } = bestMetric(keepBest, values);
  if (!isBetter(value, t.summary.best?.value, higherIsBetter)) return;
  const dir = await saveCheckpoint(t.run.path, trainingState(t, epoch, stepInEpoch), 'best');
  t.summary.best = { metric: name, value, epoch };
  writeFileAtomic(join(dir, '..', 'best.json'), `${JSON.stringify(t.summary.best)}\n`);
  for (const tracker of t.trackers) tracker.logArtifact(dir, 'checkpoints/best');
  t.progress.log(`best ${name} so far: ${value.toFixed(4)} at epoch ${epoch} (checkpoints/best)`);
}

function trainingState(t: Training, epoch: number, stepInEpoch: number) {
  const { generator, discriminator, average, optimizers } = t.nets;
  return {
    generator,
    discriminator,
    generatorAverage: average?.model,
    optimizers,
    epoch,
    step: t.step,
    stepInEpoch,
    stepsPerEpoch: t.batchesPerEpoch,
    random: streamStates(t.random.streams),
  };
}

async function checkpoint(t: Training, epoch: number, stepInEpoch: number): Promise<void> {
  const dir = await saveCheckpoint(t.run.path, trainingState(t, epoch, stepInEpoch));
  t.lastCheckpoint = basename(dir);
  for (const tracker of t.trackers) tracker.logArtifact(dir, `checkpoints/${t.lastCheckpoint}`);
}

/** The run's end, however it ended: its status in summary.json and the trackers, and every tensor released. */
async function finishRun(t: Training, status: RunStatus, failure: string | undefined, thrown: unknown): Promise<void> {
  const { run, summary } = t;
  summary.status = status;
  summary.wallSeconds = t.wallSeconds();
  if (failure) summary.error = failure;
  // On a full disk the summary can fail too: the run's own error stays the one reported, this one added.
  let summaryError: unknown;
  try {
    run.writeSummary(summary);
  } catch (error) {
    summaryError = error;
  }
  if (t.config.train.report && !summaryError) await writeReport(t);
  for (const tracker of t.trackers) {
    tracker.logArtifact(run.file('config.yaml'), 'config.yaml');
    if (summary.epochsDone > 0) tracker.logArtifact(run.file('losses.png'), 'losses.png');
    tracker.logArtifact(run.file('summary.json'), 'summary.json');
    await tracker.finish(status, failure);
  }
  t.grids.dispose();
  const { generator, discriminator, average, optimizers } = t.nets;
  generator.dispose();
  average?.dispose();
  discriminator.dispose();
  optimizers.generator.dispose();
  optimizers.discriminator.dispose();
  if (summaryError) throw summaryNotWritten(summaryError, run.file('summary.json'), failure, thrown);
}

/** train.report: the run's HTML report, for the trackers too; one that cannot be written is a warning, not the run's failure. */
async function writeReport(t: Training): Promise<void> {
  const started = performance.now();
  try {
    const dir = await writeRunReport(t.run.path, { log: t.progress.log });
    t.progress.log(`report: ${join(dir, 'index.html')} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    for (const tracker of t.trackers) tracker.logArtifact(dir, 'report');
  } catch (error) {
    warnLine(t.progress, `the run's report could not be written (${(error as Error).message}); \`dcgan-run report ${t.run.path}\` tries again`);
  }
}

/** A summary that could not be written, said after the run's own failure if it had one; a thrown error keeps its kind. */
function summaryNotWritten(error: unknown, path: string, failure: string | undefined, thrown: unknown): Error {
  const reason = `${path} could not be written${failure ? ' either' : ''} (${(error as Error).message}): it still says "running"`;
  const message = failure ? `${failure}; ${reason}` : reason;
  return thrown === undefined || thrown instanceof UserError ? new UserError(message, { cause: thrown ?? error }) : new Error(message, { cause: thrown });
}

/** A warning line: shown even with --quiet where the progress has a warn channel. */
function warnLine(progress: Progress, line: string): void {
  if (progress.warn) progress.warn(line);
  else progress.log(`warning: ${line}`);
}
