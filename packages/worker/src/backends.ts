/**
 * Picks the fastest tfjs backend this environment really has (webgpu, then webgl, wasm, cpu) and
 * says why each faster one was skipped, and why the chosen one was taken. A WebGPU adapter on a
 * hardware GPU is taken ahead of wasm (on an H100 a 784-1024-1024-10 step at batch 512 takes 8 ms
 * against 12.4 s on cpu); software GPUs (SwiftShader behind WebGPU or WebGL, Mesa's llvmpipe or
 * lavapipe) are slower than wasm (PLATFORM.md: 243 and 37 ms against 15 ms a step), so they are
 * skipped unless a caller names that backend explicitly. classifyAdapter() tells the two apart.
 */
import * as tf from '@tensorflow/tfjs';

import { BACKEND_ORDER, type BackendName } from './catalog.js';

export { BACKEND_ORDER, type BackendName };

export interface BackendReport {
  backend: BackendName;
  /** Backends tried before the chosen one, with the reason each was not used. */
  skipped: { backend: BackendName; reason: string }[];
  /** Adapter or renderer description where one is known (e.g. 'nvidia', 'SwiftShader'). */
  device?: string;
  /** Why this backend was taken, in a sentence a person can read. */
  reason?: string;
}

export interface BackendOptions {
  /** Backends to try, in order; default BACKEND_ORDER. Naming one explicitly allows software GPUs. */
  prefer?: readonly BackendName[];
  /** Where the wasm backend's .wasm files are served (browsers only). */
  wasmPaths?: string;
  /** Use a software GPU (SwiftShader) if it comes first; default: true when `prefer` is given. */
  allowSoftware?: boolean;
}

/** What a WebGPU adapter says about itself: GPUAdapterInfo, and the flag older browsers kept on the adapter. */
export interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: GpuAdapterInfoLike;
}
export interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface NavigatorGpu {
  gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> };
}

export interface AdapterVerdict {
  /** A CPU-emulated GPU: SwiftShader, llvmpipe, lavapipe, WARP. */
  software: boolean;
  /** vendor, architecture, device and description joined, e.g. 'nvidia hopper'. */
  device: string;
  reason: string;
}

// Names software rasterisers give themselves in GPUAdapterInfo: SwiftShader (Chromium's fallback;
// its JIT is Subzero), Mesa's llvmpipe / lavapipe / softpipe, Microsoft's WARP ("Basic Render Driver")
const SOFTWARE_NAMES = /swiftshader|subzero|llvmpipe|lavapipe|softpipe|basic render|\bwarp\b|software/i;

/**
 * Hardware or software GPU, from the adapter's own description. isFallbackAdapter is the spec's
 * signal (Chromium 156 moved it into adapter.info), but Dawn does not always set it for a CPU
 * Vulkan driver, so the names are checked too.
 */
export function classifyAdapter(adapter: GpuAdapterLike): AdapterVerdict {
  const i = adapter.info ?? {};
  const device =
    [...new Set([i.vendor, i.architecture, i.device, i.description].map((s) => s?.trim()).filter(Boolean))].join(' ') ||
    'unknown adapter';
  const fallback = adapter.isFallbackAdapter === true || i.isFallbackAdapter === true;
  if (fallback || SOFTWARE_NAMES.test(device)) {
    const why = fallback ? 'it says it is a fallback adapter' : 'its name is a software renderer';
    return { software: true, device, reason: `a software GPU (${device}; ${why}), slower than wasm` };
  }
  return { software: false, device, reason: `a hardware GPU (${device}), faster than wasm for gradient steps` };
}

async function probe(
  name: BackendName,
  explicit: boolean,
  wasmPaths?: string,
): Promise<{ ok: true; device?: string; reason?: string } | { ok: false; reason: string }> {
  const nav = (globalThis as { navigator?: NavigatorGpu }).navigator;
  if (name === 'webgpu') {
    if (!nav?.gpu) return { ok: false, reason: 'navigator.gpu is missing (no WebGPU in this environment)' };
    const adapter = await nav.gpu.requestAdapter().catch(() => null);
    if (!adapter) return { ok: false, reason: 'WebGPU has no adapter (no GPU driver)' };
    const v = classifyAdapter(adapter);
    if (v.software && !explicit) return { ok: false, reason: `WebGPU adapter is ${v.reason}` };
    await import('@tensorflow/tfjs-backend-webgpu');
    return {
      ok: true,
      device: v.software ? `software: ${v.device}` : v.device,
      reason: v.software ? `asked for by name, on ${v.reason}` : `WebGPU on ${v.reason}`,
    };
  }
  if (name === 'webgl') {
    const g = globalThis as { OffscreenCanvas?: new (w: number, h: number) => { getContext(k: string): unknown } };
    if (!g.OffscreenCanvas) return { ok: false, reason: 'no OffscreenCanvas (no WebGL in this environment)' };
    const gl = new g.OffscreenCanvas(1, 1).getContext('webgl2') as WebGL2RenderingContextLike | null;
    if (!gl) return { ok: false, reason: 'WebGL2 context unavailable' };
    const info = gl.getExtension('WEBGL_debug_renderer_info') as { UNMASKED_RENDERER_WEBGL: number } | null;
    const renderer = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : 'unknown';
    if (SOFTWARE_NAMES.test(renderer) && !explicit) {
      return { ok: false, reason: `WebGL renderer is software (${renderer}), slower than wasm` };
    }
    return { ok: true, device: renderer };
  }
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (wasmPaths) wasm.setWasmPaths(wasmPaths);
    return { ok: true, device: 'wasm' };
  }
  return { ok: true, device: 'cpu' };
}

