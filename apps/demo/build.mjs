#!/usr/bin/env node
// Builds the web app into apps/demo/dist with esbuild:
// - every apps/demo/src/pages/NAME.ts becomes dist/NAME.js (an ES module a page loads);
// - the worker bundle, dist/worker.js, from @gradroom/worker's Web Worker entry;
// - the host page's coordinator worker, dist/coordinator.js (src/coordinator-worker/main.ts), and its
//   predictor (the "what the model learned" panel), dist/predictor.js;
// - everything in apps/demo/public is copied as is (HTML, CSS, icons);
// - the tfjs wasm backend's .wasm files go to dist/wasm/, the packed MNIST file to dist/data/.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

const here = import.meta.dirname;
const out = join(here, 'dist');
const require = createRequire(join(here, '..', '..', 'packages', 'worker', 'package.json'));
mkdirSync(join(out, 'wasm'), { recursive: true });
mkdirSync(join(out, 'data'), { recursive: true });

/**
 * The chunked MNIST (packages/worker/dist/chunks, made by the build) goes to dist/data/chunks/, and
 * its spec into the pages (src/host/chunked-data.ts): mode local rooms use it.
 */
function chunkedSpecs() {
  const from = join(here, '..', '..', 'packages', 'worker', 'dist', 'chunks', 'mnist');
  if (!existsSync(join(from, 'spec.json'))) return {};
  // timestamps kept: the server sends a file's gzip copy only when it is not older than the file
  cpSync(from, join(out, 'data', 'chunks', 'mnist'), { recursive: true, preserveTimestamps: true });
  const spec = JSON.parse(readFileSync(join(from, 'spec.json'), 'utf8'));
  return { mnist: { ...spec, url: '/data/chunks/mnist/manifest.json' } };
}

const pagesDir = join(here, 'src', 'pages');
const pages = existsSync(pagesDir) ? readdirSync(pagesDir).filter((f) => f.endsWith('.ts')) : [];
const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  logLevel: 'warning',
  // tfjs-backend-wasm mentions Node modules on paths a browser never takes
  external: ['fs', 'path', 'crypto', 'worker_threads', 'perf_hooks', 'os', 'util'],
  define: { 'process.env.NODE_ENV': '"production"', __GRADROOM_CHUNKS__: JSON.stringify(chunkedSpecs()) },
};
await build({
  ...common,
  entryPoints: {
    worker: join(here, '..', '..', 'packages', 'worker', 'src', 'web-worker.ts'),
    coordinator: join(here, 'src', 'coordinator-worker', 'main.ts'),
    predictor: join(here, 'src', 'coordinator-worker', 'predictor.ts'),
    ...Object.fromEntries(pages.map((p) => [p.replace(/\.ts$/, ''), join(pagesDir, p)])),
  },
  outdir: out,
});

const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
for (const f of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) cpSync(join(wasmDir, f), join(out, 'wasm', f));
// the page offers Fashion-MNIST's 12,000-image subset (the whole set is 55 MB for every tab); each
// with its gzip copy (packages/worker/scripts/gzip-data.mjs), timestamps kept as above
for (const name of ['mnist.bin', 'fashion-mnist-small.bin'])
  for (const f of [name, `${name}.gz`]) {
    const from = join(here, '..', '..', 'packages', 'worker', 'dist', f);
    if (existsSync(from)) cpSync(from, join(out, 'data', f), { preserveTimestamps: true });
  }
const pub = join(here, 'public');
if (existsSync(pub)) cpSync(pub, out, { recursive: true });
console.log(`demo: built ${pages.length} page(s) and the worker bundle into apps/demo/dist`);
