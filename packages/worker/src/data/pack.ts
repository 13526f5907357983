/**
 * `gradroom pack-data`: CSV rows or labelled PNG images into the packed format (format.ts). Pure
 * logic without Node APIs (png.ts inflates with the web's DecompressionStream), so a page can pack
 * too; the CLI only reads the files.
 */
import { GradroomError, shuffleEpoch } from '@gradroom/core';
import { encodePacked } from './format.js';
import { decodePng } from './png.js';

const bad = (m: string): never => {
  throw new GradroomError('BAD_DATA', m);
};

/** Classes a packed data set may have: far above any task here, and a bound on what a label can allocate. */
export const MAX_CLASSES = 100_000;

export interface PackResult {
  bytes: Uint8Array;
  inputShape: number[];
  train: number;
  test: number;
  /** Class names in label order (classification), or the target columns (regression). */
  names: string[];
  classes: number;
}

interface SplitOptions {
  /** Share of the examples held out for testing, picked by a seeded shuffle (default 0.2). */
  testFraction?: number;
  seed?: number;
}

/** Indices of the test examples: a seeded, reproducible choice. */
function testSet(n: number, o: SplitOptions): Set<number> {
  const f = o.testFraction ?? 0.2;
  if (!(f > 0 && f < 1)) bad(`test fraction must be between 0 and 1, got ${f}`);
  const k = Math.max(1, Math.round(n * f));
  if (n - k < 1) bad(`${n} examples are too few to hold out ${k} for testing`);
  return new Set(shuffleEpoch(o.seed ?? 1, 0, n).subarray(0, k));
}

/** Splits a CSV line, with "quoted" fields ("" is a quote inside one). */
function splitCsvLine(line: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

export interface CsvOptions extends SplitOptions {
  /** The label column(s): names (with a header row) or 0-based indices. Default: the last column. */
  label?: (string | number)[];
  /** classification: one label column, integers or names; regression: float targets. */
  task: 'classification' | 'regression';
  separator?: string;
}

/** CSV text (a header row is detected when its feature cells are not numbers) into a packed data set. */
export function csvToPacked(text: string, o: CsvOptions): PackResult {
  const sep = o.separator ?? ',';
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) bad('the CSV is empty');
  const rows = lines.map((l) => splitCsvLine(l, sep));
  const width = rows[0].length;
  const isNum = (s: string) => s !== '' && Number.isFinite(Number(s));
  const header = rows[0].some((c) => !isNum(c)) && rows.length > 1 && rows[1].some(isNum) ? rows.shift() : undefined;
  const cols = (o.label ?? [width - 1]).map((l) => {
    const i = typeof l === 'number' ? l : (header?.indexOf(l) ?? -1);
    if (!(Number.isInteger(i) && i >= 0 && i < width)) {
      bad(
        `label column ${JSON.stringify(l)} is not among the ${width} columns${header ? ` (${header.join(', ')})` : ''}`,
      );
    }
    return i;
  });
  if (o.task === 'classification' && cols.length !== 1) bad('classification takes exactly one label column');
  const featureCols = Array.from({ length: width }, (_, i) => i).filter((i) => !cols.includes(i));
  if (featureCols.length === 0) bad('the CSV has no feature columns besides the label');
  const n = rows.length;
  const x = new Float32Array(n * featureCols.length);
  const line = (r: number) => r + 1 + (header ? 1 : 0);
  rows.forEach((row, r) => {
    if (row.length !== width) bad(`CSV line ${line(r)} has ${row.length} fields, the first row has ${width}`);
    featureCols.forEach((c, j) => {
      const v = Number(row[c]);
      if (row[c] === '' || !Number.isFinite(v)) {
        bad(`CSV line ${line(r)}, column ${header ? header[c] : c}: "${row[c]}" is not a finite number`);
      }
      x[r * featureCols.length + j] = v;
    });
  });
  let y: Float32Array | Int32Array;
  let names: string[];
  let classes = 0;
  if (o.task === 'classification') {
    const raw = rows.map((row) => row[cols[0]]);
    const numeric = raw.every((s) => /^\d+$/.test(s));
    if (numeric) {
      // a loop, not Math.max(...raw): a spread of 300,000 rows overflows the call stack
      let top = 0;
      raw.forEach((s, r) => {
        const v = Number(s);
        if (v >= MAX_CLASSES)
          bad(`CSV line ${line(r)}: label ${s} is too large: integer labels are classes 0..${MAX_CLASSES - 1}`);
        top = Math.max(top, v);
      });
      names = Array.from({ length: top + 1 }, (_, i) => String(i));
    } else {
      names = [...new Set(raw)].sort();
      if (names.length > MAX_CLASSES)
        bad(`the label column holds ${names.length} different names, more than ${MAX_CLASSES} classes`);
    }
    const index = new Map(names.map((s, i) => [s, i]));
    y = Int32Array.from(raw, (s) => (numeric ? Number(s) : (index.get(s) as number)));
    classes = names.length;
    if (classes < 2) bad(`classification needs at least 2 classes; the label column holds only ${names.join(', ')}`);
  } else {
    y = new Float32Array(n * cols.length);
    rows.forEach((row, r) =>
      cols.forEach((c, j) => {
        const v = Number(row[c]);
        if (row[c] === '' || !Number.isFinite(v)) bad(`CSV line ${line(r)}: target "${row[c]}" is not a finite number`);
        y[r * cols.length + j] = v;
      }),
    );
    names = cols.map((c) => (header ? header[c] : String(c)));
  }
  return split(x, y, [featureCols.length], classes, classes > 0 ? 1 : cols.length, names, o);
}

