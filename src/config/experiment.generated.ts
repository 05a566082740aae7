// Generated from schemas/experiment.schema.json by `npm run gen:types`. Do not edit.
// Keys with a default are required here: these are the types of a config after validation filled them.

export type Transform =
  | {
      /**
       * Composite the alpha channel onto a background colour, leaving RGB.
       */
      kind: 'flatten';
      /**
       * Background colour as #rrggbb.
       */
      background: string;
    }
  | {
      /**
       * Resize to [height, width]; must agree with model.imageSize unless a crop follows.
       */
      kind: 'resize';
      size: Size2;
      /**
       * fill: stretch (torchvision Resize((h,w))); cover: crop to the aspect ratio; contain: letterbox onto the background.
       */
      fit: 'fill' | 'cover' | 'contain';
      /**
       * Letterbox colour for fit: contain.
       */
      background: string;
    }
  | {
      /**
       * Crop the central [height, width].
       */
      kind: 'centerCrop';
      size: Size2;
    }
  | {
      /**
       * Crop a random [height, width] window, drawn per image per epoch.
       */
      kind: 'randomCrop';
      size: Size2;
    }
  | {
      /**
       * Convert to one channel (ITU-R BT.601 luma).
       */
      kind: 'grayscale';
    }
  | {
      /**
       * Mirror left-right with probability p, drawn per image per epoch.
       */
      kind: 'randomHorizontalFlip';
      /**
       * Flip probability.
       */
      p: number;
    }
  | {
      /**
       * (x - mean) / std per channel, on pixels scaled to [0, 1] (torchvision's ToTensor + Normalize). mean 0.5, std 0.5 maps to [-1, 1], the range of the generator's tanh.
       */
      kind: 'normalize';
      /**
       * One value per image channel.
       *
       * @minItems 1
       * @maxItems 4
       */
      mean: [number] | [number, number] | [number, number, number] | [number, number, number, number];
      /**
       * One value per image channel, each > 0.
       *
       * @minItems 1
       * @maxItems 4
       */
      std: [number] | [number, number] | [number, number, number] | [number, number, number, number];
    };
/**
 * [height, width] in pixels.
 *
 * @minItems 2
 * @maxItems 2
 */
export type Size2 = [number, number];
/**
 * Hidden-layer activation.
 */
export type Activation =
  | {
      /**
       * max(0, x).
       */
      kind: 'relu';
    }
  | {
      /**
       * x for x > 0, alpha * x otherwise.
       */
      kind: 'leakyRelu';
      /**
       * Negative slope, in [0, 1] (the lesson: 0.2).
       */
      alpha: number;
    }
  | {
      /**
       * x for x > 0, alpha * (exp(x) - 1) otherwise.
       */
      kind: 'elu';
      /**
       * Saturation value for negative inputs, > 0.
       */
      alpha: number;
    }
  | {
      /**
       * Scaled ELU.
       */
      kind: 'selu';
    }
  | {
      /**
       * x * sigmoid(x) (SiLU).
       */
      kind: 'swish';
    }
  | {
      /**
       * Hyperbolic tangent.
       */
      kind: 'tanh';
    };
/**
 * Batch normalization after each block's convolution: an object of settings, or false for none.
 */
export type GeneratorBatchNorm = false | {momentum: number; epsilon: number};
/**
 * Hidden-layer activation.
 */
export type Activation1 =
  | {
      /**
       * max(0, x).
       */
      kind: 'relu';
    }
  | {
      /**
       * x for x > 0, alpha * x otherwise.
       */
      kind: 'leakyRelu';
      /**
       * Negative slope, in [0, 1] (the lesson: 0.2).
       */
      alpha: number;
    }
  | {
      /**
       * x for x > 0, alpha * (exp(x) - 1) otherwise.
       */
      kind: 'elu';
      /**
       * Saturation value for negative inputs, > 0.
       */
      alpha: number;
    }
  | {
      /**
       * Scaled ELU.
       */
      kind: 'selu';
    }
  | {
      /**
       * x * sigmoid(x) (SiLU).
       */
      kind: 'swish';
    }
  | {
      /**
       * Hyperbolic tangent.
       */
      kind: 'tanh';
    };
