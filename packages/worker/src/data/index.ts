// Data sets without tfjs: importable by a coordinator that never loads tfjs itself.

export { type ArraysOptions, arraysDataset, datasetFromArrays } from './arrays.js';
export {
  allShardExamples,
  CHUNKS_FORMAT,
  type ChunkEntry,
  type ChunkedDataset,
  type ChunkManifest,
  chunkPacked,
  ensureExamples,
  loadChunked,
} from './chunked.js';
export {
  allIndices,
  type Dataset,
  type ExampleBytes,
  type Examples,
  fromBytes,
  gather,
  gatherBytes,
  validateDataset,
} from './dataset.js';
export {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_PER_CLASS,
  FASHION_MNIST_SIZES,
  FASHION_MNIST_SMALL_PER_CLASS,
  FASHION_MNIST_SMALL_SIZES,
} from './fashion.js';
export { decodePacked, encodePacked, type PackedHeader, type PackInput, readPackedHeader } from './format.js';
export { type BytesLoader, loadDataset } from './load.js';
export { MNIST_SIZES, MNIST_TRAIN_FRACTION, parseMnist } from './mnist.js';
export { type CsvOptions, csvToPacked, imagesToPacked, type LabelledImage, MAX_CLASSES } from './pack.js';
export { type DecodedImage, decodePng, MAX_PNG_PIXELS } from './png.js';
export { datasetName, datasetSizes } from './sizes.js';
export { makeSynthetic, type SyntheticOptions } from './synthetic.js';
export { type FetchDataOptions, fetchVerified, resolveDataUrl, sha256Hex } from './url.js';
