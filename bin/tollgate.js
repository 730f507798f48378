#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ once `npm run build` (run by `npm install`'s prepare step) has compiled src/.
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('tollgate: dist/ is missing, run `npm run build` first\n');
    process.exit(1);
  }
  throw err;
});