/**
 * Batch normalization after each block's convolution: an object of settings, or false for none.
 */
export type DiscriminatorBatchNorm = false | {momentum: number; epsilon: number; firstBlock: boolean};

/**
 * A dcgan-run experiment: data, DCGAN architecture, training, tracking and an optional sweep. Keys left out take the defaults shown here; `dcgan-run plan` prints the resolved result.
 */
export interface Experiment {
  /**
   * Path or URL of this schema, for editors (yaml-language-server reads the `# yaml-language-server: $schema=...` modeline too).
   */
  $schema?: string;
  /**
   * Experiment name: letters, digits, '.', '_' and '-'. Names the run folder runs/<name>/ and the MLflow experiment unless tracking.mlflow.experiment is set.
   */
  name: string;
  /**
   * Another experiment file (path relative to this file) deep-merged under this one: objects merge key by key, lists and scalars are replaced. Chains are allowed; cycles are errors.
   */
  extends?: string;
  /**
   * Seed of everything random: weight init, noise, shuffling, random transforms, sample noise. Same seed, config and backend give the same losses.
   */
  seed: number;
  data: Data;
  model: Model;
  train: Train;
  tracking: Tracking;
  sweep?: Sweep;
}
/**
 * Where the training images come from and how they are transformed.
 */
export interface Data {
  /**
   * The image source: a named dataset (fashionMnist, mnist, pokemonSprites), fetched and verified by the tool, or your own files (imageFolder, idx).
   */
  source: FashionMnistSource | MnistSource | PokemonSpritesSource | ImageFolderSource | IdxSource;
  /**
   * Applied in order to every image. Deterministic transforms (flatten, resize, centerCrop, grayscale, normalize) are cached on disk; random ones (randomCrop, randomHorizontalFlip) are drawn per epoch from the seed.
   */
  transforms: Transform[];
  /**
   * Images per training step (the lesson uses 256). The last, smaller batch of an epoch is kept.
   */
  batchSize: number;
  /**
   * Reshuffle the images every epoch (seeded).
   */
  shuffle: boolean;
  /**
   * Use only the first N images (after sorting by path or IDX order): for quick runs and tests.
   */
  limit?: number;
  /**
   * What an undecodable image file does: `error` stops with the file's name; `skip` leaves it out and reports how many were skipped.
   */
  onBadImage: 'error' | 'skip';
  /**
   * Cache the decoded, deterministic part of the pipeline under .cache/data/, keyed by the source files (paths, sizes, mtimes) and the transforms.
   */
  cache: boolean;
}
export interface FashionMnistSource {
  /**
   * Fashion-MNIST (Zalando Research, MIT): 28x28 grayscale images of 10 kinds of clothing, with labels. The official gzip'd IDX files are downloaded once into the data cache (`$DCGAN_RUN_DATA`, default the user cache folder; `dcgan-run data list`) and checked against their published MD5 sums; `dcgan-run data fetch fashion-mnist [--from <dir>]` does it up front.
   */
  kind: 'fashionMnist';
  /**
   * Which of the official splits: `train` (60,000 images) or `test` (the 10,000 t10k images).
   */
  split: 'train' | 'test';
  /**
   * Keep only these label ids: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot.
   *
   * @minItems 1
   */
  classes?: [number, ...number[]];
}
export interface MnistSource {
  /**
   * MNIST (LeCun, Cortes and Burges): 28x28 grayscale handwritten digits, with labels. Fetched and verified like fashionMnist (`dcgan-run data fetch mnist`).
   */
  kind: 'mnist';
  /**
   * Which of the official splits: `train` (60,000 images) or `test` (the 10,000 t10k images).
   */
  split: 'train' | 'test';
  /**
   * Keep only these digits (0-9).
   *
   * @minItems 1
   */
  classes?: [number, ...number[]];
}
export interface PokemonSpritesSource {
  /**
   * The Pokemon box sprites of the npm package `pokesprite-images` (a dependency of dcgan-run, found wherever the tool is installed): 68x56 RGBA PNGs on a transparent background (the lesson used a larger set of Pokemon images; these are the ones an npm package can ship). All generations and variants: 5,117 images.
   */
  kind: 'pokemonSprites';
  /**
   * Sprite sets: `gen8` (1,352 regular sprites, Sword/Shield style) and `gen7x` (1,206, Sun/Moon style), read in this order.
   *
   * @minItems 1
   */
  generations: ['gen8' | 'gen7x', ...('gen8' | 'gen7x')[]];
  /**
   * Colourings: `regular` and `shiny` (the alternative palette). Female forms are included with each.
   *
   * @minItems 1
   */
  variants: ['regular' | 'shiny', ...('regular' | 'shiny')[]];
}
export interface ImageFolderSource {
  /**
   * Every PNG/JPEG/WebP/GIF (first frame) under `root`, recursively: flat, or in class sub-folders as torchvision's ImageFolder. Several roots are read in the order given, as one dataset.
   */
  kind: 'imageFolder';
  /**
   * Folder of images, or a list of folders read as one dataset (e.g. several sprite generations), relative to the config file.
   */
  root: string | [string, ...string[]];
}
export interface IdxSource {
  /**
   * MNIST/Fashion-MNIST IDX files, gzip'd (.gz) or raw.
   */
  kind: 'idx';
  /**
   * IDX3 image file (magic 2051), relative to the config file.
   */
  images: string;
  /**
   * IDX1 label file (magic 2049), relative to the config file. Required with `classes`.
   */
  labels?: string;
  /**
   * Keep only these label ids (Fashion-MNIST: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot).
   *
   * @minItems 1
   */
  classes?: [number, ...number[]];
}
/**
 * The DCGAN: a generator from latentDim x 1 x 1 noise up to imageSize, and a discriminator back down to one logit. Image channels (1 or 3) are taken from the data.
 */
