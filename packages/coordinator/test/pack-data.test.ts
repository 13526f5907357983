/** `gradroom pack-data` as a user runs it: CSV and a folder of PNGs become a packed file with its hash. */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePacked } from '@gradroom/worker/data';
import { afterAll, describe, expect, it } from 'vitest';
import { encodePng } from '../src/cli/png.js';

const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'gradroom-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [cli, 'pack-data', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('gradroom pack-data', () => {
  it('CSV with named classes: the file decodes to the rows, and the printed hash is the file hash', () => {
    const rows = ['sepal,petal,kind', ...Array.from({ length: 50 }, (_, i) => `${i},${i * 0.5},${i % 2 ? 'b' : 'a'}`)];
    writeFileSync(join(dir, 'd.csv'), rows.join('\n'));
    const out = join(dir, 'd.bin');
    const r = run(['--csv', join(dir, 'd.csv'), '--label', 'kind', '--test-fraction', '0.2', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const bytes = new Uint8Array(readFileSync(out));
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect(r.stdout).toContain('40 training + 10 test examples of shape [2]');
    expect(r.stdout).toContain('classes (label order): a, b');
    expect(r.stdout).toContain(`sha256 ${sha}`);
    expect(r.stdout).toContain(JSON.stringify({ kind: 'url', url: '/datasets/d.bin', sha256: sha }));
    const train = decodePacked(bytes, 'train');
    for (let k = 0; k < train.size; k++) expect(train.y[k]).toBe(train.x[2 * k] % 2);
  });

  it('a folder of labelled PNGs, one folder per class', () => {
    for (const [label, shade] of [
      ['dark', 20],
      ['light', 230],
    ] as const) {
      mkdirSync(join(dir, 'img', label), { recursive: true });
      for (let i = 0; i < 5; i++) {
        writeFileSync(join(dir, 'img', label, `${i}.png`), encodePng(3, 2, new Uint8Array(6).fill(shade + i), 1));
      }
    }
    const out = join(dir, 'img.bin');
    const r = run(['--images', join(dir, 'img'), '--test-fraction', '0.2', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('8 training + 2 test examples of shape [2,3,1]');
    const ds = decodePacked(new Uint8Array(readFileSync(out)), 'train');
    for (let k = 0; k < ds.size; k++) expect(ds.y[k]).toBe(ds.x[k * 6] > 0.5 ? 1 : 0);
  });

  it('gradroom train --dataset FILE.bin trains on the packed file, with an MLP that fits it', () => {
    // a linear rule, 3 features: the default MLP learns it in a few epochs
    const rows = ['a,b,c,kind'];
    for (let i = 0; i < 300; i++) {
      const [a, b, c] = [Math.sin(i * 1.3) * 2, Math.cos(i * 0.7) * 2, Math.sin(i * 0.11)];
      rows.push(`${a},${b},${c},${a + b > 0 ? 'up' : 'down'}`);
    }
    writeFileSync(join(dir, 'rule.csv'), rows.join('\n'));
    const out = join(dir, 'rule.bin');
    expect(run(['--csv', join(dir, 'rule.csv'), '--out', out]).code).toBe(0);
    const r = spawnSync(
      process.execPath,
      [cli, 'train', '--dataset', out, '--epochs', '4', '--batch-size', '32', '--workers', '2', '--json'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status).toBe(0);
    const done = JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as { event: string; testAccuracy: number };
    expect(done.event).toBe('done');
    expect(done.testAccuracy).toBeGreaterThan(0.85);
  });

  it('bad input gets a clear error and exit code 2', () => {
    writeFileSync(join(dir, 'bad.csv'), 'a,b,c\n1,2,0\n1,x,0\n2,3,1\n');
    const r = run(['--csv', join(dir, 'bad.csv'), '--out', join(dir, 'bad.bin')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('gradroom: CSV line 3, column b: "x" is not a finite number');
    const none = run(['--out', join(dir, 'x.bin')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/exactly one of --csv FILE or --images DIR/);
    // a truncated packed file is refused by train, naming the file
    writeFileSync(join(dir, 'cut.bin'), readFileSync(join(dir, 'd.bin')).subarray(0, 100));
    const cut = spawnSync(process.execPath, [cli, 'train', '--dataset', join(dir, 'cut.bin')], { encoding: 'utf8' });
    expect(cut.status).toBe(2);
    expect(cut.stderr).toMatch(/cut\.bin: has 100 bytes but its header promises \d+ .*the file is truncated/);
  });
});
