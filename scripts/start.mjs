#!/usr/bin/env node
// `npm start`: trains the default job (MNIST, MLP, Adam with decay, local worker threads) with a
// progress bar, then serves the web app (host a room, join one, the optimizer playground) and
// prints its URL. `npm start -- --no-serve` only trains; other flags go to `gradroom train`.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const cli = join(import.meta.dirname, '..', 'packages', 'coordinator', 'dist', 'cli.js');
const args = process.argv.slice(2);
const serve = !args.includes('--no-serve');
const trainArgs = args.filter((a) => a !== '--no-serve');
const train = spawnSync(process.execPath, [cli, 'train', ...trainArgs], { stdio: 'inherit' });
if (train.status !== 0) process.exit(train.status ?? 1);
if (serve) {
  console.log(
    '\nNow serving the web app: open the URL below to host a room, join one, or try the optimizer playground (Ctrl-C to stop).',
  );
  const s = spawnSync(process.execPath, [cli, 'serve'], { stdio: 'inherit' });
  process.exit(s.status ?? 0);
}