export interface Model {
  /**
   * Length of the noise vector z ~ N(0, 1).
   */
  latentDim: number;
  /**
   * Square image side. Must equal startSize * 2^blocks for an integer startSize >= 1 in both networks (64 = 4 * 2^4; 28 = 7 * 2^2).
   */
  imageSize: number;
  generator: Generator;
  discriminator: Discriminator;
  init: Init;
}
/**
 * Blocks of transposed convolution + batch norm + activation. The first block maps 1x1 to startSize x startSize (kernel startSize, stride 1), each further block doubles the side (stride 2, padding 1), and a final transposed convolution doubles it once more to the image's channels.
 */
export interface Generator {
  /**
   * Number of upsampling blocks before the output layer (the lesson: 4).
   */
  blocks: number;
  /**
   * Channels of the last block; each earlier block doubles them (64 -> 512, 256, 128, 64). Ignored when `channels` is given.
   */
  baseChannels: number;
  /**
   * Explicit output channels per block, first to last; length must equal `blocks`.
   *
   * @minItems 1
   */
  channels?: [number, ...number[]];
  /**
   * Kernel side of the stride-2 layers (4 with padding 1 doubles exactly, as in the lesson). Not used by `upsample: nearest`, whose convolutions are 3x3.
   */
  kernelSize: number;
  /**
   * How the blocks after the first and the output layer double the side. transposed (the lesson): a transposed convolution with kernelSize, stride 2, padding 1. nearest: each pixel repeated 2x2 (nearest-neighbour upsampling, as PyTorch's nn.Upsample(scale_factor=2)), then a 3x3 convolution with stride 1 and padding 1 (Odena, Dumoulin and Olah 2016, "Deconvolution and Checkerboard Artifacts"): a stride-2 transposed convolution covers alternate output pixels with different numbers of kernel taps, which draws the checkerboard texture small-data DCGANs show; resize-then-convolve covers every pixel alike. The first block (1x1 -> startSize) stays a transposed convolution.
   */
  upsample: 'transposed' | 'nearest';
  activation: Activation;
  batchNorm: GeneratorBatchNorm;
  /**
   * Output activation: tanh for images normalized to [-1, 1], sigmoid for [0, 1].
   */
  output: 'tanh' | 'sigmoid' | 'linear';
}
/**
 * Blocks of convolution (stride 2, padding 1) + batch norm + activation, each halving the side down to startSize, then a startSize x startSize convolution to one logit (the sigmoid is part of the loss).
 */
