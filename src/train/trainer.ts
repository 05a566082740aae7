// The training loop, top to bottom: backend, data, models, optimizers, then epochs of the lesson's
// two-update step, with metrics, sample grids and checkpoints written as it goes.
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Experiment } from '../config/experiment.generated.ts';
import { UserError } from '../errors.ts';
import { describeBackend, useBackend } from '../backend/select.ts';
import { batchShape, batchesPerEpoch, epochBatches, loadDataset, type ImageDataset } from '../data/dataset.ts';
import { buildDiscriminator, buildGenerator } from '../model/build.ts';
import { deriveSeed, Rng, type RngState } from '../random/rng.ts';
import { imageGridPng, pixelScale, type PixelScale } from '../render/grid.ts';
import { lineChartPng } from '../render/loss-plot.ts';
import { newRunId, RunDirectory } from '../track/run-dir.ts';
import type { LossRecord, MetricRecord, RunStatus, RunSummary } from '../track/run-types.ts';
import type { Tracker } from '../track/tracker.ts';
import { recordRunFacts } from '../track/run-facts.ts';
import { restoreCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { epochComplete, type ResumePoint } from './resume.ts';
import { bestMetric, createEvaluator, isBetter } from '../eval/evaluate.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { checkWritableFolder } from '../io/writable.ts';
import { startHeartbeat } from '../track/run-owner.ts';
import type { Progress } from './progress.ts';
import { GeneratorAverage } from './ema.ts';
import { spreadRatio, TrainingHealth, type TrainingWarning } from './health.ts';
import { createAugmenter } from './augment.ts';
import { makeAdam, trainStep, type StepMetrics, type StepOptions } from './step.ts';
import { divergenceMessage, firstNonFinite, nonFiniteWeights, STEP_VALUES, weightFiniteness } from './divergence.ts';

export interface TrainOptions {
  configFile: string;
  progress: Progress;
  trackers?: Tracker[];
  /** Polled after every step: true stops the run after that step, with a checkpoint (Ctrl-C). */
  shouldStop?: () => boolean;
  cacheDir?: string;
  runId?: string;
  parentRunId?: string;
  /** Go on with this run from its latest checkpoint (prepareResume), instead of starting a new one. */
  resume?: ResumePoint;
}

export interface TrainResult {
  runDir: string;
  summary: RunSummary;
}

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function versions(backend: string): Record<string, string> {
  return {
    'dcgan-run': PACKAGE.version,
    tfjs: tf.version.tfjs,
    node: process.versions.node,
    backend,
    ...(backend === 'tensorflow' ? { tensorflow: String((tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding?.TF_Version ?? 'unknown') } : {}),
  };
}

const mean = (values: ArrayLike<number>) => (values.length ? Array.from(values).reduce((a, b) => a + b, 0) / values.length : NaN);

export async function train(config: Experiment, options: TrainOptions): Promise<TrainResult> {
  const { progress, trackers = [] } = options;
  const started = Date.now();
  // A runs folder that cannot be written is found now, not after the data has been loaded.
  checkWritableFolder(config.tracking.runsDir, 'tracking.runsDir');

  // Backend and data.
  const backend = await useBackend(config.train.backend);
  progress.log(`backend: ${await describeBackend(backend)}${config.train.backend === 'auto' ? ' (auto: the fastest installed)' : ''}`);
  const dataset = await loadDataset(config.data, { cacheDir: options.cacheDir ?? '.cache/data', log: progress.log });
  const shape = batchShape(dataset, config.data);
  if (shape.height !== config.model.imageSize || shape.width !== config.model.imageSize) {
    throw new UserError(
      `data: the images are ${shape.height}x${shape.width} after the transforms but model.imageSize is ${config.model.imageSize}: add { kind: resize, size: [${config.model.imageSize}, ${config.model.imageSize}] } to data.transforms`,
    );
  }
  const channels = shape.channels as 1 | 3;
  const evaluation = config.train.eval;
  const evaluator = evaluation && (await createEvaluator(config, evaluation, dataset, { cacheDir: join(dirname(options.cacheDir ?? '.cache/data'), 'classifiers'), log: progress.log }));

  // Models and optimizers, all seeded from the config.
  const generator = buildGenerator(config.model, channels, config.seed);
  const discriminator = buildDiscriminator(config.model, channels, config.seed);
  const optimizers = { generator: makeAdam(config.train.optimizers.generator), discriminator: makeAdam(config.train.optimizers.discriminator) };
  const { ema: emaSettings } = config.train;
  const average = emaSettings ? GeneratorAverage.start(generator, buildGenerator(config.model, channels, config.seed), emaSettings) : undefined;
  // What draws the sample grids and is evaluated: the weight average when train.ema is on.
  const sampler = average?.model ?? generator;
  const noiseRng = new Rng(deriveSeed(config.seed, 'noise'));
  const { options: stepOptions, streams } = stepOptionsOf(config, noiseRng);
  const health = new TrainingHealth(config.train.loss, Math.ceil(config.train.epochs / 5));
  const { latentDim } = config.model;
  const sampleCount = config.train.samples.count;
  const sampleNoise = tf.tensor2d(new Rng(deriveSeed(config.seed, 'samples')).normals(sampleCount * latentDim), [sampleCount, latentDim]);
  const scale = pixelScale(config, channels);
  const realReference = realSample(dataset, config, sampleCount, scale);

  // A resumed run carries on from its checkpoint: weights, optimizer moments, the weight average, random streams.
  const { resume } = options;
  const position = resume && (await restoreCheckpoint(resume.checkpoint, { generator, discriminator, generatorAverage: average?.model, optimizers }));
  if (position?.random) for (const [name, stream] of Object.entries(streams)) stream.restore(position.random[name]!);
  else if (position) warnLine(progress, `${resume!.checkpoint} is from an older dcgan-run and has no random state: the resumed run will not match an uninterrupted one`);

  // The run directory and trackers.
  const run = resume
    ? new RunDirectory(dirname(dirname(resume.runDir)), basename(dirname(resume.runDir)), basename(resume.runDir))
    : new RunDirectory(config.tracking.runsDir, config.name, options.runId ?? newRunId());
  run.writeConfig(config);
  const batches = batchesPerEpoch(dataset, config.data.batchSize);
  const { epochs, logEvery } = config.train;
  const earlier = resume?.summary;
  const summary: RunSummary = {
    ...earlier,
    status: 'running',
    experiment: config.name,
    runId: run.runId,
    epochsDone: resume?.epochsDone ?? 0,
    epochs,
    steps: position?.step ?? 0,
    finalLosses: earlier?.finalLosses ?? null,
    backend,
    versions: versions(backend),
    dataset: dataset.description,
    startedAt: earlier?.startedAt ?? new Date(started).toISOString(),
    wallSeconds: earlier?.wallSeconds ?? 0,
  };
  delete summary.error; // a resumed run's earlier failure is behind it
  // Wall time adds up over the sessions of a resumed run.
  const wallSeconds = () => (earlier?.wallSeconds ?? 0) + (Date.now() - started) / 1000;
  run.writeSummary(summary);
  const info = { experiment: config.name, runId: run.runId, runDir: run.path, config, configFile: options.configFile, backend, versions: summary.versions, datasetSize: dataset.count, parentRunId: options.parentRunId, resumed: resume !== undefined };
  if (!resume) recordRunFacts(info); // run-info.json: what `dcgan-run sync` needs to describe the run later
  for (const tracker of trackers) await tracker.start(info);
  const record = (records: MetricRecord[]) => {
    run.appendMetrics(records);
    for (const tracker of trackers) tracker.logMetrics(records);
  };
  progress.log(`run: ${run.path}`);

  const previousEpochs = (resume?.records ?? []).filter((r) => r.type === 'epoch');
  const history = { lossD: previousEpochs.map((r) => r.lossD), lossG: previousEpochs.map((r) => r.lossG) };
  // The earlier epochs' warnings are in the summary already: replayed for the streaks only.
  for (const r of previousEpochs) health.checkEpoch(r.epoch, r);
  // Where training goes on: the epoch in progress at the checkpoint and the steps of it done.
  const firstEpoch = position ? (epochComplete(position) ? position.epoch + 1 : position.epoch) : 1;
  const stepsDoneInFirst = position && !epochComplete(position) ? position.stepInEpoch! : 0;
  if (position) progress.log(`resuming from ${basename(resume!.checkpoint)}: epoch ${firstEpoch}, step ${stepsDoneInFirst + 1}/${batches} (step ${position.step + 1} of the run)`);
  let step = position?.step ?? 0;
  let status: RunStatus = 'finished';
  let failure: string | undefined;
  let lastCheckpoint: string | undefined;
  let thrown: unknown;
  const warn = (warning: TrainingWarning) => {
    summary.warnings = [...(summary.warnings ?? []), warning];
    warnLine(progress, warning.message);
    for (const tracker of trackers) tracker.logWarning(warning);
  };
  const trainingState = (epoch: number, stepInEpoch: number) => ({
    generator,
    discriminator,
    generatorAverage: average?.model,
    optimizers,
    epoch,
    step,
    stepInEpoch,
    stepsPerEpoch: batches,
    random: Object.fromEntries(Object.entries(streams).map(([name, stream]) => [name, stream.state()])),
  });
  const checkpoint = async (epoch: number, stepInEpoch: number) => {
    const dir = await saveCheckpoint(run.path, trainingState(epoch, stepInEpoch));
    lastCheckpoint = dir.split('/').pop();
    for (const tracker of trackers) tracker.logArtifact(dir, `checkpoints/${lastCheckpoint}`);
  };

  const drawGrid = async () => {
    const images = tf.tidy(() => sampler.apply(sampleNoise, { training: false }) as tf.Tensor4D);
    const values = (await images.data()) as Float32Array;
    images.dispose();
    return { values, png: await imageGridPng(values, { count: sampleCount, height: shape.height, width: shape.width, channels }, scale, Math.min(7, sampleCount)) };
  };

  const stopHeartbeat = startHeartbeat(run);
  try {
    if (!resume) {
      // What the untrained generator draws: step 0 of the samples, where MLflow's image card opens.
      const { png } = await drawGrid();
      run.writeUntrainedSample(png);
      for (const tracker of trackers) tracker.logImage('samples', 0, png);
    }
    for (let epoch = firstEpoch; epoch <= epochs && status === 'finished'; epoch++) {
      const epochStart = Date.now();
      // A resumed epoch's means include the steps trained before the checkpoint.
      const before = (resume?.records ?? []).filter((r) => r.type === 'step' && r.epoch === epoch);
      const epochValues = { lossD: [] as number[], lossG: [] as number[], dReal: [] as number[], dFake: [] as number[] };
      for (const key of STEP_VALUES) epochValues[key].push(...before.map((r) => (r as LossRecord)[key]));
      let done = epoch === firstEpoch ? stepsDoneInFirst : 0; // steps of this epoch trained
      let pending: { metrics: StepMetrics; step: number; images: number }[] = [];
      let windowStart = Date.now();
      let imagesThisEpoch = 0;
      progress.startEpoch(epoch, epochs, batches);

      // Reading values back waits for the device, so losses are read every `logEvery` steps, all at once,
      // and checked, with the weights, for divergence: the steps from the first non-finite one are not recorded.
      // Returns the divergence message when the run diverged.
      const flush = async (): Promise<string | undefined> => {
        if (pending.length === 0) return undefined;
        const read = async (tensor: tf.Tensor) => {
          const values = await tensor.data();
          tensor.dispose();
          return values;
        };
        const [lossD, lossG, dReal, dFake, generatorWeights, discriminatorWeights] = await Promise.all([
          ...STEP_VALUES.map((key) => read(tf.stack(pending.map((p) => p.metrics[key])))),
          read(weightFiniteness(generator)),
          read(weightFiniteness(discriminator)),
        ]);
        const columns = { lossD, lossG, dReal, dFake };
        const seconds = (Date.now() - windowStart) / 1000;
        const imagesPerSec = pending.reduce((n, p) => n + p.images, 0) / Math.max(seconds, 1e-9);
        const time = Date.now();
        const badLosses = firstNonFinite(columns);
        const badWeights = [
          ...nonFiniteWeights(generator, generatorWeights).map((name) => `generator ${name}`),
          ...nonFiniteWeights(discriminator, discriminatorWeights).map((name) => `discriminator ${name}`),
        ];
        const good = pending.slice(0, badLosses?.row ?? pending.length);
        record(good.map((p, i) => ({ type: 'step', step: p.step, epoch, lossD: lossD[i], lossG: lossG[i], dReal: dReal[i], dFake: dFake[i], imagesPerSec, time })));
        for (const key of STEP_VALUES) epochValues[key].push(...columns[key].slice(0, good.length));
        const diverged =
          badLosses || badWeights.length > 0
            ? divergenceMessage(config, {
                step: badLosses ? pending[badLosses.row].step : pending[pending.length - 1].step,
                epoch,
                what: badLosses?.what ?? `weights are not finite (NaN or infinite) while the losses still were: ${badWeights.join(', ')}`,
                lastCheckpoint,
              })
            : undefined;
        for (const p of pending) tf.dispose(Object.values(p.metrics));
        pending = [];
        windowStart = Date.now();
        return diverged;
      };

      for (const batch of epochBatches(dataset, config.data, { seed: config.seed, epoch })) {
        // The epoch's data order and transforms are its own: a resumed epoch makes its batches again and skips those trained.
        if (batch.index < done) continue;
        const real = tf.tensor4d(batch.images, [batch.count, shape.height, shape.width, channels]);
        const noise = tf.tensor2d(noiseRng.normals(batch.count * latentDim), [batch.count, latentDim]);
        const metrics = trainStep(generator, discriminator, optimizers, real, noise, stepOptions);
        tf.dispose([real, noise]);
        step += 1;
        done += 1;
        average?.update(generator, step);
        imagesThisEpoch += batch.count;
        pending.push({ metrics, step, images: batch.count });
        if (pending.length >= logEvery) failure = await flush();
        if (failure) break;
        progress.step(batch.index + 1, imagesThisEpoch / Math.max((Date.now() - epochStart) / 1000, 1e-9));
        // tfjs runs kernels synchronously: let timers, the trackers' uploads and signal handlers run between steps.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (options.shouldStop?.()) {
          status = 'stopped';
          break;
        }
      }
      failure ??= await flush();
      if (failure) {
        status = 'failed';
        progress.endEpoch(`epoch ${epoch}/${epochs}: diverged`); // also ends a progress bar mid-epoch
        break;
      }
      if (epochValues.lossD.length === 0) break;
      if (done < batches) {
        // Stopped within the epoch: a checkpoint of this step; the epoch's line, grid and evaluation wait for its end.
        await checkpoint(epoch, done);
        Object.assign(summary, { steps: step, position: { epoch, stepInEpoch: done, stepsPerEpoch: batches }, wallSeconds: wallSeconds() });
        run.writeSummary(summary);
        progress.endEpoch(`epoch ${epoch}/${epochs}: stopped after step ${done}/${batches} (step ${step} of the run)`);
        break;
      }

      const epochSeconds = (Date.now() - epochStart) / 1000;
      const lossD = mean(epochValues.lossD);
      const lossG = mean(epochValues.lossG);
      const dReal = mean(epochValues.dReal);
      const dFake = mean(epochValues.dFake);
      history.lossD.push(lossD);
      history.lossG.push(lossG);
      record([{ type: 'epoch', step: epoch, epoch, lossD, lossG, dReal, dFake, imagesPerSec: imagesThisEpoch / epochSeconds, epochSeconds, time: Date.now() }]);
      progress.endEpoch(`epoch ${epoch}/${epochs}: loss D ${lossD.toFixed(4)}, loss G ${lossG.toFixed(4)}, ${(imagesThisEpoch / epochSeconds).toFixed(1)} images/s, ${epochSeconds.toFixed(1)} s`);
      const wins = health.checkEpoch(epoch, { lossD, dReal, dFake });
      if (wins) warn(wins);

      const last = epoch === epochs || status !== 'finished';
      if (epoch % config.train.samples.every === 0 || last) {
        const { values, png } = await drawGrid();
        const collapse = health.checkSamples(epoch, spreadRatio(toPixels(values, scale), realReference.pixels, realReference.count, shape.height * shape.width * channels));
        if (collapse) warn(collapse);
        run.writeSample(epoch, png);
        for (const tracker of trackers) tracker.logImage('samples', epoch, png);
      }
      run.writeLossPlot(await lineChartPng(
        [{ label: 'discriminator', colour: 'orange', values: history.lossD }, { label: 'generator', colour: 'blue', values: history.lossG }],
        { x: 'epoch', y: 'loss' },
      ));
      if (evaluator && (epoch % evaluation!.every === 0 || last)) {
        const values = await evaluator.evaluate(sampler);
        record([{ type: 'eval', step: epoch, epoch, values, time: Date.now() }]);
        summary.lastEval = { epoch, values };
        const keepBest = config.train.checkpoint.keepBest;
        if (keepBest !== false) {
          const { name, value, higherIsBetter } = bestMetric(keepBest, values);
          if (isBetter(value, summary.best?.value, higherIsBetter)) {
            const dir = await saveCheckpoint(run.path, trainingState(epoch, batches), 'best');
            summary.best = { metric: name, value, epoch };
            writeFileAtomic(join(dir, '..', 'best.json'), `${JSON.stringify(summary.best)}\n`);
            for (const tracker of trackers) tracker.logArtifact(dir, 'checkpoints/best');
            progress.log(`best ${name} so far: ${value.toFixed(4)} at epoch ${epoch} (checkpoints/best)`);
          }
        }
      }
      if (epoch % config.train.checkpoint.every === 0 || last) await checkpoint(epoch, batches);
      summary.epochsDone = epoch;
      summary.steps = step;
      summary.position = { epoch, stepInEpoch: batches, stepsPerEpoch: batches };
      summary.finalLosses = { lossD, lossG };
      summary.wallSeconds = wallSeconds();
      run.writeSummary(summary);
    }
  } catch (error) {
    status = 'failed';
    thrown = error;
    // WebAssembly's 32-bit heap stops at 4 GB; the wasm runtime then aborts without saying why.
    if (backend === 'wasm' && error instanceof WebAssembly.RuntimeError) {
      thrown = new UserError(`the wasm backend ran out of memory (its heap is limited to 4 GB) at data.batchSize ${config.data.batchSize}: lower data.batchSize or use the tensorflow backend`);
    }
    failure = thrown instanceof Error ? thrown.message : String(thrown);
    throw thrown;
  } finally {
    stopHeartbeat();
    summary.status = status;
    summary.wallSeconds = wallSeconds();
    if (failure) summary.error = failure;
    // On a full disk the summary can fail too: the run's own error stays the one reported, this one added.
    let summaryError: unknown;
    try {
      run.writeSummary(summary);
    } catch (error) {
      summaryError = error;
    }
    for (const tracker of trackers) {
      tracker.logArtifact(run.file('config.yaml'), 'config.yaml');
      if (summary.epochsDone > 0) tracker.logArtifact(run.file('losses.png'), 'losses.png');
      tracker.logArtifact(run.file('summary.json'), 'summary.json');
      await tracker.finish(status, failure);
    }
    tf.dispose([sampleNoise]);
    generator.dispose();
    average?.dispose();
    discriminator.dispose();
    optimizers.generator.dispose();
    optimizers.discriminator.dispose();
    if (summaryError) throw summaryNotWritten(summaryError, run.file('summary.json'), failure, thrown);
  }
  return { runDir: run.path, summary };
}

/** A summary that could not be written, said after the run's own failure if it had one; a thrown error keeps its kind. */
function summaryNotWritten(error: unknown, path: string, failure: string | undefined, thrown: unknown): Error {
  const reason = `${path} could not be written${failure ? ' either' : ''} (${(error as Error).message}): it still says "running"`;
  const message = failure ? `${failure}; ${reason}` : reason;
  return thrown === undefined || thrown instanceof UserError ? new UserError(message, { cause: thrown ?? error }) : new Error(message, { cause: thrown });
}

/** Normalized images back to pixel values in [0, 1] (interleaved channels, as the grid draws them). */
function toPixels(values: Float32Array, scale: PixelScale): Float32Array {
  const channels = scale.mean.length;
  return values.map((v, i) => Math.min(1, Math.max(0, v * scale.std[i % channels]! + scale.mean[i % channels]!)));
}

/** The first `count` images of a batch drawn as training draws them (its own seeded epoch), in [0, 1]: the spread collapse is judged against. */
function realSample(dataset: ImageDataset, config: Experiment, count: number, scale: PixelScale): { pixels: Float32Array; count: number } {
  const first = epochBatches(dataset, { ...config.data, batchSize: Math.max(count, config.data.batchSize) }, { seed: deriveSeed(config.seed, 'reference'), epoch: 0 }).next().value!;
  const n = Math.min(count, first.count);
  return { pixels: toPixels(first.images.subarray(0, (first.images.length / first.count) * n), scale), count: n };
}

/** A random stream a checkpoint saves and a resume restores. */
interface RandomStream {
  state(): RngState;
  restore(state: RngState): void;
}

/**
 * The step's options from train: the loss, augmentation and penalties, each drawing from its own seeded stream;
 * and every stream training draws from as it goes, the noise's included, by name.
 */
function stepOptionsOf(config: Experiment, noise: Rng): { options: StepOptions; streams: Record<string, RandomStream> } {
  const { loss, r1, gradientPenalty } = config.train;
  const augmenter = createAugmenter(config.train.augment, config.seed);
  const mixRng = loss === 'wgan-gp' ? new Rng(deriveSeed(config.seed, 'gradient-penalty')) : undefined;
  return {
    options: {
      loss,
      augment: augmenter ? (images) => augmenter.apply(images) : undefined,
      r1,
      gradientPenalty: mixRng ? { weight: gradientPenalty, mix: (n) => tf.tensor4d(Float32Array.from({ length: n }, () => mixRng.next()), [n, 1, 1, 1]) } : undefined,
    },
    streams: { noise, ...(augmenter ? { augment: augmenter } : {}), ...(mixRng ? { gradientPenalty: mixRng } : {}) },
  };
}

/** A warning line: shown even with --quiet where the progress has a warn channel. */
function warnLine(progress: Progress, line: string): void {
  if (progress.warn) progress.warn(line);
  else progress.log(`warning: ${line}`);
}
