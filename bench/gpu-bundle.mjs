#!/usr/bin/env node
// Bundles bench/gpu-shard.ts into .gpu/shard.mjs for the ../shared/gpu kit (a GPU machine has no
// node_modules): everything inlined but Dawn's 'webgpu', which the kit provides.
//
// The whole GPU measurement is then one device call (about 4 minutes; BUDGET_S=240 bounds it):
//   here:   ../shared/gpu/prepare.sh && node bench/gpu-bundle.mjs      (.gpu/ is about 41 MB)
//   device: run { command: "bash .gpu/run.sh .gpu/shard.mjs", carry: [".gpu"], timeout_s: 330 }
//   here:   cp <files_at>/gpu-shard.json bench/out/ && node bench/run.mjs none   (results.json, README)
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
mkdirSync(join(root, '.gpu'), { recursive: true });
await build({
  entryPoints: [join(root, 'bench', 'gpu-shard.ts')],
  outfile: join(root, '.gpu', 'shard.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['webgpu'],
  // the wasm backend looks for its .wasm files next to the bundle, through __dirname
  banner: {
    js: "import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url); const __dirname = import.meta.dirname;",
  },
  logLevel: 'warning',
});
const wasmDir = join(
  createRequire(join(root, 'packages', 'worker', 'package.json')).resolve('@tensorflow/tfjs-backend-wasm/package.json'),
  '..',
  'dist',
);
for (const f of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm')))
  copyFileSync(join(wasmDir, f), join(root, '.gpu', f));
console.log('wrote .gpu/shard.mjs and the wasm backend files');
