// The public entry of the data pipeline: load (decode + cached transforms, through the disk cache) and batch.
import type { Data, IdxSource, ImageFolderSource } from '../config/experiment.generated.ts';
import type { StoreOptions } from '../datasets/store.ts';
import { UserError } from '../errors.ts';
import { transformedShape } from '../plan/data-shape.ts';
import { cacheKey, fingerprints, readCache, writeCache } from './cache.ts';
import { decodeImages, listImageFiles, sourceRoots, type ImageListing } from './image-folder.ts';
import { readIdx } from './idx.ts';
import { mapLimit } from './pool.ts';
import { resolveSource } from './resolve-source.ts';
import { planTransforms, type TransformPlan } from './transform-stages.ts';
import { applyCachedTransforms, dropAlpha } from './transforms.ts';
import type { ImageDataset, RawImage } from './types.ts';

export type { ImageDataset, Shape } from './types.ts';
export { batchShape, batchesPerEpoch, epochBatches } from './batches.ts';

export interface LoadOptions {
  /** Folder of cache entries, e.g. <project>/.cache/data. */
  cacheDir: string;
  log?: (line: string) => void;
  /** Where named datasets are fetched to and from (default: the data cache, the official mirrors). */
  store?: StoreOptions;
}

/** The images of data.source after the deterministic transforms, from the cache when nothing changed. */
export async function loadDataset(data: Data, opts: LoadOptions): Promise<ImageDataset> {
  const log = opts.log ?? (() => {});
  const plan = planTransforms(data.transforms);
  const source = await resolveSource(data.source, { log, ...opts.store });
  const listing: ImageListing =
    source.kind === 'imageFolder'
      ? await listImageFiles(source.root)
      : { files: source.labels ? [source.images, source.labels] : [source.images], linksOutside: 0, macMetadata: 0 };
  const { files } = listing;
  const key = cacheKey({
    // What the user wrote (it names the entry's description), not only the files it resolved to.
    kind: sourceLabel(data.source),
    files: await fingerprints(files),
    classes: source.kind === 'idx' ? (source.classes ?? null) : null,
    limit: data.limit ?? null,
    onBadImage: data.onBadImage,
    transforms: plan.cached,
  });

  let dataset = data.cache ? await readCache(opts.cacheDir, key) : undefined;
  if (dataset) {
    log(`data: ${dataset.description} (from the cache)`);
  } else {
    const started = performance.now();
    dataset = source.kind === 'imageFolder' ? await loadFolder(source, listing, data, plan) : await loadIdx(source, data, plan);
    const seconds = (performance.now() - started) / 1000;
    log(`data: ${dataset.description} (decoded in ${seconds.toFixed(1)} s)`);
    if (data.cache) await writeCache(opts.cacheDir, key, dataset);
  }
  if (dataset.skipped.length > 0) {
    const first = dataset.skipped.slice(0, 3).join(', ');
    log(`data: skipped ${plural(dataset.skipped.length, 'undecodable image')}: first ${first}`);
  }
  // The per-batch transforms must fit the loaded shape (e.g. a randomCrop no larger than the images).
  transformedShape(
    plan.perBatch.map((step) => step.transform),
    dataset,
    plan.cached.length,
  );
  return dataset;
}

async function loadFolder(
  source: ImageFolderSource,
  { files, linksOutside, macMetadata }: ImageListing,
  data: Data,
  plan: TransformPlan,
): Promise<ImageDataset> {
  // Without a flatten, alpha is dropped straight after decoding, as torchvision's loader (PIL convert('RGB')) does.
  const keepAlpha = plan.cached.some((transform) => transform.kind === 'flatten');
  let alphaDropped = 0;
  const decoded = await decodeImages(files, {
    limit: data.limit,
    onBadImage: data.onBadImage,
    prepare: async (image, file) => {
      if (image.alpha && !keepAlpha) alphaDropped++;
      return applyCachedTransforms(keepAlpha ? image : dropAlpha(image), plan.cached, file);
    },
  });
  if (decoded.images.length === 0) {
    throw new UserError(`data.source.root: none of the ${files.length} image files under ${describeRoots(source.root)} could be decoded (first: ${files[0]})`);
  }
  const dataset = assemble(decoded.images, decoded.files);
  const notes = [
    alphaDropped > 0 ? `alpha channel dropped from ${plural(alphaDropped, 'image')} (add a flatten transform to composite it)` : '',
    decoded.skipped.length > 0 ? `${decoded.skipped.length} undecodable skipped` : '',
    linksOutside > 0 ? `${plural(linksOutside, 'link')} to folders outside the root not followed` : '',
    macMetadata > 0 ? `${plural(macMetadata, 'macOS metadata file')} (._*, .DS_Store) left out` : '',
  ].filter(Boolean);
  return {
    ...dataset,
    skipped: decoded.skipped,
    description: `${describe(dataset, describeRoots(source.root), sourceLabel(data.source))}${notes.map((note) => `; ${note}`).join('')}`,
    fromCache: false,
  };
}

async function loadIdx(source: IdxSource, data: Data, plan: TransformPlan): Promise<ImageDataset> {
  const idx = await readIdx(source, data.limit);
  const classes = source.classes ? `, classes ${source.classes.join(',')}` : '';
  const missing = idx.missingClasses.length > 0 ? `; no images of class ${idx.missingClasses.join(', ')}` : '';
  let shape = { count: idx.count, height: idx.height, width: idx.width, channels: 1 as 1 | 3, pixels: idx.pixels };
  if (plan.cached.length > 0) {
    const size = idx.height * idx.width;
    const names = Array.from({ length: idx.count }, (_, i) => `${source.images} (image ${i})`);
    const images = await mapLimit(names, 8, (name, i) =>
      applyCachedTransforms(
        { data: idx.pixels.subarray(i * size, (i + 1) * size), width: idx.width, height: idx.height, channels: 1, alpha: false },
        plan.cached,
        name,
      ),
    );
    shape = assemble(images, names);
  }
  return {
    ...shape,
    labels: idx.labels,
    skipped: [],
    description: `${describe(shape, source.images, `${sourceLabel(data.source)}${classes}`)}${missing}`,
    fromCache: false,
  };
}

function describe(shape: { count: number; height: number; width: number; channels: number }, from: string, kind: string): string {
  return `${plural(shape.count, 'image')} from ${from} (${kind}), ${shape.height}x${shape.width}x${shape.channels}`;
}

/** The kind a user wrote: a named dataset's name and split rather than the files it resolved to. */
function sourceLabel(source: Data['source']): string {
  return source.kind === 'fashionMnist' || source.kind === 'mnist' ? `${source.kind} ${source.split}` : source.kind;
}

function describeRoots(root: string | string[]): string {
  const roots = sourceRoots(root);
  return roots.length === 1 ? roots[0] : `${roots.length} folders (${roots.join(', ')})`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** One NHWC array; every image must have the first one's shape. */
function assemble(images: RawImage[], files: string[]): Pick<ImageDataset, 'count' | 'height' | 'width' | 'channels' | 'pixels'> {
  const { height, width, channels } = images[0];
  const size = height * width * channels;
  const pixels = new Uint8Array(images.length * size);
  images.forEach((image, index) => {
    if (image.height !== height || image.width !== width || image.channels !== channels || image.alpha) {
      throw new UserError(
        `images differ in size: ${files[index]} is ${image.height}x${image.width} but ${files[0]} is ${height}x${width} ` +
          '(after the cached transforms); add a resize to data.transforms so that all images share one size',
      );
    }
    pixels.set(image.data, index * size);
  });
  return { count: images.length, height, width, channels, pixels };
}
