/** Entry point of a Node worker thread: the ShardWorker exposed with comlink over parentPort. */
import { parentPort } from 'node:worker_threads';
import { nodeEndpoint } from './comlink-node.js';
import { exposeWorker } from './expose.js';
import { packedFileReader } from './packed-file.js';

/** Where the packed data sets live: next to this file, in dist/. */
export const readPackedFile = packedFileReader(new URL('./', import.meta.url));

if (parentPort) exposeWorker(readPackedFile, nodeEndpoint(parentPort));
