#!/usr/bin/env node
// Part of `npm run build`: copies the files the compiled code reads at run time (the dashboard page
// and its script and styles) from src/ to the same place under dist/, so the package and the Docker
// image, which ship dist/ and not src/, find them next to the module that reads them. The copy is
// made fresh (a file deleted from src/ does not linger in dist/).
import { cpSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ASSET_DIRS = ['telemetry/dashboard/assets'];

for (const dir of ASSET_DIRS) {
  const to = join(root, 'dist', dir);
  rmSync(to, { recursive: true, force: true });
  cpSync(join(root, 'src', dir), to, { recursive: true });
}
