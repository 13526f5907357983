// What the host's CPU pays to serve a data set's chunks to the room (a volunteer fetches its partition
// over HTTP while the host's warm start runs on the same laptop): the room server's static files,
// CPU per megabyte served, read 1 MiB at a time (READ_CHUNK_BYTES, the default since round 13)
// against Node's 64 KiB (the baseline), in one process, alternated. The clients run in a child
// process (8 at once, as a room's volunteers), so the figure is the server's CPU alone, user and
// system. Every file must arrive whole and equal to the one on disk.
// Run: node bench/static-serve.bench.mjs (after npm run build; serves packages/worker/dist/chunks).
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { READ_CHUNK_BYTES, staticFiles } from '../packages/coordinator/dist/server/static.js';
import { report } from './lib.mjs';

const root = join(import.meta.dirname, '..', 'packages', 'worker', 'dist');
const dir = join(root, 'chunks', 'fashion-mnist');
const files = readdirSync(dir)
  .filter((f) => /^train-\d+\.bin$/.test(f))
  .sort();
const digest = (b) => createHash('sha256').update(b).digest('hex');
const expected = Object.fromEntries(files.map((f) => [f, digest(readFileSync(join(dir, f)))]));
const totalMB = files.reduce((a, f) => a + readFileSync(join(dir, f)).byteLength, 0) / 1e6;

const client = join(tmpdir(), `gradroom-static-serve-client-${process.pid}.mjs`);
writeFileSync(
  client,
  `import { createHash } from 'node:crypto';
const [port, lanes, ...files] = process.argv.slice(2);
const sums = {};
let next = 0;
await Promise.all(Array.from({ length: Number(lanes) }, async () => {
  while (next < files.length) {
    const f = files[next++];
    const r = await fetch('http://127.0.0.1:' + port + '/chunks/fashion-mnist/' + f);
    if (r.status !== 200) throw new Error(f + ': HTTP ' + r.status);
    sums[f] = createHash('sha256').update(new Uint8Array(await r.arrayBuffer())).digest('hex');
  }
}));
process.send(sums);
`,
);

/** One pass: every chunk fetched once by 8 clients; the server's CPU (ms) meanwhile. */
async function pass(readChunkBytes) {
  const serve = staticFiles(root, { readChunkBytes });
  const server = createServer((req, res) => {
    serve(req, res).then(
      (done) => done || res.writeHead(404).end(),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const c0 = process.cpuUsage();
  const sums = await new Promise((resolve, reject) => {
    const c = fork(client, [String(server.address().port), '8', ...files]);
    c.once('message', resolve);
    c.once('exit', (code) => code && reject(new Error(`client exited with ${code}`)));
  });
  const c = process.cpuUsage(c0);
  await new Promise((r) => server.close(r));
  for (const f of files) if (sums[f] !== expected[f]) throw new Error(`${f} arrived different from the file`);
  return (c.user + c.system) / 1000;
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const small = [];
const large = [];
try {
  await pass(64 * 1024); // warm-up: JIT, the page cache
  for (let k = 0; k < 5; k++) {
    small.push(await pass(64 * 1024));
    large.push(await pass(READ_CHUNK_BYTES));
  }
} finally {
  rmSync(client, { force: true });
}
const base = median(small) / totalMB;
const now = median(large) / totalMB;
report('static-serve', [
  {
    name: `serve ${files.length} Fashion-MNIST chunks (${totalMB.toFixed(1)} MB) to 8 clients: server CPU per MB, 1 MiB reads ÷ 64 KiB`,
    value: now,
    baseline: base,
    unit: 'ms/MB',
    ratio: now / base,
    note: `medians of 5 alternated passes; 64 KiB ${small.map((x) => (x / totalMB).toFixed(1)).join('/')}, 1 MiB ${large.map((x) => (x / totalMB).toFixed(1)).join('/')} ms/MB`,
  },
]);
