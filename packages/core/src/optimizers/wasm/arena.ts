/**
 * An arena: params, grads and an optimizer's slots as views into one WebAssembly memory, so a SIMD
 * kernel updates them in place with no copy in or out. Each buffer is padded to a multiple of 4
 * floats (one v128 lane group); padding stays 0 and so updates to 0.
 */

// Core compiles without DOM or Node typings, so the little of WebAssembly it uses is typed here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const env = globalThis as { WebAssembly?: WasmApi; atob?: (s: string) => string };

export interface Arena {
  readonly params: Float32Array;
  readonly grads: Float32Array;
  readonly slots: Float32Array[];
  /** Byte offsets of params, grads, then each slot, for the kernel. */
  readonly offsets: number[];
  /** Elements the kernel runs over: n rounded up to a multiple of 4. */
  readonly padded: number;
  readonly exports: Record<string, unknown>;
  /** True when these are this arena's own params and grads (the kernel can run in place). */
  owns(params: Float32Array, grads: Float32Array): boolean;
}

const modules = new Map<string, object>();

function module(base64: string): object {
  let m = modules.get(base64);
  if (!m) {
    if (!env.WebAssembly || !env.atob) throw new Error('no WebAssembly here');
    const bin = env.atob(base64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    // a few hundred bytes: synchronous compiling is allowed everywhere, a page's main thread included
    m = new env.WebAssembly.Module(bytes);
    modules.set(base64, m);
  }
  return m;
}

/** Whether this JavaScript engine runs WebAssembly SIMD (every current browser and Node do). */
export function hasWasmSimd(base64: string): boolean {
  try {
    module(base64);
    return true;
  } catch {
    return false;
  }
}

export function createArena(base64: string, n: number, slotCount: number, slotInit: number): Arena {
  const instance = new (env.WebAssembly as WasmApi).Instance(module(base64), {});
  const memory = instance.exports.memory as WasmMemory;
  const padded = Math.ceil(n / 4) * 4;
  const stride = padded * 4;
  const bytes = stride * (2 + slotCount);
  const pages = Math.ceil(bytes / 65536) - memory.buffer.byteLength / 65536;
  if (pages > 0) memory.grow(pages); // before any view is made: growing detaches earlier views
  const view = (i: number) => new Float32Array(memory.buffer, i * stride, n);
  const params = view(0);
  const grads = view(1);
  const slots = Array.from({ length: slotCount }, (_, i) => view(2 + i).fill(slotInit));
  return {
    params,
    grads,
    slots,
    offsets: Array.from({ length: 2 + slotCount }, (_, i) => i * stride),
    padded,
    exports: instance.exports,
    owns: (p, g) =>
      p.buffer === memory.buffer && g.buffer === memory.buffer && p.byteOffset === 0 && g.byteOffset === stride,
  };
}
