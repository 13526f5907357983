// Removes compiled files whose TypeScript source is gone (a file moved or deleted): `tsc -b` never
// deletes outputs, so an old checkout kept serving them, and `npm pack` shipped them. Runs before the
// build; only .js/.d.ts files and their maps under packages/*/dist are touched.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const OUTPUT = /\.(d\.ts|js)(\.map)?$/;
let removed = 0;
function walk(dist, src) {
  if (!existsSync(dist)) return;
  for (const e of readdirSync(dist, { withFileTypes: true })) {
    const out = join(dist, e.name);
    if (e.isDirectory()) {
      walk(out, join(src, e.name));
      continue;
    }
    if (!OUTPUT.test(e.name)) continue;
    const stem = e.name.replace(OUTPUT, '');
    if (existsSync(join(src, `${stem}.ts`)) || existsSync(join(src, `${stem}.mts`))) continue;
    rmSync(out);
    if (process.env.CLEAN_DIST_VERBOSE) console.log(`  ${out}`);
    removed++;
  }
}
for (const p of readdirSync(join(root, 'packages'))) {
  walk(join(root, 'packages', p, 'dist'), join(root, 'packages', p, 'src'));
}
if (removed > 0) console.log(`clean-dist: removed ${removed} compiled file(s) whose source is gone`);
