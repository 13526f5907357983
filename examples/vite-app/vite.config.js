// tfjs's wasm backend loads its .wasm files at run time from `wasmPaths`: served from node_modules in
// dev, emitted under wasm/ in the build. No COOP/COEP headers: on a cross-origin isolated page tfjs
// picks its threaded wasm build, whose thread workers fail once bundled ("e is not defined", seen
// with Vite 8.3), so this app runs the wasm backend on one thread per worker (SIMD), with two workers.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig } from 'vite';

const require = createRequire(import.meta.url);
const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
const wasmFiles = readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'));

const tfjsWasm = {
  name: 'tfjs-wasm-files',
  configureServer(server) {
    server.middlewares.use('/wasm/', (req, res, next) => {
      const f = (req.url ?? '').slice(1).split('?')[0];
      if (!wasmFiles.includes(f)) return next();
      res.setHeader('Content-Type', 'application/wasm');
      res.end(readFileSync(join(wasmDir, f)));
    });
  },
  generateBundle() {
    for (const f of wasmFiles)
      this.emitFile({ type: 'asset', fileName: `wasm/${f}`, source: readFileSync(join(wasmDir, f)) });
  },
};

export default defineConfig({
  plugins: [tfjsWasm],
  worker: { format: 'es' },
  build: { target: 'es2022' },
});
