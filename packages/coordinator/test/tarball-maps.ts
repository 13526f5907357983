/**
 * Source maps in a packed tarball, as a consumer's editor and debugger follow them: every
 * `sourceMappingURL` comment in a .js or .d.ts file must resolve inside the package (an inline
 * `data:` map, or a .map file the tarball holds), and every source a map names must be there too
 * (inline as `sourcesContent`, or a file in the tarball). Returns what does not resolve, one line
 * each; empty when all do.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

interface RawMap {
  sources?: string[];
  sourcesContent?: (string | null)[];
  sourceRoot?: string;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** Checks one extracted package folder; `counts` tells how many comments of each kind were seen. */
export function unresolvedMaps(pkgDir: string): { missing: string[]; inline: number; files: number } {
  const missing: string[] = [];
  let inline = 0;
  let fileMaps = 0;
  const inside = (p: string) => !relative(pkgDir, p).startsWith('..');
  for (const f of files(pkgDir).filter((p) => /\.(c|m)?js$|\.d\.ts$/.test(p))) {
    const where = relative(pkgDir, f);
    const urls = [...readFileSync(f, 'utf8').matchAll(/\/\/# sourceMappingURL=(\S+)/g)].map((m) => m[1]);
    for (const url of urls) {
      let map: RawMap;
      let mapDir = dirname(f);
      if (url.startsWith('data:')) {
        inline++;
        const b64 = url.slice(url.indexOf('base64,') + 'base64,'.length);
        map = JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as RawMap;
      } else {
        fileMaps++;
        const path = resolve(dirname(f), decodeURIComponent(url));
        if (!inside(path) || !existsSync(path)) {
          missing.push(`${where}: names ${url}, which the tarball does not hold`);
          continue;
        }
        map = JSON.parse(readFileSync(path, 'utf8')) as RawMap;
        mapDir = dirname(path);
      }
      (map.sources ?? []).forEach((s, i) => {
        if (typeof map.sourcesContent?.[i] === 'string') return;
        const src = resolve(mapDir, map.sourceRoot ?? '', s);
        if (!inside(src) || !existsSync(src)) missing.push(`${where}: its map names source ${s}, not in the tarball`);
      });
    }
  }
  return { missing, inline, files: fileMaps };
}

/** Extracts a .tgz into a temporary folder and checks its `package/`. */
export function unresolvedMapsInTarball(tgz: string): ReturnType<typeof unresolvedMaps> {
  const dir = mkdtempSync(join(tmpdir(), 'gradroom-maps-'));
  try {
    const r = spawnSync('tar', ['-xzf', tgz, '-C', dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tar -xzf ${tgz}: ${r.stderr}`);
    return unresolvedMaps(join(dir, 'package'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
