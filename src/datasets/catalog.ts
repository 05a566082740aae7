// The datasets the tool fetches by name: where they are published and the MD5 sums their publishers list.
// A file is used only when its MD5 matches the sum pinned here (or a test's override, see checksums.ts).

export type IdxDatasetName = 'fashion-mnist' | 'mnist';
export type Split = 'train' | 'test';

export interface IdxSplitFiles {
  images: string;
  labels: string;
}

export interface IdxDataset {
  /** The name on the command line and the cache folder's name. */
  name: IdxDatasetName;
  /** data.source.kind in an experiment file. */
  kind: 'fashionMnist' | 'mnist';
  title: string;
  license: string;
  homepage: string;
  /** Base URLs, tried in order; each serves every file under its official name. */
  mirrors: string[];
  splits: Record<Split, IdxSplitFiles>;
  /** File name -> MD5 as published. */
  md5: Record<string, string>;
  classNames: string[];
}

const MNIST_STYLE_SPLITS: Record<Split, IdxSplitFiles> = {
  train: { images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz' },
  test: { images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz' },
};

export const IDX_DATASETS: Record<IdxDatasetName, IdxDataset> = {
  'fashion-mnist': {
    name: 'fashion-mnist',
    kind: 'fashionMnist',
    title: 'Fashion-MNIST',
    license: 'MIT (Zalando SE)',
    homepage: 'https://github.com/zalandoresearch/fashion-mnist',
    mirrors: [
      'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
      'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/',
    ],
    splits: MNIST_STYLE_SPLITS,
    // As listed in the project's README.
    md5: {
      'train-images-idx3-ubyte.gz': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
      'train-labels-idx1-ubyte.gz': '25c81989df183df01b3e8a0aad5dffbe',
      't10k-images-idx3-ubyte.gz': 'bef4ecab320f06d8554ea6380940ec79',
      't10k-labels-idx1-ubyte.gz': 'bb300cfdad3c16e7a12a480ee83cd310',
    },
    classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  },
  mnist: {
    name: 'mnist',
    kind: 'mnist',
    title: 'MNIST',
    license: 'CC BY-SA 3.0 (Yann LeCun and Corinna Cortes)',
    homepage: 'http://yann.lecun.com/exdb/mnist/',
    // The original site often refuses downloads now; the two copies that torchvision and TensorFlow use come first.
    mirrors: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'https://storage.googleapis.com/cvdf-datasets/mnist/', 'http://yann.lecun.com/exdb/mnist/'],
    splits: MNIST_STYLE_SPLITS,
    md5: {
      'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
      'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
      't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
      't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c',
    },
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  },
};

/** The dataset a command-line name or a data.source.kind names: fashion-mnist or fashionMnist, mnist. */
export function findIdxDataset(name: string): IdxDataset | undefined {
  return Object.values(IDX_DATASETS).find((dataset) => dataset.name === name || dataset.kind === name);
}

/** Every file of a dataset, train split first. */
export function datasetFiles(dataset: IdxDataset): string[] {
  return (['train', 'test'] as const).flatMap((split) => [dataset.splits[split].images, dataset.splits[split].labels]);
}
