/**
 * A named, seeded PRNG: sfc32 seeded through splitmix32. Small, fast, and identical in every JS
 * engine, so a seed reproduces the same shuffles in Node, in a browser tab and in the serial oracle.
 */
export interface Rng {
  /** Uniform in [0, 1) with 32 bits of randomness. */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** sfc32 seeded from any number of 32-bit words (e.g. seed, epoch, stream id). */
export function sfc32(...words: number[]): Rng {
  let mix = splitmix32(0x2545f491);
  let h = 0;
  for (const w of words) {
    h = (Math.imul(h ^ (w >>> 0), 0x27d4eb2d) + mix()) >>> 0;
    mix = splitmix32(h);
  }
  let a = mix();
  let b = mix();
  let c = mix();
  let d = mix();
  const u32 = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) u32(); // discard the first outputs, which are weakly mixed
  let spare: number | null = null;
  return {
    next: () => u32() / 4294967296,
    int(n: number) {
      // rejection sampling keeps every value equally likely
      const limit = 4294967296 - (4294967296 % n);
      for (;;) {
        const x = u32();
        if (x < limit) return x % n;
      }
    },
    normal() {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      let u = 0;
      while (u === 0) u = u32() / 4294967296;
      const v = u32() / 4294967296;
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
  };
}

/** Named random streams derived from one run seed, so adding a stream never shifts another. */
export const STREAM = { shuffle: 1, init: 2, data: 3, noise: 4 } as const;

export function rngFor(seed: number, stream: number, ...more: number[]): Rng {
  return sfc32(seed, stream, ...more);
}