function split(
  x: Float32Array | Uint8Array,
  y: Float32Array | Int32Array,
  inputShape: number[],
  classes: number,
  targets: number,
  names: string[],
  o: SplitOptions,
): PackResult {
  const f = inputShape.reduce((a, b) => a * b, 1);
  const n = x.length / f;
  const held = testSet(n, o);
  const take = (test: boolean) => {
    const idx = Array.from({ length: n }, (_, i) => i).filter((i) => held.has(i) === test);
    const px = new (x.constructor as Float32ArrayConstructor | Uint8ArrayConstructor)(idx.length * f);
    const py = new (y.constructor as Float32ArrayConstructor | Int32ArrayConstructor)(idx.length * targets);
    idx.forEach((i, k) => {
      px.set(x.subarray(i * f, (i + 1) * f), k * f);
      py.set(y.subarray(i * targets, (i + 1) * targets), k * targets);
    });
    return { x: px, y: py };
  };
  const train = take(false);
  const test = take(true);
  const bytes = encodePacked({ inputShape, classes, targets, train, test });
  return { bytes, inputShape, train: n - held.size, test: held.size, names, classes };
}

export interface LabelledImage {
  /** The class name (e.g. the folder the image is in). */
  label: string;
  /** Shown in errors. */
  name: string;
  png: Uint8Array;
}

/**
 * Labelled PNGs into a packed classification data set: grey (luminance; alpha ignored) or RGB
 * pixels as bytes, shape [height, width, channels]. Classes are the sorted label names.
 */
export async function imagesToPacked(
  images: LabelledImage[],
  o: SplitOptions & { channels?: 1 | 3 } = {},
): Promise<PackResult> {
  if (images.length < 2) bad(`need at least 2 images, got ${images.length}`);
  const ch = o.channels ?? 1;
  const names = [...new Set(images.map((i) => i.label))].sort();
  if (names.length < 2) bad(`need at least 2 classes (labels), got ${names.join(', ')}`);
  let shape: number[] | undefined;
  let x = new Uint8Array(0);
  const y = new Int32Array(images.length);
  for (let k = 0; k < images.length; k++) {
    const img = await decodePng(images[k].png, images[k].name);
    if (!shape) {
      shape = [img.height, img.width, ch];
      x = new Uint8Array(images.length * img.height * img.width * ch);
    } else if (img.height !== shape[0] || img.width !== shape[1]) {
      bad(
        `${images[k].name} is ${img.width}x${img.height}; the first image is ${shape[1]}x${shape[0]}: all must be the same size`,
      );
    }
    const px = img.width * img.height;
    const base = k * px * ch;
    for (let p = 0; p < px; p++) {
      const [r, g, b] = [img.rgba[p * 4], img.rgba[p * 4 + 1], img.rgba[p * 4 + 2]]; // alpha ignored
      if (ch === 1) x[base + p] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
      else x.set([r, g, b], base + p * 3);
    }
    y[k] = names.indexOf(images[k].label);
  }
  return split(x, y, shape as number[], names.length, 1, names, o);
}
