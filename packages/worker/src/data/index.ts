// Data sets without tfjs: importable by a coordinator that never loads tfjs itself.
export { allIndices, type Dataset, type Examples, gather } from './dataset.js';
export { type BytesLoader, loadDataset } from './load.js';
export { MNIST_SIZES, MNIST_TRAIN_FRACTION, parseMnist } from './mnist.js';
export { makeSynthetic, type SyntheticOptions } from './synthetic.js';
