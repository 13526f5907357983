/**
 * Chunked data sets (issue 18 §2): the training split cut into chunks, each a small packed file
 * (format.ts, its examples as the file's training split), listed in a manifest with its SHA-256;
 * the test split is one packed file (its examples as that file's training split). A data set spec
 * of kind 'chunked' names the manifest and its SHA-256, so every byte a worker uses is checked
 * against a hash the coordinator vouched for. A worker fetches a chunk the first time a task needs
 * one of its examples (ensureExamples), once; in mode local a member then fetches only its
 * partition. Fetched files are checked and cached like whole files (url.ts: fetchVerified).
 *
 * Manifest (JSON): { format: 'gradroom-chunks/1', name, inputShape, classes, targets,
 *   train: { examples, chunkExamples, chunks: [{ url, sha256, bytes }] }, test: { url, sha256, examples, bytes } }
 * Chunk c holds training examples c·chunkExamples .. min(examples, (c+1)·chunkExamples) - 1; URLs
 * are relative to the manifest's.
 */
import { cleanText, type DatasetSpec, GradroomError, MAX_CHUNKS } from '@gradroom/core';
import { allIndices, type Dataset, type ExampleBytes, gatherBytes, validateDataset } from './dataset.js';
import { decodePacked, encodePacked, readPackedHeader } from './format.js';
import { type FetchDataOptions, fetchVerified, resolveDataUrl, sha256Hex } from './url.js';

export const CHUNKS_FORMAT = 'gradroom-chunks/1';
/** A manifest is small (about 100 bytes a chunk): a larger one is refused before it is parsed. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

export interface ChunkEntry {
  url: string;
  sha256: string;
  bytes: number;
}

export interface ChunkManifest {
  format: typeof CHUNKS_FORMAT;
  name: string;
  inputShape: number[];
  classes: number;
  targets: number;
  train: { examples: number; chunkExamples: number; chunks: ChunkEntry[] };
  test: ChunkEntry & { examples: number };
}

type ChunkedSpec = Extract<DatasetSpec, { kind: 'chunked' }>;

/** A training split whose examples arrive chunk by chunk: `x` and `y` are filled as chunks are fetched. */
export interface ChunkedDataset extends Dataset {
  /** Fetches (once each) the chunks that hold `indices`; resolves when gather may read them. */
  ensure(indices: ArrayLike<number>): Promise<void>;
  /** Chunks fetched so far, in order of arrival. */
  readonly fetched: readonly number[];
}

function isChunked(ds: Dataset): ds is ChunkedDataset {
  return typeof (ds as Partial<ChunkedDataset>).ensure === 'function';
}

/** Before gather: the chunks of every index in `lists` are here (a no-op for a data set held whole). */
export async function ensureExamples(ds: Dataset, ...lists: ArrayLike<number>[]): Promise<void> {
  if (!isChunked(ds)) return;
  await Promise.all(lists.map((l) => ds.ensure(l)));
}

const bad = (m: string): never => {
  throw new GradroomError('BAD_DATA', m);
};

/** A file of the manifest larger than this is refused before it is fetched (the whole-file cap, url.ts). */
const DEFAULT_MAX_FILE_BYTES = 2 ** 30;

/**
 * The two sizes a packed file of `examples` examples can have (uint8 or float32 features; the
 * label type follows from classes), in plain numbers (format.ts); NaN when it cannot be a size.
 */
function packedSizes(m: ChunkManifest, examples: number): [number, number] {
  const features = m.inputShape.reduce((a, b) => a * b, 1);
  const labelBytes = m.classes === 0 ? 4 * m.targets : m.classes <= 256 ? 1 : 4;
  const size = (fb: number) => {
    const n = Math.ceil((28 + 4 * m.inputShape.length + examples * features * fb) / 4) * 4 + examples * labelBytes;
    return Number.isSafeInteger(n) ? n : Number.NaN;
  };
  return [size(1), size(4)];
}

/**
 * Checks a manifest's shape and that it is the data set the spec describes: every file's size is
 * what its examples make (so nothing past it is ever downloaded, and at most `maxFile` bytes), on the
 * manifest's own origin (a stranger's manifest cannot send every member's tab to another server),
 * and listed once.
 */
