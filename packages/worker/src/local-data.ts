/**
 * Node: a data set's files read from the folder its server serves them from. The host of a room
 * serves the data set (`/datasets/` on the room server) and trains on it with a thread of its own;
 * that thread reads the files from disk rather than asking its own server for 47 MB over HTTP, on
 * the same laptop's CPU that is serving the volunteers (testbed round 13: the room's first
 * iteration came 3-10 s after its start, the host alone's 0.3 s). The bytes are checked against the
 * SHA-256 the task names, as a download is (url.ts fetchVerified).
 */
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { DatasetSpec } from '@gradroom/core';
import { allShardExamples } from './data/chunked.js';
import type { ExampleBytes } from './data/dataset.js';

type ChunkedSpec = Extract<DatasetSpec, { kind: 'chunked' }>;

export interface LocalData {
  /** The URL the folder is served under, e.g. http://10.0.0.1:8080/datasets/ */
  url: string;
  /** The folder. */
  dir: string;
}

/**
 * The bytes of a URL under `url`, from the file under `dir`; undefined (download it) for any other
 * URL, a path that would leave the folder, or a file that is not there.
 */
export function localDataReader(d: LocalData): (u: URL) => Promise<Uint8Array | undefined> {
  const under = new URL(d.url);
  const prefix = under.pathname.endsWith('/') ? under.pathname : `${under.pathname}/`;
  const root = resolve(d.dir);
  return async (u) => {
    if (u.origin !== under.origin || !u.pathname.startsWith(prefix) || u.search) return undefined;
    let rest: string;
    try {
      rest = decodeURIComponent(u.pathname.slice(prefix.length));
    } catch {
      return undefined;
    }
    const path = resolve(root, rest);
    if (rest.includes('\0') || !path.startsWith(root + sep)) return undefined;
    try {
      return new Uint8Array(await readFile(path));
    } catch {
      return undefined; // not here (or not readable): the server answers for it
    }
  };
}

/**
 * Node: every training example of a chunked data set whose files are in `d.dir`, read from disk and
 * checked (allShardExamples), for TrainerOptions.shardExamples: a host that serves the data set sends
 * each volunteer the examples of its shards, and the volunteer fetches no file for them.
 */
export function shardExamplesFrom(
  spec: ChunkedSpec,
  d: LocalData,
): Promise<(indices: Uint32Array) => ExampleBytes | undefined> {
  return allShardExamples(spec, { local: localDataReader(d) });
}