interface WebGL2RenderingContextLike {
  getExtension(name: string): unknown;
  getParameter(p: number): unknown;
}

export async function selectBackend(opts: BackendOptions = {}): Promise<BackendReport> {
  const explicit = opts.allowSoftware ?? opts.prefer !== undefined;
  const order = opts.prefer ?? BACKEND_ORDER;
  const skipped: BackendReport['skipped'] = [];
  for (const name of order) {
    try {
      const p = await probe(name, explicit, opts.wasmPaths);
      if (!p.ok) {
        skipped.push({ backend: name, reason: p.reason });
        continue;
      }
      if (!(await tf.setBackend(name))) {
        skipped.push({ backend: name, reason: 'tfjs could not initialise it' });
        continue;
      }
      await tf.ready();
      // a backend that registers but cannot compute is no backend
      const check = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)));
      const v = (await check.data())[0];
      check.dispose();
      if (v !== 3) throw new Error(`self-check computed 1+2=${v}`);
      const reason =
        p.reason ?? (skipped.length ? 'the fastest backend that works here' : 'the first backend asked for');
      return { backend: name, skipped, device: p.device, reason };
    } catch (e) {
      skipped.push({ backend: name, reason: `failed: ${(e as Error).message}` });
    }
  }
  throw new Error(`no tfjs backend works here: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`);
}

/** What tfjs's webgpu backend did while watched: CPU->GPU tensor uploads, GPU->CPU read-backs, pipelines. */
export interface GpuWork {
  uploads: number;
  uploadBytes: number;
  readbacks: number;
  readbackBytes: number;
  /** Compute pipelines compiled (tfjs caches one per shader key; a new key means a new compile). */
  programs: number;
}

// the parts of tfjs-backend-webgpu 4.22's WebGPUBackend that move data or compile; not public API,
// so watchGpuWork checks they are there and says so when a tfjs upgrade moved them
interface WebGpuInternals {
  uploadToGPU(dataId: object): void;
  getBufferData(buffer: { size: number }): Promise<ArrayBuffer>;
  readSync(dataId: object): unknown;
  tensorMap: { get(dataId: object): { values?: ArrayBufferView | null; resource?: unknown } | undefined };
  pipelineCache: Record<string, unknown>;
}

/**
 * Counts the webgpu backend's uploads, read-backs and shader compiles from now on, for tests and
 * benchmarks (a shard should cost one weights upload per version, one read-back, no compile once
 * warm). `stop()` puts the backend's methods back.
 */
export function watchGpuWork(): { read(): GpuWork; stop(): void } {
  if (tf.getBackend() !== 'webgpu') throw new Error(`watchGpuWork needs the webgpu backend, not ${tf.getBackend()}`);
  const b = tf.backend() as unknown as WebGpuInternals;
  if (
    typeof b.uploadToGPU !== 'function' ||
    typeof b.getBufferData !== 'function' ||
    typeof b.readSync !== 'function' ||
    typeof b.tensorMap?.get !== 'function' ||
    typeof b.pipelineCache !== 'object'
  )
    throw new Error('watchGpuWork: this tfjs-backend-webgpu has other internals than 4.22');
  const own = { uploadToGPU: b.uploadToGPU, getBufferData: b.getBufferData, readSync: b.readSync };
  const hadOwn = Object.keys(own).filter((k) => Object.hasOwn(b, k));
  const programs0 = Object.keys(b.pipelineCache).length;
  const w: GpuWork = { uploads: 0, uploadBytes: 0, readbacks: 0, readbackBytes: 0, programs: 0 };
  b.uploadToGPU = function (dataId) {
    const d = this.tensorMap.get(dataId);
    // only a tensor whose values sit on the CPU and have no GPU buffer yet is copied
    if (d && d.resource == null && d.values != null) {
      w.uploads++;
      w.uploadBytes += d.values.byteLength;
    }
    return own.uploadToGPU.call(this, dataId);
  };
  b.getBufferData = function (buffer) {
    w.readbacks++;
    w.readbackBytes += buffer.size;
    return own.getBufferData.call(this, buffer);
  };
  b.readSync = function (dataId) {
    const d = this.tensorMap.get(dataId);
    if (d && d.values == null) w.readbacks++;
    return own.readSync.call(this, dataId);
  };
  return {
    read: () => ({ ...w, programs: Object.keys(b.pipelineCache).length - programs0 }),
    stop: () => {
      for (const k of Object.keys(own) as (keyof typeof own)[]) {
        if (hadOwn.includes(k)) Object.assign(b, { [k]: own[k] });
        else delete (b as Partial<WebGpuInternals>)[k];
      }
    },
  };
}