export interface Discriminator {
  /**
   * Number of downsampling blocks (the lesson: 4).
   */
  blocks: number;
  /**
   * Channels of the first block; each later block doubles them (64, 128, 256, 512). Ignored when `channels` is given.
   */
  baseChannels: number;
  /**
   * Explicit output channels per block, first to last; length must equal `blocks`.
   *
   * @minItems 1
   */
  channels?: [number, ...number[]];
  /**
   * Kernel side of the stride-2 layers.
   */
  kernelSize: number;
  activation: Activation1;
  batchNorm: DiscriminatorBatchNorm;
  /**
   * Spectral normalization of every discriminator convolution (Miyato et al. 2018, "Spectral Normalization for Generative Adversarial Networks"): each kernel W, reshaped to a matrix, is divided by its largest singular value, estimated by one power iteration per training step (the vector u is a non-trainable weight, saved in checkpoints). Bounds D's Lipschitz constant, the usual first fix when D wins outright on small data; usually combined with discriminator.batchNorm: false and the hinge loss.
   */
  spectralNorm: boolean;
}
/**
 * Weight initialization, seeded from `seed`: convolution kernels ~ N(mean, std); batch-norm gamma ~ N(1, std), beta = 0 (as the lesson's weights_init_normal).
 */
export interface Init {
  /**
   * Only normal is supported.
   */
  kind: 'normal';
  /**
   * Mean of the kernel weights.
   */
  mean: number;
  /**
   * Standard deviation of the kernel weights and of gamma around 1.
   */
  std: number;
}
/**
 * The training loop: per batch a discriminator update on real and fake images, then a generator update (the lesson's algorithm).
 */
