// Bundles main.js and gradroom's Web Worker into dist/, and copies the tfjs wasm backend's files
// next to them (workers load them at run time). Serve this folder with any static server.
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

const here = import.meta.dirname;
const out = join(here, 'dist');
await build({
  entryPoints: { main: './main.js', worker: '@gradroom/worker/web-worker' },
  absWorkingDir: here,
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  logLevel: 'warning',
  // tfjs's wasm backend names Node modules on paths a browser never takes
  external: ['fs', 'path', 'crypto', 'worker_threads', 'perf_hooks', 'os', 'util'],
  define: { 'process.env.NODE_ENV': '"production"' },
});
const require = createRequire(join(here, 'package.json'));
const wasm = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
mkdirSync(join(out, 'wasm'), { recursive: true });
for (const f of readdirSync(wasm).filter((f) => f.endsWith('.wasm'))) cpSync(join(wasm, f), join(out, 'wasm', f));
console.log(`built ${out}`);
