/** `gradroom predict`: what a saved model (model.json + weights.bin) says about a CSV or a PNG. */
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { GradroomError } from '@gradroom/core';
import { readRegularFile } from '@gradroom/worker/files';
import { decodePng } from './png.js';

/** An input file is read whole: bounded (a CSV's text must also fit one JavaScript string). */
export const MAX_INPUT_BYTES = 256 * 1024 * 1024;

export const PREDICT_HELP = `gradroom predict --model DIR --input FILE [--json] [--invert]

Loads a model saved by \`gradroom train --save-model DIR\` (or any tfjs layers model.json with its
weights) and predicts:
  --input FILE.csv   one example per row, the model's input values (a header row is skipped)
  --input FILE.png   one image, scaled to the model's input size, values in [0, 1]
  --invert           for an image: dark ink on a light background (the built-in data sets are light on dark)
  --json             one JSON object per example: {"index", "class", "probabilities", "outputs"}
`;

/** Rows of numbers; a first row that is not numeric is a header. Each row must have `per` values. */
export function parseCsv(text: string, per: number, name: string): Float32Array {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const rows: number[][] = [];
  lines.forEach((line, i) => {
    const cells = line.split(',').map((c) => c.trim());
    const values = cells.map(Number);
    if (cells.some((c) => c === '' || !Number.isFinite(Number(c)))) {
      if (i === 0 && values.some(Number.isNaN)) return; // a header
      const col = cells.findIndex((c) => c === '' || !Number.isFinite(Number(c)));
      throw new GradroomError(
        'BAD_DATA',
        `${name} line ${i + 1}, column ${col + 1}: "${cells[col]}" is not a finite number`,
      );
    }
    if (values.length !== per)
      throw new GradroomError('BAD_DATA', `${name} line ${i + 1} has ${values.length} values; the model takes ${per}`);
    rows.push(values);
  });
  if (rows.length === 0) throw new GradroomError('BAD_DATA', `${name} holds no examples`);
  const x = new Float32Array(rows.length * per);
  rows.forEach((r, i) => x.set(r, i * per));
  return x;
}

export async function predictCommand(argv: string[]): Promise<number> {
  const { values: f } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      input: { type: 'string' },
      json: { type: 'boolean' },
      invert: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (f.help) {
    process.stdout.write(PREDICT_HELP);
    return 0;
  }
  if (!f.model) throw new GradroomError('BAD_CONFIG', 'predict needs --model DIR (a saved model)');
  if (!f.input) throw new GradroomError('BAD_CONFIG', 'predict needs --input FILE.csv or FILE.png');
  const ext = extname(f.input).toLowerCase();
  if (ext !== '.csv' && ext !== '.png')
    throw new GradroomError('BAD_CONFIG', `--input ${f.input}: give a .csv or a .png file`);
  const bytes = await readRegularFile(f.input, { maxBytes: MAX_INPUT_BYTES, what: '--input', code: 'BAD_CONFIG' });
  const [{ loadModelDir }, { imageToInput, inputShapeOf, predictRows }] = await Promise.all([
    import('@gradroom/worker/model-files'),
    import('@gradroom/worker/predict'),
  ]);
  const { model, spec } = await loadModelDir(f.model);
  try {
    const shape = inputShapeOf(model);
    const per = shape.reduce((a, b) => a * b, 1);
    const x =
      ext === '.png'
        ? imageToInput(await decodePng(bytes, f.input), shape, { invert: f.invert === true })
        : parseCsv(new TextDecoder().decode(bytes), per, f.input);
    const predictions = predictRows(model, spec, x);
    predictions.forEach((p, index) => {
      if (f.json) process.stdout.write(`${JSON.stringify({ index, ...p })}\n`);
      else if (p.class !== undefined && p.probabilities)
        console.log(
          `${index}: class ${p.class} (probability ${(p.probabilities[p.class] ?? p.probabilities[0]).toFixed(4)})`,
        );
      else console.log(`${index}: ${p.outputs.map((v) => v.toPrecision(6)).join(', ')}`);
    });
    return 0;
  } finally {
    model.dispose();
  }
}