function checkManifest(m: unknown, spec: ChunkedSpec, where: string, href: string, maxFile: number): ChunkManifest {
  const M = m as ChunkManifest;
  const isHex = (s: unknown) => typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);
  const entry = (e: unknown) => {
    const x = e as ChunkEntry;
    return typeof x?.url === 'string' && x.url.length <= 2048 && isHex(x.sha256) && Number.isSafeInteger(x.bytes);
  };
  if (M?.format !== CHUNKS_FORMAT) bad(`${where}: not a gradroom chunk manifest (format ${String(M?.format)})`);
  // its name goes into every error about its files (shown and logged): short plain text
  if (!(typeof M.name === 'string' && M.name.length > 0 && cleanText(M.name, 200) === M.name))
    bad(`${where}: its name must be up to 200 characters of text, without control characters`);
  if (!(Array.isArray(M.inputShape) && M.inputShape.length >= 1 && M.inputShape.length <= 4))
    bad(`${where}: inputShape must be 1 to 4 dimensions`);
  if (!M.inputShape.every((d) => Number.isSafeInteger(d) && d > 0 && d <= 1 << 24))
    bad(`${where}: inputShape ${JSON.stringify(M.inputShape)} must be positive integers`);
  if (!(Number.isSafeInteger(M.classes) && M.classes >= 0 && Number.isSafeInteger(M.targets) && M.targets >= 1))
    bad(`${where}: classes and targets must be integers`);
  const t = M.train;
  if (t?.examples !== spec.train || t.chunkExamples !== spec.chunkExamples)
    bad(
      `${where}: holds ${t?.examples} training examples in chunks of ${t?.chunkExamples}, the spec says ${spec.train} in chunks of ${spec.chunkExamples}`,
    );
  const n = Math.ceil(t.examples / t.chunkExamples);
  if (!(Array.isArray(t.chunks) && t.chunks.length === n && n <= MAX_CHUNKS && t.chunks.every(entry)))
    bad(`${where}: must list ${n} chunks, each with a url, a SHA-256 and its bytes`);
  if (!(entry(M.test) && M.test.examples === spec.test))
    bad(`${where}: its test file must be listed with a SHA-256 and the spec's ${spec.test} examples`);
  const origin = new URL(href).origin;
  const seen = new Set<string>();
  const files: [ChunkEntry, string, number][] = t.chunks.map((e, c) => [
    e,
    `chunk ${c}`,
    Math.min(t.examples, (c + 1) * t.chunkExamples) - c * t.chunkExamples,
  ]);
  files.push([M.test, 'test file', M.test.examples]);
  for (const [e, label, examples] of files) {
    const sizes = packedSizes(M, examples);
    if (!sizes.includes(e.bytes) || e.bytes > maxFile)
      bad(
        `${where}: ${label} declares ${e.bytes} bytes; ${examples} examples of ${JSON.stringify(M.inputShape)} are ${sizes[0]} or ${sizes[1]}${e.bytes > maxFile ? `, and a file may have at most ${maxFile}` : ''}`,
      );
    let u: URL;
    try {
      u = new URL(e.url, href);
    } catch {
      return bad(`${where}: ${label}'s URL "${e.url.slice(0, 200)}" cannot be resolved`);
    }
    if (u.origin !== origin) bad(`${where}: ${label} is on another origin (${u.origin}) than the manifest`);
    if (seen.has(u.href)) bad(`${where}: ${label} (${u.href}) is listed twice`);
    seen.add(u.href);
  }
  return M;
}

// one manifest fetch per URL, hash and process (both splits read it); a failure is forgotten
const manifests = new Map<string, Promise<{ m: ChunkManifest; href: string }>>();

/** The manifest at the spec's URL, checked against the spec's SHA-256 and the spec's counts. */
function fetchManifest(spec: ChunkedSpec, opts?: FetchDataOptions): Promise<{ m: ChunkManifest; href: string }> {
  const key = JSON.stringify([
    resolveDataUrl(spec.url, opts?.base).href,
    spec.sha256,
    spec.train,
    spec.test,
    spec.chunkExamples,
  ]);
  let p = manifests.get(key);
  if (!p) {
    p = readManifest(spec, opts);
    manifests.set(key, p);
    p.catch(() => manifests.delete(key));
  }
  return p;
}

async function readManifest(spec: ChunkedSpec, opts?: FetchDataOptions): Promise<{ m: ChunkManifest; href: string }> {
  const href = resolveDataUrl(spec.url, opts?.base).href;
  const bytes = await fetchVerified(href, spec.sha256, { ...opts, maxBytes: MAX_MANIFEST_BYTES });
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    bad(`the chunk manifest ${href} is not JSON: ${(e as Error).message}`);
  }
  return {
    m: checkManifest(json, spec, `the chunk manifest ${href}`, href, opts?.maxBytes ?? DEFAULT_MAX_FILE_BYTES),
    href,
  };
}

