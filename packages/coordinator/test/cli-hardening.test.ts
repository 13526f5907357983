/**
 * Issue 20, items 6, 10, 11, 12, 13 and 14, as a careless user or a stranger's files meet the CLI:
 * each a real `gradroom` process with a timeout, so a hang fails the test instead of stalling it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSaveHandler } from '@gradroom/worker/model-files';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from '../src/cli/png.js';

const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'gradroom-cli-hard-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], timeout = 60_000) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, timedOut: r.error !== undefined };
}

const synthetic = ['--dataset', 'synthetic', '--workers', '1', '--epochs', '1', '--max-iterations', '1'];

/** A saved mlp-shaped model (784 -> 10) whose weights `fill` sets. */
async function savedModel(name: string, fill?: number): Promise<string> {
  const d = join(dir, name);
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 10, inputShape: [784] })] });
  if (fill !== undefined) model.setWeights(model.getWeights().map((w) => tf.fill(w.shape, fill)));
  await model.save(fileSaveHandler(d));
  model.dispose();
  return d;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('integer flags take integers written as integers (item 13)', () => {
  it.each([['0x40'], ['1e1'], [' 8 '], ['8.0'], ['']])('--batch-size "%s" is refused with exit 2', (v) => {
    const r = run(['train', ...synthetic, '--batch-size', v], 20_000);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`gradroom: --batch-size must be an integer written in digits, got "${v}"`);
  });

  it('the same parser reads every integer flag, in every command', () => {
    for (const [args, flag] of [
      [['train', '--epochs', '1e1'], 'epochs'],
      [['train', '--max-iterations', '0x10'], 'max-iterations'],
      [['train', '--seed', '1.5'], 'seed'],
      [['train', '--workers', '2.0'], 'workers'],
      [['evaluate', '--model', dir, '--workers', '0x2'], 'workers'],
      [['pack-data', '--csv', 'x.csv', '--out', 'x.bin', '--seed', '1e3'], 'seed'],
      [['serve', '--port', '0x50'], 'port'],
    ] as const) {
      const r = run([...args], 20_000);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`--${flag} must be an integer written in digits`));
    }
  });
});

describe('every refusal of bad input exits 2 (item 14)', () => {
  it('--examples 0 and --examples 1e12 / 1000000000000 are refused before any worker starts', () => {
    for (const v of ['0', '1000000000000']) {
      const r = run(['train', ...synthetic, '--examples', v], 20_000);
      expect(r.code, v).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`--examples must be an integer from 1 to 1000000, got "${v}"`));
    }
    expect(run(['train', ...synthetic, '--examples', '1e12'], 20_000).code).toBe(2);
  });

  it("a model of 3 classes against the data set's 10: refused at new Trainer with the reason, exit 2", () => {
    const spec = join(dir, 'three.json');
    writeFileSync(spec, JSON.stringify({ kind: 'mlp', inputShape: [28, 28, 1], hidden: [8], classes: 3 }));
    const r = run(['train', ...synthetic, '--examples', '100', '--model', spec]);
    expect(r.code).toBe(2);
    // the trainer refuses it before any worker starts (issue 21), naming both sides
    expect(r.stderr).toMatch(/the model predicts 3 outputs; synthetic has 10 classes/);
    expect(r.stdout).not.toMatch(/worker/);
  });
});

describe('--checkpoint where nothing can be written fails fast (item 12)', () => {
  it('/proc/x/run.ckpt: a clear error and exit 2 within seconds, never a spin', () => {
    const t0 = Date.now();
    const r = run(['train', ...synthetic, '--checkpoint', '/proc/x/run.ckpt'], 20_000);
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /checkpoint file \/proc\/x\/run\.ckpt cannot be written: the folder \/proc\/x cannot be created/,
    );
    expect(Date.now() - t0).toBeLessThan(15_000);
    const m = run(['train', ...synthetic, '--save-model', '/proc/x/model'], 20_000);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/--save-model \/proc\/x\/model cannot be written: the folder \/proc\/x cannot be created/);
  });

  it('missing folders are still created, each level', () => {
    const ck = join(dir, 'a', 'b', 'c', 'run.ckpt');
    const r = run(['train', ...synthetic, '--examples', '100', '--checkpoint', ck]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(ck).byteLength).toBeGreaterThan(0);
  });
});

