/**
 * `gradroom pack-data`: a CSV file or a folder of labelled PNGs into the packed data set format
 * (@gradroom/worker's data/format.ts), with its SHA-256, ready to be served and named by URL in a
 * data set spec. The packing itself lives in @gradroom/worker/data (pack.ts); this file reads files.
 */
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GradroomError } from '@gradroom/core';
import { csvToPacked, imagesToPacked, type LabelledImage, sha256Hex } from '@gradroom/worker/data';
import { readRegularFile } from '@gradroom/worker/files';
import { parseInteger } from './job-flags.js';

/** A CSV becomes one JavaScript string, whose length V8 caps near 512 M characters. */
const MAX_CSV_BYTES = 512 * 1024 * 1024 - 64;
/** One image file: far above a 4096 x 4096 PNG, the largest decodePng takes. */
const MAX_PNG_BYTES = 128 * 1024 * 1024;

export const PACK_HELP = `gradroom pack-data (--csv FILE | --images DIR) --out FILE.bin [flags]

  --csv FILE              one example per row; a first row of names is a header
    --task T              classification (default) or regression
    --label COLS          the label column(s), by name or 0-based index, comma-separated
                          (default: the last column; regression may name several targets)
    --separator C         field separator (default ,)
  --images DIR            DIR/<class name>/*.png: one folder per class, all images the same size
    --channels 1|3        grey (default, luminance) or RGB
  --test-fraction F       share held out for testing, chosen by a seeded shuffle (default 0.2)
  --seed N                seed of that shuffle (default 1)
  --out FILE.bin          where the packed file goes

Prints the sizes, the classes and the SHA-256; serve the file and name it in a data set spec:
  {"kind": "url", "url": "/datasets/FILE.bin", "sha256": "<hex>"}
(gradroom serve --data DIR serves DIR/FILE.bin at /datasets/FILE.bin)
`;

const bad = (m: string): never => {
  throw new GradroomError('BAD_CONFIG', m);
};

async function readImages(dir: string): Promise<LabelledImage[]> {
  const images: LabelledImage[] = [];
  const classes = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  if (classes.length === 0) bad(`${dir} has no class folders (expected ${dir}/<class>/*.png)`);
  for (const label of classes.sort()) {
    const files = (await readdir(join(dir, label))).filter((f) => f.toLowerCase().endsWith('.png')).sort();
    for (const f of files)
      images.push({
        label,
        name: join(label, f),
        // regular files only: a FIFO or device named x.png is refused, never waited on
        png: await readRegularFile(join(dir, label, f), { maxBytes: MAX_PNG_BYTES, what: 'the image' }),
      });
  }
  return images;
}

export async function packDataCommand(argv: string[]): Promise<number> {
  const { values: f } = parseArgs({
    args: argv,
    options: {
      csv: { type: 'string' },
      images: { type: 'string' },
      task: { type: 'string' },
      label: { type: 'string' },
      separator: { type: 'string' },
      channels: { type: 'string' },
      'test-fraction': { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (f.help) {
    process.stdout.write(PACK_HELP);
    return 0;
  }
  if (!f.out) bad('pack-data needs --out FILE.bin');
  if (!f.csv === !f.images) bad('pack-data needs exactly one of --csv FILE or --images DIR');
  // a FIFO or device as --out would block the write or swallow the data
  const existing = await stat(f.out as string).catch(() => null);
  if (existing && !existing.isFile()) bad(`--out ${f.out} exists and is not a regular file`);
  const int = (name: 'seed' | 'channels') => (f[name] === undefined ? undefined : parseInteger(f[name], name));
  const fraction = f['test-fraction'];
  const testFraction = fraction === undefined ? undefined : Number(fraction);
  if (fraction !== undefined && (fraction.trim() === '' || !Number.isFinite(testFraction)))
    bad(`--test-fraction must be a number, got "${fraction}"`);
  const split = { testFraction, seed: int('seed') };
  let result: Awaited<ReturnType<typeof imagesToPacked>>;
  if (f.csv) {
    const task = f.task ?? 'classification';
    if (task !== 'classification' && task !== 'regression')
      bad(`--task must be classification or regression, got "${task}"`);
    const label = f.label?.split(',').map((s) => (/^\d+$/.test(s.trim()) ? Number(s) : s.trim()));
    const csv = await readRegularFile(f.csv, { maxBytes: MAX_CSV_BYTES, what: '--csv', code: 'BAD_CONFIG' });
    result = csvToPacked(new TextDecoder().decode(csv), {
      task: task as 'classification' | 'regression',
      label,
      separator: f.separator,
      ...split,
    });
  } else {
    const channels = int('channels') ?? 1;
    if (channels !== 1 && channels !== 3) bad(`--channels must be 1 or 3, got ${channels}`);
    result = await imagesToPacked(await readImages(f.images as string), { channels: channels as 1 | 3, ...split });
  }
  await writeFile(f.out as string, result.bytes);
  const sha256 = await sha256Hex(result.bytes);
  process.stdout.write(
    [
      `${f.out}: ${result.train} training + ${result.test} test examples of shape ${JSON.stringify(result.inputShape)}, ${result.bytes.length} bytes`,
      result.classes > 0 ? `classes (label order): ${result.names.join(', ')}` : `targets: ${result.names.join(', ')}`,
      `sha256 ${sha256}`,
      `spec: ${JSON.stringify({ kind: 'url', url: `/datasets/${(f.out as string).split(/[\\/]/).pop()}`, sha256 })}`,
      '',
    ].join('\n'),
  );
  return 0;
}
