/**
 * The one PNG reader (`gradroom pack-data --images`, `gradroom predict --input x.png`, and pages):
 * 8-bit grey, grey+alpha, RGB, RGBA and palette images, not interlaced, which covers what people
 * export digits and photos as. No Node APIs: the web's DecompressionStream inflates, and stops as soon
 * as the data would exceed what the header's size needs, so a deflate bomb costs no memory.
 */
import { GradroomError } from '@gradroom/core';

export interface DecodedImage {
  width: number;
  height: number;
  /** Channels of the file: 1 grey, 2 grey+alpha, 3 RGB (palette without transparency), 4 RGBA. */
  channels: number;
  /** width x height x 4 bytes, row by row: every colour type expanded to RGBA. */
  rgba: Uint8Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** 16 M pixels (4096 x 4096): far above any image a model here takes; bounds memory for a hostile header. */
export const MAX_PNG_PIXELS = 2 ** 24;

/** Inflates `bytes` (zlib) into at most `max` bytes; undefined when the data would be longer. */
async function inflateAtMost(bytes: Uint8Array, max: number): Promise<Uint8Array | undefined> {
  const stream = new DecompressionStream('deflate');
  const writer = stream.writable.getWriter();
  // write errors surface on the reading side; these promises are only kept from going unhandled
  writer.write(bytes as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const reader = stream.readable.getReader();
  const out = new Uint8Array(max);
  let at = 0;
  // each read yields inflated bytes or ends; at most `max` of them are taken
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out.subarray(0, at);
    if (at + value.length > max) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    out.set(value, at);
    at += value.length;
  }
}

export async function decodePng(bytes: Uint8Array, name = 'image'): Promise<DecodedImage> {
  const bad = (why: string): never => {
    throw new GradroomError('BAD_DATA', `${name} is not a PNG gradroom can read: ${why}`);
  };
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) bad('the PNG signature is missing');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0;
  let height = 0;
  let colorType = -1;
  let palette: Uint8Array | undefined;
  let transparency: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  // each pass moves past one chunk of at least 12 bytes
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
      const [depth, color, , , interlace] = data.subarray(8, 13);
      colorType = color;
      if (depth !== 8) bad(`bit depth ${depth} (only 8-bit images)`);
      if (!(colorType in CHANNELS)) bad(`colour type ${colorType}`);
      if (interlace !== 0) bad('interlaced images are not supported');
      if (width === 0 || height === 0 || width * height > MAX_PNG_PIXELS)
        bad(`size ${width}x${height} (at most ${MAX_PNG_PIXELS} pixels)`);
    } else if (type === 'PLTE') palette = data;
    else if (type === 'tRNS') transparency = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
  }
  if (colorType < 0) bad('the IHDR chunk is missing');
  if (idat.length === 0) bad('there is no image data');
  if (colorType === 3 && !palette) bad('a palette image without its palette');
  const bpp = CHANNELS[colorType];
  const stride = width * bpp;
  const expected = (stride + 1) * height;
  const joined = new Uint8Array(idat.reduce((a, b) => a + b.length, 0));
  let offset = 0;
  for (const b of idat) {
    joined.set(b, offset);
    offset += b.length;
  }
  let raw: Uint8Array | undefined;
  try {
    raw = await inflateAtMost(joined, expected);
  } catch (e) {
    return bad(`its image data does not inflate (${(e as Error).message})`);
  }
  if (raw === undefined)
    bad(`its image data inflates to more than the ${expected} bytes its ${width}x${height} size allows`);
  if ((raw as Uint8Array).length !== expected)
    bad(`its image data holds ${(raw as Uint8Array).length} bytes, not ${expected}`);
  const px = unfilter(raw as Uint8Array, stride, height, bpp, bad);
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const s = i * bpp;
    let [r, g, b, a] = [px[s], px[s], px[s], 255];
    if (colorType === 4) a = px[s + 1];
    else if (colorType === 3) {
      const k = px[s];
      const p = palette as Uint8Array;
      if (3 * k + 2 >= p.length) bad(`palette index ${k} is out of range`);
      [r, g, b] = [p[3 * k], p[3 * k + 1], p[3 * k + 2]];
      if (transparency && k < transparency.length) a = transparency[k];
    } else if (colorType === 2 || colorType === 6) {
      [g, b] = [px[s + 1], px[s + 2]];
      if (colorType === 6) a = px[s + 3];
    }
    rgba[i * 4] = r;
    rgba[i * 4 + 1] = g;
    rgba[i * 4 + 2] = b;
    rgba[i * 4 + 3] = a;
  }
  const channels = colorType === 3 ? (transparency ? 4 : 3) : bpp;
  return { width, height, channels, rgba };
}

/** Undoes the five PNG row filters. */
function unfilter(raw: Uint8Array, stride: number, height: number, bpp: number, bad: (w: string) => never): Uint8Array {
  const out = new Uint8Array(stride * height);
  const none = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = out.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? out.subarray((y - 1) * stride, y * stride) : none;
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
