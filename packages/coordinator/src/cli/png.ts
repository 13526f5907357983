/**
 * A small PNG reader and writer for `gradroom predict --input image.png` (and tests): 8-bit grey,
 * grey+alpha, RGB, RGBA and palette images, not interlaced, which covers what people export digits
 * as. Node's zlib does the inflating; the rest is the five PNG row filters. Bad files get a clear error.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { GradroomError } from '@gradroom/core';

export interface RgbaImage {
  width: number;
  height: number;
  /** width x height x 4 bytes, row by row. */
  rgba: Uint8Array;
}

const SIGNATURE = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10);
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Far above any image a model here takes; bounds memory for a hostile header. */
const MAX_PIXELS = 64 * 1024 * 1024;

export function decodePng(bytes: Uint8Array, name = 'image'): RgbaImage {
  const bad = (why: string): never => {
    throw new GradroomError('BAD_DATA', `${name} is not a PNG gradroom can read: ${why}`);
  };
  if (bytes.length < 8 || !SIGNATURE.every((b, i) => bytes[i] === b)) bad('the PNG signature is missing');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0;
  let height = 0;
  let colorType = -1;
  let palette: Uint8Array | undefined;
  let transparency: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  for (let at = 8; at < bytes.length; ) {
    if (at + 12 > bytes.length) bad('a chunk is truncated');
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (at + 12 + length > bytes.length) bad(`chunk ${type} is truncated`);
    const data = bytes.subarray(at + 8, at + 8 + length);
    at += 12 + length;
    if (type === 'IHDR') {
      if (length !== 13) bad('the IHDR chunk is malformed');
      const hv = new DataView(data.buffer, data.byteOffset, 13);
      width = hv.getUint32(0);
      height = hv.getUint32(4);
      const depth = data[8];
      colorType = data[9];
      if (depth !== 8) bad(`bit depth ${depth} (only 8-bit images)`);
      if (!(colorType in CHANNELS)) bad(`colour type ${colorType}`);
      if (data[12] !== 0) bad('interlaced images are not supported');
      if (width === 0 || height === 0 || width * height > MAX_PIXELS) bad(`size ${width}x${height}`);
    } else if (type === 'PLTE') palette = data;
    else if (type === 'tRNS') transparency = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
  }
  if (colorType < 0) bad('the IHDR chunk is missing');
  if (idat.length === 0) bad('there is no image data');
  if (colorType === 3 && !palette) bad('a palette image without its palette');
  const channels = CHANNELS[colorType];
  const stride = width * channels;
  let raw: Uint8Array;
  try {
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: (stride + 1) * height });
  } catch (e) {
    return bad(`its image data does not inflate (${(e as Error).message})`);
  }
  if (raw.length !== (stride + 1) * height)
    bad(`its image data holds ${raw.length} bytes, not ${(stride + 1) * height}`);
  const px = unfilter(raw, stride, height, channels, bad);
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const s = i * channels;
    let r: number;
    let g: number;
    let b: number;
    let a = 255;
    if (colorType === 0 || colorType === 4) {
      r = g = b = px[s];
      if (colorType === 4) a = px[s + 1];
    } else if (colorType === 3) {
      const k = px[s];
      if (3 * k + 2 >= (palette as Uint8Array).length) bad(`palette index ${k} is out of range`);
      [r, g, b] = [
        (palette as Uint8Array)[3 * k],
        (palette as Uint8Array)[3 * k + 1],
        (palette as Uint8Array)[3 * k + 2],
      ];
      if (transparency && k < transparency.length) a = transparency[k];
    } else {
      [r, g, b] = [px[s], px[s + 1], px[s + 2]];
      if (colorType === 6) a = px[s + 3];
    }
    rgba.set([r, g, b, a], i * 4);
  }
  return { width, height, rgba };
}

function unfilter(raw: Uint8Array, stride: number, height: number, bpp: number, bad: (w: string) => never): Uint8Array {
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = out.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? out.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let x = 0; x < stride; x++) {
      const left = x >= bpp ? row[x - bpp] : 0;
      const upLeft = x >= bpp ? up[x - bpp] : 0;
      let pred: number;
      if (filter === 0) pred = 0;
      else if (filter === 1) pred = left;
      else if (filter === 2) pred = up[x];
      else if (filter === 3) pred = (left + up[x]) >> 1;
      else if (filter === 4) {
        const p = left + up[x] - upLeft;
        const pa = Math.abs(p - left);
        const pb = Math.abs(p - up[x]);
        const pc = Math.abs(p - upLeft);
        pred = pa <= pb && pa <= pc ? left : pb <= pc ? up[x] : upLeft;
      } else return bad(`row ${y} has filter type ${filter}`);
      row[x] = (line[x] + pred) & 0xff;
    }
  }
  return out;
}

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