/** One checked chunk or test file as a Dataset of `size` examples of the manifest's kind. */
async function fetchPart(
  e: ChunkEntry,
  label: string,
  size: number,
  m: ChunkManifest,
  base: string,
  opts?: FetchDataOptions,
  keepBytes = true,
): Promise<Dataset> {
  const url = new URL(e.url, base).href;
  let bytes: Uint8Array;
  try {
    bytes = await fetchVerified(url, e.sha256, { ...opts, maxBytes: e.bytes });
  } catch (err) {
    throw new GradroomError('BAD_DATA', `${m.name} ${label} (${url}): ${(err as Error).message}`);
  }
  // training chunks stay bytes (gathered a mini-batch at a time); the test file becomes floats once
  const part = validateDataset(decodePacked(bytes, 'train', `${m.name} ${label}`, { keepBytes }));
  if (
    part.size !== size ||
    part.classes !== m.classes ||
    part.targets !== m.targets ||
    JSON.stringify(part.inputShape) !== JSON.stringify(m.inputShape)
  )
    bad(
      `${m.name} ${label} (${url}) holds ${part.size} examples of ${JSON.stringify(part.inputShape)}, not what the manifest says`,
    );
  return part;
}

/**
 * One split of a chunked data set, lazily: the training split chunk by chunk, the test split as its
 * one file, each fetched when a task first needs one of its examples (a volunteer that never
 * evaluates never fetches the test file).
 */
export async function loadChunked(spec: ChunkedSpec, opts?: FetchDataOptions): Promise<Dataset> {
  const { m, href } = await fetchManifest(spec, opts);
  const test = spec.split === 'test';
  const n = test ? spec.test : spec.train;
  const per = test ? n : spec.chunkExamples;
  const parts: ChunkEntry[] = test ? [m.test] : m.train.chunks;
  const label = (c: number) => (test ? 'test file' : `chunk ${c}`);
  const features = m.inputShape.reduce((a, b) => a * b, 1);
  const targets = m.classes > 0 ? 1 : m.targets;
  // the training split keeps each chunk as it arrives (a member holds its partition, not the
  // whole set: 6 MB of Fashion-MNIST's 188 MB of floats with 8 members); the test split is one part
  const held: Dataset[] = [];
  const x = new Float32Array(test ? n * features : 0);
  const y =
    m.classes === 0
      ? new Float32Array(x.length ? n * targets : 0)
      : m.classes <= 256
        ? new Uint8Array(x.length ? n : 0)
        : new Int32Array(x.length ? n : 0);
  const loading = new Map<number, Promise<void>>();
  const fetched: number[] = [];
  const load = (c: number): Promise<void> => {
    let p = loading.get(c);
    if (!p) {
      const size = Math.min(n, (c + 1) * per) - c * per;
      p = fetchPart(parts[c], label(c), size, m, href, opts, !test).then((part) => {
        if (test) {
          x.set(part.x);
          y.set(part.y as ArrayLike<number>);
        } else held[c] = part;
        fetched.push(c);
      });
      loading.set(c, p);
      p.catch(() => loading.delete(c)); // a failed fetch is tried again by the next task that needs it
    }
    return p;
  };
  const name = `${m.name}/${spec.split}`;
  const ds: ChunkedDataset = {
    name,
    size: n,
    inputShape: m.inputShape,
    features,
    classes: m.classes,
    targets,
    x,
    y,
    fetched,
    ...(test
      ? {}
      : {
          part: (i: number) => {
            const c = Math.floor(i / per);
            const d = held[c];
            if (!d)
              throw new GradroomError(
                'BAD_STATE',
                `${name}: example ${i} is in chunk ${c}, not fetched yet (ensure first)`,
              );
            return { x: d.x, ...(d.pixels ? { pixels: d.pixels } : {}), y: d.y, at: i - c * per };
          },
        }),
    async ensure(indices) {
      const need = new Set<number>();
      for (let k = 0; k < indices.length; k++) {
        const i = indices[k];
        if (!(Number.isInteger(i) && i >= 0 && i < n)) bad(`${name}: example index ${i} is outside 0..${n - 1}`);
        need.add(Math.floor(i / per));
      }
      await Promise.all([...need].map(load));
    },
  };
  return ds;
}

