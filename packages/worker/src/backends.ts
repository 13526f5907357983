/**
 * Picks the fastest tfjs backend this environment really has (webgpu, then webgl, wasm, cpu) and
 * says why each faster one was skipped. Software GPUs (SwiftShader behind WebGPU or WebGL) are
 * slower than wasm (PLATFORM.md: 243 and 37 ms against 15 ms a step), so they are skipped unless a
 * caller names that backend explicitly.
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
}

export interface BackendOptions {
  /** Backends to try, in order; default BACKEND_ORDER. Naming one explicitly allows software GPUs. */
  prefer?: readonly BackendName[];
  /** Where the wasm backend's .wasm files are served (browsers only). */
  wasmPaths?: string;
  /** Use a software GPU (SwiftShader) if it comes first; default: true when `prefer` is given. */
  allowSoftware?: boolean;
}

interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
}
interface NavigatorGpu {
  gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> };
}

async function probe(
  name: BackendName,
  explicit: boolean,
  wasmPaths?: string,
): Promise<{ ok: true; device?: string } | { ok: false; reason: string }> {
  const nav = (globalThis as { navigator?: NavigatorGpu }).navigator;
  if (name === 'webgpu') {
    if (!nav?.gpu) return { ok: false, reason: 'navigator.gpu is missing (no WebGPU in this environment)' };
    const adapter = await nav.gpu.requestAdapter().catch(() => null);
    if (!adapter) return { ok: false, reason: 'WebGPU has no adapter (no GPU driver)' };
    const device =
      [adapter.info?.vendor, adapter.info?.architecture, adapter.info?.description].filter(Boolean).join(' ') ||
      'unknown';
    // Chromium 156 moved the flag into adapter.info
    const software =
      adapter.isFallbackAdapter === true || adapter.info?.isFallbackAdapter === true || /swiftshader/i.test(device);
    if (software && !explicit)
      return { ok: false, reason: `WebGPU adapter is a software fallback (${device}), slower than wasm` };
    await import('@tensorflow/tfjs-backend-webgpu');
    return { ok: true, device: software ? `software: ${device}` : device };
  }
  if (name === 'webgl') {
    const g = globalThis as { OffscreenCanvas?: new (w: number, h: number) => { getContext(k: string): unknown } };
    if (!g.OffscreenCanvas) return { ok: false, reason: 'no OffscreenCanvas (no WebGL in this environment)' };
    const gl = new g.OffscreenCanvas(1, 1).getContext('webgl2') as WebGL2RenderingContextLike | null;
    if (!gl) return { ok: false, reason: 'WebGL2 context unavailable' };
    const info = gl.getExtension('WEBGL_debug_renderer_info') as { UNMASKED_RENDERER_WEBGL: number } | null;
    const renderer = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : 'unknown';
    if (/swiftshader|llvmpipe|software/i.test(renderer) && !explicit) {
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
      return { backend: name, skipped, device: p.device };
    } catch (e) {
      skipped.push({ backend: name, reason: `failed: ${(e as Error).message}` });
    }
  }
  throw new Error(`no tfjs backend works here: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`);
}