describe('--init-model reads nothing outside its folder (item 6)', () => {
  it('a manifest path with ../ is refused, and the outside file never reaches the saved model', async () => {
    const d = await savedModel('evil');
    const secret = join(dir, 'secret.bin');
    writeFileSync(secret, readFileSync(join(d, 'weights.bin')).fill(0x41)); // the right size, to pass as weights
    const json = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8'));
    json.weightsManifest[0].paths = ['../secret.bin'];
    writeFileSync(join(d, 'model.json'), JSON.stringify(json));
    const out = join(dir, 'copied');
    const r = run(['train', ...synthetic, '--examples', '100', '--init-model', d, '--save-model', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"\.\.\/secret\.bin" is refused: it leads outside the folder/);
    expect(() => readFileSync(join(out, 'weights.bin'))).toThrow(/ENOENT/);
  });
});

describe('predict refuses unusable models (item 11)', () => {
  it('NaN weights and 3e38 weights: a clear error, exit 2, never "class -1 (probability NaN)"', async () => {
    const input = join(dir, 'row.csv');
    writeFileSync(input, `${Array(784).fill('0.5').join(',')}\n`);
    const nan = run(['predict', '--model', await savedModel('nan', Number.NaN), '--input', input]);
    expect(nan.code).toBe(2);
    expect(nan.stdout).not.toMatch(/class/);
    expect(nan.stderr).toMatch(/is unusable: its weight .* is NaN or infinite/);
    const huge = run(['predict', '--model', await savedModel('huge', 3e38), '--input', input]);
    expect(huge.code).toBe(2);
    expect(huge.stdout).not.toMatch(/class/);
    expect(huge.stderr).toMatch(/the model's output \d+ for example 0 is (-?Infinity|NaN): its weights are unusable/);
  });
});

describe('pack-data refuses what is not a regular file and bounds classes (item 10)', () => {
  it('FIFOs as --out, as predict --input and as train --dataset x.bin are refused at once', () => {
    const fifo = (name: string) => {
      const p = join(dir, name);
      execFileSync('mkfifo', [p]);
      return p;
    };
    const csv = join(dir, 'two.csv');
    writeFileSync(csv, '1,0\n2,1\n3,0\n4,1\n5,0\n');
    const out = run(['pack-data', '--csv', csv, '--out', fifo('out.bin')], 20_000);
    expect([out.timedOut, out.code]).toEqual([false, 2]);
    expect(out.stderr).toMatch(/--out .*out\.bin exists and is not a regular file/);
    const input = run(['predict', '--model', dir, '--input', fifo('in.csv')], 20_000);
    expect([input.timedOut, input.code]).toEqual([false, 2]);
    expect(input.stderr).toMatch(/--input .*in\.csv cannot be read: it is not a regular file/);
    const data = run(['train', '--dataset', fifo('data.bin')], 20_000);
    expect([data.timedOut, data.code]).toEqual([false, 2]);
    expect(data.stderr).toMatch(/--dataset .*data\.bin could not be read: it is not a regular file/);
  });

  it('a FIFO named x.png is refused at once, not waited on', () => {
    const images = join(dir, 'images');
    for (const c of ['a', 'b']) {
      mkdirSync(join(images, c), { recursive: true });
      writeFileSync(join(images, c, '1.png'), encodePng(2, 2, new Uint8Array(4), 1));
    }
    execFileSync('mkfifo', [join(images, 'b', 'x.png')]);
    const r = run(['pack-data', '--images', images, '--out', join(dir, 'img.bin')], 20_000);
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the image .*x\.png cannot be read: it is not a regular file/);
  });

  it('a label of 999,999,999 is refused with a clear error; a 300,000-row CSV packs', () => {
    const big = join(dir, 'big-label.csv');
    writeFileSync(big, '1,2,0\n3,4,999999999\n5,6,1\n');
    const r = run(['pack-data', '--csv', big, '--out', join(dir, 'big.bin')], 20_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/CSV line 2: label 999999999 is too large/);
    const rows = join(dir, 'rows.csv');
    writeFileSync(rows, Array.from({ length: 300_000 }, (_, i) => `${i % 89},${i % 7},${i % 4}`).join('\n'));
    const ok = run(['pack-data', '--csv', rows, '--out', join(dir, 'rows.bin')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('240000 training + 60000 test examples of shape [2]');
    expect(ok.stdout).toMatch(/"url":"\/datasets\/rows\.bin"/);
  });
});
