/**
 * A small PNG writer for tests and tools. Reading is @gradroom/worker/data's decodePng, the one
 * decoder pack-data and predict share (re-exported here for the CLI).
 */
import { deflateSync } from 'node:zlib';
import { GradroomError } from '@gradroom/core';

export { type DecodedImage, decodePng } from '@gradroom/worker/data';

const SIGNATURE = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10);

/** An 8-bit grey (1 channel) or RGBA (4 channels) PNG, rows unfiltered: for tests and tools. */
export function encodePng(width: number, height: number, pixels: Uint8Array, channels: 1 | 4): Uint8Array {
  if (pixels.length !== width * height * channels) throw new GradroomError('BAD_DATA', 'pixel count does not match');
  const raw = new Uint8Array((width * channels + 1) * height);
  for (let y = 0; y < height; y++)
    raw.set(pixels.subarray(y * width * channels, (y + 1) * width * channels), y * (width * channels + 1) + 1);
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([8, channels === 1 ? 0 : 6, 0, 0, 0], 8);
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

let table: Uint32Array | undefined;
function crc32(bytes: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
