/**
 * "Go to Definition" as an editor asks it: TypeScript's own tsserver, over its stdio protocol, for
 * the definition at (line, offset) of a file. Resolves with the files it names (declaration maps
 * followed, as VS Code does); rejects after `timeoutMs`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export function definitionFiles(
  repoRoot: string,
  file: string,
  line: number,
  offset: number,
  timeoutMs = 60_000,
): Promise<string[]> {
  const server = join(repoRoot, 'node_modules', 'typescript', 'lib', 'tsserver.js');
  const p = spawn(process.execPath, [server, '--disableAutomaticTypingAcquisition'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  return new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tsserver gave no definition in ${timeoutMs} ms`)), timeoutMs);
    let buf = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => {
      buf += d;
      // messages are "Content-Length: N\r\n\r\n{json}"; the one answering request 2 carries the definitions
      for (const m of buf.matchAll(/\{"seq".*\}/g)) {
        const msg = JSON.parse(m[0]) as { type: string; request_seq?: number; body?: { file: string }[] };
        if (msg.type === 'response' && msg.request_seq === 2) {
          clearTimeout(timer);
          resolve((msg.body ?? []).map((d) => d.file));
        }
      }
    });
    p.on('error', reject);
    const send = (o: object) => p.stdin.write(`${JSON.stringify(o)}\n`);
    send({ seq: 1, type: 'request', command: 'open', arguments: { file } });
    send({ seq: 2, type: 'request', command: 'definition', arguments: { file, line, offset } });
  }).finally(() => p.kill());
}
