/** Entry point of a Node worker thread: the ShardWorker exposed with comlink over parentPort. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parentPort } from 'node:worker_threads';
import { nodeEndpoint } from './comlink-node.js';
import { exposeWorker } from './expose.js';

/** Where the packed data sets live: next to this file, in dist/. */
export async function readPackedFile(name: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(fileURLToPath(new URL(`./${name}`, import.meta.url))));
}

if (parentPort) exposeWorker(readPackedFile, nodeEndpoint(parentPort));
