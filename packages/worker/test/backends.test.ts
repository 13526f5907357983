/**
 * Hardware or software GPU from the adapter's own description, on recorded adapter infos, and the
 * backend choice that follows: a hardware WebGPU adapter is tried ahead of wasm with the reason
 * shown; a software one is skipped with its reason unless webgpu is asked for by name. (The real
 * SwiftShader adapter in Chromium is checked in coordinator/test/browser/gpu.browser.test.ts.)
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyAdapter, type GpuAdapterLike, selectBackend } from '../src/backends.js';

/** Adapters as they describe themselves. */
const ADAPTERS: Record<string, { adapter: GpuAdapterLike; software: boolean; device: RegExp }> = {
  // Chromium 156 here (--enable-unsafe-webgpu, no GPU), read by gpu.browser.test.ts's page
  'SwiftShader in Chromium 156': {
    adapter: {
      info: { vendor: 'google', architecture: 'swiftshader', device: '', description: '', isFallbackAdapter: true },
    },
    software: true,
    device: /^google swiftshader$/,
  },
  // older Chromium kept the flag on the adapter and masked the names
  'a fallback adapter in an older Chromium': {
    adapter: { isFallbackAdapter: true, info: { vendor: '', architecture: '' } },
    software: true,
    device: /^unknown adapter$/,
  },
  // Dawn in Node on SwiftShader's Vulkan: the names say so even without the flag
  'SwiftShader Vulkan through Dawn': {
    adapter: { info: { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader Device (Subzero)' } },
    software: true,
    device: /swiftshader .*Subzero/,
  },
  // Dawn (webgpu@0.6.2) in Node on Mesa 25's lavapipe (bookworm-backports), recorded here
  'Mesa lavapipe through Dawn': {
    adapter: {
      info: {
        vendor: 'mesa',
        architecture: 'software',
        device: 'llvmpipe-llvm-15-0-6-256-bits-',
        description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1',
        isFallbackAdapter: true,
      },
    },
    software: true,
    device: /^mesa software llvmpipe/,
  },
  // the same without the flag: the names alone say software
  'lavapipe without the fallback flag': {
    adapter: { info: { vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 19.1.7, 256 bits)' } },
    software: true,
    device: /llvmpipe/,
  },
  // the H100 of ../shared/gpu (README: "vendor: nvidia, not a fallback"), as Dawn names it
  'NVIDIA H100 through Dawn': {
    adapter: {
      info: {
        vendor: 'nvidia',
        architecture: 'hopper',
        device: '',
        description: 'NVIDIA H100 80GB HBM3',
        isFallbackAdapter: false,
      },
    },
    software: false,
    device: /^nvidia hopper NVIDIA H100/,
  },
  'NVIDIA in Chrome (vendor and architecture only)': {
    adapter: { info: { vendor: 'nvidia', architecture: 'lovelace', device: '', description: '' } },
    software: false,
    device: /^nvidia lovelace$/,
  },
  'Apple silicon in Chrome': {
    adapter: { info: { vendor: 'apple', architecture: 'metal-3', isFallbackAdapter: false } },
    software: false,
    device: /^apple metal-3$/,
  },
  'Intel integrated in Chrome': {
    adapter: { info: { vendor: 'intel', architecture: 'gen-12lp' } },
    software: false,
    device: /^intel gen-12lp$/,
  },
};

describe('classifyAdapter', () => {
  for (const [name, c] of Object.entries(ADAPTERS)) {
    it(`${name}: ${c.software ? 'software' : 'hardware'}`, () => {
      const v = classifyAdapter(c.adapter);
      expect(v.software).toBe(c.software);
      expect(v.device).toMatch(c.device);
      expect(v.reason).toMatch(c.software ? /software GPU.*slower than wasm/ : /hardware GPU.*faster than wasm/);
    });
  }

  it('an adapter that says nothing of itself and is no fallback counts as hardware', () => {
    expect(classifyAdapter({})).toMatchObject({ software: false, device: 'unknown adapter' });
  });
});

describe('selectBackend with a WebGPU adapter', () => {
  const g = globalThis as { navigator?: unknown };
  const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  // enough of a GPUAdapter for tfjs to ask it for a device, which a recording cannot give
  const withAdapter = (a: GpuAdapterLike) =>
    Object.defineProperty(globalThis, 'navigator', {
      value: {
        gpu: {
          requestAdapter: async () => ({
            ...a,
            features: new Set<string>(),
            limits: {},
            requestDevice: async () => {
              throw new Error('a recorded adapter has no device behind it');
            },
          }),
        },
      },
      configurable: true,
      writable: true,
    });
  afterEach(() => {
    if (had) Object.defineProperty(globalThis, 'navigator', had);
    else delete g.navigator;
  });

  it('skips a software adapter for wasm, saying why, and takes it when asked for by name', async () => {
    withAdapter(ADAPTERS['SwiftShader in Chromium 156'].adapter);
    const auto = await selectBackend({ prefer: ['webgpu', 'wasm'], allowSoftware: false });
    expect(auto.backend).toBe('wasm');
    expect(auto.skipped).toEqual([
      {
        backend: 'webgpu',
        reason:
          'WebGPU adapter is a software GPU (google swiftshader; it says it is a fallback adapter), slower than wasm',
      },
    ]);
    expect(auto.reason).toBe('the fastest backend that works here');
  });

  it('tries a hardware adapter ahead of wasm (here its device cannot start, so the reason is that, not software)', async () => {
    // a recorded NVIDIA adapter without a real device behind it: the choice gets past the
    // software check and into tfjs, whose webgpu backend then fails to create a device
    withAdapter(ADAPTERS['NVIDIA H100 through Dawn'].adapter);
    const r = await selectBackend({ prefer: ['webgpu', 'wasm'], allowSoftware: false });
    expect(r.backend).toBe('wasm');
    expect(r.skipped).toHaveLength(1);
    expect(r.skipped[0].backend).toBe('webgpu');
    expect(r.skipped[0].reason).not.toMatch(/software/);
    expect(r.skipped[0].reason).toMatch(/could not initialise|no device behind it/);
    expect(tf.getBackend()).toBe('wasm');
  });
});