export interface Train {
  /**
   * Passes over the data (the lesson: 50).
   */
  epochs: number;
  /**
   * Stop after this many steps of the run (all epochs counted), ending it there as if it were the last epoch: the epoch's line, grid, evaluation and a checkpoint of that step, status finished. For a dry run that checks a config end to end in seconds (as pytorch/examples' --dry-run); unset, the run trains train.epochs whole epochs.
   */
  maxSteps?: number;
  /**
   * bce (the lesson; Goodfellow et al. 2014, non-saturating generator loss): discriminator (BCE(D(x), 1) + BCE(D(G(z)), 0)) / 2, generator BCE(D(G(z)), 1), computed from logits for numerical stability. hinge (Lim and Ye 2017, "Geometric GAN"; Miyato et al. 2018): discriminator mean(relu(1 - D(x))) + mean(relu(1 + D(G(z)))), generator -mean(D(G(z))); pairs with spectral norm. wgan-gp (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs"): critic mean(D(G(z))) - mean(D(x)) + gradientPenalty * mean((||grad_x D(x_hat)||_2 - 1)^2) on random interpolates x_hat of real and fake images, generator -mean(D(G(z))); the paper's critic has no batch norm (discriminator.batchNorm: false).
   */
  loss: 'bce' | 'hinge' | 'wgan-gp';
  /**
   * lambda of WGAN-GP's gradient penalty (the paper: 10): lambda * mean((||grad_x D(x_hat)||_2 - 1)^2) at x_hat = u * x + (1 - u) * G(z), u uniform in [0, 1) per image; used only with loss: wgan-gp. Like r1 it needs D's gradient of a gradient: in the penalty's own pass through D, batch norm runs on tfjs-core ops instead of a fused kernel and leaves the moving statistics alone.
   */
  gradientPenalty: number;
  /**
   * gamma of the R1 penalty (Mescheder et al. 2018, "Which Training Methods for GANs do actually Converge?"): gamma / 2 * mean(||grad_x D(x)||^2) on real images, added to the discriminator's loss with any train.loss. Penalises D's gradient on the data, so it cannot push real images to extreme logits; StyleGAN2 uses 10 at 64x64-256x256 (smaller values for small images). 0: off (the lesson). Needs D's gradient of a gradient: in the penalty's own pass through D (an extra forward pass of the real batch and two backward passes: a D update takes two to three times as long), batch norm runs on tfjs-core ops instead of a fused kernel and leaves the moving statistics alone.
   */
  r1: number;
  /**
   * Differentiable augmentation (DiffAugment, Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training"): the same random transforms are applied to real and generated images before every pass through D, in both updates, and the generator learns through them. The paper's remedy for D memorising a small dataset (its 100-shot and 1k-image results), and the first thing to add below about 10k images. An object of settings, or false: off (the lesson).
   */
  augment: false | {policy: ('color' | 'translation' | 'cutout')[]; probability: number};
  /**
   * Exponential moving average of the generator's weights (Yazici et al. 2019, "The Unusual Effectiveness of Averaging in GAN Training"; Karras et al. 2018): after each generator update ema = beta * ema + (1 - beta) * weights. The average draws the sample grids, `sample`, `eval` and keepBest, and is saved in checkpoints (generator-ema/); it smooths the oscillation that makes single-iterate samples flicker. With batch norm in G the averaged weights need batch-norm statistics of their own (see statistics). An object of settings, or false: off (the lesson).
   */
  ema: false | {beta: number; startStep: number; statistics: number};
  /**
   * The Adam optimizer of each network (the lesson: learning rate 0.005, beta1 0.5 for both). Separate settings allow the two time-scale update rule (TTUR, Heusel et al. 2017: a larger learning rate for D than for G), the usual companion of spectral norm; the DCGAN paper's 2e-4 for both is the safe start on small data.
   */
  optimizers: {
    generator: Adam;
    discriminator: Adam1;
  };
  /**
   * Sample grids from fixed noise, so epochs are comparable.
   */
  samples: {
    /**
     * Write a grid every N epochs (and after the last).
     */
    every: number;
    /**
     * Images per grid (the lesson shows 21).
     */
    count: number;
  };
  /**
   * Checkpoints (both networks in TF.js LayersModel format, optimizer state and epoch), written atomically.
   */
  checkpoint: {
    /**
     * Checkpoint every N epochs (and after the last).
     */
    every: number;
    /**
     * Also keep the checkpoint with the best value of this train.eval metric in checkpoints/best/ (GAN quality often peaks and then degrades): fd, kid or swd (lowest; fd and kid need the classifier metrics) or classShare (highest; needs data.source.classes). false: only the periodic checkpoints.
     */
    keepBest: false | 'fd' | 'kid' | 'swd' | 'classShare';
  };
  /**
   * Record per-step metrics every N steps (per-epoch metrics are always recorded).
   */
  logEvery: number;
  /**
   * TensorFlow.js backend. auto takes the fastest installed: webgpu on a real GPU (optional npm packages webgpu and @tensorflow/tfjs-backend-webgpu, and a Vulkan driver; never a CPU fallback adapter such as lavapipe, which only an explicit webgpu uses), then tensorflow (tfjs-node, see `npm run setup:tensorflow`), then wasm, then cpu.
   */
  backend: 'auto' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';
  /**
   * Sample-quality metrics during training (left out: none). Each evaluation generates `samples` images from fixed noise and compares them with as many real images, plus a second real sample for the real-vs-real baseline (the floor a perfect generator would reach at this sample size). Logged to metrics.jsonl (type eval) and to MLflow under eval/. `dcgan-run eval <run-dir>` computes them for a finished run.
   */
  eval?: {
    /**
     * Evaluate every N epochs (and after the last).
     */
    every: number;
    /**
     * Images per sample (n). Scores are only comparable at the same n and feature extractor, which the metric names state (e.g. fd/fmnist-cnn/n1000).
     */
    samples: number;
    /**
     * patches: sliced Wasserstein distance on Laplacian-pyramid 7x7 patches and k-NN precision/recall on the same descriptors (any data, no network). classifier: Frechet and kernel distance (KID) and precision/recall on the features of a small CNN the project trains (seeded, cached under .cache/classifiers/) on the IDX training split, plus the class histogram (class_hist/.../c<k>), its total variation distance and largest per-class gap to the real sample's histogram (class_tv, class_max_gap) and, with data.source.classes, the share of images of the intended classes; needs an idx source with labels and the MNIST-style t10k files beside them. background: the mean intensity in [0, 1] of the generated and the real images on the outer 2-pixel frame (background/frame2/nN) and on the pixels where the real sample's mean image is <= 1/255 (background/empty/nN, with the share of pixels that is, background_area/empty/nN): for data on a black background such as Fashion-MNIST, where a generator's grey tint or speckle shows. deadUnits: the share of the discriminator's units (the channels of each conv block after its activation) that are never > 0 on the n real and on the n generated images, D run in training mode on batches of data.batchSize and left unchanged (dead_units/discriminator/nN/real|generated/block<k>|all; dead_cells/... per position and channel; d_prob/... the mean sigmoid(D(x))). perClass (with classifier): for each class, the Frechet distance between the generated images the classifier assigns to it and the real images it assigns to it (fd_class/<classifier>/nN/c<k>), at the smallest of those counts (fd_class_n/.../c<k>; classes with fewer than 10 are left out) with the real-vs-real floor at the same size: an all-class generator's classes on the scale of per-class models' FD (use samples of about 1000 times the classes, e.g. dcgan-run eval --samples 10000).
     *
     * @minItems 1
     */
    metrics: [
      'patches' | 'classifier' | 'background' | 'deadUnits' | 'perClass',
      ...('patches' | 'classifier' | 'background' | 'deadUnits' | 'perClass')[]
    ];
  };
  /**
   * At the end of the run (finished, stopped or failed), write its HTML report to <run-dir>/report/ (what `dcgan-run report <run-dir>` writes: every sample grid on a slider, the losses and quality metrics, the generator running in the page) and upload it to MLflow with the run. About the size of the grids plus the generator's weights twice (44 MB for the lesson's model); false skips it.
   */
  report: boolean;
}
/**
 * Adam optimizer.
 */
