/** Entry point of a Node worker thread: the ShardWorker exposed with comlink over parentPort. */
import { parentPort, workerData } from 'node:worker_threads';
import { nodeEndpoint } from './comlink-node.js';
import { exposeWorker } from './expose.js';
import { type LocalData, localDataReader } from './local-data.js';
import { packedFileReader } from './packed-file.js';

/** Where the packed data sets live: next to this file, in dist/. */
export const readPackedFile = packedFileReader(new URL('./', import.meta.url));

// a host's own thread reads the data set its room server serves from disk (ThreadOptions.localData)
const localData = (workerData as { localData?: LocalData } | null)?.localData;
if (parentPort)
  exposeWorker(readPackedFile, nodeEndpoint(parentPort), localData ? { local: localDataReader(localData) } : undefined);