/**
 * Cuts a packed file (format.ts) into a chunked data set: its training examples, in the order of
 * `order` if given (a fixed shuffle, so that each chunk is a fair sample of a file sorted by
 * class), in chunks of `chunkExamples`; its test split as one file. Returns the manifest and the
 * files by name (the manifest's own name is 'manifest.json'), ready to be written to one folder.
 */
export async function chunkPacked(
  bytes: Uint8Array,
  opts: { name: string; chunkExamples: number; order?: ArrayLike<number> },
): Promise<{ manifest: ChunkManifest; files: Map<string, Uint8Array> }> {
  const h = readPackedHeader(bytes, opts.name);
  const per = opts.chunkExamples;
  if (!(Number.isSafeInteger(per) && per > 0)) bad(`chunk size ${per} must be a positive integer`);
  if (Math.ceil(h.train / per) > MAX_CHUNKS)
    bad(`${h.train} examples in chunks of ${per} is more than ${MAX_CHUNKS} chunks`);
  if (h.test === 0) bad(`${opts.name} has no test split to go beside its chunks`);
  const train = decodePacked(bytes, 'train', opts.name);
  const test = decodePacked(bytes, 'test', opts.name);
  const order = opts.order ?? Array.from({ length: h.train }, (_, i) => i);
  if (order.length !== h.train || new Set(Array.from(order)).size !== h.train)
    bad(`the order must be a permutation of the ${h.train} training examples`);
  const features = train.features;
  const fb = h.featureType === 'uint8' ? 1 : 4;
  const rows = (ds: Dataset, first: number, idx: ArrayLike<number>, start: number, end: number) => {
    const n = end - start;
    const x = fb === 1 ? new Uint8Array(n * features) : new Float32Array(n * features);
    const y = new Array<number>(n * ds.targets);
    for (let k = 0; k < n; k++) {
      const i = idx[start + k];
      if (fb === 1)
        x.set(
          bytes.subarray(h.featuresAt + (first + i) * features, h.featuresAt + (first + i + 1) * features),
          k * features,
        );
      else x.set(ds.x.subarray(i * features, (i + 1) * features), k * features);
      for (let t = 0; t < ds.targets; t++) y[k * ds.targets + t] = ds.y[i * ds.targets + t];
    }
    return encodePacked({
      inputShape: h.inputShape,
      classes: h.classes,
      targets: h.targets,
      train: { x, y },
      test: { x: fb === 1 ? new Uint8Array(0) : new Float32Array(0), y: [] },
    });
  };
  const files = new Map<string, Uint8Array>();
  const entry = async (file: string, data: Uint8Array): Promise<ChunkEntry> => {
    files.set(file, data);
    return { url: file, sha256: await sha256Hex(data), bytes: data.byteLength };
  };
  const chunks: ChunkEntry[] = [];
  const width = String(Math.ceil(h.train / per) - 1).length;
  for (let c = 0; c * per < h.train; c++)
    chunks.push(
      await entry(
        `train-${String(c).padStart(width, '0')}.bin`,
        rows(train, 0, order, c * per, Math.min(h.train, (c + 1) * per)),
      ),
    );
  const testIdx = Array.from({ length: h.test }, (_, i) => i);
  const testEntry = await entry('test.bin', rows(test, h.train, testIdx, 0, h.test));
  const manifest: ChunkManifest = {
    format: CHUNKS_FORMAT,
    name: opts.name,
    inputShape: h.inputShape,
    classes: h.classes,
    targets: h.targets,
    train: { examples: h.train, chunkExamples: per, chunks },
    test: { ...testEntry, examples: h.test },
  };
  files.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest)));
  return { manifest, files };
}

/**
 * Every training example of a chunked data set, fetched and checked chunk by chunk as a worker's
 * are, as the bytes a peer's exact-mode shard carries (TrainerOptions.shardExamples): the
 * coordinator holds them (about 0.8 KB an example of MNIST or Fashion-MNIST), each volunteer then
 * fetches no file for its shards. Refused for a data set that does not store image bytes with
 * class labels.
 */
export async function allShardExamples(
  spec: ChunkedSpec,
  opts?: FetchDataOptions,
): Promise<(indices: Uint32Array) => ExampleBytes | undefined> {
  const ds = await loadChunked({ ...spec, split: 'train' }, opts);
  await ensureExamples(ds, allIndices(ds.size));
  if (!gatherBytes(ds, [0]))
    throw new GradroomError('BAD_CONFIG', `${ds.name}: its examples are not image bytes with class labels`);
  return (indices) => gatherBytes(ds, indices);
}