export interface Adam {
  /**
   * Only adam is supported.
   */
  kind: 'adam';
  /**
   * Step size, > 0 (the lesson: 0.005).
   */
  learningRate: number;
  /**
   * First-moment decay in [0, 1) (the lesson: 0.5).
   */
  beta1: number;
  /**
   * Second-moment decay in [0, 1).
   */
  beta2: number;
  /**
   * Added to the denominator (PyTorch's eps).
   */
  epsilon: number;
}
/**
 * Adam optimizer.
 */
export interface Adam1 {
  /**
   * Only adam is supported.
   */
  kind: 'adam';
  /**
   * Step size, > 0 (the lesson: 0.005).
   */
  learningRate: number;
  /**
   * First-moment decay in [0, 1) (the lesson: 0.5).
   */
  beta1: number;
  /**
   * Second-moment decay in [0, 1).
   */
  beta2: number;
  /**
   * Added to the denominator (PyTorch's eps).
   */
  epsilon: number;
}
/**
 * Where runs are recorded. The local run directory is always written.
 */
export interface Tracking {
  /**
   * Root of run directories, relative to the current directory: <runsDir>/<experiment>/<run-id>/.
   */
  runsDir: string;
  /**
   * MLflow tracking server. Used when `uri` or the MLFLOW_TRACKING_URI environment variable is set.
   */
  mlflow?: {
    /**
     * Tracking server URL, e.g. http://127.0.0.1:5000. Overrides MLFLOW_TRACKING_URI.
     */
    uri?: string;
    /**
     * MLflow experiment name; defaults to the experiment's `name`.
     */
    experiment?: string;
    /**
     * Refuse to train (exit 2) when the server cannot be reached at start. By default the run trains anyway, logs locally, keeps trying the server and sends everything once it answers (or `dcgan-run sync <run-dir>` uploads it later).
     */
    required: boolean;
  };
}
/**
 * Expands this experiment into trials, each the base config with some keys replaced.
 */
