export type * from './api.js';
export { BACKEND_ORDER, type BackendName, type BackendOptions, type BackendReport, parseBackendList, selectBackend } from './backends.js';
export { allIndices, type Dataset, type Examples, gather } from './data/dataset.js';
export { type BytesLoader, loadDataset } from './data/load.js';
export { MNIST_TRAIN_FRACTION, parseMnist } from './data/mnist.js';
export { makeSynthetic, type SyntheticOptions } from './data/synthetic.js';
export { buildModel, bytesPerExample, modelLayout, ZOO, type ZooName } from './models.js';
export { type EvalSums, ShardComputer, type ShardSums } from './shard.js';
export { ShardWorker } from './shard-worker.js';
