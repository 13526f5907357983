#!/usr/bin/env node
// `npm run pack [DIR]`: the three packages as tarballs that `npm install` takes (default ./packs).
// Each is packed with pnpm, which turns the workspace:* dependencies into version numbers; a plain
// `npm pack` inside packages/* keeps "workspace:*", and npm then refuses the tarball
// (EUNSUPPORTEDPROTOCOL).
import { resolve } from 'node:path';
import { packPackages } from '../examples/install-local.mjs';

const dest = resolve(process.argv[2] ?? 'packs');
for (const t of packPackages(dest)) console.log(t);