export interface Sweep {
  /**
   * grid: every combination of the listed values; random: `trials` seeded draws; tpe: `trials` trials, each suggested by a Tree-structured Parzen Estimator from the objective of the trials before it (Optuna's defaults; needs sweep.objective).
   */
  strategy: 'grid' | 'random' | 'tpe';
  /**
   * random and tpe: how many trials to make.
   */
  trials?: number;
  /**
   * The most trials the sweep may make (a grid's is the product of its list lengths): a guard against a grid that multiplies out to millions of runs. Raise it to run a larger sweep on purpose.
   */
  maxTrials: number;
  /**
   * Trials run at once, each in its own process. Over a queue (--queue) with strategy tpe: the most trials the coordinator keeps queued or running (the workers' --concurrency sets how many each runs).
   */
  parallel: number;
  /**
   * With --queue: how many times a trial that failed by a crash or a lost worker is run again (from its checkpoint where its run directory is reachable) before it is marked failed. A mistake in the input (a UserError) and a diverged run are not retried. Not used without --queue.
   */
  retries: number;
  /**
   * Dotted config path -> list of values (any YAML value, whole objects included), or for random a distribution.
   */
  parameters: {
    /**
     * must be a list of values, or a distribution { distribution: uniform | logUniform | intUniform, min, max }.
     */
    [k: string]:
      | [unknown, ...unknown[]]
      | {
          /**
           * uniform / logUniform over [min, max); intUniform over the integers min..max.
           */
          distribution: 'uniform' | 'logUniform' | 'intUniform';
          /**
           * Lower bound, included.
           */
          min: number;
          /**
           * Upper bound: excluded for uniform and logUniform, included for intUniform. Must be greater than min.
           */
          max: number;
        };
  };
  /**
   * The quality metric trials are compared by (tpe and earlyStop need it): a train.eval metric name as in metrics.jsonl, e.g. swd/patch7/n256/avg or fd/fmnist-cnn/n1000.
   */
  objective?: {
    /**
     * A metric train.eval produces.
     */
    metric: string;
    /**
     * min: lower is better (fd, kid, swd); max: higher is better (precision, recall, class_share).
     */
    mode: 'min' | 'max';
  };
  /**
   * Stops unpromising trials at their evaluations (status pruned, with a checkpoint), by asynchronous successive halving with the decisions of Optuna's SuccessiveHalvingPruner. Needs sweep.objective.
   */
  earlyStop?: {
    /**
     * asha: asynchronous successive halving (Li et al. 2018), with the decisions of Optuna's SuccessiveHalvingPruner.
     */
    kind: 'asha';
    /**
     * The first rung's epoch: rung r is at minEpochs * reductionFactor^(r + minEarlyStoppingRate).
     */
    minEpochs: number;
    /**
     * A trial goes past a rung only within the top 1/reductionFactor of the values recorded there.
     */
    reductionFactor: number;
    /**
     * Skips the first rungs: no trial is stopped before minEpochs * reductionFactor^minEarlyStoppingRate epochs.
     */
    minEarlyStoppingRate: number;
    /**
     * Promotion as in asynchronous successive halving (Li et al. 2018): a pruned trial that the values recorded at its rung since put within the rung's top 1/reductionFactor is resumed from its checkpoint when a trial slot is free and no other trial waits, and goes on to the next rung. false: a pruned trial is final (Optuna's SuccessiveHalvingPruner). With --queue, the coordinator promotes from the rung data in Redis whenever no job waits, and a worker resumes the trial.
     */
    promote: boolean;
  };
  /**
   * tpe's settings (Optuna's defaults).
   */
  tpe?: {
    /**
     * Random trials before TPE takes over (completed or pruned ones count).
     */
    startupTrials: number;
    /**
     * Candidates drawn from the good trials' density per suggestion; the best by l(x)/g(x) is taken.
     */
    candidates: number;
    /**
     * Model the parameters jointly instead of one by one.
     */
    multivariate: boolean;
  };
  /**
   * Groups of paths that take the same value in each trial (the first path's values are used).
   */
  link?: [string, string, ...string[]][];
}
